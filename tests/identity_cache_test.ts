/**
 * Who a signed-in user is comes from a per-process cache (lib/auth/identity_cache.ts), checked on
 * every request against a counter the database's triggers move: a role, a membership or a session
 * changed anywhere (this process, another process on the same database, hand-written SQL) counts
 * from the next request on, exactly as without the cache. The cache is bounded by size, and a CSRF
 * token, made once per user and generation, is the HMAC it always was.
 */
import assert from "node:assert/strict";
import { setBreakGlassPassword, signInBreakGlass, signOutBreakGlass } from "../lib/auth/break_glass.ts";
import type { SignedIn } from "../lib/auth/identify.ts";
import { csrfToken } from "../lib/auth/csrf.ts";
import { IDENTITY_CACHE_SIZE, IdentityCache, identityCacheOf } from "../lib/auth/identity_cache.ts";
import { hmacToken } from "../lib/tokens.ts";
import { identityGeneration } from "../lib/db/app_state.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { csrfFor, request } from "./_helpers/http.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

const OLGAS = "i-00000000000000196";
const STOP = "/ajax/instance/i-0123456789abcdef0/stop";

async function status(app: Parameters<typeof request>[0], path: string, user?: string, headers = {}) {
	const res = await request(app, path, { user, headers });
	await res.body?.cancel();
	return res.status;
}

async function teamShowsOlgas(app: Parameters<typeof request>[0], user: string): Promise<boolean> {
	const res = await request(app, "/team", { user });
	assert.equal(res.status, 200);
	return (await res.text()).includes(OLGAS);
}

/** Posts a stop of a machine nobody has with `token`: 404 when the token is accepted, 403 when not. */
async function postWith(app: Parameters<typeof request>[0], user: string, token: string): Promise<number> {
	const res = await request(app, STOP, { user, method: "POST", csrf: false, headers: { "X-CSRF-Token": token } });
	await res.body?.cancel();
	return res.status;
}

/** The admin saves a user's role and manual groups through the user form. */
async function saveAccess(
	app: Parameters<typeof request>[0],
	userId: number,
	access: { role: string; groups: number[] },
): Promise<void> {
	const res = await request(app, `/admin/users/${userId}`, {
		user: "ada",
		form: { role: access.role, groups: access.groups.map(String) },
	});
	await res.body?.cancel();
	assert.equal(res.status, 303);
}

Deno.test("a viewer is read once, then answered from the cache; a role, a membership or sign out everywhere counts on the next request", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: OLGAS, ownerId: world.olga.id, groupId: world.ops.id });
	const cache = identityCacheOf<SignedIn>(deps.db);

	assert.equal(await status(deps.app, "/admin", "alice"), 403);
	assert.equal(await teamShowsOlgas(deps.app, "alice"), false);
	const kept = cache.users.get("alice");
	assert.ok(kept, "alice is cached once her sign-in is written");
	assert.equal(await status(deps.app, "/", "alice"), 200);
	assert.equal(cache.users.get("alice"), kept, "the next request is answered from the same entry");
	assert.deepEqual([...kept.signedIn.groupIds], [world.science.id]);

	// An admin makes her an admin and puts her in ops: her very next request is an admin's, in ops.
	await saveAccess(deps.app, world.alice.id, { role: "admin", groups: [world.science.id, world.ops.id] });
	assert.equal(await status(deps.app, "/admin", "alice"), 200);
	assert.equal(await teamShowsOlgas(deps.app, "alice"), true);
	// And takes both away again.
	await saveAccess(deps.app, world.alice.id, { role: "user", groups: [world.science.id] });
	assert.equal(await status(deps.app, "/admin", "alice"), 403);
	assert.equal(await teamShowsOlgas(deps.app, "alice"), false);

	// Signing out everywhere: the token of every open page is refused on the next request.
	const before = await csrfFor(deps.app, { user: "alice" });
	assert.equal(await postWith(deps.app, "alice", before), 404, "accepted before");
	const out = await request(deps.app, "/profile/sign-out-everywhere", {
		user: "alice",
		method: "POST",
		csrf: false,
		headers: { "X-CSRF-Token": before },
	});
	await out.body?.cancel();
	assert.equal(out.status, 303);
	assert.equal(await postWith(deps.app, "alice", before), 403, "revoked at once");
	assert.equal(await postWith(deps.app, "alice", out.headers.get("X-CSRF-Token")!), 404);
});

