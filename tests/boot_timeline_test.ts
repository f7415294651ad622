/**
 * The boot timeline on an instance's page: every stage its bootstrap reported (through the progress
 * endpoint) with when it began and how long it took, a stage slower than the configuration's usual
 * (the median over its recent launches) flagged with the median; the stack's CloudFormation events
 * one click away, as the launcher stored them, with what failed first when the launch failed.
 */
import assert from "node:assert/strict";
import { stackEventsOf } from "../lib/db/timeline.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { instancesOfLaunch } from "../lib/db/instances.ts";
import type { StackEvent } from "../lib/aws/types.ts";
import { fakeAws, stack, STACK_ID } from "./_fakes/aws.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addConfig, addInstance, addLaunch, seedWorld } from "./_helpers/world.ts";

const MINUTE = 60_000;

function progress(deps: TestDeps, id: string, spec: string, token: string) {
	return request(deps.app, `/ajax/progress/${id}/${spec}`, {
		from: "203.0.113.50",
		headers: { "X-MLiy-Progress-Token": token },
	});
}

/**
 * An instance of the world's configuration that boots through `stages` (each `[spec, minutes
 * after the previous]`), reporting each through the progress endpoint as the clock moves.
 */
async function boot(
	deps: TestDeps,
	world: Awaited<ReturnType<typeof seedWorld>>,
	id: string,
	stages: [string, number][],
) {
	const token = `token-${id}`;
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		status: "complete",
		createdAt: deps.clock(),
		submittedAt: deps.clock(),
	}, token);
	await addInstance(deps.db, {
		id,
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		launchId: launch.id,
		launchedAt: deps.clock(),
	});
	for (const [spec, minutes] of stages) {
		deps.clock.advance(minutes * MINUTE);
		const res = await progress(deps, id, spec, token);
		assert.equal(res.status, 200, `${id} ${spec}: ${await res.text()}`);
	}
	return launch;
}

/** The timeline's row of a stage, from the instance's page. */
function stageRow(page: string, stage: string): string {
	const row = new RegExp(`<tr>(?:(?!</tr>)[\\s\\S])*data-stage="${stage}"[\\s\\S]*?</tr>`).exec(page);
	assert.ok(row, `the timeline has a row for ${stage}`);
	return row[0];
}

Deno.test("the boot timeline lists every stage with its duration and flags the one slower than the configuration's usual", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	// Three earlier launches of the configuration: the base packages take 5, 5 and 6 minutes
	// (median 5), Jupyter 2, 2 and 3 (median 2).
	const earlier: [number, number][] = [[5, 2], [5, 2], [6, 3]];
	for (const [i, [base, jupyter]] of earlier.entries()) {
		await boot(deps, world, `i-0000000000000000${i + 1}`, [
			["installing_base_packages(20)", 1],
			["configuring_jupyter(60)", base],
			["done(100)", jupyter],
		]);
		deps.clock.advance(60 * MINUTE);
	}
	// This one: 4 minutes of base packages (quicker than usual), 10 of Jupyter (5× the usual).
	const id = "i-0123456789abcdef0";
	await boot(deps, world, id, [
		["installing_base_packages(20)", 2],
		["configuring_jupyter(60)", 4],
		["done(100)", 10],
	]);

	const page = await (await request(deps.app, `/instances/${id}`, { user: "alice" })).text();
	assert.match(page, /<h2 id="boot-timeline-heading">Boot timeline<\/h2>/);
	const stages = [...page.matchAll(/data-stage="([^"]+)"/g)].map((m) => m[1]);
	assert.deepEqual(stages, [
		"Launch requested",
		"Stack submitted to CloudFormation",
		"Instance launched",
		"installing base packages",
		"configuring jupyter",
		"done",
	], "the launch's own steps, then each reported stage, in order");
	// The launch was recorded, its instance launched at once, and the first report came 2 minutes later.
	assert.match(stageRow(page, "Instance launched"), /data-duration-ms="120000">2 min</);
	const base = stageRow(page, "installing base packages");
	assert.match(base, /data-duration-ms="240000">4 min</);
	assert.match(base, /<td class="num" data-label="Usual"><span> 5 min<\/span><\/td>/, "its usual, not slow");
	assert.doesNotMatch(base, /data-slow/);
	const jupyter = stageRow(page, "configuring jupyter");
	assert.match(jupyter, /data-duration-ms="600000">10 min</);
	assert.match(jupyter, /<span class="badge bad" data-slow>slow<\/span> 2 min/, "flagged, with the median");
	assert.match(page, /Slower than usual: configuring jupyter took 10 min \(usually 2 min\)\./);
	assert.match(stageRow(page, "done"), /<td class="num" data-label="Took"><span class="muted">—<\/span>/);
	assert.match(page, /16 min from the request to the last stage\./);
});

