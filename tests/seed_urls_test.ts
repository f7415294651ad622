/**
 * The original portal's addresses (mliy-original.md §3): its pages' old URLs redirect to their new
 * homes, never off the portal; its JSON views that scripts may call answer in the shapes the
 * README documents, from the database, scoped exactly as the pages they fed; its billing view is
 * gone (410) and names its replacement.
 */
import assert from "node:assert/strict";
import { openBill } from "../lib/db/bills.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { addInstance, addLaunch, seedWorld } from "./_helpers/world.ts";

async function setup() {
	// A fake that refuses every call: none of these addresses may ask AWS anything.
	const aws = fakeAws();
	const deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	return { deps, aws, world };
}

Deno.test("the original's page URLs redirect (301) to their new homes, and only to the portal's own pages", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		stackName: "s",
		status: "complete",
	});
	const moved: [string, string][] = [
		["/pay", "/billing"],
		["/pay?start_date=01/01/2025", "/billing"],
		["/dashboard/new", "/launch"],
		[`/dashboard/new/${world.science.id}`, "/launch"],
		[`/dashboard/new/${world.science.id}/${world.config.id}`, "/launch"],
		[`/dashboard/new/emr/${world.science.id}/${world.config.id}`, "/launch"],
		["/dashboard/new/emr/create", "/launch"],
		[`/launching/${launch.id}`, `/launches/${launch.id}`],
		[`/launching/${launch.id}?x=//evil.example`, `/launches/${launch.id}`],
	];
	for (const [old, target] of moved) {
		const res = await request(deps.app, old, { user: "alice" });
		assert.equal(res.status, 301, old);
		assert.equal(res.headers.get("Location"), target, old);
		// The new home opens for the same user.
		assert.equal((await request(deps.app, target, { user: "alice" })).status < 400, true, target);
	}
	// Anything that is not a launch id is not redirected: nothing can make the portal send a browser elsewhere.
	for (const hostile of ["/launching/%2F%2Fevil.example", "/launching/..%2F..%2Fadmin", "/launching/a.b"]) {
		const res = await request(deps.app, hostile, { user: "alice" });
		assert.equal(res.status, 404, hostile);
		assert.equal(res.headers.get("Location"), null, hostile);
	}
	// Signed-in users only, as the pages.
	assert.equal((await request(deps.app, "/pay")).status, 401);
	assert.equal((await request(deps.app, `/launching/${launch.id}`)).status, 401);
});

Deno.test("/ajax/user-instances and /ajax/instances: the dashboard's and the team table's instances, as JSON", async () => {
	const { deps, aws, world } = await setup();
	await using _ = deps;
	await addInstance(deps.db, {
		id: "i-0a11ce00000000001",
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		instanceType: "t2.micro",
		state: "running",
		startedAt: new Date(deps.clock().getTime() - 90_000),
		privateIp: "10.0.0.5",
	});
	await addInstance(deps.db, {
		id: "i-0b0b0000000000002",
		ownerId: world.bob.id,
		groupId: world.science.id,
		instanceType: "m4.large",
		state: "stopped",
	});
	await addInstance(deps.db, {
		id: "i-0019a000000000003",
		ownerId: world.olga.id,
		groupId: world.ops.id,
		instanceType: "t2.micro",
		state: "running",
	});
	await addInstance(deps.db, {
		id: "i-0019a000000000004",
		ownerId: world.olga.id,
		groupId: world.ops.id,
		instanceType: "no.such-type",
		state: "running",
	});

	const mine = await request(deps.app, "/ajax/user-instances", { user: "alice" });
	assert.equal(mine.status, 200);
	assert.match(mine.headers.get("Content-Type") ?? "", /application\/json/);
	const { instances } = await mine.json();
	assert.deepEqual(instances, [{
		id: "i-0a11ce00000000001",
		name: "",
		type: "t2.micro",
		state: "running",
		pendingAction: null,
		owner: "Alice Ng",
		config: "Analyst",
		url: "/instances/i-0a11ce00000000001",
		link: "https://10.0.0.5/",
		hourlyRate: instances[0].hourlyRate,
		priceUnknown: null,
		uptimeSeconds: 90,
		// The configuration reports its setup's progress; none has come yet.
		progress: { text: null, percent: null },
		// No display plugin: no extra columns, no lock.
		extra: {},
		locked: null,
	}]);
	assert.equal(typeof instances[0].hourlyRate, "number");
	assert.ok(instances[0].hourlyRate > 0);
	// Only one's own: bob sees his, olga hers.
	const bobs = (await (await request(deps.app, "/ajax/user-instances", { user: "bob" })).json()).instances;
	assert.deepEqual(bobs.map((i: { id: string }) => i.id), ["i-0b0b0000000000002"]);

	// The team: alice sees science's (hers and bob's), olga only ops', an admin everyone's.
	const ids = async (user: string, query = "") =>
		((await (await request(deps.app, `/ajax/instances${query}`, { user })).json()).instances as { id: string }[])
			.map((i) => i.id).sort();
	assert.deepEqual(await ids("alice"), ["i-0a11ce00000000001", "i-0b0b0000000000002"]);
	assert.deepEqual(await ids("olga"), ["i-0019a000000000003", "i-0019a000000000004"]);
	assert.equal((await ids("ada")).length, 4);
	// Filtered and paged as /team, with the same refusals.
	assert.deepEqual(await ids("alice", "?state=stopped"), ["i-0b0b0000000000002"]);
	const team = await (await request(deps.app, "/ajax/instances", { user: "olga" })).json();
	assert.deepEqual({ total: team.total, page: team.page, pages: team.pages, next: team.next }, {
		total: 2,
		page: 1,
		pages: 1,
		next: null,
	});
	const unknown = team.instances.find((i: { id: string }) => i.id === "i-0019a000000000004");
	assert.equal(unknown.hourlyRate, null, "an unknown price is null, never 0");
	assert.match(unknown.priceUnknown, /no\.such-type/);
	const bad = await request(deps.app, "/ajax/instances?state=melted", { user: "alice" });
	assert.equal(bad.status, 400);
	assert.match((await bad.json()).error, /Unknown state filter "melted"/);

	for (const path of ["/ajax/user-instances", "/ajax/instances"]) {
		assert.equal((await request(deps.app, path)).status, 401, `${path} signed out`);
	}
	assert.deepEqual(aws.calls, [], "read from the database only");
});

