/**
 * The machine policies end to end, through the HTTP app against moto with a controlled clock: the
 * instance reports its activity to the endpoint (or CloudWatch has its CPU, or EMR its steps), the
 * enforcer's job runs as its cron would, and moto's machines are really stopped, started and
 * terminated. Notices go to a real SMTP server and a webhook listener on loopback.
 */
import assert from "node:assert/strict";
import { StopInstancesCommand } from "@aws-sdk/client-ec2";
import { auditFor } from "../lib/db/audit.ts";
import { getCluster } from "../lib/db/clusters.ts";
import { getInstance } from "../lib/db/instances.ts";
import { openPolicyActions } from "../lib/db/policies.ts";
import { updateUserProfile } from "../lib/db/users.ts";
import { policyActions } from "../lib/db/schema.ts";
import { runJob } from "../lib/jobs.ts";
import { enforcePolicies } from "../lib/policy/enforcer.ts";
import { syncAll } from "../lib/sync/all.ts";
import { enforcePoliciesJob } from "../jobs/enforce_policies.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import {
	enforce,
	extendLinkIn,
	postJson,
	report,
	setPolicy,
	smtpServer,
	webhookListener,
} from "./_helpers/policies.ts";
import { request } from "./_helpers/http.ts";
import { addCluster, addLaunchedInstance, addMember, seedClusterWorld, seedWorld } from "./_helpers/world.ts";

const TOKEN = "the-launch-token";
const MINUTE = 60_000;

/** Alice's instance in science (a real one in moto), running since the clock's now, under the group's policy. */
async function instanceUnder(
	deps: TestDeps,
	moto: Moto,
	policy: Record<string, unknown>,
	extra: { webhook?: string; state?: "running" | "stopped"; tags?: Record<string, string> } = {},
) {
	const world = await seedWorld(deps.db);
	await updateUserProfile(deps.db, world.alice, { email: "alice@example.com" });
	await setPolicy(deps.db, { group: world.science.id }, policy, { noticeWebhook: extra.webhook ?? "" });
	const [id] = await moto.runInstances(1, { LaunchedBy: "MLIY", userid: "alice", ...extra.tags });
	if (extra.state === "stopped") await moto.ec2().send(new StopInstancesCommand({ InstanceIds: [id!] }));
	const now = deps.clock();
	await addLaunchedInstance(deps.db, world, TOKEN, {
		id: id!,
		groupId: world.science.id,
		configId: world.config.id,
		state: extra.state ?? "running",
		launchedAt: now,
		startedAt: now,
		stoppedAt: extra.state === "stopped" ? now : null,
		lastSeenAt: now,
	});
	return { world, id: id! };
}

/** The state moto shows for the instance. */
async function awsState(deps: TestDeps, id: string): Promise<string | undefined> {
	return (await deps.aws.ec2.describeInstances({ filters: { "instance-id": [id] } }))[0]?.state;
}

async function actionsOf(deps: TestDeps, id: string) {
	return (await deps.db.select().from(policyActions)).filter((a) => a.machineId === id);
}

/** Moves the clock by `minutes`, reporting `values` every 5 minutes and running the enforcer after each report. */
async function minutesPass(deps: TestDeps, id: string, minutes: number, values: Record<string, unknown> = { cpu: 1 }) {
	for (let m = 0; m < minutes; m += 5) {
		deps.clock.advance(5 * MINUTE);
		await report(deps, id, TOKEN, values);
		await enforce(deps);
	}
}

