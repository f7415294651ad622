/** Tokens derived from the portal's secret: stable values, one key import per secret, constant-time comparison. */
import assert from "node:assert/strict";
import { csrfToken } from "../lib/auth/csrf.ts";
import { progressToken } from "../lib/tokens.ts";
import { hmacToken, timingSafeEqual } from "../lib/tokens.ts";

Deno.test("CSRF and progress tokens keep their values (HMAC-SHA-256 of a labelled value, base64url)", async () => {
	assert.equal(await progressToken("s3cret-for-tests", "launch-1"), "ArpP2RSZD1cNFK_rhkAvyW8dvsO3Ky7PP6KzflPprZE");
	assert.equal(
		await csrfToken("s3cret-for-tests", { id: 7, username: "alice" }, 0),
		"ETNuX8xzgwXu0ebaXbkBmo-wNmkF-9ZHAIr1F4etckc",
		"generation 0 is the token pages had before there were generations",
	);
	const later = await csrfToken("s3cret-for-tests", { id: 7, username: "alice" }, 1);
	assert.notEqual(later, await csrfToken("s3cret-for-tests", { id: 7, username: "alice" }, 0));
	assert.notEqual(later, await csrfToken("s3cret-for-tests", { id: 7, username: "alice" }, 2));
	assert.notEqual(
		await hmacToken("another-secret-value", "progress:launch-1"),
		await progressToken("s3cret-for-tests", "launch-1"),
	);
});

Deno.test("hmacToken() imports the secret's key once, not on every token", async () => {
	const subtle = crypto.subtle;
	const importKey = subtle.importKey;
	let imports = 0;
	subtle.importKey = ((...args: Parameters<typeof importKey>) => {
		imports += 1;
		return importKey.apply(subtle, args);
	}) as typeof importKey;
	try {
		const secret = `secret-${crypto.randomUUID()}`;
		const tokens = await Promise.all(
			Array.from({ length: 20 }, (_, i) => csrfToken(secret, { id: i, username: `user${i}` }, 0)),
		);
		assert.equal(new Set(tokens).size, 20);
		await progressToken(secret, "launch-1");
		assert.equal(imports, 1);
	} finally {
		subtle.importKey = importKey;
	}
});

Deno.test("timingSafeEqual() compares whole strings of any length", () => {
	assert.equal(timingSafeEqual("abc", "abc"), true);
	assert.equal(timingSafeEqual("abc", "abd"), false);
	assert.equal(timingSafeEqual("abc", "abcd"), false);
	assert.equal(timingSafeEqual("", ""), true);
});
