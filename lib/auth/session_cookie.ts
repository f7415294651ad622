/**
 * The signed values of the portal's session cookies (the break-glass session, the sign-in session
 * and the pending redirect sign-in): fields joined by `:` and the HMAC-SHA-256 of the purpose and
 * the fields with the portal's secret, so a cookie of one purpose never reads as another's, and any
 * change to a field (or the MAC) makes it unreadable. The cookies' flags are in `routes/context.ts`
 * (`sessionCookie`), beside the other cookie rules.
 */
import { hmacToken, timingSafeEqual } from "../tokens.ts";

/** A random session id: 256 bits, base64url. */
export function randomSessionId(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(32));
	return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function mac(secret: string, purpose: string, fields: readonly string[]): Promise<string> {
	return hmacToken(secret, `${purpose}:${fields.join(":")}`);
}

/** The cookie value of `fields` (none may contain `:`), signed for `purpose`. */
export async function signCookieValue(secret: string, purpose: string, fields: readonly string[]): Promise<string> {
	if (fields.some((field) => field.includes(":"))) throw new Error("a signed cookie's fields cannot contain ':'");
	return `${fields.join(":")}:${await mac(secret, purpose, fields)}`;
}

/** The `count` fields of a cookie value signed for `purpose`, or `undefined` when it is not one (forged, changed, another purpose's). */
export async function readCookieValue(
	secret: string,
	purpose: string,
	value: string | undefined,
	count: number,
): Promise<string[] | undefined> {
	const parts = value?.split(":") ?? [];
	if (parts.length !== count + 1 || parts.some((part) => part === "")) return undefined;
	const fields = parts.slice(0, count);
	return timingSafeEqual(parts[count]!, await mac(secret, purpose, fields)) ? fields : undefined;
}