motoTest(
	"idle: no activity for 30 minutes gives the notice at its lead time (email and webhook with the extend link), then the stop, audited as idle",
	async (moto) => {
		const smtp = await smtpServer();
		const hook = webhookListener();
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			settings: { SMTP_HOST: "127.0.0.1", SMTP_PORT: smtp.port, PUBLIC_URL: "https://mliy.example.com" },
		});
		try {
			const { id } = await instanceUnder(deps, moto, { idleMinutes: 30, idleNoticeMinutes: 10 }, { webhook: hook.url });
			await syncAll(deps); // the sync bills it while it runs
			await report(deps, id, TOKEN, { cpu: 2, gpu: null, kernels: 0, sessions: 0, network: 100 });
			await enforce(deps);
			await minutesPass(deps, id, 15);
			assert.deepEqual(await actionsOf(deps, id), [], "no notice before its lead time");
			assert.equal(smtp.messages.length, 0);

			await minutesPass(deps, id, 5); // 20 minutes idle: the notice, 10 minutes ahead
			const [notice] = await actionsOf(deps, id);
			assert.equal(notice?.status, "noticed");
			assert.equal(notice.reason, "idle");
			assert.equal(notice.action, "stop");
			assert.equal(notice.actAt.toISOString(), "2025-03-01T12:30:00.000Z");
			assert.equal(smtp.messages.length, 1, "one email");
			const [mail] = smtp.messages;
			assert.deepEqual(mail!.to, ["alice@example.com"]);
			assert.match(mail!.subject, new RegExp(`${id} will be stopped at 2025-03-01 12:30 UTC`));
			assert.match(mail!.text, /idle policy: no activity above the thresholds since 2025-03-01 12:00 UTC/);
			const mailLink = extendLinkIn(mail!.text);
			assert.ok(mailLink, `the email carries the extend link: ${mail!.text}`);
			assert.equal(hook.posts.length, 1, "one webhook post");
			assert.match(hook.posts[0]!.text, new RegExp(`Instance ${id}.* will be stopped`));
			assert.ok(extendLinkIn(hook.posts[0]!.text), "the webhook carries the extend link");

			await minutesPass(deps, id, 5);
			assert.equal(await awsState(deps, id), "running", "not before the deadline");
			assert.equal(smtp.messages.length, 1, "the notice is sent once");

			await minutesPass(deps, id, 5); // 12:30
			assert.equal(await awsState(deps, id), "stopped");
			assert.equal((await getInstance(deps.db, id))!.state, "stopped");
			const stop = (await auditFor(deps.db, id)).find((e) => e.action === "stop");
			assert.equal(stop?.actor, "policy");
			assert.equal(stop.actorId, null, "the actor is the policy, not a user");
			assert.equal(stop.reason, "idle");
			assert.equal(stop.outcome, "ok");
			assert.match(stop.detail, /^idle: no activity above the thresholds/);
			const [done] = await actionsOf(deps, id);
			assert.equal(done?.status, "done");
			assert.equal(done.hourlyRate, 0.0116, "the rate billing stopped at (t2.micro), for the savings");
			assert.equal(smtp.messages.length, 2);
			assert.match(smtp.messages[1]!.subject, new RegExp(`${id} was stopped`));
			assert.match(smtp.messages[1]!.text, /was stopped at 2025-03-01 12:30 UTC by its idle policy/);
			assert.equal(hook.posts.length, 2, "and the webhook is told what was done");
			await minutesPass(deps, id, 10);
			assert.equal((await auditFor(deps.db, id)).filter((e) => e.action === "stop").length, 1, "stopped once");
		} finally {
			await smtp.close();
			await hook.close();
		}
	},
);

motoTest(
	"idle: activity above a threshold keeps the instance running; a keep-alive until a time keeps it running until then",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url });
		const { id } = await instanceUnder(deps, moto, { idleMinutes: 30, idleNoticeMinutes: 10, idleCpuPercent: 20 });
		// Each signal alone counts as activity.
		for (const busy of [{ cpu: 35 }, { cpu: 0, gpu: 50 }, { cpu: 0, kernels: 1 }, { cpu: 0, sessions: 1 }]) {
			await minutesPass(deps, id, 25, busy);
		}
		assert.deepEqual(await actionsOf(deps, id), [], "100 minutes of activity: no notice");
		assert.equal(await awsState(deps, id), "running");

		// 13:40 now: kept alive until 15:00 (TIME_ZONE is UTC), the instance idles from then on.
		const kept = await postJson(deps.app, `/ajax/activity/${id}/keepalive`, { until: "15:00" }, TOKEN);
		assert.equal(kept.status, 200);
		assert.deepEqual(await kept.json(), {
			status: "ok",
			until: "2025-03-01T15:00:00.000Z",
			message: "kept running until 2025-03-01 15:00 UTC",
		});
		await minutesPass(deps, id, 95); // 15:15
		assert.deepEqual(await actionsOf(deps, id), [], "no notice while kept alive, nor before its lead after it");
		await minutesPass(deps, id, 5); // 15:20
		assert.equal((await actionsOf(deps, id))[0]?.actAt.toISOString(), "2025-03-01T15:30:00.000Z");
		await minutesPass(deps, id, 10);
		assert.equal(await awsState(deps, id), "stopped", "stopped 30 idle minutes after the keep-alive ended");
	},
);

