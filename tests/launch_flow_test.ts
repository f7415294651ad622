/**
 * The whole instance path through the HTTP app against moto: launch → poller records instance and
 * volume → stack complete → progress calls move the bar → stop/start/restart → terminate → stack
 * gone, bills closed, the DNS record created then removed in Route 53.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { auditFor } from "../lib/db/audit.ts";
import { billsOf } from "../lib/db/bills.ts";
import { getInstance, instancesOfLaunch } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { instances, volumes } from "../lib/db/schema.ts";
import { requestLaunch } from "../lib/launch/request.ts";
import { progressToken } from "../lib/tokens.ts";
import { toViewer } from "../lib/auth/identify.ts";
import { syncKind } from "../lib/sync/all.ts";
import { tick } from "./_helpers/tick.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { seedWorld } from "./_helpers/world.ts";

async function launchAs(
	deps: TestDeps,
	user: string,
	groupId: number,
	configId: number,
	form: Record<string, string | string[]>,
) {
	const res = await request(deps.app, `/launch/${groupId}/${configId}`, { user, form: { intent: "launch", ...form } });
	assert.equal(res.status, 303, await res.clone().text());
	const location = res.headers.get("Location")!;
	assert.match(location, /^\/launches\/[0-9a-f-]{36}$/);
	return location.slice("/launches/".length);
}

motoTest("an instance goes from launch to terminate through the app, with bills and DNS following", async (moto) => {
	const subnet = await moto.subnet("us-east-1a");
	const zoneId = await moto.createHostedZone("mliy.test");
	await using deps = await createTestDeps({
		awsEndpoint: moto.url,
		realClock: true,
		settings: {
			LAUNCH_SUBNET_ID: subnet,
			DNS_PLUGIN: "plugins/dns_route53",
			PLUGIN_SETTINGS: { DOMAIN_NAME: "mliy.test" },
		},
	});
	const world = await seedWorld(deps.db);

	// Launch through the form; the kick submits the stack right away.
	const launchId = await launchAs(deps, "alice", world.science.id, world.config.id, {
		instanceType: "t2.micro",
		securityGroups: [world.sgOptional.sgId],
	});
	await deps.background.idle();
	let launch = (await getLaunch(deps.db, launchId))!;
	assert.equal(launch.status, "creating", launch.reason ?? "");
	assert.ok(launch.stackId?.startsWith("arn:aws:cloudformation:"));

	// The next poller run records instance and volume and completes the launch.
	await tick(deps);
	launch = (await getLaunch(deps.db, launchId))!;
	assert.equal(launch.status, "complete");
	const [instance] = await instancesOfLaunch(deps.db, launchId);
	assert.ok(instance, "the instance is recorded");
	assert.equal(instance.state, "running");
	assert.ok(instance.privateIp);
	assert.equal(instance.dnsName, `mliy-${instance.id.slice(2)}.mliy.test`);
	const volume = (await deps.db.select().from(volumes).where(eq(volumes.launchId, launchId)))[0];
	assert.ok(volume, "the volume is recorded");
	assert.equal(volume.instanceId, instance.id);
	assert.equal(volume.state, "in-use");
	const records = await moto.listRecords(zoneId);
	assert.deepEqual(
		records.filter((r) => r.type === "A").map((r) => [r.name, r.values]),
		[[`${instance.dnsName}.`, [instance.privateIp]]],
	);
	assert.equal((await billsOf(deps.db, instance.id)).length, 1);
	assert.equal((await billsOf(deps.db, volume.id)).length, 1);

	// The dashboard shows the instance with its progress bar at 0%.
	let page = await (await request(deps.app, "/", { user: "alice" })).text();
	assert.match(page, new RegExp(`data-instance="${instance.id}"`));
	assert.match(page, /aria-valuenow="0"/);

	// Progress calls with the launch's token (as the bootstrap sends them) move the bar.
	const token = await progressToken(deps.secret, launchId);
	let res = await request(deps.app, `/ajax/progress/${instance.id}/installing_base_packages(40)`, {
		from: "203.0.113.50",
		headers: { "X-MLiy-Progress-Token": token },
	});
	assert.equal(res.status, 200);
	assert.deepEqual(await res.json(), { action: "installing base packages", status: "ok" });
	await deps.reports.flush();
	page = await (await request(deps.app, `/instances/${instance.id}/row`, { user: "alice", htmx: true })).text();
	assert.match(page, /aria-valuenow="40"/);
	assert.match(page, /installing base packages/);
	// A script without the token is accepted from the instance's own address.
	res = await request(deps.app, `/ajax/progress/${instance.id}/configuring_base_packages(60)`, {
		from: instance.privateIp!,
	});
	assert.equal(res.status, 200);
	res = await request(deps.app, `/ajax/progress/${instance.id}/done(100)`, {
		headers: { "X-MLiy-Progress-Token": token },
	});
	assert.equal(res.status, 200);
	page = await (await request(deps.app, `/instances/${instance.id}/row`, { user: "alice", htmx: true })).text();
	assert.doesNotMatch(page, /role="progressbar"/, "done(100) ends the progress bar");

	// Stop, start, restart.
	res = await request(deps.app, `/ajax/instance/${instance.id}/stop?view=dashboard`, {
		user: "alice",
		htmx: true,
		form: {},
	});
	assert.equal(res.status, 200);
	assert.match(await res.text(), /data-state="stopping"/);
	assert.equal(
		(await billsOf(deps.db, instance.id)).filter((b) => b.endedAt === null).length,
		0,
		"stop closes the bill",
	);
	await syncKind(deps, "instance");
	assert.equal((await getInstance(deps.db, instance.id))!.state, "stopped");

	res = await request(deps.app, `/ajax/instance/${instance.id}/start`, { user: "alice", form: {} });
	assert.equal(res.status, 200);
	assert.equal((await res.json()).status, "ok");
	await syncKind(deps, "instance");
	assert.equal((await getInstance(deps.db, instance.id))!.state, "running");
	assert.equal((await billsOf(deps.db, instance.id)).length, 2, "start opens a second period");

	res = await request(deps.app, `/ajax/instance/${instance.id}/restart`, { user: "alice", form: {} });
	assert.equal(res.status, 200);
	res = await request(deps.app, `/ajax/instance/${instance.id}/restart`, { user: "alice", form: {} });
	assert.equal(res.status, 409, "a second restart while one is in flight is refused");

	// Terminate (which overrules the restart in flight) deletes the stack, closes the bill and removes the DNS record.
	res = await request(deps.app, `/ajax/instance/${instance.id}/terminate`, { user: "alice", form: {} });
	assert.equal(res.status, 200, await res.clone().text());
	const stack = await deps.aws.cloudFormation.describeStack(launch.stackId!);
	assert.equal(stack?.status, "DELETE_COMPLETE");
	assert.equal((await billsOf(deps.db, instance.id)).filter((b) => b.endedAt === null).length, 0);
	assert.equal((await moto.listRecords(zoneId)).filter((r) => r.type === "A").length, 0);
	await syncKind(deps, "instance");
	assert.equal((await getInstance(deps.db, instance.id))!.state, "terminated");
	await deps.background.idle();
});

motoTest("a launch in progress finishes after a restart (a new app on the same database)", async (moto) => {
	const subnet = await moto.subnet("us-east-1b");
	await using first = await createTestDeps({
		awsEndpoint: moto.url,
		realClock: true,
		settings: { LAUNCH_SUBNET_ID: subnet, LAUNCH_AVAILABILITY_ZONE: "us-east-1b" },
	});
	const world = await seedWorld(first.db);
	// The launch is recorded, then the process dies before its wake-up reaches the launcher.
	first.wakeLauncher = () => {};
	const viewer = toViewer(world.alice, [world.science.id], []);
	const { id: launchId } = await requestLaunch(
		first,
		viewer,
		{ groupId: world.science.id, configId: world.config.id },
		{
			instanceType: "m4.large",
		},
	);
	assert.equal((await getLaunch(first.db, launchId))!.status, "queued");

	await using second = await createTestDeps({
		awsEndpoint: moto.url,
		realClock: true,
		settings: {
			DATABASE_URL: first.settings.DATABASE_URL,
			LAUNCH_SUBNET_ID: subnet,
			LAUNCH_AVAILABILITY_ZONE: "us-east-1b",
		},
	});
	await tick(second);
	await tick(second);
	const launch = (await getLaunch(second.db, launchId))!;
	assert.equal(launch.status, "complete", launch.reason ?? "");
	const [instance] = await instancesOfLaunch(second.db, launchId);
	assert.equal(instance?.instanceType, "m4.large");
	const stacks = await second.aws.cloudFormation.describeStack(launch.stackName);
	assert.equal(stacks?.stackId, launch.stackId, "exactly one stack was created for the launch");
});

/** Test deps against moto, launching into a subnet of us-east-1a, on the real clock. */
async function motoDeps(moto: Moto): Promise<TestDeps> {
	const subnet = await moto.subnet("us-east-1a");
	return await createTestDeps({ awsEndpoint: moto.url, realClock: true, settings: { LAUNCH_SUBNET_ID: subnet } });
}

