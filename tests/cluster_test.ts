/**
 * EMR clusters: launch → record → terminate against moto (which creates the cluster and marks it
 * TERMINATED at once: the "ended outside the portal" path), stubbed slow, failed and stepping
 * clusters, refusals, the estimate, the parameters sent.
 */
import assert from "node:assert/strict";
import { billsOf } from "../lib/db/bills.ts";
import { clustersOfLaunch, getCluster } from "../lib/db/clusters.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { launches } from "../lib/db/schema.ts";
import { clusterEstimate } from "../lib/billing/rates.ts";
import { clusterParameters, clusterTags } from "../lib/launch/cluster.ts";
import { clusterStackName } from "../lib/machines/tags.ts";
import { syncKind } from "../lib/sync/all.ts";
import { CLUSTER_TEMPLATE } from "../fixtures/mod.ts";
import type { EmrCluster, EmrInstanceGroup, StackEvent } from "../lib/aws/types.ts";
import { emrCluster, fakeAws, stack } from "./_fakes/aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { addCluster, addClusterLaunch, addConfig, seedClusterWorld } from "./_helpers/world.ts";
import { tick } from "./_helpers/tick.ts";

/** A pricing file with EMR surcharges (the shipped 2017 file has none). */
async function pricingWithEmr(dir: string): Promise<string> {
	const path = `${dir}/pricing-emr.json`;
	await Deno.writeTextFile(
		path,
		JSON.stringify([
			{
				instance_type: "m4.large",
				vCPU: 2,
				memory: 8,
				pricing: { "us-east-1": { linux: { ondemand: "0.10" }, emr: { emr: "0.03" } } },
			},
			{
				instance_type: "r4.xlarge",
				vCPU: 4,
				memory: 30.5,
				pricing: { "us-east-1": { linux: { ondemand: "0.266" }, emr: { emr: "0.067" } } },
			},
		]),
	);
	return path;
}

const goodForm = {
	intent: "launch",
	instanceType: "m4.large",
	purpose: "Churn model, Q3",
	coreNodes: "3",
	market: "ON_DEMAND",
};

motoTest(
	"a cluster moto ends at once is recorded, shown as failed (not ready), billed until EMR's end time, and removed",
	async (moto) => {
		const dir = await Deno.makeTempDir();
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a"), PRICING_FILE: await pricingWithEmr(dir) },
		});
		const world = await seedClusterWorld(deps.db);
		const res = await request(deps.app, `/launch/${world.emrGroup.id}/${world.spark.id}`, {
			user: "alice",
			form: goodForm,
		});
		assert.equal(res.status, 303, await res.clone().text());
		const launchId = res.headers.get("Location")!.split("/").pop()!;
		await tick(deps);
		const launch = (await getLaunch(deps.db, launchId))!;
		// moto says the cluster was ready (ReadyDateTime) and has TERMINATED since: that is no ready cluster.
		assert.equal(launch.status, "failed", launch.step);
		assert.match(launch.reason!, /^The cluster ended right after it was ready \(TERMINATED: /);
		assert.equal(launch.progressTokenHash, "", "a cluster reports no progress, so no token is made for it");
		const [cluster] = await clustersOfLaunch(deps.db, launchId);
		assert.ok(cluster?.id.startsWith("j-"));
		assert.equal(cluster.state, "TERMINATED", "moto ends the cluster at once: it ended outside the portal");
		assert.equal(cluster.purpose, "Churn model, Q3");
		assert.equal(cluster.nodesRequested, 4);
		const [bill] = await billsOf(deps.db, cluster.id);
		assert.ok(bill, "the cluster was billed");
		assert.equal(bill.endedAt?.getTime(), cluster.endedAt?.getTime(), "closed at the time EMR reports");
		assert.ok(Math.abs(bill.hourlyRate! - (0.10 + 0.03) * 4) < 1e-9, `(EC2 + EMR) × 4 nodes: ${bill.hourlyRate}`);
		assert.equal(bill.description, "ON DEMAND m4.large × 4");

		// It shows on the dashboard as failed; the teammate may not terminate it; the owner removes the record.
		const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
		assert.match(
			dashboard,
			new RegExp(`data-cluster="${cluster.id}"[\\s\\S]*data-cluster-failed><span class="badge bad">failed</span>`),
		);
		assert.doesNotMatch(dashboard, /is ready/);
		const launchPage = await (await request(deps.app, `/launches/${launchId}`, { user: "alice" })).text();
		assert.match(launchPage, /<h1>The launch of Spark failed<\/h1>/);
		assert.doesNotMatch(launchPage, /is ready/);
		assert.match(
			await (await request(deps.app, "/team", { user: "bob" })).text(),
			new RegExp(`data-cluster="${cluster.id}"`),
		);
		assert.equal(
			(await request(deps.app, `/ajax/cluster/${cluster.id}/terminate`, { user: "bob", form: {} })).status,
			403,
		);
		const removed = await request(deps.app, `/ajax/cluster/${cluster.id}/terminate`, { user: "alice", form: {} });
		assert.equal(removed.status, 200, await removed.clone().text());
		assert.equal((await getCluster(deps.db, cluster.id))!.archived, true);
		assert.equal((await deps.aws.cloudFormation.describeStack(launch.stackId!))?.status, "DELETE_COMPLETE");
		await Deno.remove(dir, { recursive: true });
	},
);

