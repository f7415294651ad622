/** Reading values of submitted forms the same way in every layer. */

/** A form field sent once, several times (checkboxes) or not at all, as its string values. */
export function listOf(value: unknown): string[] {
	const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
	return values.filter((v): v is string => typeof v === "string");
}