motoTest("idle: a notice whose machine is used again is cancelled and nothing is stopped", async (moto) => {
	await using deps = await createTestDeps({ awsEndpoint: moto.url });
	const { id } = await instanceUnder(deps, moto, { idleMinutes: 30, idleNoticeMinutes: 10 });
	await minutesPass(deps, id, 20);
	assert.equal((await actionsOf(deps, id))[0]?.status, "noticed");
	await minutesPass(deps, id, 5, { cpu: 80 });
	assert.equal((await actionsOf(deps, id))[0]?.status, "cancelled", "re-evaluated, not acted on blindly");
	await minutesPass(deps, id, 10);
	assert.equal(await awsState(deps, id), "running");
});

motoTest(
	"the extend link postpones once: its page changes nothing, another user, a forged signature and a second use are refused",
	async (moto) => {
		const smtp = await smtpServer();
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			settings: { SMTP_HOST: "127.0.0.1", SMTP_PORT: smtp.port, PUBLIC_URL: "https://mliy.example.com" },
		});
		try {
			const { id } = await instanceUnder(deps, moto, {
				idleMinutes: 30,
				idleNoticeMinutes: 10,
				maxPostponeMinutes: 120,
			});
			await minutesPass(deps, id, 20);
			const link = extendLinkIn(smtp.messages[0]!.text)!;
			// Reading the page (twice, as a mail scanner might) postpones nothing.
			for (let i = 0; i < 2; i++) {
				const page = await request(deps.app, link, { user: "alice" });
				assert.equal(page.status, 200);
				const html = await page.text();
				assert.match(html, /will be stopped at 2025-03-01 12:30 UTC/);
				assert.match(html, /<option value="60">1 hour<\/option>/);
				assert.doesNotMatch(html, /value="240"/, "nothing beyond the policy's longest postponement");
			}
			assert.equal((await actionsOf(deps, id))[0]?.status, "noticed");

			assert.equal(
				(await request(deps.app, link, { user: "bob", form: { minutes: "60" } })).status,
				403,
				"another user",
			);
			assert.equal((await request(deps.app, link, { user: "bob" })).status, 403);
			const forged = link.replace(/.$/, (c) => c === "A" ? "B" : "A");
			assert.equal((await request(deps.app, forged, { user: "alice", form: { minutes: "60" } })).status, 403, "forged");
			const retargeted = link.replace(/\/extend\/(\d+)\./, (_, n) => `/extend/${Number(n) + 1}.`);
			assert.equal((await request(deps.app, retargeted, { user: "alice" })).status, 403, "altered");
			assert.equal((await request(deps.app, link, { user: "alice", form: { minutes: "61" } })).status, 422);
			assert.equal(
				(await request(deps.app, link, { user: "alice", form: { minutes: "60" }, csrf: false })).status,
				403,
				"CSRF applies",
			);

			const used = await request(deps.app, link, { user: "alice", form: { minutes: "60" } });
			assert.equal(used.status, 303);
			assert.equal(used.headers.get("Location"), `/instances/${id}`);
			assert.equal((await request(deps.app, link, { user: "alice", form: { minutes: "60" } })).status, 409, "once");
			assert.match(await (await request(deps.app, link, { user: "alice" })).text(), /already used/);
			const postpone = (await auditFor(deps.db, id)).find((e) => e.action === "postpone");
			assert.equal(postpone?.actor, "alice");

			await minutesPass(deps, id, 10); // 12:30: the old deadline
			assert.equal(await awsState(deps, id), "running", "postponed");
			await minutesPass(deps, id, 50); // 13:20: the new notice, 10 minutes before 13:30
			const open = await openPolicyActions(deps.db);
			assert.equal(open[0]?.actAt.toISOString(), "2025-03-01T13:30:00.000Z");
			await minutesPass(deps, id, 10);
			assert.equal(await awsState(deps, id), "stopped", "stopped at the postponed time");
		} finally {
			await smtp.close();
		}
	},
);