async function stubbed(overrides: Parameters<typeof fakeAws>[0]) {
	const aws = fakeAws(overrides);
	const deps = await createTestDeps({ aws });
	const world = await seedClusterWorld(deps.db);
	const launch = await addClusterLaunch(deps.db, world, { submittedAt: deps.clock() });
	return { deps, aws, world, launch };
}

const GROUPS: EmrInstanceGroup[] = [
	{ role: "MASTER", instanceType: "m4.large", market: "ON_DEMAND", requested: 1, running: 1 },
	{ role: "CORE", instanceType: "m4.large", market: "ON_DEMAND", requested: 2, running: 0 },
];

/**
 * EMR as it shows the one cluster `current()` returns (undefined: EMR does not know it): described
 * in full, and listed (as ListClusters does, without the details) when its state is asked for.
 */
function emrShowing(current: () => EmrCluster | undefined) {
	return {
		describeCluster: () => Promise.resolve(current()),
		listClusters: ({ states }: { states?: string[] }) => {
			const cluster = current();
			if (!cluster || (states && !states.includes(cluster.state))) return Promise.resolve([]);
			const { id, name, state, stateReason, createdAt, readyAt, endedAt } = cluster;
			return Promise.resolve([{ id, name, state, stateReason, createdAt, readyAt, endedAt, tags: {} }]);
		},
		listInstanceGroups: () => Promise.resolve(GROUPS),
		masterPrivateIp: () => Promise.resolve("10.0.0.9"),
		listSteps: () => Promise.resolve([]),
	};
}

/** A created stack whose ClusterID output names j-ABCDEF. */
const stackCreated = {
	describeStack: () => Promise.resolve(stack("CREATE_COMPLETE", { outputs: { ClusterID: "j-ABCDEF" } })),
	listStackResources: () => Promise.resolve([]),
};

/** The stack event of the EMR cluster resource failing for `reason`. */
function clusterFailed(reason: string): StackEvent {
	return { logicalId: "Cluster", type: "AWS::EMR::Cluster", status: "CREATE_FAILED", reason, timestamp: new Date() };
}