/** Alice's t2.micro launch, its stack submitted to CloudFormation (which moto is creating) by the wake-up. */
async function submittedLaunch(deps: TestDeps) {
	const world = await seedWorld(deps.db);
	const viewer = toViewer(world.alice, [world.science.id], []);
	const { id: launchId } = await requestLaunch(deps, viewer, { groupId: world.science.id, configId: world.config.id }, {
		instanceType: "t2.micro",
	});
	await deps.background.idle();
	return { world, launchId };
}

motoTest(
	"an instance the sync lists before the launcher records it keeps its launch: progress token and launch page work",
	async (moto) => {
		await using deps = await motoDeps(moto);
		const { world, launchId } = await submittedLaunch(deps);
		assert.equal((await getLaunch(deps.db, launchId))!.status, "creating");

		// A sync (the job, or Alice opening her dashboard) lists the stack's instance first.
		assert.equal((await syncKind(deps, "instance")).adopted, 1);
		let [instance] = await instancesOfLaunch(deps.db, launchId);
		assert.ok(instance, "the adopted instance belongs to its launch");
		assert.equal(instance.ownerId, world.alice.id);
		assert.equal(instance.configId, world.config.id);
		assert.equal(instance.progressPercent, 0, "the configuration's progress bar starts");
		// Recorded as the portal's own launch, not as something the sync found: the launch's audit, once.
		assert.deepEqual(
			(await auditFor(deps.db, instance.id, 5)).map((e) => [e.actor, e.action, e.detail]),
			[["launcher", "launch", `created by stack ${(await getLaunch(deps.db, launchId))!.stackName}`]],
		);

		await tick(deps);
		assert.equal((await getLaunch(deps.db, launchId))!.status, "complete");
		[instance] = await instancesOfLaunch(deps.db, launchId);
		const res = await request(deps.app, `/ajax/progress/${instance!.id}/installing_base_packages(40)`, {
			from: "203.0.113.50",
			headers: { "X-MLiy-Progress-Token": await progressToken(deps.secret, launchId) },
		});
		assert.equal(res.status, 200, await res.clone().text());
		await deps.reports.flush();
		assert.equal((await getInstance(deps.db, instance!.id))!.progressPercent, 40);
		const page = await (await request(deps.app, `/launches/${launchId}`, { user: "alice" })).text();
		assert.match(page, new RegExp(instance!.id));
		assert.equal((await auditFor(deps.db, instance!.id, 5)).filter((e) => e.action === "launch").length, 1);
	},
);

motoTest("an instance the sync adopted without a launch is linked when the launcher records it", async (moto) => {
	await using deps = await motoDeps(moto);
	const { world, launchId } = await submittedLaunch(deps);
	const [seen] = await deps.aws.ec2.describeInstances({ filters: { "tag:mliy:launch-id": [launchId] } });
	assert.ok(seen);
	// As an older portal (or a sync that could not read the launch) adopted it: no launch.
	await deps.db.insert(instances).values({ id: seen.id, ownerId: world.alice.id, instanceType: "t2.micro" });
	await tick(deps);
	const [instance] = await instancesOfLaunch(deps.db, launchId);
	assert.equal(instance?.id, seen.id, "the launcher linked the row to its launch");
	assert.equal(instance.stackName, (await getLaunch(deps.db, launchId))!.stackName);
	const res = await request(deps.app, `/ajax/progress/${seen.id}/installing_base_packages(40)`, {
		from: "203.0.113.50",
		headers: { "X-MLiy-Progress-Token": await progressToken(deps.secret, launchId) },
	});
	assert.equal(res.status, 200, await res.clone().text());
});
