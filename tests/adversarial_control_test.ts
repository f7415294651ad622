/**
 * A terminate whose AWS call times out may well have happened. The user is told it was sent and is
 * being confirmed (202), the machine stays in flight, the portal asks AWS shortly after (settling
 * it, or releasing it for another try), and otherwise the sync confirms it when it sees the end.
 * The audit record is written before the AWS call and completed after it.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import type { Aws, Ec2Instance } from "../lib/aws/types.ts";
import { billsOf, openBill } from "../lib/db/bills.ts";
import { getCluster } from "../lib/db/clusters.ts";
import { getInstance } from "../lib/db/instances.ts";
import { auditEvents } from "../lib/db/schema.ts";
import { AwsError } from "../lib/errors.ts";
import { machineKind } from "../lib/machines/kinds.ts";
import { refreshMachines } from "../lib/sync/observe.ts";
import { ACTIONS_ACCEPTED, type AwsOverrides, emrCluster, fakeAws, inTurn, stack, STACK_ID } from "./_fakes/aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addCluster, addInstance, seedClusterWorld, seedWorld } from "./_helpers/world.ts";

const ID = "i-0123456789abcdef0";
const SENT = /The terminate request was sent to AWS, which did not answer in time\. The portal is confirming it/;
const timeout = (operation: string) => Promise.reject(new AwsError(operation, "timeout", `${operation}: timed out`));

async function withInstance(overrides: AwsOverrides) {
	const aws = fakeAws({
		...ACTIONS_ACCEPTED,
		...overrides,
		cloudFormation: { ...ACTIONS_ACCEPTED.cloudFormation, ...overrides.cloudFormation },
	});
	const deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, {
		id: ID,
		ownerId: world.alice.id,
		groupId: world.science.id,
		state: "running",
		stackId: STACK_ID,
		stackName: "s",
		startedAt: new Date("2025-03-01T10:00:00Z"),
	});
	// A bill open since the start, as the sync keeps it for a running instance.
	await openBill(deps.db, {
		resourceKind: "instance",
		resourceId: ID,
		userId: world.alice.id,
		groupId: world.science.id,
		costCenter: "CC",
		description: "t2.micro",
		hourlyRate: 0.0116,
		startedAt: new Date("2025-03-01T10:00:00Z"),
	});
	return { aws, deps, world };
}

async function auditOf(deps: Awaited<ReturnType<typeof createTestDeps>>, id: string) {
	return (await deps.db.select().from(auditEvents).where(eq(auditEvents.resourceId, id))).map((e) => [
		e.action,
		e.outcome,
		e.detail,
	]);
}

Deno.test("terminate, AWS times out but did it: 202 'sent, confirming', then confirmed, billed until it was asked, audited once", async () => {
	const { deps } = await withInstance({
		cloudFormation: {
			deleteStack: () => timeout("DeleteStack"),
			describeStack: () => Promise.resolve(stack("DELETE_IN_PROGRESS")),
		},
	});
	await using _ = deps;
	const asked = deps.clock();
	for (const htmx of [true, false]) {
		if (!htmx) {
			// The JSON caller, on a second instance in the same situation.
			await addInstance(deps.db, {
				id: "i-0123456789abcdef1",
				ownerId: (await getInstance(deps.db, ID))!.ownerId,
				stackId: STACK_ID,
			});
		}
		const id = htmx ? ID : "i-0123456789abcdef1";
		const res = await request(deps.app, `/ajax/instance/${id}/terminate${htmx ? "?view=dashboard" : ""}`, {
			user: "alice",
			form: {},
			htmx,
		});
		assert.equal(res.status, 202, `htmx ${htmx}`);
		if (htmx) assert.match(await res.text(), SENT);
		else {
			const body = await res.json();
			assert.equal(body.status, "sent");
			assert.match(body.message, SENT);
			assert.equal(body.pendingAction, "terminate");
		}
		const row = (await getInstance(deps.db, id))!;
		assert.equal(row.pendingAction, "terminate", "in flight until confirmed");
		assert.equal(row.state, "running", "nothing settled before AWS says so");
		assert.deepEqual(await auditOf(deps, id), [[
			"terminate",
			"sent",
			"AWS did not answer in time; it may have been carried out: confirming",
		]]);
	}
	deps.clock.advance(5_000);
	await deps.background.idle();
	const row = (await getInstance(deps.db, ID))!;
	assert.equal(row.state, "shutting-down");
	const [bill] = await billsOf(deps.db, ID);
	assert.equal(bill!.endedAt?.toISOString(), asked.toISOString(), "billed until the terminate was asked for");
	assert.deepEqual(await auditOf(deps, ID), [[
		"terminate",
		"ok",
		"confirmed after AWS did not answer in time; deleting stack s",
	]]);
});

Deno.test("terminate, AWS times out and did not do it: released for another try, audited as an error", async () => {
	const { deps } = await withInstance({
		cloudFormation: {
			// The first call times out before AWS got it; the second is answered.
			deleteStack: inTurn<Aws["cloudFormation"]["deleteStack"]>(
				new AwsError("DeleteStack", "timeout", "timed out"),
				undefined,
			),
			describeStack: () => Promise.resolve(stack("CREATE_COMPLETE")),
		},
	});
	await using _ = deps;
	const res = await request(deps.app, `/ajax/instance/${ID}/terminate`, { user: "alice", form: {} });
	assert.equal(res.status, 202);
	await res.body?.cancel();
	await deps.background.idle();
	const row = (await getInstance(deps.db, ID))!;
	assert.deepEqual([row.state, row.pendingAction], ["running", null]);
	assert.deepEqual(await auditOf(deps, ID), [[
		"terminate",
		"error",
		"AWS did not answer in time and did not carry it out; it may be asked again",
	]]);
	assert.equal((await billsOf(deps.db, ID))[0]!.endedAt, null, "still billed: it runs");
	// The user tries again; AWS answers this time.
	const again = await request(deps.app, `/ajax/instance/${ID}/terminate`, { user: "alice", form: {} });
	assert.equal(again.status, 200);
	await again.body?.cancel();
	assert.equal((await getInstance(deps.db, ID))!.state, "shutting-down");
	assert.deepEqual((await auditOf(deps, ID)).map(([a, o]) => [a, o]), [["terminate", "error"], ["terminate", "ok"]]);
});

Deno.test("terminate, AWS times out and cannot be asked: the sync confirms it when it sees the instance end", async () => {
	let listed: Ec2Instance[] = [];
	const { deps } = await withInstance({
		cloudFormation: { deleteStack: () => timeout("DeleteStack"), describeStack: () => timeout("DescribeStacks") },
		ec2: { ...ACTIONS_ACCEPTED.ec2, describeInstances: () => Promise.resolve(listed) },
	});
	await using _ = deps;
	const res = await request(deps.app, `/ajax/instance/${ID}/terminate`, { user: "alice", form: {} });
	assert.equal(res.status, 202);
	await res.body?.cancel();
	await deps.background.idle();
	let row = (await getInstance(deps.db, ID))!;
	assert.deepEqual([row.state, row.pendingAction], ["running", "terminate"], "still in flight: nobody knows");
	assert.deepEqual(await auditOf(deps, ID), [[
		"terminate",
		"sent",
		"AWS did not answer in time and cannot be asked now; the sync confirms it",
	]]);
	// Another terminate is refused meanwhile (the first may be running in AWS).
	const twice = await request(deps.app, `/ajax/instance/${ID}/terminate`, { user: "alice", form: {} });
	assert.equal(twice.status, 409);
	await twice.body?.cancel();
	// The sync sees it terminated: the action is done, the bill closed.
	deps.clock.advance(60_000);
	listed = [{ id: ID, state: "terminated", type: "t2.micro", imageId: "ami-1", tags: { LaunchedBy: "MLIY" } }];
	await refreshMachines(deps, machineKind("instance"), [ID]);
	row = (await getInstance(deps.db, ID))!;
	assert.deepEqual([row.state, row.pendingAction], ["terminated", null]);
	assert.notEqual((await billsOf(deps.db, ID))[0]!.endedAt, null);
});

Deno.test("the audit record is written before the AWS call: it is there while the call hangs", async () => {
	const aws = fakeAws(ACTIONS_ACCEPTED);
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: ID, ownerId: world.alice.id, groupId: world.science.id, state: "running" });
	aws.outage("hang", /stopInstances/);
	const answer = request(deps.app, `/ajax/instance/${ID}/stop`, { user: "alice", form: {} });
	for (let i = 0; i < 100 && (await auditOf(deps, ID)).length === 0; i++) {
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
	assert.deepEqual(await auditOf(deps, ID), [["stop", "sent", "asking AWS to stop"]], "recorded while AWS is asked");
	aws.outage(undefined);
	// A stop's call that times out is an ordinary failure: released, audited as an error.
	const res = await answer;
	assert.equal(res.status, 503);
	await res.body?.cancel();
	assert.deepEqual((await auditOf(deps, ID)).map(([a, o]) => [a, o]), [["stop", "error"]]);
	assert.equal((await getInstance(deps.db, ID))!.pendingAction, null);
});

Deno.test("a cluster terminate that times out is confirmed the same way", async () => {
	const aws = fakeAws({
		cloudFormation: { deleteStack: () => timeout("DeleteStack"), describeStack: () => Promise.resolve(undefined) },
		emr: { describeCluster: () => Promise.resolve(emrCluster("TERMINATING")) },
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedClusterWorld(deps.db);
	await addCluster(deps.db, {
		ownerId: world.alice.id,
		groupId: world.emrGroup.id,
		configId: world.spark.id,
		stackId: STACK_ID,
	});
	const res = await request(deps.app, "/ajax/cluster/j-ABCDEF/terminate", { user: "alice", form: {}, htmx: true });
	assert.equal(res.status, 202);
	assert.match(await res.text(), /The terminate request was sent to AWS.*this cluster shows the outcome in a moment/);
	assert.equal((await getCluster(deps.db, "j-ABCDEF"))!.pendingAction, "terminate");
	await deps.background.idle();
	const cluster = (await getCluster(deps.db, "j-ABCDEF"))!;
	assert.equal(cluster.state, "TERMINATING");
	assert.deepEqual((await auditOf(deps, "j-ABCDEF")).map(([a, o]) => [a, o]), [["terminate", "ok"]]);
});