Deno.test("the cluster id is read from the ClusterID output by name, whatever the order of outputs", async () => {
	const { deps, launch } = await stubbed({
		cloudFormation: {
			describeStack: () =>
				Promise.resolve(
					stack("CREATE_COMPLETE", {
						outputs: { StackID: "x", MasterDNS: "ip-10-0-0-9.ec2.internal", ClusterID: "j-ABCDEF" },
					}),
				),
			listStackResources: () => Promise.resolve([]),
		},
		emr: emrShowing(() => emrCluster("WAITING", { readyAt: new Date() })),
	});
	await using _ = deps;
	await tick(deps);
	const [cluster] = await clustersOfLaunch(deps.db, launch.id);
	assert.equal(cluster?.id, "j-ABCDEF");
	assert.equal(cluster.masterDns, "ip-10-0-0-9.ec2.internal");
	assert.equal(cluster.masterIp, "10.0.0.9");
	assert.equal((await getLaunch(deps.db, launch.id))!.status, "complete");
	const page = await (await request(deps.app, "/clusters/j-ABCDEF", { user: "alice" })).text();
	assert.match(page, /data-connection>jdbc:hive2:\/\/ip-10-0-0-9.ec2.internal:10000\/default</);
});

Deno.test("a cluster that ends while its stack is created waits for the rollback, then fails with its reason and the stack is deleted", async () => {
	let status = "CREATE_IN_PROGRESS";
	const { deps, aws, launch } = await stubbed({
		cloudFormation: {
			describeStack: () =>
				Promise.resolve(stack(status, { outputs: status === "CREATE_IN_PROGRESS" ? { ClusterID: "j-ABCDEF" } : {} })),
			listStackResources: () => Promise.resolve([]),
			describeStackEvents: () => Promise.resolve([clusterFailed("Master instance failed to bootstrap")]),
			deleteStack: () => Promise.resolve(),
		},
		emr: emrShowing(() => emrCluster("TERMINATED_WITH_ERRORS", { stateReason: "Bootstrap failure" })),
	});
	await using _ = deps;
	await tick(deps);
	assert.equal((await getLaunch(deps.db, launch.id))!.status, "creating", "CloudFormation has not noticed yet");
	status = "ROLLBACK_IN_PROGRESS";
	deps.clock.advance(60_000);
	await tick(deps);
	assert.equal((await getLaunch(deps.db, launch.id))!.status, "creating", "rolling back");
	assert.ok(!aws.calls.includes("cloudFormation.deleteStack"));
	status = "ROLLBACK_COMPLETE";
	deps.clock.advance(60_000);
	await tick(deps);
	const failed = (await getLaunch(deps.db, launch.id))!;
	assert.equal(failed.status, "failed");
	assert.equal(failed.reason, "Cluster (AWS::EMR::Cluster): Master instance failed to bootstrap");
	assert.ok(aws.calls.includes("cloudFormation.deleteStack"), "the rolled-back stack is deleted");
});

Deno.test("a failed step fails the launch with the step's reason instead of waiting forever", async () => {
	const { deps, launch } = await stubbed({
		cloudFormation: stackCreated,
		emr: {
			...emrShowing(() => emrCluster("RUNNING")),
			listSteps: () =>
				Promise.resolve([{ id: "s-1", name: "setup-cluster", state: "FAILED", failureReason: "step.sh exited 2" }]),
		},
	});
	await using _ = deps;
	await tick(deps);
	const failed = (await getLaunch(deps.db, launch.id))!;
	assert.equal(failed.status, "failed");
	assert.match(failed.reason!, /Step "setup-cluster" failed: step.sh exited 2/);
});

Deno.test("a cluster that is not ready by the timeout fails the launch, saying how far it got", async () => {
	const { deps, launch } = await stubbed({
		cloudFormation: stackCreated,
		emr: emrShowing(() => emrCluster("BOOTSTRAPPING")),
	});
	await using _ = deps;
	await tick(deps);
	assert.equal((await getLaunch(deps.db, launch.id))!.status, "creating");
	assert.match((await getLaunch(deps.db, launch.id))!.step, /BOOTSTRAPPING: 1 of 3 nodes running, master 10.0.0.9/);
	deps.clock.advance((deps.settings.LAUNCH_TIMEOUT_MINUTES + 1) * 60_000);
	await tick(deps);
	assert.match((await getLaunch(deps.db, launch.id))!.reason!, /still BOOTSTRAPPING \(1 of 3 nodes running\)/);
});

