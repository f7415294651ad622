/**
 * The JSON API through the HTTP app: personal API tokens made and revoked on the profile, sent as
 * bearer tokens; what a token sees and does is its user's (a launch and a stop against moto); a
 * revoked or expired token, and anything but a token (an identity header, a session cookie), is
 * refused on /api/; CSRF does not apply to bearer calls; every refusal is problem+json; the
 * OpenAPI document validates and lists every /api/v1/ route the app has.
 */
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { eq } from "drizzle-orm";
import { setBreakGlassPassword } from "../lib/auth/break_glass.ts";
import { apiTokens, auditEvents } from "../lib/db/schema.ts";
import { getInstance } from "../lib/db/instances.ts";
import { syncKind } from "../lib/sync/all.ts";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

/** Makes a token on the profile page as `user`; returns the token the page shows once. */
async function makeToken(deps: TestDeps, user: string, fields: Record<string, string> = {}): Promise<string> {
	const res = await request(deps.app, "/profile/tokens", { user, form: { name: "script", ...fields } });
	const html = await res.text();
	assert.equal(res.status, 200, html.slice(0, 500));
	const token = /value="(mliy_[A-Za-z0-9_-]+)"/.exec(html)?.[1];
	assert.ok(token, "the page shows the new token");
	return token;
}

