/**
 * Faults the real peers will not produce on demand, so they are stubbed here: throttling, 5xx,
 * timeouts and refused connections on every AWS operation (a scripted HTTP endpoint under the real
 * SDK, then a fake AWS that fails the same way for the flows above it), and a database locked by
 * another writer. Every request gets a clear answer, every job logs and recovers on its next run,
 * and no launch is lost. (A restart in the middle of a launch is in launch_flow_test.ts, against
 * moto.)
 */
import assert from "node:assert/strict";
import type { Aws, StackResource } from "../lib/aws/types.ts";
import { billsOf } from "../lib/db/bills.ts";
import { getCluster, type NewCluster, updateCluster } from "../lib/db/clusters.ts";
import { getInstance, updateInstance } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { getLease } from "../lib/db/leases.ts";
import { AwsError, type AwsErrorKind } from "../lib/errors.ts";
import { runJob } from "../lib/jobs.ts";
import { tick } from "./_helpers/tick.ts";
import { closeLogging, configureLogging, LOG_FILES } from "../lib/log.ts";
import { syncAwsJob } from "../jobs/sync_aws.ts";
import { rejection } from "./_helpers/assert.ts";
import { type Fault, faultyEndpoint, sdkAgainst } from "./_fakes/endpoint.ts";
import { ACTIONS_ACCEPTED, emrCluster, fakeAws, stack, STACK_ID } from "./_fakes/aws.ts";
import { holdWriteLock } from "./_helpers/db_lock.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import {
	addCluster,
	addClusterLaunch,
	addInstance,
	addLaunch,
	addLaunchedInstance,
	seedClusterWorld,
	seedWorld,
} from "./_helpers/world.ts";

// ---------------------------------------------------------------------------------------------
// The SDK adapter: every operation, every fault.

const FAULTS: readonly Fault[] = ["throttling", "5xx", "timeout", "refused"];

/** Every operation of the portal's AWS interface, called with plausible arguments. */
const OPERATIONS: Record<string, (aws: Aws) => Promise<unknown>> = {
	"cloudFormation.createStack": (aws) =>
		aws.cloudFormation.createStack({
			name: "s",
			templateBody: "{}",
			parameters: { a: "b" },
			tags: { t: "v" },
			clientRequestToken: "c",
		}),
	"cloudFormation.describeStack": (aws) => aws.cloudFormation.describeStack("s"),
	"cloudFormation.listStackResources": (aws) => aws.cloudFormation.listStackResources("s"),
	"cloudFormation.describeStackEvents": (aws) => aws.cloudFormation.describeStackEvents("s"),
	"cloudFormation.deleteStack": (aws) => aws.cloudFormation.deleteStack("s"),
	"ec2.describeInstances": (aws) => aws.ec2.describeInstances({ filters: { "tag:LaunchedBy": ["MLIY"] } }),
	"ec2.startInstances": (aws) => aws.ec2.startInstances(["i-0123456789abcdef0"]),
	"ec2.stopInstances": (aws) => aws.ec2.stopInstances(["i-0123456789abcdef0"]),
	"ec2.rebootInstances": (aws) => aws.ec2.rebootInstances(["i-0123456789abcdef0"]),
	"ec2.terminateInstances": (aws) => aws.ec2.terminateInstances(["i-0123456789abcdef0"]),
	"ec2.modifyInstanceType": (aws) => aws.ec2.modifyInstanceType("i-0123456789abcdef0", "m4.large"),
	"ec2.createTags": (aws) => aws.ec2.createTags(["i-0123456789abcdef0"], { Name: "box" }),
	"ec2.deleteVolume": (aws) => aws.ec2.deleteVolume("vol-0123456789abcdef0"),
	"ec2.describeVolumes": (aws) => aws.ec2.describeVolumes({}),
	"ec2.describeImages": (aws) => aws.ec2.describeImages(["ami-0123456789abcdef0"]),
	"ec2.getConsoleOutput": (aws) => aws.ec2.getConsoleOutput("i-0123456789abcdef0"),
	"ec2.latestSpotPrice": (aws) => aws.ec2.latestSpotPrice("m4.large", "us-east-1a"),
	"route53.findHostedZone": (aws) => aws.route53.findHostedZone("mliy.example.com"),
	"route53.upsertARecord": (aws) => aws.route53.upsertARecord("Z1", "mliy-1.mliy.example.com", "10.0.0.1", 300),
	"route53.deleteARecord": (aws) => aws.route53.deleteARecord("Z1", "mliy-1.mliy.example.com", "10.0.0.1", 300),
	"emr.describeCluster": (aws) => aws.emr.describeCluster("j-ABCDEF"),
	"emr.listInstanceGroups": (aws) => aws.emr.listInstanceGroups("j-ABCDEF"),
	"emr.masterPrivateIp": (aws) => aws.emr.masterPrivateIp("j-ABCDEF"),
	"emr.listSteps": (aws) => aws.emr.listSteps("j-ABCDEF"),
	"emr.listClusters": (aws) => aws.emr.listClusters({ states: ["RUNNING"] }),
	"emr.terminateJobFlows": (aws) => aws.emr.terminateJobFlows(["j-ABCDEF"]),
	"emr.addTags": (aws) => aws.emr.addTags("j-ABCDEF", { Name: "spark" }),
	"cloudWatch.getMetricData": (aws) =>
		aws.cloudWatch.getMetricData([{
			namespace: "AWS/EC2",
			metric: "CPUUtilization",
			dimensions: { InstanceId: "i-0123456789abcdef0" },
			stat: "Maximum",
			periodSeconds: 300,
		}], { start: new Date(Date.now() - 600_000), end: new Date() }),
	"costExplorer.dailyCostByTags": (aws) =>
		aws.costExplorer.dailyCostByTags({
			fromDay: "2025-03-01",
			toDay: "2025-03-02",
			metric: "NetUnblendedCost",
			filterTag: { key: "LaunchedBy", values: ["MLIY"] },
			groupByTags: ["Cost Center", "mliy:launch-id"],
		}),
};

