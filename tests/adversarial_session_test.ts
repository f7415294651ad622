/**
 * What a browser (or a page in one) can do with a signed-in user's session: forms are accepted
 * only from the portal's own origin (PUBLIC_URL, whatever Host or X-Forwarded-Host a request
 * names) with a token of the user's current generation; signed-in answers are never cached;
 * cookies are Secure over https.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { auditEvents } from "../lib/db/schema.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { csrfFor, request } from "./_helpers/http.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

/** A state change that gets past CSRF to a 404 (no such instance), or is refused before with a 403. */
const STOP = "/ajax/instance/i-0123456789abcdef0/stop";

/** The token a fresh page gives `user` now. */
async function pageToken(app: Parameters<typeof request>[0], user: string): Promise<string> {
	const res = await request(app, "/profile", { user });
	return /<meta name="csrf-token" content="([^"]+)"/.exec(await res.text())![1]!;
}

/** Posts STOP as `user` with `token` (and headers): the status. */
async function post(
	app: Parameters<typeof request>[0],
	user: string,
	token: string,
	headers: Record<string, string> = {},
): Promise<number> {
	const res = await request(app, STOP, {
		user,
		method: "POST",
		csrf: false,
		headers: { "X-CSRF-Token": token, Accept: "application/json", ...headers },
	});
	await res.body?.cancel();
	return res.status;
}

Deno.test("CSRF: the origin must be PUBLIC_URL's scheme, host and port, whatever Host or X-Forwarded-Host say", async () => {
	await using deps = await createTestDeps({ settings: { PUBLIC_URL: "https://mliy.example.com" } });
	await seedWorld(deps.db);
	const token = await pageToken(deps.app, "alice");
	const cases: [string, Record<string, string>, number][] = [
		["the portal's origin", { Origin: "https://mliy.example.com" }, 404],
		["no Origin (not a browser)", {}, 404],
		["plain http", { Origin: "http://mliy.example.com" }, 403],
		["another port", { Origin: "https://mliy.example.com:8443" }, 403],
		["a subdomain", { Origin: "https://evil.mliy.example.com" }, 403],
		["another site naming itself as Host", { Origin: "https://evil.example", Host: "evil.example" }, 403],
		[
			"another site in X-Forwarded-Host, through the proxy",
			{ Origin: "https://evil.example", "X-Forwarded-Host": "evil.example", Host: "evil.example" },
			403,
		],
		["an opaque origin", { Origin: "null" }, 403],
		[
			"the portal's origin, sent cross-site",
			{ Origin: "https://mliy.example.com", "Sec-Fetch-Site": "cross-site" },
			403,
		],
	];
	for (const [what, headers, status] of cases) {
		assert.equal(await post(deps.app, "alice", token, headers), status, what);
	}
	const refused = await request(deps.app, STOP, {
		user: "alice",
		method: "POST",
		csrf: false,
		headers: { "X-CSRF-Token": token, Origin: "https://evil.example", Host: "evil.example" },
	});
	assert.match(
		await refused.text(),
		/came from another site \(https:\/\/evil\.example, not the portal's https:\/\/mliy\.example\.com\)/,
	);

	// Without PUBLIC_URL, the address the portal derives from HOST and PORT.
	await using plain = await createTestDeps({ settings: { HOST: "127.0.0.1", PORT: 8181 } });
	await seedWorld(plain.db);
	const own = await pageToken(plain.app, "alice");
	assert.equal(await post(plain.app, "alice", own, { Origin: "http://127.0.0.1:8181" }), 404);
	assert.equal(await post(plain.app, "alice", own, { Origin: "http://localhost:8181", Host: "localhost:8181" }), 403);
});

Deno.test("CSRF: a token's generation moves on at each sign-in refresh, the previous one accepted for a while", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const first = await pageToken(deps.app, "alice");
	assert.equal(await post(deps.app, "alice", first), 404);
	// Sixteen minutes later a request refreshes the sign-in: a new token, the old one still good.
	deps.clock.advance(16 * 60_000);
	const second = await pageToken(deps.app, "alice");
	assert.notEqual(second, first);
	assert.equal(await post(deps.app, "alice", first), 404, "a page opened before the refresh still submits");
	assert.equal(await post(deps.app, "alice", second), 404);
	// Another refresh: the first is two generations old, refused; the second is the previous one.
	deps.clock.advance(16 * 60_000);
	const third = await pageToken(deps.app, "alice");
	assert.equal(await post(deps.app, "alice", first), 403);
	assert.equal(await post(deps.app, "alice", second), 404);
	assert.equal(await post(deps.app, "alice", third), 404);
	// Fifteen minutes after that refresh the previous generation's grace is over (the sign-in is not
	// stale yet, so nothing refreshed it).
	deps.clock.advance(15 * 60_000);
	assert.equal(await post(deps.app, "alice", second), 403);
	assert.equal(await post(deps.app, "alice", third), 404);
	// Every signed-in answer names the current token, which the page glue keeps.
	const res = await request(deps.app, "/", { user: "alice" });
	await res.body?.cancel();
	assert.equal(res.headers.get("X-CSRF-Token"), third);
});