Deno.test("a usual duration needs three earlier launches: with two, no stage is flagged", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	for (const i of [1, 2]) {
		await boot(deps, world, `i-0000000000000000${i}`, [["installing_base_packages(20)", 1], ["done(100)", 1]]);
	}
	const id = "i-0123456789abcdef0";
	await boot(deps, world, id, [["installing_base_packages(20)", 1], ["done(100)", 30]]);
	const page = await (await request(deps.app, `/instances/${id}`, { user: "alice" })).text();
	assert.match(stageRow(page, "installing base packages"), /data-duration-ms="1800000">30 min</);
	assert.doesNotMatch(page, /data-slow/);
	assert.match(stageRow(page, "installing base packages"), /data-label="Usual"><span class="muted">—/);
});

Deno.test("without a progress bar nothing is 'still going' after the launch; a machine the portal did not launch has no timeline", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const plain = await addConfig(deps.db, "Plain", {
		types: [world.types["t2.micro"]!.id],
		groups: [world.science.id],
		hasProgressBar: false,
	});
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: plain.id,
		status: "complete",
		createdAt: deps.clock(),
	});
	await addInstance(deps.db, {
		id: "i-0123456789abcdef0",
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: plain.id,
		launchId: launch.id,
		launchedAt: new Date(deps.clock().getTime() + MINUTE),
	});
	deps.clock.advance(3 * 24 * 60 * MINUTE);
	const page = await (await request(deps.app, "/instances/i-0123456789abcdef0", { user: "alice" })).text();
	assert.match(stageRow(page, "Instance launched"), /data-label="Took"><span class="muted">—</);
	assert.doesNotMatch(page, /so far/);

	await addInstance(deps.db, { id: "i-0000000000000000f", ownerId: world.alice.id, groupId: world.science.id });
	const adopted = await (await request(deps.app, "/instances/i-0000000000000000f", { user: "alice" })).text();
	assert.doesNotMatch(adopted, /Boot timeline/);
});

