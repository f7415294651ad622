/**
 * What every kind of machine shares, stated once and checked for each kind: the claim of an action
 * in flight, the DNS policy (a record while alive, moved with the address, removed at the end),
 * billing until a vanished machine was last seen, the ownership rule for unknown machines, and
 * a sync of many steady machines in a fixed number of statements and one listing.
 */
import assert from "node:assert/strict";
import type { Ec2Instance, EmrCluster } from "../lib/aws/types.ts";
import { toViewer } from "../lib/auth/identify.ts";
import { controlMachine } from "../lib/control/control.ts";
import { auditFor } from "../lib/db/audit.ts";
import { billsOf, openBill } from "../lib/db/bills.ts";
import { getFound } from "../lib/db/found.ts";
import type { Launch } from "../lib/db/launches.ts";
import { claimAction } from "../lib/db/machines.ts";
import { clusters, type ConfigKind, instances } from "../lib/db/schema.ts";
import { getUserByUsername } from "../lib/db/users.ts";
import { UserError } from "../lib/errors.ts";
import { machineKind } from "../lib/machines/kinds.ts";
import type { MachineRow } from "../lib/machines/model.ts";
import { LAUNCH_TAG, STACK_ID_TAG } from "../lib/machines/tags.ts";
import { syncKind } from "../lib/sync/all.ts";
import { refreshMachines } from "../lib/sync/observe.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { type FakeAws, fakeAws, STACK_ID } from "./_fakes/aws.ts";
import { addCluster, addClusterLaunch, addInstance, addLaunch, seedClusterWorld } from "./_helpers/world.ts";

type World = Awaited<ReturnType<typeof seedClusterWorld>>;

/** A machine as the fake AWS shows it: its state and address, with the portal's tags unless `tags` say otherwise. */
interface Shown {
	state: string;
	address?: string;
	tags?: Record<string, string>;
}

/** How each kind's machines are made, shown by AWS and named, for the rules every kind shares. */
interface KindCase {
	kind: ConfigKind;
	/** A state the machine is alive in, and one it has ended in. */
	alive: string;
	ended: string;
	/** An action that starts from `alive` and stays in flight until AWS shows its effect. */
	action: string;
	/** Alice's machine `id` of the kind, in `state`. */
	add(deps: TestDeps, world: World, id: string, values: Partial<MachineRow> & { state: string }): Promise<void>;
	/** Alice's launch of the kind, submitted (its stack created) and being followed. */
	launch(deps: TestDeps, world: World): Promise<Launch>;
	/** AWS showing the machines of `shown` (and nothing else); the portal's DNS records in Route 53. */
	aws(shown: Map<string, Shown>): Pick<Parameters<typeof fakeAws>[0] & object, "ec2" | "emr" | "cloudFormation">;
	ids(n: number): string;
}

const PORTAL_TAGS = { LaunchedBy: "MLIY", userid: "alice" };