const EXPECTED_KIND: Record<Fault, AwsErrorKind[]> = {
	throttling: ["throttled"],
	"5xx": ["unavailable"],
	timeout: ["timeout"],
	refused: ["unavailable"],
};

Deno.test("every AWS operation: throttling, 5xx, timeouts and refused connections are retried, then end in a transient AwsError", async () => {
	// The table covers the whole interface: an operation added later must be added here.
	const probe = sdkAgainst(faultyEndpoint("refused").url, { maxAttempts: 1 });
	const interfaceOps = (["cloudFormation", "ec2", "route53", "emr", "cloudWatch", "costExplorer"] as const)
		.flatMap((service) => Object.keys(probe[service]).map((name) => `${service}.${name}`)).sort();
	probe.close();
	assert.deepEqual(Object.keys(OPERATIONS).sort(), interfaceOps);

	let cases = 0;
	for (const fault of FAULTS) {
		const endpoint = faultyEndpoint(fault);
		const calls: string[] = [];
		const aws = sdkAgainst(endpoint.url, { maxAttempts: 2, timeoutSeconds: 1, calls });
		try {
			const started = performance.now();
			const outcomes = await Promise.all(
				Object.entries(OPERATIONS).map(async ([name, call]) => ({ name, error: await rejection(call(aws)) })),
			);
			for (const { name, error } of outcomes) {
				cases += 1;
				assert.ok(error instanceof AwsError, `${fault} on ${name}: ${error}`);
				assert.ok(EXPECTED_KIND[fault].includes(error.kind), `${fault} on ${name} became ${error.kind}`);
				assert.ok(error.transient, `${fault} on ${name} is worth retrying later`);
			}
			if (fault === "throttling" || fault === "5xx") {
				assert.equal(endpoint.served(), 2 * outcomes.length, `${fault}: every operation was tried twice`);
			}
			assert.equal(calls.length, outcomes.length, "each failure was reported once to metrics");
			assert.ok(performance.now() - started < 15_000, `${fault}: the calls gave up in bounded time`);
		} finally {
			aws.close();
			await endpoint.close();
		}
	}
	assert.equal(cases, FAULTS.length * Object.keys(OPERATIONS).length);
});

// ---------------------------------------------------------------------------------------------
// The flows above the SDK, with a fake AWS that fails like the adapter does.

/** What the adapter turns those faults into (previous test). */
const TRANSIENT: readonly AwsErrorKind[] = ["throttled", "unavailable", "timeout"];