/** One API call with a bearer token (or none), from the loopback address the tests' proxy is on. */
async function api(
	deps: TestDeps,
	path: string,
	options: { token?: string; method?: string; json?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
	const headers = new Headers(options.headers);
	if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
	if (options.json !== undefined) headers.set("Content-Type", "application/json");
	return await deps.app.request(path, {
		method: options.method ?? (options.json !== undefined ? "POST" : "GET"),
		headers,
		body: options.json === undefined ? undefined : JSON.stringify(options.json),
	}, { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" } });
}

/** Asserts an RFC 9457 problem with `status`; returns it. */
async function problem(res: Response, status: number): Promise<Record<string, unknown>> {
	const text = await res.text();
	assert.equal(res.status, status, text);
	assert.equal(res.headers.get("Content-Type"), "application/problem+json");
	const body = JSON.parse(text);
	assert.equal(body.status, status);
	assert.equal(typeof body.type, "string");
	assert.equal(typeof body.title, "string");
	assert.equal(typeof body.detail, "string");
	return body;
}

motoTest(
	"a token made on the profile lists only its user's machines, launches and stops one against moto",
	async (moto) => {
		const subnet = await moto.subnet("us-east-1a");
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: subnet },
		});
		const world = await seedWorld(deps.db);
		await addInstance(deps.db, {
			id: "i-0aaaaaaaaaaaaaaa1",
			ownerId: world.olga.id,
			groupId: world.ops.id,
			state: "running",
		});
		const token = await makeToken(deps, "alice");

		// What alice may launch: the wizard's groups and configurations.
		let res = await api(deps, "/api/v1/configurations", { token });
		assert.equal(res.status, 200);
		const offered = await res.json();
		assert.deepEqual(offered.groups.map((g: { name: string }) => g.name), ["science"]);
		assert.deepEqual(offered.groups[0].configurations[0].instanceTypes.sort(), ["m4.large", "r4.4xlarge", "t2.micro"]);

		// Bad input is a 422 in our words, with the wizard's own field rules, and nothing is launched.
		res = await api(deps, "/api/v1/launches", {
			token,
			json: { groupId: world.science.id, configId: world.config.id, form: { instanceType: "p5.48xlarge" } },
		});
		const refused = await problem(res, 422);
		assert.ok((refused.errors as Record<string, string>).instanceType, JSON.stringify(refused));
		res = await api(deps, "/api/v1/launches", { token, json: { groupId: "science" } });
		assert.ok((await problem(res, 422)).errors);

		// A launch confirmed in one call; the same Idempotency-Key answers the same launch.
		const launchBody = { groupId: world.science.id, configId: world.config.id, form: { instanceType: "t2.micro" } };
		res = await api(deps, "/api/v1/launches", { token, json: launchBody, headers: { "Idempotency-Key": "run-1" } });
		assert.equal(res.status, 201, await res.clone().text());
		const launch = await res.json();
		assert.match(launch.id, /^[0-9a-f-]{36}$/);
		assert.equal(res.headers.get("Location"), `/api/v1/launches/${launch.id}`);
		res = await api(deps, "/api/v1/launches", { token, json: launchBody, headers: { "Idempotency-Key": "run-1" } });
		assert.equal(res.status, 200);
		assert.equal((await res.json()).id, launch.id, "one launch per idempotency key");

		await deps.background.idle();
		await tick(deps);
		res = await api(deps, `/api/v1/launches/${launch.id}`, { token });
		const followed = await res.json();
		assert.equal(followed.status, "complete", JSON.stringify(followed));
		assert.equal(followed.machines.length, 1);
		const instanceId = followed.machines[0].id;
		res = await api(deps, "/api/v1/launches", { token });
		assert.deepEqual((await res.json()).launches.map((l: { id: string }) => l.id), [launch.id]);

		// Only alice's machines: olga's is neither listed nor readable.
		res = await api(deps, "/api/v1/instances", { token });
		const listed = (await res.json()).instances;
		assert.deepEqual(listed.map((i: { id: string }) => i.id), [instanceId]);
		assert.equal(listed[0].state, "running");
		assert.equal(listed[0].owner, "alice");
		assert.deepEqual(listed[0].hourlyRate.known, true);
		assert.ok(listed[0].actions.includes("stop"));
		await problem(await api(deps, "/api/v1/instances/i-0aaaaaaaaaaaaaaa1", { token }), 403);
		await problem(
			await api(deps, "/api/v1/instances/i-0aaaaaaaaaaaaaaa1/actions/stop", { token, method: "POST" }),
			403,
		);
		assert.equal((await getInstance(deps.db, "i-0aaaaaaaaaaaaaaa1"))!.state, "running", "olga's is untouched");

		// Stop through the control path: no CSRF token, even with another site's Origin (a bearer call).
		res = await api(deps, `/api/v1/instances/${instanceId}/actions/stop`, {
			token,
			method: "POST",
			headers: { Origin: "https://elsewhere.example", "Sec-Fetch-Site": "cross-site" },
		});
		assert.equal(res.status, 200, await res.clone().text());
		const stopped = await res.json();
		assert.equal(stopped.machine.state, "stopping");
		assert.equal(stopped.notice, null);
		await syncKind(deps, "instance");
		assert.equal((await getInstance(deps.db, instanceId))!.state, "stopped");
		res = await api(deps, `/api/v1/instances/${instanceId}`, { token });
		assert.deepEqual((await res.json()).actions, ["start", "terminate"]);
		// A second stop is refused in the control path's words.
		await problem(await api(deps, `/api/v1/instances/${instanceId}/actions/stop`, { token, method: "POST" }), 409);
		const audited = await deps.db.select().from(auditEvents).where(eq(auditEvents.resourceId, instanceId));
		assert.ok(audited.some((e) => e.action === "stop" && e.actor === "alice" && e.outcome === "ok"));

		// Billing: the report's totals for alice's billing page.
		res = await api(deps, "/api/v1/billing", { token });
		assert.equal(res.status, 200);
		const billing = await res.json();
		assert.equal(typeof billing.total.cost, "number");
		await problem(await api(deps, "/api/v1/billing?from=2025-13-01", { token }), 400);
	},
);