motoTest(
	"working hours: a weekday schedule stops at the end and starts at the beginning, and leaves the weekend alone",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url, settings: { TIME_ZONE: "Europe/Paris" } });
		deps.clock.set("2025-03-07T06:00:00Z"); // Friday 07:00 in Paris
		const { id } = await instanceUnder(deps, moto, {
			workDays: ["mon", "tue", "wed", "thu", "fri"],
			workStart: "08:00",
			workEnd: "19:00",
			workAutoStart: true,
			scheduleNoticeMinutes: 15,
		});
		const at = async (iso: string) => {
			deps.clock.set(iso);
			await enforce(deps);
		};
		await at("2025-03-07T17:40:00Z"); // 18:40
		assert.deepEqual(await actionsOf(deps, id), []);
		await at("2025-03-07T17:45:00Z");
		assert.equal((await actionsOf(deps, id))[0]?.detail, "working hours end at 2025-03-07 19:00 GMT+1");
		await at("2025-03-07T18:00:00Z"); // 19:00 on Friday
		assert.equal(await awsState(deps, id), "stopped");
		assert.equal((await auditFor(deps.db, id)).find((e) => e.action === "stop")?.reason, "schedule");
		for (const weekend of ["2025-03-08T07:00:00Z", "2025-03-08T18:00:00Z", "2025-03-09T07:00:00Z"]) await at(weekend);
		assert.equal(await awsState(deps, id), "stopped", "the weekend is left alone");
		await at("2025-03-10T06:55:00Z"); // Monday 07:55
		assert.equal(await awsState(deps, id), "stopped");
		await at("2025-03-10T07:00:00Z"); // Monday 08:00
		assert.equal(await awsState(deps, id), "running", "started when working hours begin");
		const start = (await auditFor(deps.db, id)).find((e) => e.action === "start");
		assert.equal(start?.actor, "policy");
		assert.equal(start.reason, "schedule");
		await at("2025-03-10T18:00:00Z"); // Monday 19:00: the notice was given at 18:45? no tick then: given now, 15 minutes ahead
		assert.equal(await awsState(deps, id), "running", "a late notice still gives its whole lead time");
		await at("2025-03-10T18:15:00Z");
		assert.equal(await awsState(deps, id), "stopped");
	},
);

motoTest(
	"lifetime and dormancy terminate after their notices; managers of the group are told of a termination",
	async (moto) => {
		const smtp = await smtpServer();
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			settings: { SMTP_HOST: "127.0.0.1", SMTP_PORT: smtp.port },
		});
		try {
			const { world, id } = await instanceUnder(deps, moto, { lifetimeHours: 2, lifetimeNoticeMinutes: 30 });
			await updateUserProfile(deps.db, world.mia, { email: "mia@example.com" });
			await addMember(deps.db, world.mia.id, world.science.id);
			deps.clock.advance(89 * MINUTE);
			await enforce(deps);
			assert.deepEqual(await actionsOf(deps, id), []);
			deps.clock.advance(MINUTE); // 13:30
			await enforce(deps);
			assert.equal((await actionsOf(deps, id))[0]?.action, "terminate");
			assert.deepEqual(smtp.messages.map((m) => m.to[0]).sort(), ["alice@example.com", "mia@example.com"]);
			deps.clock.advance(30 * MINUTE);
			await enforce(deps);
			assert.equal(await awsState(deps, id), "terminated");
			assert.equal((await auditFor(deps.db, id)).find((e) => e.action === "terminate")?.reason, "lifetime");

			// Dormancy: a machine stopped for a day is terminated, its notice an hour before.
			const [stoppedId] = await moto.runInstances(1, { LaunchedBy: "MLIY", userid: "alice" });
			await moto.ec2().send(new StopInstancesCommand({ InstanceIds: [stoppedId!] }));
			await setPolicy(deps.db, { group: world.science.id }, { dormancyDays: 1, dormancyNoticeMinutes: 60 });
			const now = deps.clock();
			await addLaunchedInstance(deps.db, world, "another-token", {
				id: stoppedId!,
				groupId: world.science.id,
				configId: world.config.id,
				state: "stopped",
				launchedAt: now,
				startedAt: now,
				stoppedAt: now,
			});
			deps.clock.advance(22 * 60 * MINUTE);
			await enforce(deps);
			assert.deepEqual(await actionsOf(deps, stoppedId!), []);
			deps.clock.advance(60 * MINUTE);
			await enforce(deps);
			assert.equal((await actionsOf(deps, stoppedId!))[0]?.reason, "dormancy");
			deps.clock.advance(60 * MINUTE);
			await enforce(deps);
			assert.equal(await awsState(deps, stoppedId!), "terminated");
			assert.equal((await auditFor(deps.db, stoppedId!)).find((e) => e.action === "terminate")?.reason, "dormancy");
		} finally {
			await smtp.close();
		}
	},
);

