/** The sync job: state changes made outside the portal, what it does with unknown instances, vanished instances, outages. */
import assert from "node:assert/strict";
import { StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { billsOf, openBill } from "../lib/db/bills.ts";
import { auditFor } from "../lib/db/audit.ts";
import { getFound } from "../lib/db/found.ts";
import { getInstance, trackedInstances } from "../lib/db/instances.ts";
import { getLease } from "../lib/db/leases.ts";
import { bills, users, volumes } from "../lib/db/schema.ts";
import { volumesByIds } from "../lib/db/volumes.ts";
import { AwsError } from "../lib/errors.ts";
import { runJob } from "../lib/jobs.ts";
import { awsCallCount } from "../lib/metrics.ts";
import { instanceCharge } from "../lib/billing/charges.ts";
import { openBillFor } from "../lib/billing/periods.ts";
import { controlMachine } from "../lib/control/control.ts";
import { MACHINE_KINDS } from "../lib/machines/kinds.ts";
import { syncKind } from "../lib/sync/all.ts";
import { transitionTime } from "../lib/sync/instances.ts";
import { observeMachine } from "../lib/sync/observe.ts";
import { toViewer } from "../lib/auth/identify.ts";
import { syncAwsJob } from "../jobs/sync_aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { addInstance, addLaunch, addUser, seedWorld } from "./_helpers/world.ts";
import { LAUNCH_TAG, storedTags } from "../lib/machines/tags.ts";
import type { Ec2Instance } from "../lib/aws/types.ts";

const PORTAL_TAGS = { LaunchedBy: "MLIY" };

motoTest("sync follows a stop and start made in the console: bills close at the stop and reopen", async (moto) => {
	await using deps = await createTestDeps({ awsEndpoint: moto.url, realClock: true });
	const alice = await addUser(deps.db, "alice");
	const [id] = await moto.runInstances(1, { ...PORTAL_TAGS, Name: "console" });
	// Alice's in the portal's record, as her launch recorded it.
	await addInstance(deps.db, { id: id!, ownerId: alice.id, state: "pending" });
	await syncKind(deps, "instance");
	let row = (await getInstance(deps.db, id!))!;
	assert.equal(row.ownerId, alice.id);
	assert.equal(row.state, "running");
	assert.equal((await billsOf(deps.db, id!)).filter((b) => !b.endedAt).length, 1);

	await moto.ec2().send(new StopInstancesCommand({ InstanceIds: [id!] }));
	await syncKind(deps, "instance");
	row = (await getInstance(deps.db, id!))!;
	assert.equal(row.state, "stopped");
	const [closed] = await billsOf(deps.db, id!);
	assert.ok(closed!.endedAt, "the out-of-band stop closed the bill");

	await moto.ec2().send(new StartInstancesCommand({ InstanceIds: [id!] }));
	await syncKind(deps, "instance");
	assert.equal((await getInstance(deps.db, id!))!.state, "running");
	const periods = await billsOf(deps.db, id!);
	assert.equal(periods.length, 2);
	assert.equal(periods.filter((b) => !b.endedAt).length, 1, "exactly one open period");

	await moto.ec2().send(new TerminateInstancesCommand({ InstanceIds: [id!] }));
	await syncKind(deps, "instance");
	assert.equal((await getInstance(deps.db, id!))!.state, "terminated");
	assert.equal((await billsOf(deps.db, id!)).filter((b) => !b.endedAt).length, 0);
});

motoTest(
	"an instance with the portal's tags but no launch is nobody's: kept as found, no user made from its tags",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url, realClock: true });
		const [tagged] = await moto.runInstances(1, { ...PORTAL_TAGS, userid: "Erin", "Software Config": "nope" });
		const [untagged] = await moto.runInstances(1, { Name: "not ours" });
		const result = await syncKind(deps, "instance");
		assert.equal(result.adopted, 0);
		assert.deepEqual(await deps.db.select().from(users), [], "no user is created from a tag");
		assert.equal(await getInstance(deps.db, tagged!), undefined, "not the tagged user's, nor anyone's");
		const found = await getFound(deps.db, tagged!);
		assert.equal(found?.kind, "instance");
		assert.equal(found.state, "running");
		assert.equal(found.instanceType, "t2.micro");
		assert.equal(found.tags.userid, "Erin");
		assert.equal(found.reason, "it has no launch-id tag");
		assert.equal(
			await getFound(deps.db, untagged!),
			undefined,
			"without the portal's tags it is none of the portal's business",
		);
		const [audit] = await auditFor(deps.db, tagged!);
		assert.equal(audit?.outcome, "refused");
		assert.match(audit.detail, /not launched by it/);

		// Gone from AWS (terminated, or its tags removed): no longer listed as found.
		await moto.ec2().send(new TerminateInstancesCommand({ InstanceIds: [tagged!] }));
		await syncKind(deps, "instance");
		assert.equal(await getFound(deps.db, tagged!), undefined);
	},
);

