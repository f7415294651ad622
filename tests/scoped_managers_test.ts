/**
 * Scoped managers: a user assigned to manage one group (by an admin here; by the directory in
 * auth_test.ts) sees that group's team, bills and budgets and not another's, stops its members'
 * machines and is refused the other group's (403); terminating stays with owners and admins. The
 * global manager role still manages every group. Through the HTTP app, the machines really running
 * in moto. Also the admin's side: the group form's manager directory group refuses what cannot be
 * one group (422, in our words), and the user form's assignment is audited.
 */
import assert from "node:assert/strict";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { auditFor } from "../lib/db/audit.ts";
import { groupManagers, groups } from "../lib/db/schema.ts";
import { syncAll } from "../lib/sync/all.ts";
import { billedInstances, setBudget } from "./_helpers/budgets.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { addManager, addUser, seedWorld } from "./_helpers/world.ts";

const HOUR = 3_600_000;

async function stateInMoto(moto: Moto, id: string): Promise<string> {
	const out = await moto.ec2().send(new DescribeInstancesCommand({ InstanceIds: [id] }));
	return out.Reservations![0]!.Instances![0]!.State!.Name!;
}

async function page(app: Parameters<typeof request>[0], url: string, user: string) {
	const res = await request(app, url, { user });
	return { status: res.status, text: await res.text() };
}

motoTest(
	"a manager of science sees science's team, bills and budgets, stops its machines, and gets 403 on ops'",
	async (moto) => {
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
		});
		const world = await seedWorld(deps.db);
		const sam = await addUser(deps.db, "sam", { firstName: "Sam" });
		await addManager(deps.db, sam.id, world.science.id);
		const [alices] = await billedInstances(deps, moto, world, ["t2.micro"], world.alice);
		const [olgas] = await billedInstances(deps, moto, world, ["m4.large"], world.olga, world.ops.id);
		await setBudget(deps, "ada", { scope: "group", groupId: String(world.science.id), amount: "111" });
		await setBudget(deps, "ada", { scope: "group", groupId: String(world.ops.id), amount: "222" });
		deps.clock.advance(2 * HOUR);
		await syncAll(deps);

		// The team view: science's members' instances, not ops'.
		const team = await page(deps.app, "/team", "sam");
		assert.equal(team.status, 200);
		assert.ok(team.text.includes(alices!), "alice's instance (science) is on sam's team view");
		assert.ok(!team.text.includes(olgas!), "olga's (ops) is not");
		assert.match(team.text, /belongs to a group you manage \(science\)/);
		assert.ok(team.text.includes("$111.00") && !team.text.includes("$222.00"), "science's budget bar, not ops'");

		// Billing: science's bills; a filter on ops is refused in our words.
		const billing = await page(deps.app, "/billing", "sam");
		assert.equal(billing.status, 200);
		assert.ok(billing.text.includes("t2.micro"), "alice's bill is on sam's billing");
		assert.ok(!billing.text.includes("m4.large"), "olga's is not");
		assert.equal((await page(deps.app, `/billing?group=${world.science.id}`, "sam")).status, 200);
		const opsBills = await page(deps.app, `/billing?group=${world.ops.id}`, "sam");
		assert.equal(opsBills.status, 403);
		assert.match(opsBills.text, /You may only see the bills of your own groups and the groups you manage/);
		const csv = await page(deps.app, "/billing.csv", "sam");
		assert.ok(csv.text.includes("t2.micro") && !csv.text.includes("m4.large"), "the CSV has the same scope");
		assert.equal(
			(await page(deps.app, "/billing/chargeback?month=2025-02&costCenter=CC&format=json", "sam")).status,
			403,
			"a chargeback covers every group of a cost center: global managers and admins only",
		);

		// Budgets: science's, not ops'.
		const budgets = await page(deps.app, "/budgets", "sam");
		assert.ok(budgets.text.includes("$111.00") && !budgets.text.includes("$222.00"));

		// Actions: stopping science's machine works, ops' is refused, terminating is not a manager's.
		const stop = await request(deps.app, `/ajax/instance/${alices}/stop?view=team`, {
			user: "sam",
			htmx: true,
			form: {},
		});
		assert.equal(stop.status, 200, await stop.clone().text());
		await stop.body?.cancel();
		await deps.background.idle();
		assert.match(await stateInMoto(moto, alices!), /stopping|stopped/);
		const refused = await request(deps.app, `/ajax/instance/${olgas}/stop?view=team`, {
			user: "sam",
			htmx: true,
			form: {},
		});
		assert.equal(refused.status, 403);
		await refused.body?.cancel();
		assert.equal(await stateInMoto(moto, olgas!), "running", "ops' machine is untouched");
		const terminate = await request(deps.app, `/ajax/instance/${alices}/terminate?view=team`, {
			user: "sam",
			htmx: true,
			form: {},
		});
		assert.equal(terminate.status, 403, "terminating stays with the owner and the admins");
		await terminate.body?.cancel();
		assert.notEqual(await stateInMoto(moto, alices!), "terminated");
		assert.equal((await page(deps.app, `/instances/${olgas}`, "sam")).status, 403, "ops' machine page is refused");

		// The global manager role still manages every group.
		const mias = await page(deps.app, "/team", "mia");
		assert.ok(mias.text.includes(alices!) && mias.text.includes(olgas!), "mia (manager role) sees both groups");
		const miaStops = await request(deps.app, `/ajax/instance/${olgas}/stop?view=team`, {
			user: "mia",
			htmx: true,
			form: {},
		});
		assert.equal(miaStops.status, 200);
		await miaStops.body?.cancel();
	},
);