async function json(res: Response): Promise<{ status?: string; error?: string }> {
	return await res.json();
}

Deno.test("an instance action during an AWS outage answers 503 with advice, changes nothing, and works once AWS is back", async () => {
	const aws = fakeAws(ACTIONS_ACCEPTED);
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	const id = "i-0123456789abcdef0";
	await addInstance(deps.db, { id, ownerId: world.alice.id, groupId: world.science.id, state: "running" });
	const actions = [
		{ action: "stop", from: "running", shows: "stopping" },
		{ action: "start", from: "stopped", shows: "pending" },
		{ action: "restart", from: "running", shows: "running" },
		{ action: "terminate", from: "running", shows: "shutting-down" },
	];
	let cases = 0;
	for (const { action, from, shows } of actions) {
		// A terminate whose call timed out may have happened: it is confirmed, not failed
		// (tests/adversarial_control_test.ts).
		for (const kind of TRANSIENT.filter((k) => action !== "terminate" || k !== "timeout")) {
			await updateInstance(deps.db, id, { state: from, pendingAction: null, pendingSince: null });
			const bills = (await billsOf(deps.db, id)).length;
			aws.outage(kind);
			const res = await request(deps.app, `/ajax/instance/${id}/${action}`, { user: "alice", form: {} });
			assert.equal(res.status, 503, `${action} during ${kind}`);
			assert.match((await json(res)).error!, /AWS (is throttling requests|did not answer).*try again in a minute/);
			const row = (await getInstance(deps.db, id))!;
			assert.equal(row.state, from, `${action} during ${kind} left the state alone`);
			assert.equal(row.pendingAction, null, `${action} during ${kind} released the action for a retry`);
			assert.equal((await billsOf(deps.db, id)).length, bills, "no billing change");
			cases += 1;
		}
		aws.outage(undefined);
		const res = await request(deps.app, `/ajax/instance/${id}/${action}`, { user: "alice", form: {} });
		assert.equal(res.status, 200, `${action} after recovery: ${await res.clone().text()}`);
		assert.equal((await getInstance(deps.db, id))!.state, shows);
	}
	assert.equal(cases, actions.length * TRANSIENT.length - 1);
	const refused = await request(deps.app, `/ajax/instance/${id}/restart`, { user: "alice", form: {}, htmx: true });
	assert.equal(refused.status, 409, "htmx callers get a fragment with the reason too");
	assert.match(await refused.text(), /role="alert"/);
});

/** Cluster j-ABCDEF of alice's in sparkers, WAITING with 3 nodes. */
async function addRunningCluster(
	deps: TestDeps,
	world: Awaited<ReturnType<typeof seedClusterWorld>>,
	extra: Partial<NewCluster> = {},
) {
	await addCluster(deps.db, {
		ownerId: world.alice.id,
		groupId: world.emrGroup.id,
		configId: world.spark.id,
		...extra,
	});
}

Deno.test("terminating a cluster during an AWS outage answers 503 and keeps it running; afterwards it terminates", async () => {
	const aws = fakeAws(ACTIONS_ACCEPTED);
	await using deps = await createTestDeps({ aws });
	const world = await seedClusterWorld(deps.db);
	await addRunningCluster(deps, world, { stackId: STACK_ID });
	// A timeout is confirmed instead (tests/adversarial_control_test.ts).
	for (const kind of TRANSIENT.filter((k) => k !== "timeout")) {
		aws.outage(kind);
		const res = await request(deps.app, "/ajax/cluster/j-ABCDEF/terminate", { user: "alice", form: {} });
		assert.equal(res.status, 503, `terminate during ${kind}`);
		assert.match((await json(res)).error!, /try again in a minute/);
		const cluster = (await getCluster(deps.db, "j-ABCDEF"))!;
		assert.equal(cluster.state, "WAITING");
		assert.equal(cluster.pendingAction, null);
	}
	aws.outage(undefined);
	const res = await request(deps.app, "/ajax/cluster/j-ABCDEF/terminate", { user: "alice", form: {} });
	assert.equal(res.status, 200, await res.clone().text());
	assert.equal((await getCluster(deps.db, "j-ABCDEF"))!.state, "TERMINATING");
});

