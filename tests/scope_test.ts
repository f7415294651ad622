/**
 * One team scope (lib/db/scope.ts, viewerScope) for the team view's instances, clusters and owner
 * filter and for the billing report's bills and user filter; ids in URLs and filters parsed alike.
 */
import assert from "node:assert/strict";
import { toViewer } from "../lib/auth/identify.ts";
import { openBill, openBills } from "../lib/db/bills.ts";
import { insertCluster, teamClusterRows } from "../lib/db/clusters.ts";
import { teamInstanceRows, usersInScope } from "../lib/db/instances.ts";
import { getUserByUsername, groupIdsOf } from "../lib/db/users.ts";
import { viewerScope } from "../lib/auth/permissions.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addInstance, addUser, seedWorld } from "./_helpers/world.ts";

Deno.test("the team scope covers the viewer and their groups' members, or everyone for managers", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const loner = await addUser(deps.db, "lena");
	const owners = { alice: world.alice, bob: world.bob, olga: world.olga, lena: loner };
	const now = deps.clock();
	for (const [name, user] of Object.entries(owners)) {
		const n = String(user.id).padStart(2, "0");
		await addInstance(deps.db, { id: `i-000000000000000${n}`, ownerId: user.id });
		await insertCluster(deps.db, {
			id: `j-${name.toUpperCase()}`,
			ownerId: user.id,
			instanceType: "m4.large",
			coreNodes: 2,
			state: "WAITING",
		});
		await openBill(deps.db, {
			resourceKind: "instance",
			resourceId: `i-000000000000000${n}`,
			userId: user.id,
			costCenter: "CC",
			description: "t2.micro",
			hourlyRate: 0.01,
			startedAt: now,
		});
	}
	const since = new Date(0);
	const expected: [string, string[]][] = [
		["alice", ["alice", "bob"]],
		["olga", ["olga"]],
		["lena", ["lena"]],
		["mia", ["ada", "alice", "bob", "lena", "mia", "olga"]],
	];
	for (const [username, sees] of expected) {
		const user = (await getUserByUsername(deps.db, username))!;
		const scope = viewerScope(toViewer(user, await groupIdsOf(deps.db, user.id), []));
		const owning = sees.filter((u) => u in owners);
		const byId = new Map(Object.values(owners).map((u) => [u.id, u.username]));
		const names = (ids: number[]) => ids.map((id) => byId.get(id)).sort();
		const { rows, total } = await teamInstanceRows(deps.db, scope, {}, { offset: 0, limit: 50 }, since);
		assert.deepEqual(names(rows.map((r) => r.ownerId)), owning, `${username}: instances`);
		assert.equal(total, owning.length);
		const clusters = await teamClusterRows(deps.db, scope, since);
		assert.deepEqual(names(clusters.map((r) => r.ownerId)), owning, `${username}: clusters`);
		const bills = await openBills(deps.db, scope);
		assert.deepEqual(names(bills.map((b) => b.userId)), owning, `${username}: bills`);
		assert.deepEqual(
			(await usersInScope(deps.db, scope)).map((u) => u.username),
			sees,
			`${username}: users`,
		);
	}
	const billing = await (await request(deps.app, "/billing", { user: "alice" })).text();
	const options = [...billing.matchAll(/<option value="\d+"[^>]*>([^<]+)<\/option>/g)].map((m) => m[1]);
	assert.ok(options.includes("alice") && options.includes("bob"), "the user filter offers alice's team");
	assert.ok(!options.includes("olga") && !options.includes("lena"), "and nobody outside it");
});

Deno.test("malformed ids in filters are a 400, in URLs a 404", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const cases: [string, string, number, RegExp][] = [
		["/team?owner=1x", "alice", 400, /The owner filter must be an id number/],
		["/team?group=-1", "alice", 400, /The group filter must be an id number/],
		["/billing?user=9999999999", "alice", 400, /The user filter must be an id number/],
		["/billing?group=abc", "alice", 400, /The group filter must be an id number/],
		["/launch/1e3", "alice", 404, /No such group/],
		["/admin/groups/0x1", "ada", 404, /No such item/],
	];
	for (const [path, user, status, message] of cases) {
		const res = await request(deps.app, path, { user });
		assert.equal(res.status, status, path);
		assert.match(await res.text(), message, path);
	}
});

Deno.test("the team view's and the billing report's filters show the values they were asked for", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const selectedIn = (html: string, name: string) =>
		[...html.matchAll(new RegExp(`<select id="f-${name}" name="${name}">(.*?)</select>`, "gs"))]
			.flatMap((m) => [...m[1]!.matchAll(/<option value="([^"]*)" selected[^>]*>([^<]*)</g)])
			.map((m) => `${m[1]}=${m[2]}`);

	const team = await request(deps.app, `/team?state=stopped&owner=${world.bob.id}&group=${world.science.id}`, {
		user: "mia",
	});
	assert.equal(team.status, 200);
	const teamHtml = await team.text();
	assert.deepEqual(selectedIn(teamHtml, "state"), ["stopped=Stopped"]);
	assert.deepEqual(selectedIn(teamHtml, "owner"), [`${world.bob.id}=bob`]);
	assert.deepEqual(selectedIn(teamHtml, "group"), [`${world.science.id}=science`]);
	const unfiltered = await (await request(deps.app, "/team", { user: "mia" })).text();
	assert.deepEqual(
		selectedIn(unfiltered, "owner"),
		[],
		"no filter: nothing marked, so the first option, Anyone, shows",
	);

	const billing = await request(deps.app, `/billing?user=${world.bob.id}&group=${world.science.id}`, { user: "mia" });
	assert.equal(billing.status, 200);
	const billingHtml = await billing.text();
	assert.deepEqual(selectedIn(billingHtml, "user"), [`${world.bob.id}=bob`]);
	assert.deepEqual(selectedIn(billingHtml, "group"), [`${world.science.id}=science`]);
});
