/**
 * Ownership is the portal's record, never a tag: what someone with ec2:CreateTags (or EMR's
 * AddTags) in the account can and cannot do through the portal. A machine tagged for a user is not
 * that user's; re-tagging a user's machine moves nothing; tags copied from a real launch (its
 * signed proof included) give their copy to nobody; users are never created from a tag. Against
 * moto through the HTTP app where AWS is involved; the forged machines are made with RunInstances
 * and RunJobFlow directly, as an attacker would.
 */
import assert from "node:assert/strict";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import type { Ec2Instance } from "../lib/aws/types.ts";
import { toViewer } from "../lib/auth/identify.ts";
import { auditFor } from "../lib/db/audit.ts";
import { getCluster } from "../lib/db/clusters.ts";
import { getFound } from "../lib/db/found.ts";
import { getInstance, instancesOfLaunch } from "../lib/db/instances.ts";
import { getLaunch, updateLaunch } from "../lib/db/launches.ts";
import { getUserByUsername } from "../lib/db/users.ts";
import { requestLaunch } from "../lib/launch/request.ts";
import { LAUNCH_PROOF_TAG, LAUNCH_TAG } from "../lib/machines/tags.ts";
import { awsCallCount } from "../lib/metrics.ts";
import { syncAll, syncKind } from "../lib/sync/all.ts";
import { launchProof } from "../lib/tokens.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addLaunch, seedClusterWorld, seedWorld } from "./_helpers/world.ts";

/** The tags a portal instance carries that anyone may write (AWS refuses `aws:` keys to everyone but itself). */
const FORGED_TAGS = {
	LaunchedBy: "MLIY",
	userid: "alice",
	Owner: "Alice Ng",
	Group: "science",
	"Software Config": "Analyst",
	Name: "prod-database",
};

async function motoDeps(moto: Moto, settings: Record<string, unknown> = {}): Promise<TestDeps> {
	const subnet = await moto.subnet("us-east-1a");
	return await createTestDeps({
		awsEndpoint: moto.url,
		realClock: true,
		settings: { LAUNCH_SUBNET_ID: subnet, ...settings },
	});
}

/** An instance's state and tags as moto shows them. */
async function inMoto(moto: Moto, id: string): Promise<{ state: string; tags: Record<string, string> }> {
	const out = await moto.ec2().send(new DescribeInstancesCommand({ InstanceIds: [id] }));
	const instance = out.Reservations![0]!.Instances![0]!;
	return {
		state: instance.State!.Name!,
		tags: Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key!, t.Value!])),
	};
}

/** Alice's t2.micro launch through the portal, submitted to CloudFormation (which moto creates at once). */
async function aliceLaunch(deps: TestDeps) {
	const world = await seedWorld(deps.db);
	const viewer = toViewer(world.alice, [world.science.id], []);
	const { id } = await requestLaunch(deps, viewer, { groupId: world.science.id, configId: world.config.id }, {
		instanceType: "t2.micro",
	});
	await deps.background.idle();
	const [made] = await deps.aws.ec2.describeInstances({ filters: { [`tag:${LAUNCH_TAG}`]: [id] } });
	assert.ok(made, "the stack made an instance");
	return { world, launchId: id, made };
}

