/**
 * Values kept encrypted at rest (secret params): AES-256-GCM through WebCrypto, with a key derived
 * by HKDF-SHA-256 from the portal's secret and a purpose label, so the key is never stored and a
 * different secret (another portal's, or a new one) cannot open what this one sealed. A sealed value
 * is text: `v1.<iv>.<ciphertext and tag>`, both base64url; each seal has a fresh 96-bit IV.
 */

/** What a key is derived for; a new purpose gets its own label, so one key never serves two uses. */
const PARAMS_LABEL = "mliy/secret-params/v1";

const PREFIX = "v1.";

/** A sealed value could not be opened: another key sealed it, or it was changed. */
export class UnsealError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "UnsealError";
	}
}

let cached: { secret: string; key: Promise<CryptoKey> } | undefined;

/** The AES key of `secret` for secret params; derived once per secret. */
function paramsKey(secret: string): Promise<CryptoKey> {
	if (cached?.secret !== secret) {
		const key = (async () => {
			const base = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, [
				"deriveKey",
			]);
			return await crypto.subtle.deriveKey(
				{ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new TextEncoder().encode(PARAMS_LABEL) },
				base,
				{ name: "AES-GCM", length: 256 },
				false,
				["encrypt", "decrypt"],
			);
		})();
		cached = { secret, key };
	}
	return cached.key;
}

function toBase64Url(bytes: Uint8Array): string {
	let binary = "";
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
	const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
	return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Encrypts `plain` under the key derived from `secret`. `context` (e.g. the param's token) is bound
 * as additional data, so a sealed value copied onto another param does not open there.
 */
export async function seal(secret: string, plain: string, context: string): Promise<string> {
	const iv = crypto.getRandomValues(new Uint8Array(12));
	const sealed = await crypto.subtle.encrypt(
		{ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
		await paramsKey(secret),
		new TextEncoder().encode(plain),
	);
	return `${PREFIX}${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

/** Decrypts what {@link seal} made with the same secret and context; an {@link UnsealError} otherwise. */
export async function unseal(secret: string, sealed: string, context: string): Promise<string> {
	const [iv, body] = sealed.startsWith(PREFIX) ? sealed.slice(PREFIX.length).split(".") : [];
	if (!iv || !body) throw new UnsealError("not a sealed value");
	try {
		const plain = await crypto.subtle.decrypt(
			{ name: "AES-GCM", iv: fromBase64Url(iv), additionalData: new TextEncoder().encode(context) },
			await paramsKey(secret),
			fromBase64Url(body),
		);
		return new TextDecoder().decode(plain);
	} catch {
		throw new UnsealError("it was sealed with another key, or changed since");
	}
}