const KINDS: KindCase[] = [
	{
		kind: "instance",
		alive: "running",
		ended: "terminated",
		action: "restart",
		async add(deps, world, id, values) {
			await addInstance(deps.db, { ...values, id, ownerId: world.alice.id, groupId: world.science.id });
		},
		launch: (deps, world) =>
			addLaunch(deps.db, {
				userId: world.alice.id,
				groupId: world.science.id,
				configId: world.config.id,
				status: "creating",
				stackId: STACK_ID,
			}),
		aws(shown) {
			const ec2 = (id: string, s: Shown): Ec2Instance => ({
				id,
				state: s.state,
				type: "t2.micro",
				imageId: "ami-1",
				privateIp: s.address,
				tags: s.tags ?? PORTAL_TAGS,
			});
			return {
				ec2: {
					describeInstances: ({ filters }) => {
						const ids = filters?.["instance-id"];
						return Promise.resolve(
							[...shown].filter(([id]) => !ids || ids.includes(id)).map(([id, s]) => ec2(id, s)),
						);
					},
					describeVolumes: () => Promise.resolve([]),
					rebootInstances: () => Promise.resolve(),
				},
			};
		},
		ids: (n) => `i-${n.toString(16).padStart(17, "0")}`,
	},
	{
		kind: "cluster",
		alive: "WAITING",
		ended: "TERMINATED",
		action: "terminate",
		async add(deps, world, id, values) {
			await addCluster(deps.db, { ...values, id, ownerId: world.alice.id, groupId: world.emrGroup.id });
		},
		launch: (deps, world) => addClusterLaunch(deps.db, world, { submittedAt: deps.clock() }),
		aws(shown) {
			const emr = (id: string, s: Shown): EmrCluster => ({
				id,
				name: "MLiySpark",
				state: s.state,
				createdAt: new Date("2025-03-01T11:00:00Z"),
				masterDns: `ip-${id}.ec2.internal`,
				availabilityZone: "us-east-1a",
				tags: s.tags ?? PORTAL_TAGS,
			});
			return {
				emr: {
					listClusters: ({ states }) =>
						Promise.resolve(
							[...shown].filter(([, s]) => !states || states.includes(s.state)).map(([id, s]) => ({
								id,
								name: "MLiySpark",
								state: s.state,
								tags: {},
							})),
						),
					describeCluster: (id) => Promise.resolve(shown.has(id) ? emr(id, shown.get(id)!) : undefined),
					listInstanceGroups: () =>
						Promise.resolve([
							{ role: "MASTER", instanceType: "m4.large", market: "ON_DEMAND", requested: 1, running: 1 },
							{ role: "CORE", instanceType: "m4.large", market: "ON_DEMAND", requested: 2, running: 2 },
						]),
					masterPrivateIp: (id) => Promise.resolve(shown.get(id)?.address),
					listSteps: () => Promise.resolve([]),
				},
				cloudFormation: { deleteStack: () => Promise.resolve() },
			};
		},
		ids: (n) => `j-${n.toString(16).padStart(12, "0").toUpperCase()}`,
	},
];

/** Deps whose AWS shows `shown`, with the Route 53 DNS plugin recording its calls. */
async function depsShowing(k: KindCase, shown: Map<string, Shown>): Promise<{ deps: TestDeps; aws: FakeAws }> {
	const overrides = k.aws(shown);
	const aws = fakeAws({
		...overrides,
		route53: {
			findHostedZone: () => Promise.resolve("Z1"),
			upsertARecord: () => Promise.resolve(),
			deleteARecord: () => Promise.resolve(),
		},
	});
	const deps = await createTestDeps({
		aws,
		settings: {
			DNS_PLUGIN: "plugins/dns_route53",
			PLUGIN_SETTINGS: { DOMAIN_NAME: "mliy.example.com", HOSTED_ZONE_ID: "Z1" },
		},
	});
	return { deps, aws };
}

async function rowOf(deps: TestDeps, k: KindCase, id: string): Promise<MachineRow> {
	return (await machineKind(k.kind).rows.get(deps, id))!;
}