motoTest(
	"an instance tagged for a user is not theirs: not adopted, not on their pages, their terminate refused while it runs",
	async (moto) => {
		await using deps = await motoDeps(moto, { ADMIN_USERNAMES: ["breakglass"] });
		await seedWorld(deps.db);
		const [forged] = await moto.runInstances(1, FORGED_TAGS);
		const [rogue] = await moto.runInstances(1, { LaunchedBy: "MLIY", userid: "breakglass", Name: "miner" });
		await syncAll(deps);

		assert.equal(await getInstance(deps.db, forged!), undefined, "not adopted for the tagged user");
		assert.equal(await getInstance(deps.db, rogue!), undefined);
		assert.equal(
			await getUserByUsername(deps.db, "breakglass"),
			undefined,
			"no user made from a tag, the break-glass name included",
		);
		for (
			const [user, path] of [["alice", "/"], ["alice", "/dashboard/instances"], ["alice", "/team"], ["bob", "/team"], [
				"alice",
				"/billing",
			]]
		) {
			const res = await request(deps.app, path!, { user });
			assert.equal(res.status, 200, `${user} ${path}`);
			assert.doesNotMatch(await res.text(), new RegExp(forged!), `${path} of ${user} does not show it`);
		}
		assert.equal((await request(deps.app, `/instances/${forged}`, { user: "alice" })).status, 404);

		// The page views' background refreshes (DescribeInstances) are done: what follows is the POSTs' alone.
		await deps.background.idle();
		const before = await awsCallCount(deps.metrics);
		for (const action of ["terminate", "stop"]) {
			const res = await request(deps.app, `/ajax/instance/${forged}/${action}`, { user: "alice", form: {} });
			assert.ok([403, 404].includes(res.status), `${action}: ${res.status}`);
		}
		await deps.background.idle();
		assert.equal(await awsCallCount(deps.metrics), before, "nothing was sent to AWS");
		assert.equal((await inMoto(moto, forged!)).state, "running");
		assert.equal(
			(await auditFor(deps.db, forged!))[0]?.outcome,
			"refused",
			"the sync's refusal to adopt it is audited",
		);
		assert.equal((await getFound(deps.db, forged!))?.tags.userid, "alice", "kept for the admins with its tags");
	},
);

motoTest(
	"re-tagging a user's instance for someone else moves nothing: owner, pages and controls stay the portal's record",
	async (moto) => {
		await using deps = await motoDeps(moto);
		const { launchId, made } = await aliceLaunch(deps);
		await tick(deps);
		assert.equal((await getLaunch(deps.db, launchId))!.status, "complete");
		const alice = (await getUserByUsername(deps.db, "alice"))!;
		assert.equal((await getInstance(deps.db, made.id))!.ownerId, alice.id);

		await moto.tagInstance(made.id, { userid: "olga", Owner: "Olga Ivanova", Group: "ops", "Software Config": "x" });
		await moto.tagInstance(made.id, { userid: "newcomer" });
		await syncAll(deps);
		// Olga opens her dashboard: its refresh lists what is tagged for her, and still changes no owner.
		const olgaHome = await request(deps.app, "/", { user: "olga" });
		await deps.background.idle();
		assert.doesNotMatch(await olgaHome.text(), new RegExp(made.id));
		assert.equal((await getInstance(deps.db, made.id))!.ownerId, alice.id);
		assert.equal(await getUserByUsername(deps.db, "newcomer"), undefined);
		assert.equal((await request(deps.app, `/instances/${made.id}`, { user: "olga" })).status, 403);
		const stop = await request(deps.app, `/ajax/instance/${made.id}/terminate`, { user: "olga", form: {} });
		assert.equal(stop.status, 403);
		assert.equal((await inMoto(moto, made.id)).state, "running");
		assert.match(await (await request(deps.app, "/", { user: "alice" })).text(), new RegExp(made.id));
	},
);

motoTest("a copy of a real launch's tags, its signed proof included, gives the copy to nobody", async (moto) => {
	await using deps = await motoDeps(moto);
	const { world, launchId, made } = await aliceLaunch(deps);
	const tags = (await inMoto(moto, made.id)).tags;
	assert.equal(tags[LAUNCH_PROOF_TAG], await launchProof(deps.secret, launchId), "the portal signed its launch");
	// What AWS lets anyone copy: every tag but CloudFormation's own `aws:` ones.
	const copyable = Object.fromEntries(Object.entries(tags).filter(([key]) => !key.startsWith("aws:")));

	// While the launch is still being followed, before the launcher records its instance.
	const [early] = await moto.runInstances(1, copyable);
	assert.equal((await syncKind(deps, "instance")).adopted, 1);
	assert.equal((await getInstance(deps.db, made.id))?.launchId, launchId, "the stack's own instance is the launch's");
	assert.equal(await getInstance(deps.db, early!), undefined, "its copy is nobody's");
	assert.match((await getFound(deps.db, early!))!.reason, new RegExp(`launch ${launchId}`));

	// After the launch completed, even with CloudFormation's tags copied too (moto allows what AWS refuses).
	await tick(deps);
	assert.equal((await getLaunch(deps.db, launchId))!.status, "complete");
	const [late] = await moto.runInstances(1, tags);
	await syncAll(deps);
	assert.equal(await getInstance(deps.db, late!), undefined);
	assert.match(
		(await getFound(deps.db, late!))!.reason,
		new RegExp(`launch ${launchId} already has its instance, ${made.id}`),
	);
	assert.deepEqual(
		(await instancesOfLaunch(deps.db, launchId)).map((i) => i.id),
		[made.id],
		"one launch, one instance",
	);
	assert.equal((await getInstance(deps.db, made.id))!.ownerId, world.alice.id);
});