Deno.test("a launch survives an outage at every step it calls AWS; the job logs each failure and a later run finishes it", async () => {
	let status = "CREATE_IN_PROGRESS";
	const resources: StackResource[] = [{
		logicalId: "Instance",
		type: "AWS::EC2::Instance",
		physicalId: "i-0aaaaaaaaaaaaaaaa",
		status: "CREATE_COMPLETE",
	}];
	const aws = fakeAws({
		cloudFormation: {
			createStack: () => Promise.resolve({ stackId: STACK_ID }),
			describeStack: () => Promise.resolve(stack(status)),
			listStackResources: () => Promise.resolve(resources),
		},
		ec2: { describeInstances: () => Promise.resolve([]), describeVolumes: () => Promise.resolve([]) },
	});
	await using deps = await createTestDeps({ aws });
	await configureLogging({
		LOG_LOCATION: `${deps.dir}/logs`,
		WEB_LOG_LEVEL: "WARNING",
		LAUNCH_LOG_LEVEL: "INFO",
	}, { console: false });
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
	}, "t");
	const nextMinute = async () => {
		deps.clock.advance(60_000);
		await tick(deps);
	};
	let cases = 0;
	try {
		// CreateStack: the launch stays queued, saying why, for every kind of outage.
		for (const kind of TRANSIENT) {
			aws.outage(kind);
			await nextMinute();
			const waiting = (await getLaunch(deps.db, launch.id))!;
			assert.equal(waiting.status, "queued", `CreateStack ${kind}`);
			assert.match(waiting.step, /Waiting to retry: AWS is (throttling requests|not answering)/);
			cases += 1;
		}
		aws.outage(undefined);
		await nextMinute();
		assert.equal((await getLaunch(deps.db, launch.id))!.status, "creating");

		// Following the stack: DescribeStack or ListStackResources failing leaves it creating.
		for (const only of [/describeStack$/, /listStackResources$/]) {
			for (const kind of TRANSIENT) {
				aws.outage(kind, only);
				await nextMinute();
				assert.equal((await getLaunch(deps.db, launch.id))!.status, "creating", `${only} ${kind}`);
				cases += 1;
			}
		}
		aws.outage(undefined);
		status = "CREATE_COMPLETE";
		await nextMinute();
		const done = (await getLaunch(deps.db, launch.id))!;
		assert.equal(done.status, "complete", done.reason ?? done.step);
		assert.ok(await getInstance(deps.db, "i-0aaaaaaaaaaaaaaaa"), "the instance was recorded");
	} finally {
		await closeLogging();
	}
	const logged = (await Deno.readTextFile(`${deps.dir}/logs/${LOG_FILES.launch}`)).split("\n").filter(Boolean)
		.map((line) => JSON.parse(line).message as string);
	assert.equal(logged.filter((m) => /CreateStack (throttled|unavailable|timeout), will retry/.test(m)).length, 3);
	assert.equal(logged.filter((m) => /step failed, will retry next run: .*simulated/.test(m)).length, 6);
	assert.equal(cases, 3 * TRANSIENT.length);
});

Deno.test("a cluster launch survives EMR outages while it is followed, then completes", async () => {
	const cluster = emrCluster("WAITING", { readyAt: new Date("2025-03-01T12:10:00Z") });
	const aws = fakeAws({
		cloudFormation: {
			describeStack: () => Promise.resolve(stack("CREATE_COMPLETE", { outputs: { ClusterID: "j-ABCDEF" } })),
			listStackResources: () => Promise.resolve([]),
		},
		emr: {
			describeCluster: () => Promise.resolve(cluster),
			listInstanceGroups: () =>
				Promise.resolve([{ role: "MASTER", instanceType: "m4.large", market: "ON_DEMAND", requested: 1, running: 1 }]),
			masterPrivateIp: () => Promise.resolve("10.0.0.9"),
			listSteps: () => Promise.resolve([]),
		},
	});
	await using deps = await createTestDeps({ aws });
	const launch = await addClusterLaunch(deps.db, await seedClusterWorld(deps.db), { submittedAt: deps.clock() });
	let cases = 0;
	for (const only of [/^emr\.describeCluster$/, /^emr\.listInstanceGroups$/, /^emr\.masterPrivateIp$/]) {
		for (const kind of TRANSIENT) {
			aws.outage(kind, only);
			deps.clock.advance(60_000);
			await tick(deps);
			assert.equal((await getLaunch(deps.db, launch.id))!.status, "creating", `${only} ${kind}`);
			cases += 1;
		}
	}
	aws.outage(undefined);
	deps.clock.advance(60_000);
	await tick(deps);
	assert.equal((await getLaunch(deps.db, launch.id))!.status, "complete");
	assert.equal((await getCluster(deps.db, "j-ABCDEF"))!.state, "WAITING");
	assert.equal(cases, 9);
});

