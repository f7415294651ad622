/**
 * After restart, stop or start the portal follows the machine for a short while, so the row shows
 * the real state within seconds instead of "restarting" with every button hidden until the next
 * sync (5 minutes by default).
 */
import assert from "node:assert/strict";
import type { Ec2Instance } from "../lib/aws/types.ts";
import { getInstance } from "../lib/db/instances.ts";
import { ACTIONS_ACCEPTED, fakeAws, inTurn } from "./_fakes/aws.ts";
import { createTestDeps, testClock } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

motoTest("a restart settles without waiting for the sync", async (moto) => {
	const clock = testClock(new Date());
	await using deps = await createTestDeps({ awsEndpoint: moto.url, clock });
	const world = await seedWorld(deps.db);
	const [id] = await moto.runInstances(1, { LaunchedBy: "MLIY", userid: "alice" });
	await addInstance(deps.db, { id: id!, ownerId: world.alice.id, groupId: world.science.id, state: "running" });
	// A reboot shows no state of its own in EC2 (moto's is a no-op): the portal takes it as done half
	// a minute after it was asked for. Each look at moto stands for 20 seconds passing.
	const describe = deps.aws.ec2.describeInstances;
	deps.aws.ec2.describeInstances = (query) => {
		clock.advance(20_000);
		return describe(query);
	};

	const res = await request(deps.app, `/ajax/instance/${id}/restart?view=dashboard`, {
		user: "alice",
		htmx: true,
		form: {},
	});
	assert.equal(res.status, 200, await res.clone().text());
	const asked = await res.text();
	assert.match(asked, /data-state="running">restarting</);
	assert.match(asked, /restart in progress…/);
	// Meanwhile the row offers what may still be done: terminate (it takes over), not another restart.
	assert.match(asked, new RegExp(`aria-label="Terminate ${id}"`));
	assert.doesNotMatch(asked, /aria-label="(Restart|Stop) /);
	assert.match(asked, new RegExp(`hx-get="/instances/${id}/row\\?view=dashboard" hx-trigger="every 3s"`));

	// No sync runs; the control path's own follow-up settles it.
	await deps.background.idle();
	assert.equal((await getInstance(deps.db, id!))!.pendingAction, null);
	const row = await (await request(deps.app, `/instances/${id}/row?view=dashboard`, { user: "alice", htmx: true }))
		.text();
	assert.doesNotMatch(row, /restarting|in progress/);
	assert.match(row, new RegExp(`aria-label="Restart ${id}"`), "the buttons are back");
	assert.doesNotMatch(row, /hx-trigger/, "and the settled row stops polling");
});

Deno.test("a stop is followed until EC2 shows the instance stopped", async () => {
	const seen = (state: string): Ec2Instance[] => [{
		id: "i-0123456789abcdef0",
		state,
		type: "t2.micro",
		imageId: "ami-1",
		tags: {},
	}];
	// EC2 shows the instance running (to the dashboard's own refresh) until it is stopped, then
	// stopping for a while, as a real stop does (moto stops at once).
	let afterStop: (() => Promise<Ec2Instance[]>) | undefined;
	const aws = fakeAws({
		ec2: {
			...ACTIONS_ACCEPTED.ec2,
			stopInstances: () => {
				afterStop = inTurn(seen("stopping"), seen("stopping"), seen("stopped"));
				return Promise.resolve();
			},
			describeInstances: () => afterStop ? afterStop() : Promise.resolve(seen("running")),
		},
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0123456789abcdef0", ownerId: world.alice.id, state: "running" });
	const res = await request(deps.app, "/ajax/instance/i-0123456789abcdef0/stop?view=dashboard", {
		user: "alice",
		htmx: true,
		form: {},
	});
	assert.equal(res.status, 200);
	assert.match(await res.text(), /data-state="stopping"/);
	await deps.background.idle();
	const row = (await getInstance(deps.db, "i-0123456789abcdef0"))!;
	assert.equal(row.state, "stopped");
	assert.equal(row.pendingAction, null);
	assert.equal(
		aws.calls.slice(aws.calls.indexOf("ec2.stopInstances")).filter((c) => c === "ec2.describeInstances").length,
		3,
		"looked at until it settled",
	);
});

Deno.test("following an action does not hold up shutdown", async () => {
	// EC2 shows the instance running for ever: a reboot would be followed for a minute and a half.
	const aws = fakeAws({
		ec2: {
			...ACTIONS_ACCEPTED.ec2,
			describeInstances: () =>
				Promise.resolve([{
					id: "i-0123456789abcdef0",
					state: "running",
					type: "t2.micro",
					imageId: "ami-1",
					tags: {},
				}]),
		},
	});
	const deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0123456789abcdef0", ownerId: world.alice.id, state: "running" });
	const res = await request(deps.app, "/ajax/instance/i-0123456789abcdef0/restart?view=dashboard", {
		user: "alice",
		htmx: true,
		form: {},
	});
	assert.equal(res.status, 200);
	await res.body?.cancel();
	const started = performance.now();
	await deps[Symbol.asyncDispose]();
	const took = performance.now() - started;
	assert.ok(took < 1000, `closed in ${Math.round(took)} ms`);
});