Deno.test("the portal's signature proves a launch still in flight, and only for that launch", async () => {
	const shown: Ec2Instance[] = [];
	const aws = fakeAws({
		ec2: {
			describeInstances: ({ filters }) => {
				const ids = filters?.["instance-id"];
				return Promise.resolve(shown.filter((i) => !ids || ids.includes(i.id)));
			},
			describeVolumes: () => Promise.resolve([]),
		},
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	const launch = (status: "creating" | "failed") =>
		addLaunch(deps.db, { userId: world.alice.id, groupId: world.science.id, configId: world.config.id, status });
	const [inFlight, failed, other] = [await launch("creating"), await launch("failed"), await launch("creating")];
	const instance = async (id: string, launchId: string, signedFor: string): Promise<void> => {
		shown.push({
			id,
			state: "running",
			type: "t2.micro",
			imageId: "ami-1",
			tags: {
				LaunchedBy: "MLIY",
				[LAUNCH_TAG]: launchId,
				[LAUNCH_PROOF_TAG]: await launchProof(deps.secret, signedFor),
			},
		});
	};
	await instance("i-00000000000000001", inFlight.id, inFlight.id);
	await instance("i-00000000000000002", failed.id, failed.id);
	await instance("i-00000000000000003", other.id, inFlight.id);
	assert.equal((await syncKind(deps, "instance")).adopted, 1);
	assert.equal((await getInstance(deps.db, "i-00000000000000001"))?.launchId, inFlight.id);
	assert.equal(
		await getInstance(deps.db, "i-00000000000000002"),
		undefined,
		"a finished launch is proven only by its stack",
	);
	assert.equal(
		await getInstance(deps.db, "i-00000000000000003"),
		undefined,
		"another launch's signature proves nothing",
	);
	// The launcher keeps a launch in flight until it records what it made: once it has, a late copy is refused.
	await updateLaunch(deps.db, inFlight.id, "creating", { status: "complete" });
	await instance("i-00000000000000004", inFlight.id, inFlight.id);
	await syncKind(deps, "instance");
	assert.equal(await getInstance(deps.db, "i-00000000000000004"), undefined);
});

motoTest(
	"the admin page lists a forged instance; adopting it for an existing user is confirmed and audited, then it is theirs to control",
	async (moto) => {
		await using deps = await motoDeps(moto);
		const world = await seedWorld(deps.db);
		const [forged] = await moto.runInstances(1, FORGED_TAGS);
		await syncAll(deps);

		const list = await request(deps.app, "/admin/found", { user: "ada" });
		assert.equal(list.status, 200);
		const html = await list.text();
		for (
			const shown of [forged!, "t2.micro", "running", "prod-database", "userid", "$0.0116/h", "it has no launch-id tag"]
		) {
			assert.ok(html.includes(shown), `the list shows ${shown}`);
		}
		assert.equal((await request(deps.app, "/admin/found", { user: "alice" })).status, 403);
		assert.equal((await request(deps.app, `/admin/found/${forged}`, { user: "ada" })).status, 200);

		const adopt = (form: Record<string, string>, user = "ada") =>
			request(deps.app, `/admin/found/${forged}/adopt`, { user, form });
		assert.equal((await adopt({ username: "olga", confirm: "on" }, "alice")).status, 403, "admins only");
		const unknown = await adopt({ username: "nobody", confirm: "on" });
		assert.equal(unknown.status, 422, "the user must already exist");
		assert.match(await unknown.text(), /No user nobody/);
		assert.equal(await getUserByUsername(deps.db, "nobody"), undefined);
		assert.equal((await adopt({ username: "olga" })).status, 422, "not without the confirmation");
		assert.equal(await getInstance(deps.db, forged!), undefined);

		const done = await adopt({ username: "Olga", groupId: String(world.ops.id), confirm: "on" });
		assert.equal(done.status, 303, await done.clone().text());
		const row = (await getInstance(deps.db, forged!))!;
		assert.equal(row.ownerId, world.olga.id);
		assert.equal(row.groupId, world.ops.id);
		assert.equal(row.state, "running");
		assert.equal(row.stackId, null, "never tied to a stack the portal did not make");
		const [audit] = await auditFor(deps.db, forged!);
		assert.deepEqual([audit?.action, audit?.actor, audit?.outcome], ["adopt", "ada", "ok"]);
		assert.match(audit!.detail, /adopted for olga in ops/);
		assert.equal(await getFound(deps.db, forged!), undefined);
		assert.doesNotMatch(await (await request(deps.app, "/admin/found", { user: "ada" })).text(), new RegExp(forged!));

		// An ordinary machine of Olga's: on her dashboard, hers to end (the instance itself: there is no stack).
		assert.match(await (await request(deps.app, "/", { user: "olga" })).text(), new RegExp(forged!));
		assert.doesNotMatch(await (await request(deps.app, "/", { user: "alice" })).text(), new RegExp(forged!));
		const terminate = await request(deps.app, `/ajax/instance/${forged}/terminate`, { user: "olga", form: {} });
		assert.equal(terminate.status, 200, await terminate.clone().text());
		assert.equal((await inMoto(moto, forged!)).state, "terminated");
		assert.equal(await awsCallCount(deps.metrics, "DeleteStack"), 0);
		assert.equal((await adopt({ username: "olga", confirm: "on" })).status, 404, "adopted once");
	},
);

motoTest("the same rule for EMR clusters: a forged cluster is nobody's until an admin adopts it", async (moto) => {
	await using deps = await motoDeps(moto);
	const world = await seedClusterWorld(deps.db);
	const forged = await moto.runJobFlow({
		LaunchedBy: "MLIY",
		"Launched By": "MLiy",
		userid: "alice",
		Creator: "alice",
		UserGroup: "sparkers",
		Name: "warehouse-etl",
	});
	await syncAll(deps);
	assert.equal(await getCluster(deps.db, forged), undefined, "not adopted for the tagged user");
	assert.doesNotMatch(await (await request(deps.app, "/", { user: "alice" })).text(), new RegExp(forged));
	assert.equal((await request(deps.app, `/clusters/${forged}`, { user: "alice" })).status, 404);
	// The page views' background refreshes (DescribeInstances) are done: what follows is the POSTs' alone.
	await deps.background.idle();
	const before = await awsCallCount(deps.metrics);
	const refused = await request(deps.app, `/ajax/cluster/${forged}/terminate`, { user: "alice", form: {} });
	assert.ok([403, 404].includes(refused.status), String(refused.status));
	await deps.background.idle();
	assert.equal(await awsCallCount(deps.metrics), before, "nothing was sent to AWS");
	assert.equal((await deps.aws.emr.describeCluster(forged))?.state, "WAITING");

	const list = await (await request(deps.app, "/admin/found", { user: "ada" })).text();
	for (const shown of [forged, "cluster", "warehouse-etl", "WAITING", "ON DEMAND m4.large × 3"]) {
		assert.ok(list.includes(shown), `the list shows ${shown}`);
	}
	const done = await request(deps.app, `/admin/found/${forged}/adopt`, {
		user: "ada",
		form: { username: "alice", groupId: String(world.emrGroup.id), confirm: "on" },
	});
	assert.equal(done.status, 303, await done.clone().text());
	const row = (await getCluster(deps.db, forged))!;
	assert.equal(row.ownerId, world.alice.id);
	assert.equal(row.stackId, null);
	assert.deepEqual([(await auditFor(deps.db, forged))[0]?.action, (await auditFor(deps.db, forged))[0]?.actor], [
		"adopt",
		"ada",
	]);
	assert.equal((await request(deps.app, `/clusters/${forged}`, { user: "alice" })).status, 200);
	const terminate = await request(deps.app, `/ajax/cluster/${forged}/terminate`, { user: "alice", form: {} });
	assert.equal(terminate.status, 200, await terminate.clone().text());
	assert.match((await deps.aws.emr.describeCluster(forged))!.state, /^TERMINAT/);
});