Deno.test("a failed launch keeps its stack's events: the launch page links them, and they show what failed first", async () => {
	// A failed stack is what moto cannot produce: CloudFormation here is a stub answering as AWS does
	// for a stack whose instance failed (events newest first; the volume was cancelled because of it).
	const events: StackEvent[] = [
		{
			logicalId: "MLiyStack",
			type: "AWS::CloudFormation::Stack",
			status: "ROLLBACK_COMPLETE",
			timestamp: new Date("2025-03-01T12:04:00Z"),
		},
		{
			logicalId: "MLiyStack",
			type: "AWS::CloudFormation::Stack",
			status: "CREATE_FAILED",
			reason: "The following resource(s) failed to create: [Instance].",
			timestamp: new Date("2025-03-01T12:03:00Z"),
		},
		{
			logicalId: "Volume",
			type: "AWS::EC2::Volume",
			status: "CREATE_FAILED",
			reason: "Resource creation cancelled",
			timestamp: new Date("2025-03-01T12:02:30Z"),
		},
		{
			logicalId: "Instance",
			type: "AWS::EC2::Instance",
			status: "CREATE_FAILED",
			reason: "The requested instance type (r4.4xlarge) is not supported in your requested Availability Zone.",
			timestamp: new Date("2025-03-01T12:02:00Z"),
		},
		{
			logicalId: "Instance",
			type: "AWS::EC2::Instance",
			status: "CREATE_IN_PROGRESS",
			timestamp: new Date("2025-03-01T12:01:00Z"),
		},
	];
	const aws = fakeAws({
		cloudFormation: {
			describeStack: () => Promise.resolve(stack("ROLLBACK_COMPLETE")),
			listStackResources: () => Promise.resolve([]),
			describeStackEvents: () => Promise.resolve(events),
			deleteStack: () => Promise.resolve(),
		},
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		instanceType: "r4.4xlarge",
		options: { securityGroupIds: [world.sgDefault.sgId, world.sgOptional.sgId] },
		status: "creating",
		stackId: STACK_ID,
		submittedAt: deps.clock(),
	});
	await tick(deps);
	assert.equal((await getLaunch(deps.db, launch.id))!.status, "failed");
	const stored = await stackEventsOf(deps.db, launch.id);
	assert.equal(stored?.events.length, 5, "the launcher stored the events it read");

	const launchPage = await (await request(deps.app, `/launches/${launch.id}`, { user: "alice" })).text();
	assert.match(launchPage, new RegExp(`<a class="btn" href="/launches/${launch.id}/events">CloudFormation events</a>`));
	const res = await request(deps.app, `/launches/${launch.id}/events`, { user: "alice" });
	assert.equal(res.status, 200);
	const page = await res.text();
	assert.match(
		page,
		/<strong>What failed first:<\/strong> <span class="mono">Instance<\/span> \(AWS::EC2::Instance\): The requested instance type \(r4\.4xlarge\) is not supported/,
		"the instance, not the volume cancelled because of it nor the stack's summary",
	);
	const rows = [
		...page.matchAll(
			/<td class="mono" data-label="Time">[^<]*<\/td><td\s+data-label="Resource"><span class="mono">(\w+)<\/span><\/td><td class="small" data-label="Type">[^<]*<\/td><td\s+data-label="Status"><span class="badge \w+">(\w+)</g,
		),
	]
		.map((m) => `${m[1]} ${m[2]}`);
	assert.deepEqual(rows, [
		"MLiyStack ROLLBACK_COMPLETE",
		"MLiyStack CREATE_FAILED",
		"Volume CREATE_FAILED",
		"Instance CREATE_FAILED",
		"Instance CREATE_IN_PROGRESS",
	]);
	// Read from the database: the page does not ask AWS.
	const calls = aws.calls.length;
	await (await request(deps.app, `/launches/${launch.id}/events`, { user: "alice" })).body?.cancel();
	assert.equal(aws.calls.length, calls);
	// Someone else's launch is not found.
	assert.equal((await request(deps.app, `/launches/${launch.id}/events`, { user: "olga" })).status, 404);
});

motoTest("a complete launch stores its stack's events; the instance's timeline links them", async (moto) => {
	const subnet = await moto.subnet("us-east-1a");
	await using deps = await createTestDeps({
		awsEndpoint: moto.url,
		realClock: true,
		settings: { LAUNCH_SUBNET_ID: subnet },
	});
	const world = await seedWorld(deps.db);
	const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "t2.micro" },
	});
	assert.equal(res.status, 303, await res.clone().text());
	const launchId = res.headers.get("Location")!.slice("/launches/".length);
	for (let i = 0; i < 5 && (await getLaunch(deps.db, launchId))!.status !== "complete"; i++) await tick(deps);
	const launch = (await getLaunch(deps.db, launchId))!;
	assert.equal(launch.status, "complete", launch.reason ?? launch.step);
	const stored = await stackEventsOf(deps.db, launchId);
	assert.ok(stored, "stored when the launch completed");
	// moto 5 lists the stack's own events only (no resource's).
	assert.deepEqual(stored.events.map((e) => `${e.type} ${e.status}`), [
		"AWS::CloudFormation::Stack CREATE_COMPLETE",
		"AWS::CloudFormation::Stack CREATE_IN_PROGRESS",
	]);
	const [instance] = await instancesOfLaunch(deps.db, launchId);
	const page = await (await request(deps.app, `/instances/${instance!.id}`, { user: "alice" })).text();
	assert.match(page, new RegExp(`<a href="/launches/${launchId}/events">CloudFormation events of its stack</a>`));
	const events = await (await request(deps.app, `/launches/${launchId}/events`, { user: "alice" })).text();
	assert.match(events, /CREATE_COMPLETE/);
	assert.doesNotMatch(events, /data-diagnosis/, "a complete launch has nothing to diagnose");
});