Deno.test("a cluster that terminates on its own is closed out by the sync at EMR's end time", async () => {
	let state = "WAITING";
	const ended = new Date("2025-03-01T15:30:00Z");
	const { deps } = await stubbed({
		cloudFormation: stackCreated,
		emr: emrShowing(() =>
			emrCluster(
				state,
				state === "WAITING" ? { readyAt: new Date() } : { endedAt: ended, stateReason: "Terminated by the idle check" },
			)
		),
	});
	await using _ = deps;
	await tick(deps);
	assert.equal((await billsOf(deps.db, "j-ABCDEF")).filter((b) => !b.endedAt).length, 1);
	state = "TERMINATED";
	deps.clock.set("2025-03-01T17:00:00Z");
	await syncKind(deps, "cluster");
	const cluster = (await getCluster(deps.db, "j-ABCDEF"))!;
	assert.equal(cluster.state, "TERMINATED");
	assert.equal(cluster.stateReason, "Terminated by the idle check");
	const [bill] = await billsOf(deps.db, "j-ABCDEF");
	assert.equal(bill!.endedAt?.toISOString(), ended.toISOString());
	assert.equal(bill!.startedAt.toISOString(), "2025-03-01T12:00:00.000Z", "billed from EMR's creation time");
});

Deno.test("a cluster terminated from the portal is billed once, until EMR's end time", async () => {
	let seen = emrCluster("WAITING", { readyAt: new Date("2025-03-01T12:10:00Z") });
	const { deps } = await stubbed({
		cloudFormation: { ...stackCreated, deleteStack: () => Promise.resolve() },
		emr: emrShowing(() => seen),
	});
	await using _ = deps;
	await tick(deps);
	deps.clock.set("2025-03-01T14:00:00Z");
	const res = await request(deps.app, "/ajax/cluster/j-ABCDEF/terminate", { user: "alice", form: {} });
	assert.equal(res.status, 200, await res.clone().text());
	assert.equal((await getCluster(deps.db, "j-ABCDEF"))!.state, "TERMINATING");

	// The sync sees it terminating, then ended at EMR's end time.
	seen = emrCluster("TERMINATING");
	deps.clock.set("2025-03-01T14:05:00Z");
	await syncKind(deps, "cluster");
	const ended = new Date("2025-03-01T14:20:00Z");
	seen = emrCluster("TERMINATED", { endedAt: ended, stateReason: "Terminated by user request" });
	deps.clock.set("2025-03-01T14:30:00Z");
	await syncKind(deps, "cluster");

	const bills = await billsOf(deps.db, "j-ABCDEF");
	assert.equal(bills.length, 1, JSON.stringify(bills));
	assert.equal(bills[0]!.startedAt.toISOString(), "2025-03-01T12:00:00.000Z", "from EMR's creation time");
	assert.equal(bills[0]!.endedAt?.toISOString(), ended.toISOString(), "until EMR's end time, not the click");
});

Deno.test("a cluster EMR does not list yet is waited for, not marked vanished; one gone for good is billed until last seen", async () => {
	let seen: EmrCluster | undefined;
	const { deps, launch } = await stubbed({
		cloudFormation: stackCreated,
		emr: emrShowing(() => seen),
	});
	await using _ = deps;
	await tick(deps);
	assert.equal((await getCluster(deps.db, "j-ABCDEF"))!.state, "STARTING", "one not-found is not a vanished cluster");
	assert.equal((await getLaunch(deps.db, launch.id))!.status, "creating");

	seen = emrCluster("WAITING", { readyAt: new Date("2025-03-01T12:10:00Z") });
	deps.clock.advance(60_000);
	await tick(deps);
	assert.equal((await getLaunch(deps.db, launch.id))!.status, "complete");
	const lastSeen = (await getCluster(deps.db, "j-ABCDEF"))!.lastSeenAt!;

	// EMR forgets it: after the grace it is vanished, billed until it was last seen.
	seen = undefined;
	deps.clock.advance(5 * 60_000);
	await syncKind(deps, "cluster");
	assert.equal((await getCluster(deps.db, "j-ABCDEF"))!.state, "WAITING", "within the grace");
	deps.clock.advance(30 * 60_000);
	await syncKind(deps, "cluster");
	const gone = (await getCluster(deps.db, "j-ABCDEF"))!;
	assert.equal(gone.state, "vanished");
	assert.equal(gone.endedAt?.toISOString(), lastSeen.toISOString());
	const [bill] = await billsOf(deps.db, "j-ABCDEF");
	assert.equal(bill!.endedAt?.toISOString(), lastSeen.toISOString());
});