motoTest(
	"a launch-id tag copied by hand onto another instance does not tie it to that launch, nor give it to anyone",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url, realClock: true });
		const world = await seedWorld(deps.db);
		const launch = await addLaunch(deps.db, {
			userId: world.alice.id,
			groupId: world.science.id,
			configId: world.config.id,
			status: "creating",
			stackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/MLiyAnalyst-MLIY-abc/1",
		});
		const [id] = await moto.runInstances(1, { ...PORTAL_TAGS, userid: "alice", [LAUNCH_TAG]: launch.id });
		assert.equal((await syncKind(deps, "instance")).adopted, 0);
		assert.equal(await getInstance(deps.db, id!), undefined, "no CloudFormation tags naming the launch's stack");
		const found = (await getFound(deps.db, id!))!;
		assert.equal(found.claimedLaunchId, launch.id);
		assert.match(found.reason, /without proof that the launch made it/);
	},
);

motoTest("an instance AWS no longer knows is marked vanished and its bill closed", async (moto) => {
	await using deps = await createTestDeps({ awsEndpoint: moto.url, realClock: true });
	const alice = await addUser(deps.db, "alice");
	const old = new Date(Date.now() - 60 * 60_000);
	await addInstance(deps.db, { id: "i-0ffffffffffffffff", ownerId: alice.id, createdAt: old, lastSeenAt: old });
	await openBill(deps.db, {
		resourceKind: "instance",
		resourceId: "i-0ffffffffffffffff",
		userId: alice.id,
		costCenter: "CC",
		description: "t2.micro",
		hourlyRate: 0.0116,
		startedAt: old,
	});
	const result = await syncKind(deps, "instance");
	assert.equal(result.vanished, 1);
	assert.equal((await getInstance(deps.db, "i-0ffffffffffffffff"))!.state, "vanished");
	assert.ok((await billsOf(deps.db, "i-0ffffffffffffffff"))[0]!.endedAt);
});

Deno.test("a vanished instance and volume are billed until they were last seen, not until the sync noticed", async () => {
	const aws = fakeAws({
		ec2: { describeInstances: () => Promise.resolve([]), describeVolumes: () => Promise.resolve([]) },
	});
	await using deps = await createTestDeps({ aws });
	const alice = await addUser(deps.db, "alice");
	const started = new Date("2025-03-01T10:00:00Z");
	const lastSeen = new Date("2025-03-01T11:00:00Z");
	await addInstance(deps.db, {
		id: "i-0ffffffffffffffff",
		ownerId: alice.id,
		startedAt: started,
		createdAt: started,
		lastSeenAt: lastSeen,
	});
	await deps.db.insert(volumes).values({
		id: "vol-0ffffffffffffffff",
		ownerId: alice.id,
		sizeGb: 20,
		state: "in-use",
		createdAt: started,
		lastSeenAt: lastSeen,
	});
	for (
		const [kind, resourceId] of [["instance", "i-0ffffffffffffffff"], ["volume", "vol-0ffffffffffffffff"]] as const
	) {
		await openBill(deps.db, {
			resourceKind: kind,
			resourceId,
			userId: alice.id,
			costCenter: "CC",
			description: kind,
			hourlyRate: 0.01,
			startedAt: started,
		});
	}
	deps.clock.set("2025-03-01T11:45:00Z");
	const result = await syncKind(deps, "instance");
	assert.equal(result.vanished, 1);
	assert.equal((await getInstance(deps.db, "i-0ffffffffffffffff"))!.state, "vanished");
	assert.equal((await billsOf(deps.db, "i-0ffffffffffffffff"))[0]!.endedAt?.toISOString(), lastSeen.toISOString());
	assert.equal((await volumesByIds(deps.db, ["vol-0ffffffffffffffff"]))[0]!.state, "vanished");
	assert.equal((await billsOf(deps.db, "vol-0ffffffffffffffff"))[0]!.endedAt?.toISOString(), lastSeen.toISOString());
});