motoTest("a cluster's idle policy (no running steps in EMR) terminates it after its notice", async (moto) => {
	await using deps = await createTestDeps({ awsEndpoint: moto.url });
	const world = await seedClusterWorld(deps.db);
	await setPolicy(deps.db, { group: world.emrGroup.id }, { idleMinutes: 30, idleNoticeMinutes: 10 });
	const clusterId = await moto.runJobFlow({ Name: "MLiySpark", LaunchedBy: "MLIY" });
	await addCluster(deps.db, {
		id: clusterId,
		ownerId: world.alice.id,
		groupId: world.emrGroup.id,
		configId: world.spark.id,
		state: "WAITING",
		startedAt: deps.clock(),
		lastSeenAt: deps.clock(),
	});
	for (let m = 0; m < 20; m += 5) {
		deps.clock.advance(5 * MINUTE);
		await syncAll(deps);
		await enforce(deps);
	}
	const [notice] = await actionsOf(deps, clusterId!);
	assert.equal(notice?.action, "terminate", "a cluster cannot be stopped: its idle policy terminates it");
	assert.equal(notice.actAt.toISOString(), "2025-03-01T12:30:00.000Z");
	for (let m = 0; m < 10; m += 5) {
		deps.clock.advance(5 * MINUTE);
		await syncAll(deps);
		await enforce(deps);
	}
	assert.match((await deps.aws.emr.describeCluster(clusterId!))!.state, /^TERMINAT/);
	assert.match((await getCluster(deps.db, clusterId!))!.state, /^TERMINAT/);
	const terminate = (await auditFor(deps.db, clusterId!)).find((e) => e.action === "terminate");
	assert.equal(terminate?.reason, "idle");
	assert.equal(terminate.actor, "policy");
});

motoTest(
	"CloudWatch: an instance that does not report is judged by its CPUUtilization, fetched by the sync",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url });
		const { world, id: quiet } = await instanceUnder(deps, moto, { idleMinutes: 30, idleNoticeMinutes: 10 });
		const [busy] = await moto.runInstances(1, { LaunchedBy: "MLIY", userid: "alice" });
		const now = deps.clock();
		await addLaunchedInstance(deps.db, world, "busy-token", {
			id: busy!,
			groupId: world.science.id,
			configId: world.config.id,
			state: "running",
			launchedAt: now,
			startedAt: now,
			lastSeenAt: now,
		});
		const cpu = (id: string) => ({ namespace: "AWS/EC2", name: "CPUUtilization", dimensions: { InstanceId: id } });
		const every5 = (value: number) =>
			Array.from({ length: 8 }, (_, i) => ({ at: new Date(now.getTime() + i * 5 * MINUTE), value }));
		await moto.putMetric(cpu(quiet), every5(2));
		await moto.putMetric(cpu(busy!), every5(85));
		for (let m = 0; m < 30; m += 5) {
			deps.clock.advance(5 * MINUTE);
			await syncAll(deps);
			await enforce(deps);
		}
		assert.equal(await awsState(deps, quiet), "stopped", "2% CPU for 30 minutes: idle");
		assert.equal((await auditFor(deps.db, quiet)).find((e) => e.action === "stop")?.reason, "idle");
		assert.equal(await awsState(deps, busy!), "running", "85% CPU: in use");
		assert.deepEqual(await actionsOf(deps, busy!), []);
	},
);

motoTest("two processes on one database never give a notice or take an action twice", async (moto) => {
	await using a = await createTestDeps({ awsEndpoint: moto.url });
	await using b = await createTestDeps({
		awsEndpoint: moto.url,
		clock: a.clock,
		settings: { DATABASE_URL: `file:${a.dir}/test.db` },
	});
	const { id } = await instanceUnder(a, moto, { idleMinutes: 30, idleNoticeMinutes: 10 });
	for (let m = 0; m < 30; m += 5) {
		a.clock.advance(5 * MINUTE);
		await report(a, id, TOKEN);
		// Both processes' jobs fire for the tick, and both run the enforcer's body itself as well.
		await Promise.all([
			runJob(a, enforcePoliciesJob, { scheduled: true }),
			runJob(b, enforcePoliciesJob, { scheduled: true }),
			enforcePolicies(a),
			enforcePolicies(b),
		]);
		await Promise.all([a.background.idle(), b.background.idle()]);
	}
	assert.equal(await awsState(a, id), "stopped");
	const rows = await actionsOf(a, id);
	assert.equal(rows.length, 1, "one notice");
	assert.equal(rows[0]!.status, "done");
	const stops = (await auditFor(a.db, id)).filter((e) => e.action === "stop");
	assert.deepEqual(stops.map((e) => e.outcome), ["ok"], "one stop, and no refused second attempt");
});
