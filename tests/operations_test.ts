/**
 * Running the portal: two app instances on one database (job leases, a shared launch), graceful
 * shutdown of a real process during a request, and the metrics endpoint.
 */
import assert from "node:assert/strict";
import { acquireLease } from "../lib/db/leases.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { getInstance, instancesOfLaunch } from "../lib/db/instances.ts";
import { openDatabase } from "../lib/db/client.ts";
import { type Job, runJob } from "../lib/jobs.ts";
import { advanceLaunches } from "../lib/launch/launcher.ts";
import { requestLaunch } from "../lib/launch/request.ts";
import { toViewer } from "../lib/auth/identify.ts";
import { createTestDeps, testClock } from "./_helpers/deps.ts";
import { faultyEndpoint, scriptedEndpoint, xmlResponse } from "./_fakes/endpoint.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { startPortal } from "./_helpers/portal_process.ts";
import { addInstance, addUser, seedWorld } from "./_helpers/world.ts";

Deno.test("two app instances on one database run each job exactly once per tick, and take over a crashed holder's lease", async () => {
	const clock = testClock("2025-03-01T12:00:00Z");
	await using a = await createTestDeps({ clock });
	await using b = await createTestDeps({ clock, settings: { DATABASE_URL: a.settings.DATABASE_URL } });
	const ran: { tick: number; holder: string }[] = [];
	const job = (deps: typeof a): Job => ({
		name: "count",
		everyMinutes: 1,
		leaseMs: 60_000,
		run: async () => {
			ran.push({ tick: Math.floor(clock().getTime() / 60_000), holder: deps.holder });
			await new Promise((r) => setTimeout(r, 10));
		},
	});
	for (let tick = 0; tick < 10; tick++) {
		// Both processes' cron fire for the same tick, a moment apart.
		const outcomes = await Promise.all([
			runJob(a, job(a), { scheduled: true }),
			runJob(b, job(b), { scheduled: true }),
		]);
		assert.deepEqual(outcomes.sort(), ["ok", "skipped"], `tick ${tick}: one ran, one skipped`);
		// A late firing within the same tick does not run it again either.
		assert.equal(await runJob(b, job(b), { scheduled: true }), "skipped");
		clock.advance(60_000);
	}
	assert.equal(ran.length, 10);
	assert.equal(new Set(ran.map((r) => r.tick)).size, 10, "each tick once");

	// A holds the lease and dies; B may not take it until it expires.
	const now = clock();
	assert.ok(
		await acquireLease(a.db, { name: "count", holder: a.holder, now, expiresAt: new Date(now.getTime() + 60_000) }),
	);
	clock.advance(30_000);
	assert.equal(await runJob(b, job(b), { scheduled: false }), "skipped", "the lease is still held");
	clock.advance(31_000);
	assert.equal(await runJob(b, job(b), { scheduled: false }), "ok", "the crashed holder's lease lapsed");
});

motoTest("two processes advancing the same launch at once create one stack and one instance", async (moto) => {
	const subnet = await moto.subnet("us-east-1a");
	await using a = await createTestDeps({
		awsEndpoint: moto.url,
		realClock: true,
		settings: { LAUNCH_SUBNET_ID: subnet },
	});
	await using b = await createTestDeps({
		awsEndpoint: moto.url,
		realClock: true,
		settings: { DATABASE_URL: a.settings.DATABASE_URL, LAUNCH_SUBNET_ID: subnet },
	});
	const world = await seedWorld(a.db);
	// No wake-up and no lease here: both move the launch directly, as two processes that both saw it would.
	a.wakeLauncher = () => {};
	const launch = await requestLaunch(a, toViewer(world.alice, [world.science.id], []), {
		groupId: world.science.id,
		configId: world.config.id,
	}, { instanceType: "t2.micro" });
	await Promise.all([advanceLaunches(a), advanceLaunches(b)]);
	await Promise.all([advanceLaunches(a), advanceLaunches(b)]);
	assert.equal((await getLaunch(a.db, launch.id))!.status, "complete");
	assert.equal((await instancesOfLaunch(a.db, launch.id)).length, 1);
	const tagged = await a.aws.ec2.describeInstances({ filters: { "tag:mliy:launch-id": [launch.id] } });
	assert.equal(
		tagged.length,
		1,
		`one instance in AWS: ${JSON.stringify(tagged.map((i) => [i.id, i.state, i.tags["aws:cloudformation:stack-id"]]))}`,
	);
});