Deno.test("AWS down during sync: the job logs the failure, and the next tick recovers", async () => {
	let up = false;
	const seen: Ec2Instance[] = [{
		id: "i-00000000000000001",
		state: "stopped",
		type: "t2.micro",
		imageId: "ami-1",
		tags: {},
	}];
	const aws = fakeAws({
		ec2: {
			describeInstances: () =>
				up
					? Promise.resolve(seen)
					: Promise.reject(new AwsError("DescribeInstances", "unavailable", "connection refused")),
			describeVolumes: () => Promise.resolve([]),
		},
		// The run lists the clusters too (there are none).
		emr: { listClusters: () => Promise.resolve([]) },
	});
	await using deps = await createTestDeps({ aws });
	const alice = await addUser(deps.db, "alice");
	await addInstance(deps.db, { id: "i-00000000000000001", ownerId: alice.id, state: "running" });
	const job = syncAwsJob(5);
	assert.equal(await runJob(deps, job, { scheduled: true }), "failed");
	const lease = (await getLease(deps.db, job.name))!;
	assert.match(lease.lastError!, /connection refused/);
	assert.equal(lease.lastSuccessAt, null);
	assert.equal(lease.holder, null, "a failed run releases its lease");
	assert.equal(await runJob(deps, job, { scheduled: true }), "skipped", "the same tick does not run twice");
	up = true;
	deps.clock.advance(5 * 60_000);
	assert.equal(await runJob(deps, job, { scheduled: true }), "ok");
	assert.ok((await getLease(deps.db, job.name))!.lastSuccessAt);
	assert.equal((await getInstance(deps.db, "i-00000000000000001"))!.state, "stopped");
});

motoTest("opening the dashboard refreshes the user's instances at most once per USER_REFRESH_SECONDS", async (moto) => {
	await using deps = await createTestDeps({ awsEndpoint: moto.url, settings: { USER_REFRESH_SECONDS: 60 } });
	const describes = () => awsCallCount(deps.metrics, "DescribeInstances");
	for (let i = 0; i < 5; i++) assert.equal((await request(deps.app, "/", { user: "alice" })).status, 200);
	await deps.background.idle();
	assert.equal(await describes(), 1);
	deps.clock.advance(61_000);
	await request(deps.app, "/", { user: "alice" });
	await deps.background.idle();
	assert.equal(await describes(), 2);
});

Deno.test("transitionTime() reads the time EC2 puts in a state transition reason", () => {
	assert.equal(transitionTime("User initiated (2024-05-01 10:11:12 GMT)")?.toISOString(), "2024-05-01T10:11:12.000Z");
	assert.equal(transitionTime("Server.ScheduledStop"), undefined);
	assert.equal(transitionTime(undefined), undefined);
});

Deno.test("a sync of many instances keeps owners whatever the tags say and follows bills with a fixed number of statements, not several per instance", async () => {
	const T0 = new Date("2025-03-01T08:00:00Z");
	const count = 600;
	const id = (i: number) => `i-${i.toString(16).padStart(17, "0")}`;
	// Every fourth instance: unchanged and billed; running without a period; stopped in the console
	// at 09:00 with its period open; re-tagged to bob (which changes nothing: the owner is the record's).
	const listing: Ec2Instance[] = Array.from({ length: count }, (_, i) => ({
		id: id(i),
		state: i % 4 === 2 ? "stopped" : "running",
		type: "t2.micro",
		imageId: "ami-1",
		launchTime: T0,
		stateTransitionReason: i % 4 === 2 ? "User initiated (2025-03-01 09:00:00 GMT)" : undefined,
		tags: { ...PORTAL_TAGS, userid: i % 4 === 3 ? "bob" : "alice" },
	}));
	const aws = fakeAws({
		ec2: { describeInstances: () => Promise.resolve(listing), describeVolumes: () => Promise.resolve([]) },
	});
	await using deps = await createTestDeps({ aws });
	const alice = await addUser(deps.db, "alice");
	await addUser(deps.db, "bob");
	for (let i = 0; i < count; i++) {
		await addInstance(deps.db, {
			id: id(i),
			ownerId: alice.id,
			amiId: "ami-1",
			startedAt: T0,
			createdAt: T0,
			lastSeenAt: T0,
			tags: storedTags({ ...PORTAL_TAGS, userid: "alice" }),
		});
		if (i % 4 !== 1) {
			await openBill(deps.db, {
				resourceKind: "instance",
				resourceId: id(i),
				userId: alice.id,
				costCenter: "CC",
				description: "t2.micro",
				hourlyRate: 0.0116,
				startedAt: T0,
			});
		}
	}

	deps.clock.set("2025-03-01T12:00:00Z");
	const first = await syncKind(deps, "instance");
	// The stopped ones changed; the re-tagged ones only in the tags their row keeps (shown to admins), never the owner.
	assert.equal(first.changed, count / 2, "the stopped ones and the re-tagged ones' kept tags changed");
	for (let i = 0; i < count; i++) {
		const row = (await getInstance(deps.db, id(i)))!;
		const periods = await billsOf(deps.db, id(i));
		assert.equal(row.ownerId, alice.id, `owner of ${id(i)}`);
		assert.equal(JSON.parse(row.tags).userid, i % 4 === 3 ? "bob" : "alice", `tags kept for ${id(i)}`);
		assert.equal(row.lastSeenAt?.toISOString(), "2025-03-01T12:00:00.000Z", `last seen of ${id(i)}`);
		assert.equal(periods.length, 1, `one period for ${id(i)}`);
		assert.equal(periods[0]!.startedAt.toISOString(), T0.toISOString());
		assert.equal(
			periods[0]!.endedAt?.toISOString(),
			i % 4 === 2 ? "2025-03-01T09:00:00.000Z" : undefined,
			`period of ${id(i)}`,
		);
	}

	// A steady run: nothing changed in AWS. Count what reaches the database.
	let statements = 0;
	const client = deps.database.client;
	const execute = client.execute.bind(client);
	client.execute = ((...args: Parameters<typeof execute>) => {
		statements += 1;
		return execute(...args);
	}) as typeof client.execute;
	deps.clock.set("2025-03-01T12:10:00Z");
	const steady = await syncKind(deps, "instance");
	client.execute = execute;
	assert.equal(steady.changed, 0);
	assert.ok(statements <= 10, `${statements} statements for a steady sync of ${count} instances`);
	for (let i = 0; i < count; i++) {
		assert.equal((await getInstance(deps.db, id(i)))!.lastSeenAt?.toISOString(), "2025-03-01T12:10:00.000Z");
	}
	assert.equal((await deps.db.select().from(bills)).length, count, "no period opened or closed");
});