Deno.test("two app instances on one database: a change made through one, or by hand in SQL, counts on the other's next request", async () => {
	await using a = await createTestDeps();
	await using b = await createTestDeps({ clock: a.clock, settings: { DATABASE_URL: a.settings.DATABASE_URL } });
	const world = await seedWorld(a.db);
	await addInstance(a.db, { id: OLGAS, ownerId: world.olga.id, groupId: world.ops.id });
	assert.notEqual(identityCacheOf<SignedIn>(a.db), identityCacheOf<SignedIn>(b.db), "each process has its own cache");

	// B has alice cached as a user of science.
	assert.equal(await status(b.app, "/admin", "alice"), 403);
	assert.equal(await teamShowsOlgas(b.app, "alice"), false);
	assert.ok(identityCacheOf<SignedIn>(b.db).users.get("alice"));
	const token = await csrfFor(b.app, { user: "alice" });
	assert.equal(await postWith(b.app, "alice", token), 404);

	// An admin on A makes her an admin in ops: B's next request says so (the bound is one request, not a time).
	await saveAccess(a.app, world.alice.id, { role: "admin", groups: [world.science.id, world.ops.id] });
	assert.equal(await status(b.app, "/admin", "alice"), 200);
	assert.equal(await teamShowsOlgas(b.app, "alice"), true);
	await saveAccess(a.app, world.alice.id, { role: "user", groups: [world.science.id] });
	assert.equal(await status(b.app, "/admin", "alice"), 403);
	assert.equal(await teamShowsOlgas(b.app, "alice"), false);

	// An admin on A signs her out everywhere: B refuses her open pages' token at once.
	const revoke = await request(a.app, `/admin/users/${world.alice.id}/revoke`, { user: "ada", form: {} });
	await revoke.body?.cancel();
	assert.equal(revoke.status, 303);
	assert.equal(await postWith(b.app, "alice", token), 403);

	// A write no lib/db function made (an operator's SQL) moves the counter as well: the triggers see every writer.
	const generation = await identityGeneration(b.db);
	await a.database.client.execute("UPDATE users SET role = 'admin' WHERE username = 'alice'");
	assert.ok((await identityGeneration(b.db))! > generation!);
	assert.equal(await status(b.app, "/admin", "alice"), 200);
	await a.database.client.execute({
		sql: "DELETE FROM memberships WHERE user_id = ?",
		args: [world.alice.id],
	});
	assert.equal(await teamShowsOlgas(b.app, "alice"), true, "still an admin, who sees every team");
	assert.deepEqual(
		[...identityCacheOf<SignedIn>(b.db).users.get("alice")!.signedIn.groupIds],
		[],
		"her groups read again",
	);
});