Deno.test({
	name: "SIGTERM during a request lets that request finish, then the process exits cleanly",
	sanitizeOps: false,
	sanitizeResources: false,
	fn: async () => {
		const dir = await Deno.makeTempDir({ prefix: "mliy-shutdown-" });
		// A fake EC2 whose StopInstances takes two seconds: the request is in flight when SIGTERM comes.
		let stopArrived!: () => void;
		const stopping = new Promise<void>((resolve) => stopArrived = resolve);
		const fakeEc2 = scriptedEndpoint(async (_req, body) => {
			const form = new URLSearchParams(body);
			if (form.get("Action") === "StopInstances") {
				stopArrived();
				await new Promise((r) => setTimeout(r, 2000));
				return xmlResponse(
					`<StopInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><instancesSet><item><instanceId>${
						form.get("InstanceId.1")
					}</instanceId><currentState><code>64</code><name>stopping</name></currentState><previousState><code>16</code><name>running</name></previousState></item></instancesSet></StopInstancesResponse>`,
				);
			}
			return xmlResponse(
				`<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>`,
			);
		});
		const seeded = await openDatabase({ url: `file:${dir}/mliy.db` });
		const root = await addUser(seeded.db, "root");
		await addInstance(seeded.db, { id: "i-0123456789abcdef0", ownerId: root.id, state: "running" });
		seeded.close();

		const portal = await startPortal({
			MLIY_DATABASE_URL: `file:${dir}/mliy.db`,
			MLIY_LOG_LOCATION: `${dir}/logs`,
			MLIY_AWS_ENDPOINT_URL: fakeEc2.url,
			MLIY_AWS_MAX_ATTEMPTS: "1",
		});
		const { url, child } = portal;
		try {
			const home = await (await fetch(`${url}/`, { headers: { REMOTE_USER: "root" } })).text();
			const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(home)![1]!;
			const pending = fetch(`${url}/ajax/instance/i-0123456789abcdef0/stop`, {
				method: "POST",
				headers: { REMOTE_USER: "root", "X-CSRF-Token": csrf, Accept: "application/json" },
			});
			let settled = false;
			pending.finally(() => settled = true).catch(() => {});
			await stopping; // the portal is inside the request, waiting on AWS
			child.kill("SIGTERM");
			// New connections are refused soon after the signal, while the request in flight still waits on AWS.
			const deadline = performance.now() + 1500;
			let refused = false;
			while (!refused && performance.now() < deadline) {
				refused = await fetch(`${url}/health`).then((r) => (r.body?.cancel(), false), () => true);
				if (!refused) await new Promise((r) => setTimeout(r, 20));
			}
			assert.ok(refused, "no new connections within 1.5 s of SIGTERM");
			assert.ok(!settled, "refused while the request in flight was still running");
			const res = await pending;
			assert.equal(res.status, 200, "the request in flight completed");
			assert.deepEqual(await res.json(), { action: "stop", status: "ok", state: "stopping", pendingAction: "stop" });
			assert.equal((await portal.finished()).code, 0, "then the process exited cleanly");
			const log = await Deno.readTextFile(`${dir}/logs/mliyweb.log`);
			assert.match(log, /SIGTERM: finishing requests/);
			assert.match(log, /"message":"stopped"/);
			const after = await openDatabase({ url: `file:${dir}/mliy.db` });
			assert.equal((await getInstance(after.db, "i-0123456789abcdef0"))?.state, "stopping", "its write was committed");
			after.close();
		} finally {
			portal.kill();
			await fakeEc2.close();
			await Deno.remove(dir, { recursive: true });
		}
	},
});

