import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppEnv } from "../routes/context.ts";
import { securityHeaders } from "../routes/middleware/security_headers.ts";

Deno.test("security headers reach every kind of answer: a page, a raw Response and one with immutable headers", async () => {
	const app = new Hono<AppEnv>();
	app.use(securityHeaders);
	app.get("/page", (c) => c.html("<!DOCTYPE html><p>hello — page</p>", 201, { "Cache-Control": "no-store" }));
	app.get("/raw", () => new Response("raw", { headers: { "X-Own": "kept" } }));
	// Response.redirect's headers are immutable: the headers are set through hono's copy instead.
	app.get("/redirect", () => Response.redirect("http://localhost/elsewhere", 303));
	for (const path of ["/page", "/raw", "/redirect"]) {
		const res = await app.request(path);
		assert.equal(res.headers.get("X-Frame-Options"), "DENY", path);
		assert.equal(res.headers.get("X-Content-Type-Options"), "nosniff", path);
		assert.equal(res.headers.get("Referrer-Policy"), "same-origin", path);
		assert.match(res.headers.get("Content-Security-Policy") ?? "", /frame-ancestors 'none'/, path);
		await res.body?.cancel();
	}
	const page = await app.request("/page");
	assert.equal(page.status, 201);
	assert.equal(page.headers.get("Cache-Control"), "no-store");
	assert.equal(await page.text(), "<!DOCTYPE html><p>hello — page</p>");
	const raw = await app.request("/raw");
	assert.equal(raw.headers.get("X-Own"), "kept");
	assert.equal(await raw.text(), "raw");
	const redirect = await app.request("/redirect");
	assert.equal(redirect.status, 303);
	assert.equal(redirect.headers.get("Location"), "http://localhost/elsewhere");
});