Deno.test("a token is refused after revocation and after expiry; its last use is shown", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const lasting = await makeToken(deps, "alice", { name: "revoke me", expiresInDays: "" });
	const shortLived = await makeToken(deps, "alice", { name: "a day", expiresInDays: "1" });
	assert.equal((await api(deps, "/api/v1/instances", { token: lasting })).status, 200);
	assert.equal((await api(deps, "/api/v1/instances", { token: shortLived })).status, 200);

	// Stored hashed: the table holds neither token.
	const rows = await deps.db.select().from(apiTokens);
	assert.equal(rows.length, 2);
	for (const row of rows) {
		assert.ok(![lasting, shortLived].includes(row.tokenHash));
		assert.match(row.tokenHash, /^[0-9a-f]{64}$/);
		assert.ok(row.lastUsedAt, "the use is noted");
	}
	let page = await (await request(deps.app, "/profile", { user: "alice" })).text();
	assert.doesNotMatch(page, new RegExp(lasting), "the profile never shows a token again");
	assert.match(page, /revoke me/);

	// Past its day, the short-lived token is refused.
	deps.clock.advance(86_400_000 + 1000);
	const expired = await problem(await api(deps, "/api/v1/instances", { token: shortLived }), 401);
	assert.match(String(expired.detail), /unknown, revoked or expired/);
	assert.equal((await api(deps, "/api/v1/instances", { token: lasting })).status, 200);

	// Revoked on the profile: refused from then on; someone else cannot revoke it.
	const id = rows.find((r) => r.name === "revoke me")!.id;
	let res = await request(deps.app, `/profile/tokens/${id}/revoke`, { user: "bob", form: {} });
	assert.equal(res.status, 404);
	assert.equal((await api(deps, "/api/v1/instances", { token: lasting })).status, 200);
	res = await request(deps.app, `/profile/tokens/${id}/revoke`, { user: "alice", form: {} });
	assert.equal(res.status, 303);
	await problem(await api(deps, "/api/v1/instances", { token: lasting }), 401);
	page = await (await request(deps.app, "/profile", { user: "alice" })).text();
	assert.match(page, /revoked/);
	assert.match(page, /expired/);
	const audit = await deps.db.select().from(auditEvents).where(eq(auditEvents.resourceKind, "api-token"));
	assert.deepEqual(audit.map((e) => e.action).sort(), ["create-api-token", "create-api-token", "revoke-api-token"]);

	// The form refuses what is not a token's name or expiry (422, nothing made).
	res = await request(deps.app, "/profile/tokens", { user: "alice", form: { name: "", expiresInDays: "99999" } });
	assert.equal(res.status, 422);
	assert.match(await res.text(), /Name the token/);
	assert.equal((await deps.db.select().from(apiTokens)).length, 2);
});

Deno.test("admin tokens: only admins may make them, and only they carry admin rights", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await seedWorld(deps.db);
	// The form has no admin box for a non-admin, and the server refuses one sent anyway.
	const page = await (await request(deps.app, "/profile", { user: "alice" })).text();
	assert.doesNotMatch(page, /name="admin"/);
	assert.match(await (await request(deps.app, "/profile", { user: "ada" })).text(), /name="admin"/);
	const res = await request(deps.app, "/profile/tokens", { user: "alice", form: { name: "x", admin: "on" } });
	assert.equal(res.status, 403);
	assert.equal((await deps.db.select().from(apiTokens)).length, 0);

	// Terminating someone else's machine is an admin right: ada's plain token cannot, her admin token can.
	await addInstance(deps.db, {
		id: "i-0bbbbbbbbbbbbbbb1",
		ownerId: world.olga.id,
		groupId: world.ops.id,
		state: "running",
	});
	const plain = await makeToken(deps, "ada");
	const admin = await makeToken(deps, "ada", { admin: "on" });
	const path = "/api/v1/instances/i-0bbbbbbbbbbbbbbb1/actions/terminate";
	await problem(await api(deps, path, { token: plain, method: "POST" }), 403);
	const done = await api(deps, path, { token: admin, method: "POST" });
	assert.equal(done.status, 200, await done.clone().text());
	assert.equal((await done.json()).machine.pendingAction, "terminate");
});

Deno.test("on /api/ cookies and identity headers are ignored: no token, a 401", async () => {
	await using deps = await createTestDeps({ settings: { BREAK_GLASS: true, ADMIN_USERNAMES: "root" } });
	await seedWorld(deps.db);
	// The identity header the pages trust (from the trusted proxy address) counts for nothing here.
	assert.equal((await request(deps.app, "/", { user: "alice" })).status, 200);
	let res = await api(deps, "/api/v1/instances", { headers: { REMOTE_USER: "alice" } });
	await problem(res, 401);
	assert.equal(res.headers.get("WWW-Authenticate"), 'Bearer realm="mliy"');
	await problem(await api(deps, "/api/v1/launches", { method: "POST", headers: { REMOTE_USER: "alice" } }), 401);

	// A valid break-glass session cookie opens the pages, never the API.
	await setBreakGlassPassword(deps, "root", "correct horse battery staple");
	const form = await request(deps.app, "/break-glass", { from: "10.1.2.3" });
	const formCookie = form.headers.getSetCookie().map((l) => l.split(";")[0]).join("; ");
	const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
	const signIn = await request(deps.app, "/break-glass", {
		from: "10.1.2.3",
		headers: { Cookie: formCookie },
		form: { username: "root", password: "correct horse battery staple", _csrf: csrf },
	});
	assert.equal(signIn.status, 303, await signIn.clone().text());
	const session = signIn.headers.getSetCookie().find((l) => l.startsWith("mliy_break_glass="))!.split(";")[0]!;
	const pageRes = await request(deps.app, "/", { from: "10.1.2.3", headers: { Cookie: session } });
	assert.equal(pageRes.status, 200, "the cookie is a valid session on the pages");
	await problem(await api(deps, "/api/v1/instances", { headers: { Cookie: session } }), 401);
	// A token with a cookie and a header besides: the token decides who it is.
	const token = await makeToken(deps, "alice");
	res = await api(deps, "/api/v1/instances", { token, headers: { Cookie: session, REMOTE_USER: "ada" } });
	assert.equal(res.status, 200);
	await problem(await api(deps, "/api/v1/instances", { token: "mliy_not-a-real-token" }), 401);
	await problem(await api(deps, "/api/v1/instances", { headers: { Authorization: "Basic YWxpY2U6eA==" } }), 401);
});

