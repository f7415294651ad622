import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { groupManagers, memberships, users } from "../lib/db/schema.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addGroup, addInstance, addManager, addMember, addUser } from "./_helpers/world.ts";

Deno.test("a forged identity header from an address that is not a trusted proxy is refused", async () => {
	await using deps = await createTestDeps({ settings: { TRUSTED_PROXIES: ["10.0.0.1"] } });
	const forged = await request(deps.app, "/", { user: "alice", from: "192.168.7.7" });
	assert.equal(forged.status, 401);
	assert.match(await forged.text(), /did not come through the portal&#39;s sign-in proxy|did not come through/);
	assert.equal((await deps.db.select().from(users)).length, 0, "no user is created from a forged header");
	const proxied = await request(deps.app, "/", { user: "alice", from: "10.0.0.1" });
	assert.equal(proxied.status, 200);
});

Deno.test("a request without identity gets a 401 page, never a guess", async () => {
	await using deps = await createTestDeps();
	const res = await request(deps.app, "/");
	assert.equal(res.status, 401);
	assert.match(res.headers.get("content-type") ?? "", /text\/html/);
	assert.match(await res.text(), /You are not signed in/);
	const json = await request(deps.app, "/team", { headers: { Accept: "application/json" } });
	assert.equal(json.status, 401);
	assert.equal((await json.json()).status, "failed");
});

Deno.test("users are created on first visit, case-normalised and cleaned by the plugin", async () => {
	await using deps = await createTestDeps({ settings: { PLUGIN_SETTINGS: { REALMS: "EXAMPLE.COM" } } });
	assert.equal((await request(deps.app, "/", { user: "Alice@EXAMPLE.COM" })).status, 200);
	assert.equal((await request(deps.app, "/", { user: "alice" })).status, 200);
	const rows = await deps.db.select().from(users);
	assert.deepEqual(rows.map((u) => u.username), ["alice"]);
});

Deno.test("a realm that is not listed keeps its suffix: breakglass@PARTNER.REALM is not the break-glass admin", async () => {
	await using deps = await createTestDeps({
		settings: { ADMIN_USERNAMES: ["breakglass"], PLUGIN_SETTINGS: { REALMS: "EXAMPLE.COM,EXAMPLE" } },
	});
	const partner = await request(deps.app, "/admin", { user: "breakglass@PARTNER.REALM" });
	assert.equal(partner.status, 403, "someone of another realm is a plain user");
	assert.equal((await request(deps.app, "/", { user: "PARTNER\\breakglass" })).status, 401, "another domain");
	assert.equal((await request(deps.app, "/admin", { user: "breakglass@EXAMPLE.COM" })).status, 200);
	assert.equal((await request(deps.app, "/admin", { user: "EXAMPLE\\breakglass" })).status, 200);
	const names = (await deps.db.select().from(users)).map((u) => u.username).sort();
	assert.deepEqual(names, ["breakglass", "breakglass@partner.realm"]);
});

Deno.test("a username the portal cannot accept is refused", async () => {
	await using deps = await createTestDeps();
	const res = await request(deps.app, "/", { user: "<script>alert(1)</script>" });
	assert.equal(res.status, 401);
	assert.doesNotMatch(await res.text(), /<script>alert/);
});

Deno.test("the LDAP plugin maps memberOf DNs to groups, adding and removing memberships and the admin role", async () => {
	await using deps = await createTestDeps({
		settings: {
			AUTH_PLUGIN: "plugins/auth_ldap",
			PLUGIN_SETTINGS: { LDAP_ADMIN_GROUP: "CN=Portal Admins,OU=Groups,DC=example,DC=com" },
			PROXY_SECRET_WAIVED: true,
		},
	});
	const science = await addGroup(deps.db, "science", { directoryName: "CN=Data Science,OU=Teams,DC=example,DC=com" });
	const other = await addGroup(deps.db, "other-ou", {
		directoryName: "CN=Data Science,OU=Elsewhere,DC=example,DC=com",
	});
	const byCn = await addGroup(deps.db, "ops", { directoryName: "Operations" });
	const manual = await addGroup(deps.db, "manual");
	const login = (memberOf: string) =>
		request(deps.app, "/", {
			user: "carol",
			headers: {
				AUTHENTICATE_GIVENNAME: "Carol",
				AUTHENTICATE_SN: "King",
				AUTHENTICATE_MAIL: "carol@example.com",
				AUTHORIZE_MEMBEROF: memberOf,
			},
		});
	assert.equal(
		(await login(
			"CN=Data Science, OU=Teams,DC=example,DC=com;CN=Operations,OU=Teams,DC=example,DC=com;CN=Portal Admins,OU=Groups,DC=example,DC=com",
		)).status,
		200,
	);
	const carol = (await deps.db.select().from(users).where(eq(users.username, "carol")))[0]!;
	assert.equal(carol.firstName, "Carol");
	assert.equal(carol.email, "carol@example.com");
	assert.equal(carol.directoryRole, "admin");
	await addMember(deps.db, carol.id, manual.id, "manual");
	const groupsOf = async () =>
		(await deps.db.select().from(memberships).where(eq(memberships.userId, carol.id))).map((m) =>
			`${m.groupId}:${m.source}`
		)
			.sort();
	assert.deepEqual(await groupsOf(), [`${science.id}:directory`, `${byCn.id}:directory`, `${manual.id}:manual`].sort());
	assert.ok(!(await groupsOf()).includes(`${other.id}:directory`), "same CN in another OU is another team");

	// The directory drops Operations and the admin group: both are revoked; the manual membership stays.
	await login("CN=Data Science,OU=Teams,DC=example,DC=com");
	assert.deepEqual(await groupsOf(), [`${science.id}:directory`, `${manual.id}:manual`].sort());
	const after = (await deps.db.select().from(users).where(eq(users.id, carol.id)))[0]!;
	assert.equal(after.directoryRole, "user");
	const admin = await request(deps.app, "/admin", { user: "carol", headers: { AUTHORIZE_MEMBEROF: "" } });
	assert.equal(admin.status, 403, "the revoked admin role no longer opens the admin pages");
});

Deno.test("the LDAP plugin grants admin to nobody when no admin group is configured", async () => {
	await using deps = await createTestDeps({ settings: { AUTH_PLUGIN: "plugins/auth_ldap" } });
	await request(deps.app, "/", { user: "dave", headers: { AUTHORIZE_MEMBEROF: "CN=Anything,DC=example,DC=com" } });
	const dave = (await deps.db.select().from(users).where(eq(users.username, "dave")))[0]!;
	assert.equal(dave.directoryRole, "user");
});

Deno.test("ADMIN_USERNAMES make a user an admin", async () => {
	await using deps = await createTestDeps({ settings: { ADMIN_USERNAMES: ["root-user"] } });
	await addUser(deps.db, "root-user");
	const res = await request(deps.app, "/", { user: "root-user" });
	assert.match(await res.text(), /<span class="role">admin<\/span>/);
});

Deno.test("ADMIN_USERNAMES in any case make the user an admin and the launch page's contact", async () => {
	await using deps = await createTestDeps({ settings: { ADMIN_USERNAMES: ["Root-User"] } });
	await addUser(deps.db, "root-user", { firstName: "Rita", lastName: "Root" });
	const home = await request(deps.app, "/", { user: "root-user" });
	assert.match(await home.text(), /<span class="role">admin<\/span>/);
	const launch = await request(deps.app, "/launch", { user: "newcomer" });
	assert.match(await launch.text(), /You are not a member of any group\. Ask Rita Root/);
});

Deno.test("the LDAP plugin makes the members of a group's manager directory group its managers, and the directory revokes it", async () => {
	await using deps = await createTestDeps({
		settings: {
			AUTH_PLUGIN: "plugins/auth_ldap",
			PLUGIN_SETTINGS: { LDAP_MANAGER_GROUP: "CN=Portal Managers,OU=Groups,DC=example,DC=com" },
			PROXY_SECRET_WAIVED: true,
		},
	});
	const science = await addGroup(deps.db, "science", {
		directoryName: "CN=Data Science,OU=Teams,DC=example,DC=com",
		managerDirectoryName: "CN=Science Leads,OU=Groups,DC=example,DC=com",
	});
	const ops = await addGroup(deps.db, "ops", { managerDirectoryName: "Ops Leads" });
	const alice = await addUser(deps.db, "alice");
	const olga = await addUser(deps.db, "olga");
	await addMember(deps.db, alice.id, science.id);
	await addMember(deps.db, olga.id, ops.id);
	await addInstance(deps.db, { id: "i-0000000000000a11c", ownerId: alice.id, groupId: science.id });
	await addInstance(deps.db, { id: "i-00000000000000196", ownerId: olga.id, groupId: ops.id });
	const as = (memberOf: string, url = "/team") =>
		request(deps.app, url, { user: "carol", headers: { AUTHORIZE_MEMBEROF: memberOf } });
	const managed = async () =>
		(await deps.db.select().from(groupManagers)).map((m) => `${m.groupId}:${m.source}`).sort();

	// Leading science (by its full DN): carol manages science, and only science; she is no member and keeps the user role.
	const leading = await (await as("CN=Science Leads,OU=Groups,DC=example,DC=com")).text();
	assert.ok(leading.includes("i-0000000000000a11c") && !leading.includes("i-00000000000000196"));
	assert.deepEqual(await managed(), [`${science.id}:directory`]);
	const carol = (await deps.db.select().from(users).where(eq(users.username, "carol")))[0]!;
	assert.equal(carol.directoryRole, "user");
	assert.equal((await deps.db.select().from(memberships).where(eq(memberships.userId, carol.id))).length, 0);
	assert.equal(
		(await as("CN=Science Leads,OU=Groups,DC=example,DC=com", "/instances/i-00000000000000196")).status,
		403,
	);

	// An admin also has her manage ops; the directory then moves her from science to ops' leads by CN.
	await addManager(deps.db, carol.id, ops.id, "manual");
	const moved = await (await as("CN=Ops Leads,OU=Elsewhere,DC=example,DC=com")).text();
	assert.deepEqual(await managed(), [`${ops.id}:directory`, `${ops.id}:manual`].sort());
	assert.ok(!moved.includes("i-0000000000000a11c") && moved.includes("i-00000000000000196"));

	// Dropped from every leads group: the admin's assignment stays, the directory's goes.
	await as("");
	assert.deepEqual(await managed(), [`${ops.id}:manual`]);

	// The global manager group still manages every group.
	const global = await (await as("CN=Portal Managers,OU=Groups,DC=example,DC=com")).text();
	assert.ok(global.includes("i-0000000000000a11c") && global.includes("i-00000000000000196"));
	assert.match(global, /As a manager you see every team/);
});

Deno.test("the profile shows the directory's names, email and groups, refreshed at every sign-in", async () => {
	await using deps = await createTestDeps({
		settings: { AUTH_PLUGIN: "plugins/auth_ldap", PROXY_SECRET_WAIVED: true },
	});
	await addGroup(deps.db, "science", { directoryName: "CN=Data Science,OU=Teams,DC=example,DC=com" });
	await addGroup(deps.db, "ops", { directoryName: "CN=Operations,OU=Teams,DC=example,DC=com" });
	const profile = async (mail: string, surname: string, memberOf: string) =>
		await (await request(deps.app, "/profile", {
			user: "dora",
			headers: {
				AUTHENTICATE_GIVENNAME: "Dora",
				AUTHENTICATE_SN: surname,
				AUTHENTICATE_MAIL: mail,
				AUTHORIZE_MEMBEROF: memberOf,
			},
		})).text();
	const first = await profile("dora@example.com", "Diaz", "CN=Data Science,OU=Teams,DC=example,DC=com");
	assert.match(first, /dora/);
	assert.match(first, /Dora Diaz/);
	assert.match(first, /dora@example\.com/);
	assert.match(first, /<li>science<\/li>/);
	assert.doesNotMatch(first, /<li>ops<\/li>/);
	const later = await profile("dora.lee@example.com", "Lee", "CN=Operations,OU=Teams,DC=example,DC=com");
	assert.match(later, /Dora Lee/, "a changed surname in the directory is the profile's at the next sign-in");
	assert.match(later, /dora\.lee@example\.com/);
	assert.doesNotMatch(later, /dora@example\.com/);
	assert.match(later, /<li>ops<\/li>/);
	assert.doesNotMatch(later, /<li>science<\/li>/, "a group the directory dropped is gone");
});
