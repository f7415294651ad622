/**
 * Text that comes from outside the portal (AWS names, tags, reasons) as the portal keeps and shows
 * it: without the characters that reorder or hide what is displayed, and bounded in length.
 * Anyone with `ec2:CreateTags` writes such text; a right-to-left override can make a name read
 * as another (`prod‮txt.exe`), zero-width characters make two names look equal, and a long one
 * pushes a table's actions off the page.
 */

/**
 * Bidirectional controls (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), zero-width and
 * invisible format characters (U+200B-U+200D, U+2060-U+2064, U+FEFF), and control characters
 * other than tab and newline.
 */
const HIDDEN =
	// deno-lint-ignore no-control-regex
	/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** `value` without hidden characters and at most `max` characters long (cut with "…", whole code points). */
export function plainText(value: string, max: number): string {
	const clean = value.replace(HIDDEN, "");
	if (clean.length <= max) return clean;
	const chars = Array.from(clean);
	return chars.length <= max ? clean : `${chars.slice(0, max - 1).join("")}…`;
}

/** AWS's own limits on tags, names and messages, which the portal keeps to whatever an endpoint returns. */
export const AWS_TEXT = { tagKey: 128, tagValue: 256, name: 256, reason: 1000, output: 2048 } as const;