Deno.test("a break-glass session ended in one process stops opening the other's pages on the next request", async () => {
	const settings = { BREAK_GLASS: true, ADMIN_USERNAMES: "root" };
	await using a = await createTestDeps({ settings });
	await using b = await createTestDeps({
		clock: a.clock,
		settings: { ...settings, DATABASE_URL: a.settings.DATABASE_URL },
	});
	await setBreakGlassPassword(a, "root", "a long enough password");
	const signedIn = await signInBreakGlass(a, {
		username: "root",
		password: "a long enough password",
		source: "10.1.2.3",
	});
	assert.ok(signedIn.ok);
	const cookie = { Cookie: `mliy_break_glass=${signedIn.cookie}` };
	assert.equal(await status(b.app, "/admin", undefined, cookie), 200);
	assert.equal(await status(b.app, "/admin", undefined, cookie), 200);
	assert.equal(identityCacheOf<SignedIn>(b.db).sessions.size, 1, "B answers the session from its cache");

	const root = identityCacheOf<SignedIn>(b.db).sessions.values().next().value!.signedIn;
	await signOutBreakGlass(a, root, "10.1.2.3");
	assert.equal(await status(b.app, "/admin", undefined, cookie), 401);

	// A session past its end is refused even while nothing was written.
	const again = await signInBreakGlass(a, { username: "root", password: "a long enough password", source: "10.1.2.3" });
	assert.ok(again.ok);
	const fresh = { Cookie: `mliy_break_glass=${again.cookie}` };
	assert.equal(await status(b.app, "/admin", undefined, fresh), 200);
	assert.equal(await status(b.app, "/admin", undefined, fresh), 200);
	a.clock.advance(a.settings.BREAK_GLASS_MINUTES * 60_000);
	assert.equal(await status(b.app, "/admin", undefined, fresh), 401);
});

Deno.test("a directory user: a group given their directory entry counts on the next request; other group edits keep the cache", async () => {
	await using deps = await createTestDeps({ settings: { AUTH_PLUGIN: "plugins/auth_ldap" } });
	const world = await seedWorld(deps.db);
	const carol = { user: "carol", headers: { AUTHORIZE_MEMBEROF: "CN=Ops People,OU=Teams,DC=example,DC=com" } };
	const groupsOfCarol = async () => {
		const res = await request(deps.app, "/", carol);
		await res.body?.cancel();
		assert.equal(res.status, 200);
		return [...identityCacheOf<SignedIn>(deps.db).users.get("carol")!.signedIn.groupIds];
	};
	await groupsOfCarol();
	assert.deepEqual(await groupsOfCarol(), []);

	const generation = await identityGeneration(deps.db);
	await deps.database.client.execute({
		sql: "UPDATE groups SET cost_center = 'CC-9' WHERE id = ?",
		args: [world.ops.id],
	});
	assert.equal(await identityGeneration(deps.db), generation, "a group's other settings are not who anyone is");

	await deps.database.client.execute({
		sql: "UPDATE groups SET directory_name = 'CN=Ops People,OU=Teams,DC=example,DC=com' WHERE id = ?",
		args: [world.ops.id],
	});
	assert.deepEqual(await groupsOfCarol(), [world.ops.id], "the directory's membership is applied at once");
});

Deno.test("the cache is bounded: past IDENTITY_CACHE_SIZE users the least recently used go first", () => {
	const cache = new IdentityCache<SignedIn>();
	const entry = (id: number) => ({
		signedIn: { id } as SignedIn,
		user: {} as never,
		answer: "",
	});
	for (let id = 0; id < IDENTITY_CACHE_SIZE + 100; id++) cache.users.set(`user${id}`, entry(id));
	assert.equal(cache.users.size, IDENTITY_CACHE_SIZE);
	assert.equal(cache.users.has("user0"), false);
	assert.equal(cache.users.has(`user${IDENTITY_CACHE_SIZE + 99}`), true);
});

Deno.test("a CSRF token made once per user and generation is the HMAC it always was, and each secret's own", async () => {
	const alice = { id: 7, username: "alice" };
	for (const secret of ["one secret", "another secret"]) {
		assert.equal(await csrfToken(secret, alice, 3), await hmacToken(secret, "csrf:7:alice:3"));
		assert.equal(await csrfToken(secret, alice, 3), await hmacToken(secret, "csrf:7:alice:3"), "from the cache");
		assert.equal(await csrfToken(secret, alice, 0), await hmacToken(secret, "csrf:7:alice"));
	}
	assert.notEqual(await csrfToken("one secret", alice, 3), await csrfToken("another secret", alice, 3));
	assert.notEqual(await csrfToken("one secret", alice, 3), await csrfToken("one secret", alice, 4));
});