Deno.test("GET /metrics: what the app really did (requests, jobs, AWS calls, launches), for allowed addresses or the token", async () => {
	// AWS throttles everything: the real SDK, retrying twice per call, reports each call once.
	await using aws = faultyEndpoint("throttling");
	await using deps = await createTestDeps({
		awsEndpoint: aws.url,
		settings: { METRICS_TOKEN: "a-long-enough-secret-token" },
	});
	const world = await seedWorld(deps.db);
	// A page view starts the dashboard's refresh (DescribeInstances) in the background.
	assert.equal((await request(deps.app, "/", { user: "alice" })).status, 200);
	// A launch is recorded, then the job it kicks tries CreateStack.
	const launched = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "t2.micro" },
	});
	assert.equal(launched.status, 303, await launched.clone().text());
	await deps.background.idle();
	assert.equal(aws.served(), 2 * 2, "two calls, each tried AWS_MAX_ATTEMPTS (2) times");

	const res = await request(deps.app, "/metrics", { from: "127.0.0.1" });
	assert.equal(res.status, 200);
	assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
	const text = await res.text();
	// The helper fetched / once more for the form's CSRF token.
	assert.match(text, /^mliy_http_requests_total\{route="\/",method="GET",status="200"\} 2$/m);
	assert.match(
		text,
		/^mliy_http_requests_total\{route="\/launch\/:groupId\/:configId",method="POST",status="303"\} 1$/m,
	);
	assert.match(text, /^mliy_http_request_duration_seconds_count\{route="\/",method="GET"\} 2$/m);
	assert.match(text, /^mliy_job_runs_total\{job="poll-launches",outcome="ok"\} 1$/m);
	assert.match(text, /^mliy_aws_calls_total\{operation="DescribeInstances",outcome="throttled"\} 1$/m);
	assert.match(text, /^mliy_aws_calls_total\{operation="CreateStack",outcome="throttled"\} 1$/m);
	assert.match(text, /^mliy_aws_call_duration_seconds_count\{operation="CreateStack"\} 1$/m);
	assert.match(text, /^mliy_launches_total\{outcome="requested"\} 1$/m);

	assert.equal((await request(deps.app, "/metrics", { from: "203.0.113.7" })).status, 403);
	const withToken = await request(deps.app, "/metrics", {
		from: "203.0.113.7",
		headers: { Authorization: "Bearer a-long-enough-secret-token" },
	});
	assert.equal(withToken.status, 200);
	assert.equal(
		(await request(deps.app, "/metrics", { from: "203.0.113.7", headers: { Authorization: "Bearer wrong" } })).status,
		403,
	);
});

Deno.test("deno task backup writes a consistent copy of the live database", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const target = `${deps.dir}/backups/copy.db`;
	const root = new URL("../", import.meta.url).pathname;
	const out = await new Deno.Command(Deno.execPath(), {
		args: ["run", "-A", `${root}scripts/backup.ts`, target],
		cwd: root,
		env: { MLIY_DATABASE_URL: deps.settings.DATABASE_URL },
		stdout: "piped",
		stderr: "piped",
	}).output();
	assert.ok(out.success, new TextDecoder().decode(out.stderr));
	assert.match(new TextDecoder().decode(out.stdout), /backup: .*copy\.db/);
	const copy = await openDatabase({ url: `file:${target}` });
	assert.equal((await copy.db.query.users.findMany()).length, 5);
	copy.close();
	const again = await new Deno.Command(Deno.execPath(), {
		args: ["run", "-A", `${root}scripts/backup.ts`, target],
		cwd: root,
		env: { MLIY_DATABASE_URL: deps.settings.DATABASE_URL },
		stderr: "piped",
	}).output();
	assert.equal(again.code, 2, "an existing file is never overwritten");
});
