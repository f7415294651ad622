/**
 * The launcher, for every kind of machine, with a stubbed AWS for what moto cannot produce: failed
 * and rolled-back stacks with their reason, a stack that never finishes, throttled and refused
 * CreateStack calls, a retried CreateStack after a crash, a portal that cannot read its subnet;
 * and the claims that keep two processes off one launch.
 */
import assert from "node:assert/strict";
import type { InStatement } from "@libsql/client";
import { AwsError } from "../lib/errors.ts";
import { claimLaunch, getLaunch, type Launch, releaseLaunch, renewLaunchClaim } from "../lib/db/launches.ts";
import { instancesOfLaunch } from "../lib/db/instances.ts";
import { clustersOfLaunch } from "../lib/db/clusters.ts";
import { failureReason } from "../lib/launch/stacks.ts";
import type { StackEvent } from "../lib/aws/types.ts";
import { fakeAws, stack, STACK_ID } from "./_fakes/aws.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import {
	addClusterLaunch,
	addLaunch,
	addSecurityGroup,
	attachSecurityGroup,
	seedClusterWorld,
	seedWorld,
} from "./_helpers/world.ts";
import { tick } from "./_helpers/tick.ts";

/** What a launch of one kind is, for the rules every kind shares. */
interface KindCase {
	kind: "instance" | "cluster";
	/** Alice's launch of the kind: queued unless `values` say otherwise. */
	launch(deps: TestDeps, values?: Partial<Launch>): Promise<Launch>;
	/** How CloudFormation reports the kind's main resource failing, and how the launch then reads. */
	failure: StackEvent;
	reason: string;
}

const KINDS: KindCase[] = [
	{
		kind: "instance",
		async launch(deps, values = {}) {
			const world = await seedWorld(deps.db);
			return await addLaunch(deps.db, {
				userId: world.alice.id,
				groupId: world.science.id,
				configId: world.config.id,
				...values,
			});
		},
		failure: {
			logicalId: "Instance",
			type: "AWS::EC2::Instance",
			status: "CREATE_FAILED",
			reason: "The key pair 'analyst-key' does not exist",
			timestamp: new Date(1),
		},
		reason: "Instance (AWS::EC2::Instance): The key pair 'analyst-key' does not exist",
	},
	{
		kind: "cluster",
		async launch(deps, values = {}) {
			const world = await seedClusterWorld(deps.db);
			return await addClusterLaunch(deps.db, world, {
				status: "queued",
				stackId: null,
				...values,
				submittedAt: values.submittedAt ?? deps.clock(),
			});
		},
		failure: {
			logicalId: "Cluster",
			type: "AWS::EMR::Cluster",
			status: "CREATE_FAILED",
			reason: "EMR_DefaultRole is invalid",
			timestamp: new Date(1),
		},
		reason: "Cluster (AWS::EMR::Cluster): EMR_DefaultRole is invalid",
	},
];

/** The launch of a kind whose stack CloudFormation is creating (STACK_ID), submitted now. */
function creating(deps: TestDeps, kind: KindCase): Promise<Launch> {
	return kind.launch(deps, { status: "creating", stackId: STACK_ID, submittedAt: deps.clock() });
}

async function launchOf(deps: TestDeps, launch: Launch): Promise<Launch> {
	return (await getLaunch(deps.db, launch.id))!;
}