for (const k of KINDS) {
	Deno.test(`${k.kind}: a second ${k.action} while one is in flight is refused with 409, and audited`, async () => {
		const id = k.ids(1);
		const { deps } = await depsShowing(k, new Map([[id, { state: k.alive }]]));
		await using _ = deps;
		const world = await seedClusterWorld(deps.db);
		await k.add(deps, world, id, { state: k.alive, stackId: "arn:stack" });
		const alice = toViewer(world.alice, [world.science.id, world.emrGroup.id], []);
		const act = () => controlMachine(deps, alice, { kind: k.kind, id, action: k.action });
		// Two clicks at once: the claim lets one through.
		const [first, second] = await Promise.allSettled([act(), act()]);
		const outcomes = [first, second].map((o) => o.status).sort();
		assert.deepEqual(outcomes, ["fulfilled", "rejected"], "exactly one of two simultaneous actions goes through");
		const refused = [first, second].find((o) => o.status === "rejected") as PromiseRejectedResult;
		assert.ok(refused.reason instanceof UserError);
		assert.equal(refused.reason.status, 409);
		assert.equal(refused.reason.message, `A ${k.action} is already in progress for this ${k.kind}`);
		const audit = await auditFor(deps.db, id, 10);
		assert.deepEqual(audit.map((e) => e.outcome).sort(), ["ok", "refused"]);
	});

	Deno.test(`${k.kind}: an action is claimed only from the states it starts from, and a stale one is forgotten`, async () => {
		await using deps = await createTestDeps();
		const world = await seedClusterWorld(deps.db);
		const [alive, ended] = [k.ids(1), k.ids(2)];
		await k.add(deps, world, alive, { state: k.alive });
		await k.add(deps, world, ended, { state: k.ended });
		const table = k.kind === "instance" ? instances : clusters;
		const now = deps.clock();
		const claim = (id: string, at: Date) =>
			claimAction(deps.db, table, {
				id,
				action: k.action,
				states: [k.alive],
				now: at,
				staleBefore: new Date(at.getTime() - 15 * 60_000),
			});
		assert.equal(await claim(ended, now), false, `not from ${k.ended}`);
		assert.equal(await claim(alive, now), true);
		assert.equal(await claim(alive, new Date(now.getTime() + 60_000)), false, "one in flight");
		assert.equal(await claim(alive, new Date(now.getTime() + 16 * 60_000)), true, "a stale one is forgotten");
	});

	Deno.test(`${k.kind}: a DNS record is published while alive with an address, moved to a new address, removed at the end`, async () => {
		const id = k.ids(1);
		const shown = new Map<string, Shown>([[id, { state: k.alive, address: "10.0.0.5" }]]);
		const { deps, aws } = await depsShowing(k, shown);
		await using _ = deps;
		const world = await seedClusterWorld(deps.db);
		await k.add(deps, world, id, { state: k.alive });
		const kind = machineKind(k.kind);
		const dnsCalls = () => aws.calls.filter((c) => c.startsWith("route53.") && !c.endsWith("findHostedZone"));

		await refreshMachines(deps, kind, [id]);
		let row = await rowOf(deps, k, id);
		assert.equal(row.dnsIp, "10.0.0.5");
		assert.equal(row.dnsName, `mliy-${id.slice(2).toLowerCase()}.mliy.example.com`);
		await refreshMachines(deps, kind, [id]);
		assert.deepEqual(dnsCalls(), ["route53.upsertARecord"], "an unchanged address is not published again");

		shown.set(id, { state: k.alive, address: "10.0.0.6" });
		await refreshMachines(deps, kind, [id]);
		assert.equal((await rowOf(deps, k, id)).dnsIp, "10.0.0.6", "moved");

		shown.set(id, { state: k.ended });
		await refreshMachines(deps, kind, [id]);
		row = await rowOf(deps, k, id);
		assert.equal(row.dnsIp, null, "removed at the end");
		assert.deepEqual(dnsCalls(), ["route53.upsertARecord", "route53.upsertARecord", "route53.deleteARecord"]);
	});

	Deno.test(`${k.kind}: a machine AWS no longer knows is vanished after its grace, billed until it was last seen`, async () => {
		const id = k.ids(1);
		const { deps } = await depsShowing(k, new Map());
		await using _ = deps;
		const world = await seedClusterWorld(deps.db);
		const started = new Date("2025-03-01T10:00:00Z");
		const lastSeen = new Date("2025-03-01T11:50:00Z");
		await k.add(deps, world, id, { state: k.alive, createdAt: started, lastSeenAt: lastSeen });
		await openBill(deps.db, {
			resourceKind: k.kind,
			resourceId: id,
			userId: world.alice.id,
			costCenter: "CC",
			description: k.kind,
			hourlyRate: 0.1,
			startedAt: started,
		});
		deps.clock.set("2025-03-01T11:55:00Z");
		assert.equal((await syncKind(deps, k.kind)).vanished, 0, "within the grace");
		assert.equal((await rowOf(deps, k, id)).state, k.alive);
		deps.clock.set("2025-03-01T12:30:00Z");
		assert.equal((await syncKind(deps, k.kind)).vanished, 1);
		assert.equal((await rowOf(deps, k, id)).state, "vanished");
		const [bill] = await billsOf(deps.db, id);
		assert.equal(bill!.endedAt?.toISOString(), lastSeen.toISOString());
		assert.equal((await auditFor(deps.db, id, 5))[0]?.action, "vanished");
	});

	Deno.test(`${k.kind}: an unknown one its launch's stack made is adopted for the launch's owner; one with only the portal's tags is nobody's`, async () => {
		const [launched, tagged, foreign] = [k.ids(1), k.ids(2), k.ids(3)];
		const shown = new Map<string, Shown>([
			[foreign, { state: k.alive, tags: { Name: "not ours" } }],
		]);
		const { deps, aws } = await depsShowing(k, shown);
		await using _ = deps;
		const world = await seedClusterWorld(deps.db);
		const launch = await k.launch(deps, world);
		// CloudFormation's own tags (which nobody can set by hand) name the launch's stack; the owner tag names someone else.
		shown.set(launched, {
			state: k.alive,
			address: "10.0.0.9",
			tags: { LaunchedBy: "MLIY", userid: "Erin", [LAUNCH_TAG]: launch.id, [STACK_ID_TAG]: launch.stackId! },
		});
		shown.set(tagged, { state: k.alive, tags: { LaunchedBy: "MLIY", userid: "Erin", Group: "sparkers" } });
		const result = await syncKind(deps, k.kind);
		assert.equal(result.adopted, 1);
		const row = await rowOf(deps, k, launched);
		assert.equal(row.ownerId, world.alice.id, "the launch's owner, not the tag's");
		assert.equal(row.launchId, launch.id);
		assert.equal(row.groupId, launch.groupId);
		assert.equal(row.state, k.alive);
		assert.equal((await auditFor(deps.db, launched, 5))[0]?.action, "launch", "recorded as its launch records it");
		assert.equal(await getUserByUsername(deps.db, "erin"), undefined, "no user is made from a tag");
		assert.equal(
			await machineKind(k.kind).rows.get(deps, tagged),
			undefined,
			"the portal's tags alone give it to nobody",
		);
		assert.equal((await getFound(deps.db, tagged))?.kind, k.kind, "kept as found, for the admins");
		assert.equal(await getFound(deps.db, launched), undefined);
		assert.equal(await machineKind(k.kind).rows.get(deps, foreign), undefined, "no portal tags");
		assert.equal(await getFound(deps.db, foreign), undefined);
		if (k.kind === "cluster") {
			// EMR's listing has no tags: an unknown cluster is described; a foreign one is not described again.
			const describes = () => aws.calls.filter((c) => c === "emr.describeCluster").length;
			const before = describes();
			await syncKind(deps, k.kind);
			assert.equal(describes() - before, 1, "only the found cluster, whose tags may still change, is described again");
		}
	});

	Deno.test(`${k.kind}: a steady sync of many machines reads and writes a fixed number of statements, after one listing`, async () => {
		const count = 200;
		const shown = new Map<string, Shown>();
		for (let i = 0; i < count; i++) shown.set(k.ids(i), { state: k.alive, address: `10.0.${i >> 8}.${i & 255}` });
		const { deps, aws } = await depsShowing(k, shown);
		await using _ = deps;
		const world = await seedClusterWorld(deps.db);
		for (const id of shown.keys()) await k.add(deps, world, id, { state: k.alive });
		deps.clock.set("2025-03-01T12:00:00Z");
		const first = await syncKind(deps, k.kind);
		assert.equal(first.seen, count);
		for (const id of [k.ids(0), k.ids(count - 1)]) {
			assert.equal((await billsOf(deps.db, id)).length, 1, `${id} is billed`);
		}

		let statements = 0;
		const client = deps.database.client;
		const execute = client.execute.bind(client);
		client.execute = ((...args: Parameters<typeof execute>) => {
			statements += 1;
			return execute(...args);
		}) as typeof client.execute;
		const calls = aws.calls.length;
		deps.clock.set("2025-03-01T12:10:00Z");
		const steady = await syncKind(deps, k.kind);
		client.execute = execute;
		assert.equal(steady.changed, 0);
		assert.ok(statements <= 10, `${statements} statements for a steady sync of ${count} ${k.kind}s`);
		const listing = aws.calls.slice(calls).filter((c) => !c.startsWith("route53."));
		assert.deepEqual(
			listing,
			[k.kind === "instance" ? "ec2.describeInstances" : "emr.listClusters"],
			"one listing, no details",
		);
		assert.equal((await rowOf(deps, k, k.ids(7))).lastSeenAt?.toISOString(), "2025-03-01T12:10:00.000Z");
	});
}

Deno.test("the EC2 instances of an EMR cluster carry the portal's tags but are the cluster's, not adopted as instances", async () => {
	const shown = new Map<string, Shown>([["i-0000000000000e001", {
		state: "running",
		tags: { ...PORTAL_TAGS, "aws:elasticmapreduce:job-flow-id": "j-ABCDEF" },
	}]]);
	const { deps } = await depsShowing(KINDS[0]!, shown);
	await using _ = deps;
	await seedClusterWorld(deps.db);
	assert.equal((await syncKind(deps, "instance")).adopted, 0);
	assert.equal(await machineKind("instance").rows.get(deps, "i-0000000000000e001"), undefined);
});