Deno.test("the group form's manager directory group: one group, not the group's own (422 in our words); saved and shown", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const before = (await deps.db.select().from(groups)).length;
	const post = (fields: Record<string, string>) =>
		request(deps.app, "/admin/groups/new", { user: "ada", form: { name: "leads", ...fields } });

	const two = await post({ managerDirectoryName: "CN=Leads,DC=example,DC=com;CN=Others,DC=example,DC=com" });
	assert.equal(two.status, 422);
	assert.match(
		await two.text(),
		/One directory group only: no ; \(it separates groups in the directory(?:'|&#39;)s header\)/,
	);
	const own = await post({
		directoryName: "CN=Leads,DC=example,DC=com",
		managerDirectoryName: "cn=leads, dc=example,dc=com",
	});
	assert.equal(own.status, 422);
	assert.match(await own.text(), /This is the group(?:'|&#39;)s own directory group: every member would manage it/);
	const long = await post({ managerDirectoryName: "x".repeat(501) });
	assert.equal(long.status, 422);
	assert.match(await long.text(), /At most 500 characters/);
	assert.equal((await deps.db.select().from(groups)).length, before, "nothing saved");

	const saved = await post({
		directoryName: "CN=Leads,DC=example,DC=com",
		managerDirectoryName: "CN=Lead Managers,DC=example,DC=com",
	});
	assert.equal(saved.status, 303);
	const form = await request(deps.app, saved.headers.get("Location")!, { user: "ada" });
	assert.match(await form.text(), /name="managerDirectoryName"[^>]*value="CN=Lead Managers,DC=example,DC=com"/);
});

Deno.test("an admin assigns a user groups to manage on the user form: audited, bad ids refused (422)", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const sam = await addUser(deps.db, "sam");
	const save = (managedGroups: string[]) =>
		request(deps.app, `/admin/users/${sam.id}`, { user: "ada", form: { role: "user", groups: [], managedGroups } });

	const bogus = await save(["99999"]);
	assert.equal(bogus.status, 422);
	assert.match(await bogus.text(), /Choose from the list/);
	assert.equal((await deps.db.select().from(groupManagers)).length, 0, "nothing assigned");

	assert.equal((await save([String(world.science.id), String(world.ops.id)])).status, 303);
	assert.equal((await save([String(world.science.id)])).status, 303);
	assert.equal((await save([String(world.science.id)])).status, 303, "saved again unchanged");
	const rows = await deps.db.select().from(groupManagers);
	assert.deepEqual(rows.map((r) => [r.userId, r.groupId, r.source]), [[sam.id, world.science.id, "manual"]]);
	const events = (await auditFor(deps.db, "sam")).filter((e) => e.action === "manage-groups");
	assert.deepEqual(events.map((e) => [e.actor, e.detail]).reverse(), [
		["ada", "now manages science, ops"],
		["ada", "no longer manages ops"],
	], "each change audited once, an unchanged save not at all");

	const form = await (await request(deps.app, `/admin/users/${sam.id}`, { user: "ada" })).text();
	assert.match(form, new RegExp(`name="managedGroups" value="${world.science.id}" checked`));
	const team = await request(deps.app, "/team", { user: "sam" });
	assert.match(await team.text(), /belongs to a group you manage \(science\)/);
	const profile = await (await request(deps.app, "/profile", { user: "sam" })).text();
	assert.match(profile, /<dt>Manages<\/dt><dd><ul><li>science<\/li><\/ul>/);
});