Deno.test("API refusals are problem+json: unknown routes, bad ids, bad bodies, and the per-token rate limit", async () => {
	await using deps = await createTestDeps({ settings: { API_RATE_LIMIT_PER_TOKEN: 12 } });
	await seedWorld(deps.db);
	const token = await makeToken(deps, "alice");
	await problem(await api(deps, "/api/v1/nothing-here", { token }), 404);
	await problem(await api(deps, "/api/v1/instances/not-an-id", { token }), 404);
	await problem(await api(deps, "/api/v1/instances/i-0123456789abcdef0", { token }), 404);
	await problem(
		await api(deps, "/api/v1/instances/i-0123456789abcdef0/actions/explode", { token, method: "POST" }),
		422,
	);
	await problem(await api(deps, "/api/v1/launches/not-a-uuid", { token }), 404);
	const malformed = await deps.app.request("/api/v1/launches", {
		method: "POST",
		headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
		body: "{not json",
	}, { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" } });
	assert.ok([400, 422].includes(malformed.status), String(malformed.status));
	assert.equal(malformed.headers.get("Content-Type"), "application/problem+json");
	const notMember = await api(deps, "/api/v1/launches", { token, json: { groupId: 99999, configId: 1 } });
	await problem(notMember, 404);

	// Each token has its own share a minute: then 429 with Retry-After; another token goes on.
	let limited: Response | undefined;
	for (let i = 0; i < 20 && !limited; i++) {
		const res = await api(deps, "/api/v1/instances", { token });
		if (res.status === 429) limited = res;
		else await res.body?.cancel();
	}
	assert.ok(limited, "the flood is limited");
	await problem(limited, 429);
	assert.ok(Number(limited.headers.get("Retry-After")) >= 1);
	const other = await makeToken(deps, "alice", { name: "other" });
	assert.equal((await api(deps, "/api/v1/instances", { token: other })).status, 200);
	deps.clock.advance(60_000);
	assert.equal((await api(deps, "/api/v1/instances", { token })).status, 200, "the share refills");
});

Deno.test("the OpenAPI document validates and lists every /api/v1/ route; the reference page shows each", async () => {
	await using deps = await createTestDeps();
	const res = await api(deps, "/api/v1/openapi.json");
	assert.equal(res.status, 200);
	const document = await res.json();
	const validator = new Validator();
	const result = await validator.validate(document);
	assert.deepEqual(result, { valid: true }, JSON.stringify(result.errors ?? []).slice(0, 2000));
	assert.equal(validator.version, "3.1");

	const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap((
		[path, item],
	) => Object.keys(item).map((method) => `${method.toUpperCase()} /api/v1${path.replace(/\{(\w+)\}/g, ":$1")}`))
		.sort();
	const routes = [
		...new Set(
			deps.app.routes.filter((r) => r.path.startsWith("/api/v1/") && r.method !== "ALL").map((r) =>
				`${r.method} ${r.path}`
			),
		),
	].sort();
	assert.ok(routes.length >= 13, routes.join("\n"));
	assert.deepEqual(documented, routes);

	const page = await api(deps, "/api/v1/reference");
	assert.equal(page.status, 200);
	const html = await page.text();
	for (const route of routes) {
		const [method, path] = route.split(" ");
		assert.ok(html.includes(`${method} ${path!.replace(/:(\w+)/g, "{$1}")}`), `${route} on the reference page`);
	}
	assert.doesNotMatch(html, /<script/, "no script, nothing from outside");
});