for (const k of KINDS) {
	Deno.test(`${k.kind}: a CREATE_FAILED stack fails the launch with the first resource failure from the events`, async () => {
		const events: StackEvent[] = [
			{
				logicalId: "s",
				type: "AWS::CloudFormation::Stack",
				status: "CREATE_FAILED",
				reason: `The following resource(s) failed to create: [${k.failure.logicalId}]`,
				timestamp: new Date(3),
			},
			{
				logicalId: "Volume",
				type: "AWS::EC2::Volume",
				status: "CREATE_FAILED",
				reason: "Resource creation cancelled",
				timestamp: new Date(2),
			},
			k.failure,
		];
		const aws = fakeAws({
			cloudFormation: {
				createStack: () => Promise.resolve({ stackId: STACK_ID }),
				describeStack: () => Promise.resolve(stack("CREATE_FAILED")),
				listStackResources: () => Promise.resolve([]),
				describeStackEvents: () => Promise.resolve(events),
			},
		});
		await using deps = await createTestDeps({ aws });
		const launch = await k.launch(deps);
		await tick(deps);
		assert.equal((await launchOf(deps, launch)).status, "creating");
		await tick(deps);
		const failed = await launchOf(deps, launch);
		assert.equal(failed.status, "failed");
		assert.equal(failed.reason, k.reason);
		const page = await (await request(deps.app, `/launches/${launch.id}`, { user: "alice" })).text();
		assert.match(page, /The launch failed\./);
		assert.ok(
			page.includes(k.reason),
			"the reason is on the launch page as text (an apostrophe needs no escaping there)",
		);
		assert.doesNotMatch(page, /hx-trigger="every 2s"/, "a failed launch stops polling");
	});

	Deno.test(`${k.kind}: a rolled-back stack fails the launch with its reason and is deleted`, async () => {
		const aws = fakeAws({
			cloudFormation: {
				describeStack: () =>
					Promise.resolve(stack("ROLLBACK_COMPLETE", { statusReason: "Resource creation was cancelled" })),
				listStackResources: () => Promise.resolve([]),
				describeStackEvents: () => Promise.resolve([k.failure]),
				deleteStack: () => Promise.resolve(),
			},
		});
		await using deps = await createTestDeps({ aws });
		const launch = await creating(deps, k);
		await tick(deps);
		const failed = await launchOf(deps, launch);
		assert.equal(failed.status, "failed");
		assert.equal(failed.reason, k.reason, "the events' failure, not the stack's own reason");
		assert.ok(aws.calls.includes("cloudFormation.deleteStack"), "the rolled-back stack is deleted");
	});

	Deno.test(`${k.kind}: a stack still rolling back keeps its launch until the rollback completes, then fails it and deletes the stack`, async () => {
		let status = "ROLLBACK_IN_PROGRESS";
		const aws = fakeAws({
			cloudFormation: {
				describeStack: () => Promise.resolve(stack(status)),
				listStackResources: () => Promise.resolve([]),
				describeStackEvents: () => Promise.resolve([k.failure]),
				deleteStack: () => Promise.resolve(),
			},
		});
		await using deps = await createTestDeps({ aws });
		const launch = await creating(deps, k);
		await tick(deps);
		const rolling = await launchOf(deps, launch);
		assert.equal(rolling.status, "creating", "followed until the rollback completes");
		assert.equal(rolling.step, `Failed; CloudFormation is rolling the stack back: ${k.reason}`);
		assert.ok(!aws.calls.includes("cloudFormation.deleteStack"), "a stack cannot be deleted while it rolls back");

		status = "ROLLBACK_COMPLETE";
		deps.clock.advance(60_000);
		await tick(deps);
		const failed = await launchOf(deps, launch);
		assert.equal(failed.status, "failed");
		assert.equal(failed.reason, k.reason);
		assert.ok(aws.calls.includes("cloudFormation.deleteStack"), "the rolled-back stack is deleted");
	});

	Deno.test(`${k.kind}: a rollback still running at LAUNCH_TIMEOUT_MINUTES fails the launch with the failure's reason`, async () => {
		const aws = fakeAws({
			cloudFormation: {
				describeStack: () =>
					Promise.resolve(stack("ROLLBACK_IN_PROGRESS", { statusReason: "Resource creation was cancelled" })),
				listStackResources: () => Promise.resolve([]),
				describeStackEvents: () => Promise.resolve([]),
			},
		});
		await using deps = await createTestDeps({ aws, settings: { LAUNCH_TIMEOUT_MINUTES: 30 } });
		const launch = await creating(deps, k);
		deps.clock.advance(31 * 60_000);
		await tick(deps);
		const failed = await launchOf(deps, launch);
		assert.equal(failed.status, "failed");
		assert.match(failed.reason!, /^Resource creation was cancelled \(CloudFormation was still rolling the stack back/);
	});

	Deno.test(`${k.kind}: a stack that stays in progress fails the launch after LAUNCH_TIMEOUT_MINUTES`, async () => {
		const aws = fakeAws({
			cloudFormation: {
				createStack: () => Promise.resolve({ stackId: STACK_ID }),
				describeStack: () => Promise.resolve(stack("CREATE_IN_PROGRESS")),
				listStackResources: () =>
					Promise.resolve([{ logicalId: "Main", type: k.failure.type, status: "CREATE_IN_PROGRESS" }]),
			},
		});
		await using deps = await createTestDeps({ aws, settings: { LAUNCH_TIMEOUT_MINUTES: 30 } });
		const launch = await k.launch(deps);
		await tick(deps);
		deps.clock.advance(29 * 60_000);
		await tick(deps);
		assert.equal((await launchOf(deps, launch)).status, "creating", "still waiting before the timeout");
		deps.clock.advance(2 * 60_000);
		await tick(deps);
		const failed = await launchOf(deps, launch);
		assert.equal(failed.status, "failed");
		assert.match(failed.reason!, /Gave up after 30 minutes: the stack was still CREATE_IN_PROGRESS/);
	});

	Deno.test(`${k.kind}: a throttled CreateStack leaves the launch queued for the next run, which submits it`, async () => {
		let attempts = 0;
		const aws = fakeAws({
			cloudFormation: {
				createStack: () => {
					attempts += 1;
					if (attempts === 1) {
						return Promise.reject(new AwsError("CreateStack", "throttled", "CreateStack: Rate exceeded"));
					}
					return Promise.resolve({ stackId: STACK_ID });
				},
			},
		});
		await using deps = await createTestDeps({ aws });
		const launch = await k.launch(deps);
		await tick(deps);
		const waiting = await launchOf(deps, launch);
		assert.equal(waiting.status, "queued");
		assert.match(waiting.step, /throttling/);
		assert.equal(waiting.attempts, 1);
		await tick(deps);
		assert.equal((await launchOf(deps, launch)).status, "creating");
	});

	Deno.test(`${k.kind}: a CreateStack that AWS refuses fails the launch with AWS's message`, async () => {
		const aws = fakeAws({
			cloudFormation: {
				createStack: () =>
					Promise.reject(
						new AwsError("CreateStack", "invalid", "CreateStack: Parameters: [Bogus] do not exist in the template", {
							code: "ValidationError",
						}),
					),
			},
		});
		await using deps = await createTestDeps({ aws });
		const launch = await k.launch(deps);
		await tick(deps);
		const failed = await launchOf(deps, launch);
		assert.equal(failed.status, "failed");
		assert.equal(failed.reason, "CloudFormation refused the stack: Parameters: [Bogus] do not exist in the template");
	});

	Deno.test(`${k.kind}: a CreateStack retried after a crash takes over the stack the first attempt created`, async () => {
		const aws = fakeAws({
			cloudFormation: {
				createStack: () =>
					Promise.reject(
						new AwsError("CreateStack", "invalid", "CreateStack: Stack already exists", {
							code: "AlreadyExistsException",
						}),
					),
				describeStack: () => Promise.resolve(stack("CREATE_IN_PROGRESS")),
			},
		});
		await using deps = await createTestDeps({ aws });
		const launch = await k.launch(deps);
		await tick(deps);
		const taken = await launchOf(deps, launch);
		assert.equal(taken.status, "creating");
		assert.equal(taken.stackId, STACK_ID);
	});

	Deno.test(`${k.kind}: a launch without a known subnet waits with advice instead of calling AWS, and fails at the timeout`, async () => {
		const aws = fakeAws();
		await using deps = await createTestDeps({
			aws,
			settings: { LAUNCH_SUBNET_ID: undefined, LAUNCH_AVAILABILITY_ZONE: undefined, LAUNCH_TIMEOUT_MINUTES: 30 },
		});
		const launch = await k.launch(deps, { createdAt: deps.clock(), submittedAt: deps.clock() });
		await tick(deps);
		const waiting = await launchOf(deps, launch);
		assert.equal(waiting.status, "queued");
		assert.match(waiting.step, /set LAUNCH_SUBNET_ID and LAUNCH_AVAILABILITY_ZONE/);
		deps.clock.advance(31 * 60_000);
		await tick(deps);
		const failed = await launchOf(deps, launch);
		assert.equal(failed.status, "failed");
		assert.match(failed.reason!, /Gave up after 30 minutes: .*set LAUNCH_SUBNET_ID and LAUNCH_AVAILABILITY_ZONE/);
		assert.ok(!aws.calls.includes("cloudFormation.createStack"));
	});

	Deno.test(`${k.kind}: instance metadata that does not answer once leaves the launch queued; the next run submits it`, async () => {
		let answers = false;
		const aws = fakeAws({
			placement: () =>
				Promise.resolve(answers ? { subnetId: "subnet-0aaaaaaaaaaaaaaaa", availabilityZone: "us-east-1c" } : undefined),
			cloudFormation: { createStack: () => Promise.resolve({ stackId: STACK_ID }) },
		});
		await using deps = await createTestDeps({
			aws,
			settings: { LAUNCH_SUBNET_ID: undefined, LAUNCH_AVAILABILITY_ZONE: undefined },
		});
		const launch = await k.launch(deps);
		await tick(deps);
		assert.equal((await launchOf(deps, launch)).status, "queued");
		answers = true;
		deps.clock.advance(60_000);
		await tick(deps);
		assert.equal((await launchOf(deps, launch)).status, "creating");
	});
}

Deno.test("failureReason() falls back to the stack's reason and then its status", () => {
	assert.equal(failureReason(stack("ROLLBACK_COMPLETE", { statusReason: "because" }), []), "because");
	assert.equal(failureReason(stack("DELETE_COMPLETE"), []), "CloudFormation reported DELETE_COMPLETE");
});

Deno.test("the stored security groups (the group's defaults with the chosen ones) are sent as they are", async () => {
	let sent: Record<string, string> = {};
	const aws = fakeAws({
		cloudFormation: {
			createStack: (input) => {
				sent = input.parameters;
				return Promise.resolve({ stackId: STACK_ID });
			},
		},
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		options: { securityGroupIds: [world.sgOptional.sgId] },
	});
	// Defaults changed after the request: the launch keeps what was checked when it was requested.
	await attachSecurityGroup(
		deps.db,
		world.science.id,
		(await addSecurityGroup(deps.db, "sg-0000000000000000c")).id,
		"default",
	);
	await tick(deps);
	assert.equal((await launchOf(deps, launch)).status, "creating");
	assert.equal(sent.SecurityGroupIds, world.sgOptional.sgId);
});

Deno.test("a process releases only its own claim, not the one another process took after it lapsed", async () => {
	await using deps = await createTestDeps();
	const launch = await KINDS[0]!.launch(deps);
	const at = (minutes: number) => new Date(deps.clock().getTime() + minutes * 60_000);
	assert.ok(await claimLaunch(deps.db, launch.id, "A", at(0), at(2)), "A claims");
	assert.equal(await claimLaunch(deps.db, launch.id, "B", at(1), at(3)), undefined, "B waits while A's claim holds");
	assert.ok(await claimLaunch(deps.db, launch.id, "B", at(3), at(5)), "A's claim lapsed: B claims");
	assert.equal(await renewLaunchClaim(deps.db, launch.id, "A", at(6)), false, "A learns it lost the launch");
	await releaseLaunch(deps.db, launch.id, "A"); // A's slow step ends
	assert.equal(await claimLaunch(deps.db, launch.id, "C", at(4), at(6)), undefined, "B still holds the launch");
	await releaseLaunch(deps.db, launch.id, "B");
	assert.ok(await claimLaunch(deps.db, launch.id, "C", at(4), at(6)), "B released it");
});

Deno.test("a step that outlasts its claim keeps it: its holder renews the claim while it works", async () => {
	let stolen: unknown = "not tried";
	const deps: TestDeps = await createTestDeps({
		settings: { LEASE_SECONDS: 2 },
		aws: fakeAws({
			cloudFormation: {
				describeStack: async () => {
					// A slow step: AWS answers ten minutes later, and the holder's heartbeat beat meanwhile.
					deps.clock.advance(10 * 60_000);
					await new Promise((resolve) => setTimeout(resolve, 1200));
					const now = deps.clock();
					stolen = await claimLaunch(deps.db, launchId, "another process", now, new Date(now.getTime() + 2000));
					return stack("CREATE_IN_PROGRESS");
				},
				listStackResources: () => Promise.resolve([]),
			},
		}),
	});
	await using _ = deps;
	const launch = await creating(deps, KINDS[0]!);
	const launchId = launch.id;
	await tick(deps);
	assert.equal(stolen, undefined, "another process could not claim the launch during the slow step");
	const after = await launchOf(deps, launch);
	assert.deepEqual([after.claimedBy, after.claimedUntil], [null, null], "released after the step");
});

Deno.test("a launch's instances and clusters are found through an index, not a scan of every row", async () => {
	await using deps = await createTestDeps();
	const client = deps.database.client;
	const execute = client.execute.bind(client);
	const statements: InStatement[] = [];
	client.execute = ((statement: InStatement) => {
		statements.push(statement);
		return execute(statement);
	}) as typeof client.execute;
	await instancesOfLaunch(deps.db, "launch-1");
	await clustersOfLaunch(deps.db, "launch-1");
	client.execute = execute;
	assert.equal(statements.length, 2);
	for (const [i, index] of ["instances_launch_idx", "clusters_launch_idx"].entries()) {
		const statement = statements[i]!;
		const plan = typeof statement === "string"
			? await execute(`EXPLAIN QUERY PLAN ${statement}`)
			: await execute({ ...statement, sql: `EXPLAIN QUERY PLAN ${statement.sql}` } as InStatement);
		const detail = plan.rows.map((row) => String(row.detail)).join("; ");
		assert.match(detail, new RegExp(`USING INDEX ${index}`), detail);
	}
});