Deno.test("sync: EC2, EMR or Route 53 down is logged, fails only its part, and the next run catches up", async () => {
	let ec2State = "stopped";
	const aws = fakeAws({
		ec2: {
			describeInstances: () =>
				Promise.resolve([{
					id: "i-0bbbbbbbbbbbbbbbb",
					state: ec2State,
					type: "t2.micro",
					imageId: "ami-1",
					privateIp: "10.0.0.7",
					tags: { LaunchedBy: "MLIY" },
				}]),
			describeVolumes: () => Promise.resolve([]),
		},
		emr: {
			describeCluster: () =>
				Promise.resolve({ id: "j-ABCDEF", name: "s", state: "TERMINATED", tags: {}, endedAt: new Date() }),
			listClusters: () => Promise.resolve([]),
			listInstanceGroups: () => Promise.resolve([]),
			masterPrivateIp: () => Promise.resolve(undefined),
			listSteps: () => Promise.resolve([]),
		},
		route53: {
			upsertARecord: () => Promise.resolve(),
			deleteARecord: () => Promise.resolve(),
			findHostedZone: () => Promise.resolve("Z1"),
		},
	});
	await using deps = await createTestDeps({
		aws,
		settings: {
			DNS_PLUGIN: "plugins/dns_route53",
			PLUGIN_SETTINGS: { DOMAIN_NAME: "mliy.example.com", HOSTED_ZONE_ID: "Z1" },
		},
	});
	const world = await seedClusterWorld(deps.db);
	await addInstance(deps.db, { id: "i-0bbbbbbbbbbbbbbbb", ownerId: world.alice.id, state: "running" });
	await addRunningCluster(deps, world);
	const job = syncAwsJob(5);
	const run = async () => {
		deps.clock.advance(5 * 60_000);
		return await runJob(deps, job, { scheduled: true });
	};

	// EC2 down: the run fails and says so; the clusters are still synced.
	aws.outage("throttled", /^ec2\./);
	assert.equal(await run(), "failed");
	assert.match((await getLease(deps.db, job.name))!.lastError!, /ec2\.describeInstances: simulated throttled/);
	assert.equal((await getInstance(deps.db, "i-0bbbbbbbbbbbbbbbb"))!.state, "running", "unchanged while EC2 is down");
	assert.equal((await getCluster(deps.db, "j-ABCDEF"))!.state, "TERMINATED", "EMR was synced anyway");

	// EMR down: instances are synced, the run fails naming EMR (its first call, the listing).
	aws.outage("unavailable", /^emr\./);
	await updateCluster(deps.db, "j-ABCDEF", { state: "WAITING" });
	assert.equal(await run(), "failed");
	assert.match((await getLease(deps.db, job.name))!.lastError!, /emr\.listClusters: simulated unavailable/);
	assert.equal((await getInstance(deps.db, "i-0bbbbbbbbbbbbbbbb"))!.state, "stopped", "EC2 was synced anyway");
	assert.equal((await getCluster(deps.db, "j-ABCDEF"))!.state, "WAITING", "unchanged while EMR is down");

	// Route 53 down while the instance gets an IP: the sync succeeds, the record waits for the next run.
	aws.outage("timeout", /^route53\./);
	ec2State = "running";
	assert.equal(await run(), "ok", "a DNS failure does not fail the sync");
	let row = (await getInstance(deps.db, "i-0bbbbbbbbbbbbbbbb"))!;
	assert.equal(row.state, "running");
	assert.equal(row.dnsIp, null, "no record yet");
	aws.outage(undefined);
	assert.equal(await run(), "ok");
	row = (await getInstance(deps.db, "i-0bbbbbbbbbbbbbbbb"))!;
	assert.equal(row.dnsIp, "10.0.0.7", "published on the next run");
	assert.equal(row.dnsName, "mliy-0bbbbbbbbbbbbbbbb.mliy.example.com");
	assert.ok((await getLease(deps.db, job.name))!.lastSuccessAt);
});