Deno.test("cluster refusals: no EMR access, config not permitted, non-owner terminate, bad purpose, core nodes out of range", async () => {
	const aws = fakeAws();
	await using deps = await createTestDeps({ aws });
	const world = await seedClusterWorld(deps.db);
	const post = (user: string, groupId: number, form: Record<string, string>) =>
		request(deps.app, `/launch/${groupId}/${world.spark.id}`, { user, form: { ...goodForm, ...form } });
	assert.equal(
		(await post("alice", world.science.id, {})).status,
		404,
		"science has no EMR access: not in its catalogue",
	);
	const other = await addConfig(deps.db, "Other spark", {
		kind: "cluster",
		templateBody: CLUSTER_TEMPLATE,
		types: [world.types["m4.large"]!.id],
		groups: [],
	});
	assert.equal(
		(await request(deps.app, `/launch/${world.emrGroup.id}/${other.id}`, { user: "alice", form: goodForm })).status,
		404,
	);
	for (
		const [form, message] of [
			[{ purpose: "<script>x</script>" }, /Letters, digits, spaces/],
			[{ purpose: "" }, /Say what the cluster is for/],
			[{ purpose: "x".repeat(101) }, /At most 100 characters/],
			[{ coreNodes: "1" }, /At least 2 core nodes/],
			[{ coreNodes: "241" }, /At most 240 core nodes/],
			[{ coreNodes: "2.5" }, /A whole number of nodes/],
			[{ market: "SPOT" }, /needs a bid price/],
			[{ market: "CHEAP" }, /on demand or spot/],
			[{ instanceType: "r4.4xlarge" }, /not allowed for this configuration/],
		] as const
	) {
		const res = await post("alice", world.emrGroup.id, form as Record<string, string>);
		assert.equal(res.status, 422, JSON.stringify(form));
		const html = await res.text();
		assert.match(html, message);
		assert.doesNotMatch(html, /<script>x/);
	}
	assert.equal((await deps.db.select().from(launches)).length, 0);
	assert.deepEqual(aws.changes(), []);
	assert.equal((await request(deps.app, "/ajax/cluster/j-NOPE/terminate", { user: "alice", form: {} })).status, 404);
	assert.equal((await request(deps.app, "/ajax/cluster/j-NOPE/terminate", { user: "alice" })).status, 405);
});