Deno.test("/ajax/instance-states and /ajax/instance-burn: the team page's charts, as JSON, in the team's scope", async () => {
	const { deps, aws, world } = await setup();
	await using _ = deps;
	const add = (id: string, owner: { id: number }, groupId: number, state: string) =>
		addInstance(deps.db, { id, ownerId: owner.id, groupId, state, instanceType: "t2.micro" });
	await add("i-0000000000000000a", world.alice, world.science.id, "running");
	await add("i-0000000000000000b", world.bob, world.science.id, "stopped");
	await add("i-0000000000000000c", world.bob, world.science.id, "pending");
	await add("i-0000000000000000d", world.alice, world.science.id, "terminated");
	await add("i-0000000000000000e", world.olga, world.ops.id, "running");
	const startedAt = deps.clock();
	const bill = (resourceId: string, userId: number, groupId: number, hourlyRate: number | null) =>
		openBill(deps.db, {
			resourceId,
			resourceKind: "instance",
			userId,
			groupId,
			costCenter: "CC",
			description: "t2.micro",
			hourlyRate,
			startedAt,
		});
	await bill("i-0000000000000000a", world.alice.id, world.science.id, 0.5);
	await bill("i-0000000000000000c", world.bob.id, world.science.id, 0.25);
	await bill("i-0000000000000000x", world.bob.id, world.science.id, null);
	await bill("i-0000000000000000e", world.olga.id, world.ops.id, 2);

	const json = async (path: string, user: string) => {
		const res = await request(deps.app, path, { user });
		assert.equal(res.status, 200, `${path} as ${user}`);
		return await res.json();
	};
	// Ended instances are not counted; olga's are not science's.
	assert.deepEqual(await json("/ajax/instance-states", "alice"), { running: 1, stopped: 1, changing: 1 });
	assert.deepEqual(await json("/ajax/instance-states", "olga"), { running: 1, stopped: 0, changing: 0 });
	assert.deepEqual(await json("/ajax/instance-states", "ada"), { running: 2, stopped: 1, changing: 1 });

	assert.deepEqual(await json("/ajax/instance-burn", "bob"), {
		total: 0.75,
		unknown: 1,
		owners: [{ name: "Alice Ng", hourly: 0.5 }, { name: "Bob Ray", hourly: 0.25 }],
	});
	assert.deepEqual(await json("/ajax/instance-burn", "olga"), {
		total: 2,
		unknown: 0,
		owners: [{ name: "Olga Ivanova", hourly: 2 }],
	});
	assert.equal((await json("/ajax/instance-burn", "mia")).total, 2.75);
	for (const path of ["/ajax/instance-states", "/ajax/instance-burn"]) {
		assert.equal((await request(deps.app, path)).status, 401, `${path} signed out`);
	}
	assert.deepEqual(aws.calls, [], "read from the database only");
});

Deno.test("/ajax/user-payroll is gone (410) and names the billing CSV with the same dates", async () => {
	const { deps } = await setup();
	await using _ = deps;
	const res = await request(
		deps.app,
		"/ajax/user-payroll?start_date=02/01/2025&end_date=2/28/2025&user=All%20Users&group=All%20Groups",
		{ user: "alice" },
	);
	assert.equal(res.status, 410);
	const body = await res.json();
	assert.equal(body.replacement, "/billing.csv?from=2025-02-01&to=2025-02-28");
	assert.match(body.error, /This report is gone: ask \/billing\.csv\?from=2025-02-01&to=2025-02-28/);
	assert.equal(res.headers.get("Link"), '</billing.csv?from=2025-02-01&to=2025-02-28>; rel="successor-version"');
	// The replacement answers for the same user.
	const csv = await request(deps.app, body.replacement, { user: "alice" });
	assert.equal(csv.status, 200);
	assert.match(csv.headers.get("Content-Type") ?? "", /text\/csv/);
	// Dates it cannot read are left out (the CSV's defaults apply), never passed on.
	const bare = await (await request(deps.app, "/ajax/user-payroll?start_date=<script>", { user: "alice" })).json();
	assert.equal(bare.replacement, "/billing.csv");
	assert.equal((await request(deps.app, "/ajax/user-payroll")).status, 401);
});