/** `promise`, or a failure naming `what` when it has not settled within `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const late = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
	});
	try {
		return await Promise.race([promise, late]);
	} finally {
		clearTimeout(timer);
	}
}

Deno.test("pages never wait on AWS: every page answers 200 within a second while every AWS call hangs", async () => {
	const aws = fakeAws({ ec2: { describeInstances: () => Promise.resolve([]) } });
	aws.outage("hang");
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0123456789abcdef0", ownerId: world.alice.id, groupId: world.science.id });
	try {
		for (
			const [path, user] of [
				["/", "alice"],
				["/team", "mia"],
				["/billing", "alice"],
				["/launch", "alice"],
				[`/launch/${world.science.id}/${world.config.id}`, "alice"],
				["/instances/i-0123456789abcdef0", "alice"],
				["/admin", "ada"],
				["/profile", "alice"],
			] as const
		) {
			let res = await within(1000, path, request(deps.app, path, { user }));
			if (res.status === 302) res = await within(1000, path, request(deps.app, res.headers.get("Location")!, { user }));
			assert.equal(res.status, 200, `${path}: ${res.status}`);
			await res.body?.cancel();
		}
		assert.ok(
			aws.calls.includes("ec2.describeInstances"),
			"the dashboard's refresh asked AWS, in the background",
		);
	} finally {
		aws.outage(undefined);
	}
	await deps.background.idle();
	assert.ok(!aws.calls.some((c) => !c.startsWith("ec2.describeInstances")), aws.calls.join(", "));
});

// ---------------------------------------------------------------------------------------------
// The database: another process holding the write lock (tests/_helpers/db_lock.ts).

async function instanceWithToken(deps: TestDeps, token: string) {
	await addLaunchedInstance(deps.db, await seedWorld(deps.db), token, { progressPercent: 10 });
}

const progressCall = (deps: TestDeps, headers: Record<string, string> = {}, spec = "Installing(40)") =>
	request(deps.app, `/ajax/progress/i-0123456789abcdef0/${spec}`, {
		method: "POST",
		headers: { ...headers, "X-MLiy-Progress-Token": "secret-token" },
	});

Deno.test("a progress write waits out another process's write lock and then succeeds", async () => {
	await using deps = await createTestDeps();
	await instanceWithToken(deps, "secret-token");
	const lock = await holdWriteLock(`${deps.dir}/test.db`, 400);
	const started = performance.now();
	const res = await progressCall(deps);
	// The report is answered at once and written with its window's batch (lib/report_queue.ts).
	await deps.reports.flush();
	const waited = performance.now() - started;
	await lock.released;
	assert.equal(res.status, 200, await res.clone().text());
	assert.ok(waited >= 200, `the write waited for the lock (${Math.round(waited)} ms)`);
	const row = (await getInstance(deps.db, "i-0123456789abcdef0"))!;
	assert.equal(row.progressPercent, 40);
	assert.equal(row.progressText, "Installing");
});

Deno.test("a write that cannot get the lock within DATABASE_BUSY_TIMEOUT_MS is a clear 503 with Retry-After, and changes nothing", async () => {
	await using deps = await createTestDeps({ settings: { DATABASE_BUSY_TIMEOUT_MS: 100 } });
	await instanceWithToken(deps, "secret-token");
	const lock = await holdWriteLock(`${deps.dir}/test.db`, 1500);
	for (const headers of [{ Accept: "application/json" }, { "HX-Request": "true" }] as Record<string, string>[]) {
		// The end of a setup is written at once (a running stage is queued: tests/report_queue_test.ts).
		const res = await progressCall(deps, headers, "done(100)");
		assert.equal(res.status, 503, await res.clone().text());
		assert.equal(res.headers.get("Retry-After"), "5");
		assert.match(await res.text(), /database is busy; try again in a few seconds/);
	}
	await lock.released;
	assert.equal((await getInstance(deps.db, "i-0123456789abcdef0"))!.progressPercent, 10);
});