Deno.test("every cluster form field refuses bad input in plain words, never zod's default wording", async () => {
	const aws = fakeAws();
	await using deps = await createTestDeps({ aws });
	const world = await seedClusterWorld(deps.db);
	const post = (form: Record<string, string>) =>
		request(deps.app, `/launch/${world.emrGroup.id}/${world.spark.id}`, { user: "alice", form });
	const without = (field: keyof typeof goodForm) =>
		Object.fromEntries(Object.entries(goodForm).filter(([k]) => k !== field));
	for (
		const [form, message] of [
			[{ ...goodForm, instanceType: "m".repeat(65) }, /An instance type name is at most 64 characters/],
			[{ ...goodForm, instanceType: " " }, /Choose an instance type/],
			[without("instanceType"), /Choose an instance type/],
			[without("purpose"), /Say what the cluster is for/],
			[without("coreNodes"), /A number of nodes/],
			[{ ...goodForm, coreNodes: "many" }, /A number of nodes/],
			[without("market"), /on demand or spot/],
			[{ ...goodForm, market: "SPOT", bidPrice: "cheap" }, /A price in dollars/],
			[{ ...goodForm, market: "SPOT", bidPrice: "0" }, /At least \$0.001/],
			[{ ...goodForm, market: "SPOT", bidPrice: "101" }, /At most \$100/],
			[{ ...goodForm, autoTerminateHours: "1.5" }, /A whole number of hours/],
			[{ ...goodForm, autoTerminateHours: "soon" }, /A number of hours/],
			[{ ...goodForm, autoTerminateHours: "72" }, /0 to 71 hours/],
			[{ ...goodForm, autoTerminateHours: "-1" }, /0 to 71 hours/],
			[{ ...goodForm, autoTerminateMinutes: "2.5" }, /A whole number of minutes/],
			[{ ...goodForm, autoTerminateMinutes: "1e400" }, /A number of minutes/],
			[{ ...goodForm, autoTerminateMinutes: "60" }, /0 to 59 minutes/],
		] as const
	) {
		const res = await post(form as Record<string, string>);
		assert.equal(res.status, 422, JSON.stringify(form));
		const html = await res.text();
		assert.match(html, message, JSON.stringify(form));
		assert.doesNotMatch(html, /Invalid input|Too big|Too small|expected (string|number|int)/, JSON.stringify(form));
	}
	assert.equal((await deps.db.select().from(launches)).length, 0);
	assert.deepEqual(aws.changes(), []);
});

Deno.test("clusterParameters(): only what the template declares; portal values before the configuration's params; no bid for on demand", async () => {
	await using deps = await createTestDeps();
	const world = await seedClusterWorld(deps.db);
	const base = {
		settings: deps.settings,
		group: world.emrGroup,
		config: world.spark,
		instanceType: "m4.large",
		stackName: "MLiySpark-OD-abc",
		subnetId: "subnet-1",
	};
	const od = clusterParameters({
		...base,
		options: { purpose: "p", coreNodes: 3, market: "ON_DEMAND", bidPrice: null, idleSeconds: 5400 },
	});
	assert.equal(od.paramCoreInstanceCount, "3");
	assert.equal(od.paramIdleTimeoutSeconds, "5400", "EMR's own AutoTerminationPolicy gets the idle time");
	assert.equal(od.paramIdleSeconds, "0", "and the on-cluster check none");
	assert.equal(od.paramJobFlowRole, "EMR_EC2_DefaultRole", "the group's profile, not the config's param");
	assert.equal(od.paramReleaseLabel, "emr-6.15.0", "a declared param from the configuration");
	assert.equal(od.paramLdapGroup, "CN=Sparkers,OU=Teams,DC=example,DC=com");
	assert.ok(!("paramBidPrice" in od), "no bid for on demand");
	assert.ok(!("notDeclared" in od) && !("paramTaskInstanceCount" in od), "nothing the template does not declare");
	const spot = clusterParameters({
		...base,
		options: { purpose: "p", coreNodes: 3, market: "SPOT", bidPrice: 0.25, idleSeconds: 0 },
	});
	assert.equal(spot.paramBidPrice, "0.250");
	assert.equal(spot.paramMarketType, "SPOT");
	const tags = clusterTags({
		user: world.alice,
		group: world.emrGroup,
		config: world.spark,
		options: { purpose: "Churn", coreNodes: 3, market: "SPOT", bidPrice: 0.25, idleSeconds: 0 },
		stackName: "S",
		launchId: "L",
		defaultChargeCode: "X",
	});
	for (const key of ["Cost Center", "AGS", "SDLC", "Purpose", "Owner", "Name", "UserGroup", "Creator", "Launched By"]) {
		assert.ok(key in tags, key);
	}
	assert.equal(tags.Name, "S", "a cluster is named after its stack");
	assert.equal(tags.LaunchedBy, "MLIY", "the one vocabulary the sync finds every kind by");
	assert.equal(tags["mliy:launch-id"], "L");
	assert.equal(tags.userid, "alice");
});