Deno.test("the billed state a sync read before a click does not undo the click", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await seedWorld(deps.db);
	const alice = toViewer(world.alice, [world.science.id], []);
	deps.clock.set("2025-03-01T12:00:00Z");
	const started = new Date("2025-03-01T10:00:00Z");
	const running = await addInstance(deps.db, {
		id: "i-0123456789abcdef1",
		ownerId: world.alice.id,
		groupId: world.science.id,
		state: "running",
		startedAt: started,
	});
	// Running since 10:00, its period open.
	await openBillFor(deps, { kind: "instance", ...running }, await instanceCharge(deps, running), started);
	const stopped = await addInstance(deps.db, {
		id: "i-0123456789abcdef2",
		ownerId: world.alice.id,
		groupId: world.science.id,
		state: "stopped",
		startedAt: started,
		stoppedAt: new Date("2025-03-01T11:00:00Z"),
	});
	// The sync reads its rows and lists the instances as they were ...
	const snapshot = new Map((await trackedInstances(deps.db)).map((row) => [row.id, row]));
	assert.equal(snapshot.get(running.id)!.billed, true);
	assert.equal(snapshot.get(stopped.id)!.billed, false);
	// ... while Alice stops the first and starts the second ...
	await controlMachine(deps, alice, { kind: "instance", id: running.id, action: "stop" });
	await controlMachine(deps, alice, { kind: "instance", id: stopped.id, action: "start" });
	// ... and only then does the sync reach them.
	deps.clock.set("2025-03-01T12:00:30Z");
	const seen = (id: string, state: string): Ec2Instance => ({
		id,
		state,
		type: "t2.micro",
		imageId: "ami-1",
		tags: {},
		launchTime: started,
		stateTransitionReason: state === "stopped" ? "User initiated (2025-03-01 11:00:00 GMT)" : undefined,
	});
	await observeMachine(
		deps,
		MACHINE_KINDS.instance,
		snapshot.get(running.id)!,
		seen(running.id, "running"),
		deps.clock(),
		{
			lastSeenByCaller: true,
		},
	);
	await observeMachine(
		deps,
		MACHINE_KINDS.instance,
		snapshot.get(stopped.id)!,
		seen(stopped.id, "stopped"),
		deps.clock(),
		{
			lastSeenByCaller: true,
		},
	);
	const stopPeriods = await billsOf(deps.db, running.id);
	assert.equal(stopPeriods.length, 1, "no period reopened after the Stop");
	assert.equal(stopPeriods[0]!.endedAt?.toISOString(), "2025-03-01T12:00:00.000Z");
	const startPeriods = await billsOf(deps.db, stopped.id);
	assert.equal(startPeriods.length, 1);
	assert.equal(startPeriods[0]!.startedAt.toISOString(), "2025-03-01T12:00:00.000Z");
	assert.equal(startPeriods[0]!.endedAt, null, "the Start's period stays open");
});
