/**
 * Tokens derived from the portal's secret (the CSRF token of a user, the progress token and the
 * tag proof of a launch), their comparison in constant time, and SHA-256 in hex.
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";

let cachedKey: { secret: string; key: Promise<CryptoKey> } | undefined;

/** The HMAC key of the secret; imported once, since a CSRF token is made on every signed-in request. */
function keyOf(secret: string): Promise<CryptoKey> {
	if (cachedKey?.secret !== secret) {
		const key = crypto.subtle.importKey(
			"raw",
			new TextEncoder().encode(secret),
			{ name: "HMAC", hash: "SHA-256" },
			false,
			["sign"],
		);
		cachedKey = { secret, key };
	}
	return cachedKey.key;
}

/** HMAC-SHA-256 of `label` with the secret, base64url without padding. */
export async function hmacToken(secret: string, label: string): Promise<string> {
	const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await keyOf(secret), new TextEncoder().encode(label)));
	return btoa(String.fromCharCode(...mac)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Whether two strings are equal, in a time that does not depend on where they differ. */
export function timingSafeEqual(a: string, b: string): boolean {
	if (a.length !== b.length) return false;
	let diff = 0;
	for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
	return diff === 0;
}

/**
 * The progress token of a launch, which its bootstrap script sends back. It is derived from the
 * secret so the launcher can rebuild the same user data when it submits the stack; the launch row
 * stores only its {@link sha256Hex}, and the progress endpoint compares against that hash.
 */
export function progressToken(secret: string, launchId: string): Promise<string> {
	return hmacToken(secret, `progress:${launchId}`);
}

/**
 * The proof a launch's stack carries in its tags that the portal made it: the secret's HMAC of the
 * launch id. Tags can be copied, so it proves the launch id is the portal's own, not that a machine
 * carrying it is that launch's (the sync's adoption rule also wants the launch to have no machine yet).
 */
export function launchProof(secret: string, launchId: string): Promise<string> {
	return hmacToken(secret, `launch-proof:${launchId}`);
}

/**
 * SHA-256 of UTF-8 text, in lower-case hex. Hashed at once (node:crypto, ≈ 1 µs for a token)
 * rather than through WebCrypto's asynchronous digest (≈ 12 µs, a trip to a worker thread and
 * back): every progress callback with a token it has not proven before hashes it, as does every
 * refused one.
 */
export function sha256Hex(text: string): Promise<string> {
	return Promise.resolve(createHash("sha256").update(text).digest("hex"));
}

/**
 * The token each instance last proved with, and the hash it proved against: a setup reports a
 * dozen times with the same token (progress and activity alike), and its SHA-256 was a tenth of
 * each report's cost. Only a token that matched is kept, and only while the instance's stored hash
 * is still that one (a new launch, a new hash).
 */
const provenTokens = new LRUCache<string, { hash: string; token: string }>({ max: 20_000 });

/**
 * Whether `token` is the launch token of instance `instanceId`, whose stored hash is `tokenHash`
 * (none: no instance, or no launch token). A wrong token, and any token without a stored hash, is
 * hashed as before, so a refusal takes as long whether the instance exists or not.
 */
export async function instanceTokenMatches(
	instanceId: string,
	token: string,
	tokenHash: string | null | undefined,
): Promise<boolean> {
	const proven = provenTokens.get(instanceId);
	if (proven && tokenHash && proven.hash === tokenHash && timingSafeEqual(proven.token, token)) return true;
	const hash = await sha256Hex(token);
	if (!tokenHash || !timingSafeEqual(hash, tokenHash)) return false;
	provenTokens.set(instanceId, { hash: tokenHash, token });
	return true;
}