Deno.test("clusterEstimate(): (EC2 + EMR) × (core + 1), spot at the bid capped at on demand, unknown never $0", async () => {
	const dir = await Deno.makeTempDir();
	await using deps = await createTestDeps({ settings: { PRICING_FILE: await pricingWithEmr(dir) } });
	const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);
	close(
		clusterEstimate(deps, { instanceType: "m4.large", coreNodes: 10, market: "ON_DEMAND" }).perHour,
		(0.10 + 0.03) * 11,
	);
	close(
		clusterEstimate(deps, { instanceType: "m4.large", coreNodes: 10, market: "SPOT", bidPrice: 0.04 }).perHour,
		(0.04 + 0.03) * 11,
	);
	close(
		clusterEstimate(deps, { instanceType: "m4.large", coreNodes: 10, market: "SPOT", bidPrice: 5 }).perHour,
		(0.10 + 0.03) * 11,
	);
	assert.equal(clusterEstimate(deps, { instanceType: "t2.micro", coreNodes: 2, market: "ON_DEMAND" }).perHour, null);
	assert.equal(
		clusterStackName("MLiy Spark cluster with a very long name indeed", "SPOT", "0123abcd-4567").length <= 40,
		true,
	);
	assert.match(clusterStackName("MLiy Spark", "ON_DEMAND", "0123abcd-4567"), /^MLiy-Spark-OD-0123abcd4567$/);
	await Deno.remove(dir, { recursive: true });
});

Deno.test("the dashboard's clusters: hourly cost while up, failed with EMR's reason, an empty state, none without EMR", async () => {
	const dir = await Deno.makeTempDir();
	await using deps = await createTestDeps({ settings: { PRICING_FILE: await pricingWithEmr(dir) } });
	const world = await seedClusterWorld(deps.db);
	const dashboard = async (user: string) => await (await request(deps.app, "/", { user })).text();

	const empty = await dashboard("alice");
	assert.match(empty, /<h2>My clusters<\/h2>[\s\S]*You do not have any clusters\./);
	assert.match(empty, new RegExp(`<a class="btn" href="/launch/${world.emrGroup.id}">Launch a cluster</a>`));
	assert.doesNotMatch(await dashboard("olga"), /My clusters/, "no EMR access and no clusters: no section");

	const launch = await addClusterLaunch(deps.db, world, { submittedAt: deps.clock(), status: "complete" });
	await addCluster(deps.db, { id: "j-UP", ownerId: world.alice.id, launchId: launch.id, coreNodes: 3 });
	await addCluster(deps.db, {
		id: "j-BROKE",
		ownerId: world.alice.id,
		launchId: launch.id,
		state: "TERMINATED_WITH_ERRORS",
		stateReason: "Master instance failed to bootstrap",
		endedAt: deps.clock(),
	});
	await addCluster(deps.db, { id: "j-DONE", ownerId: world.alice.id, state: "TERMINATED", endedAt: deps.clock() });
	const html = await dashboard("alice");
	const row = (id: string) => html.match(new RegExp(`<tr data-cluster="${id}">[\\s\\S]*?</tr>`))?.[0] ?? "";
	// (0.10 EC2 + 0.03 EMR) × (3 core + 1 master)
	assert.match(row("j-UP"), /<td data-label="Hourly cost" class="num">\$0\.52\/h<\/td>/);
	assert.doesNotMatch(row("j-UP"), /data-cluster-failed/);
	assert.match(row("j-BROKE"), /<span class="badge bad">failed<\/span> Master instance failed to bootstrap/);
	assert.match(row("j-BROKE"), /<td data-label="Hourly cost" class="num">—<\/td>/, "an ended cluster costs nothing");
	assert.doesNotMatch(row("j-DONE"), /data-cluster-failed/, "a cluster that ended normally did not fail");
	const panel = await (await request(deps.app, "/clusters/j-BROKE", { user: "alice" })).text();
	assert.match(panel, /<span class="badge bad">failed<\/span> Master instance failed to bootstrap/);
	await Deno.remove(dir, { recursive: true });
});