Deno.test("CSRF: signing out everywhere, or an admin, revokes every token of the user at once, audited", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const before = await pageToken(deps.app, "alice");
	deps.clock.advance(16 * 60_000);
	const current = await pageToken(deps.app, "alice");
	assert.equal(await post(deps.app, "alice", before), 404, "in its grace");
	const out = await request(deps.app, "/profile/sign-out-everywhere", {
		user: "alice",
		method: "POST",
		csrf: false,
		headers: { "X-CSRF-Token": current },
	});
	assert.equal(out.status, 303);
	assert.equal(out.headers.get("Location"), "/profile");
	const fresh = out.headers.get("X-CSRF-Token")!;
	for (const stale of [before, current]) assert.equal(await post(deps.app, "alice", stale), 403, "revoked");
	assert.equal(await post(deps.app, "alice", fresh), 404, "the page that asked gets the new token");
	const reloaded = await pageToken(deps.app, "alice");
	assert.equal(await post(deps.app, "alice", reloaded), 404, "a reloaded page works");
	assert.equal(await post(deps.app, "bob", await pageToken(deps.app, "bob")), 404, "nobody else is affected");

	// An admin revokes bob's.
	const bobs = await pageToken(deps.app, "bob");
	const revoke = await request(deps.app, `/admin/users/${world.bob.id}/revoke`, { user: "ada", form: {} });
	assert.equal(revoke.status, 303);
	assert.equal(await post(deps.app, "bob", bobs), 403);
	assert.equal(await post(deps.app, "ada", await csrfFor(deps.app, { user: "ada" })), 404, "the admin's own stay");
	const audit = await deps.db.select().from(auditEvents).where(eq(auditEvents.action, "revoke-tokens"));
	assert.deepEqual(audit.map((a) => [a.actor, a.resourceKind, a.resourceId, a.outcome]), [
		["alice", "user", "alice", "ok"],
		["ada", "user", "bob", "ok"],
	]);
	// Only an admin may revoke someone else's.
	const refused = await request(deps.app, `/admin/users/${world.alice.id}/revoke`, { user: "bob", form: {} });
	assert.equal(refused.status, 403);
});

Deno.test("every answer to a signed-in user is Cache-Control: no-store, pages, fragments and exports alike", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const signedIn: [string, string][] = [
		["alice", "/"],
		["alice", "/team"],
		["alice", "/billing"],
		["alice", "/billing.csv"],
		["alice", "/profile"],
		["alice", "/launch"],
		["alice", "/instances/i-0123456789abcdef0"],
		["ada", "/admin"],
		["ada", "/admin/catalog.json"],
		["ada", "/admin/catalog.yaml"],
		["ada", "/admin/users"],
	];
	for (const [user, path] of signedIn) {
		for (const htmx of [false, true]) {
			const res = await request(deps.app, path, { user, htmx });
			await res.body?.cancel();
			assert.equal(res.headers.get("Cache-Control"), "no-store", `${path}${htmx ? " (htmx)" : ""}: ${res.status}`);
		}
	}
	const saved = await request(deps.app, "/admin/params/new", { user: "ada", form: { token: "T", value: "v" } });
	assert.equal(saved.status, 303);
	assert.equal(saved.headers.get("Cache-Control"), "no-store", "a redirect after a save");
	// Public, versioned assets are still cached.
	const css = await request(deps.app, "/static/app.css");
	await css.body?.cancel();
	assert.match(css.headers.get("Cache-Control")!, /^public/);
});

Deno.test("cookies are Secure when PUBLIC_URL is https, and not over plain http", async () => {
	for (const [url, secure] of [["https://mliy.example.com", true], ["http://127.0.0.1:8080", false]] as const) {
		await using deps = await createTestDeps({ settings: { PUBLIC_URL: url } });
		await seedWorld(deps.db);
		const saved = await request(deps.app, "/admin/params/new", {
			user: "ada",
			form: { token: "T", value: "v" },
			headers: { Origin: url },
		});
		assert.equal(saved.status, 303, url);
		const set = saved.headers.get("Set-Cookie")!;
		assert.match(set, /^mliy_flash=/);
		assert.equal(/;\s*Secure/i.test(set), secure, `${url}: ${set}`);
		assert.match(set, /HttpOnly/i);
		assert.match(set, /SameSite=Lax/i);
		// Reading the message clears the cookie, with the same attributes.
		const shown = await request(deps.app, "/admin/params", {
			user: "ada",
			headers: { Cookie: set.split(";")[0]! },
		});
		assert.match(await shown.text(), /saved/i);
		const cleared = shown.headers.get("Set-Cookie")!;
		assert.match(cleared, /mliy_flash=;.*Max-Age=0/);
		assert.equal(/;\s*Secure/i.test(cleared), secure, `${url}: ${cleared}`);
	}
});

Deno.test("the content security policy allows no inline style or script, and the pages need none", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	// A boot progress bar, whose width was the last inline style.
	await addInstance(deps.db, {
		id: "i-0123456789abcdef0",
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		progressText: "installing",
		progressPercent: 40,
	});
	const policy =
		"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
	const pages: [string | undefined, string][] = [
		["alice", "/"],
		["alice", "/instances/i-0123456789abcdef0"],
		["alice", "/team"],
		["alice", `/launch/${world.science.id}/${world.config.id}`],
		["alice", "/profile"],
		["ada", "/admin/configs/new"],
		["ada", `/admin/configs/${world.config.id}`],
		[undefined, "/"],
		["alice", "/nowhere"],
		[undefined, "/health"],
	];
	for (const [user, path] of pages) {
		const res = await request(deps.app, path, { user });
		assert.equal(res.headers.get("Content-Security-Policy"), policy, path);
		const html = await res.text();
		assert.doesNotMatch(html, /\sstyle=|<style[\s>]/i, `${path} has no inline style`);
		if (path === "/" && user) assert.match(html, /class="fill w40"/, "the bar's width is a class");
	}
});
