/**
 * Running the portal: two app instances on one database (job leases, a shared launch), a crash
 * costing seconds (real processes killed with SIGKILL during a launch and during the sync), graceful
 * shutdown of a real process during a request, and the metrics endpoint.
 */
import assert from "node:assert/strict";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { acquireLease, getLease } from "../lib/db/leases.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { getInstance, instancesOfLaunch } from "../lib/db/instances.ts";
import { type Database, openDatabase } from "../lib/db/client.ts";
import { type Job, runJob, tickOf } from "../lib/jobs.ts";
import { advanceLaunches } from "../lib/launch/launcher.ts";
import { requestLaunch } from "../lib/launch/request.ts";
import { toViewer } from "../lib/auth/identify.ts";
import { createTestDeps, testClock } from "./_helpers/deps.ts";
import {
	faultyEndpoint,
	forwardingEndpoint,
	scriptedEndpoint,
	TEST_CREDENTIALS,
	xmlResponse,
} from "./_fakes/endpoint.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { type PortalProcess, startPortal } from "./_helpers/portal_process.ts";
import { addInstance, addUser, seedWorld } from "./_helpers/world.ts";

Deno.test("two app instances on one database run each job exactly once per tick, and take over a crashed holder's lease", async () => {
	const clock = testClock("2025-03-01T12:00:00Z");
	await using a = await createTestDeps({ clock });
	await using b = await createTestDeps({ clock, settings: { DATABASE_URL: a.settings.DATABASE_URL } });
	const ran: { tick: number; holder: string }[] = [];
	const job = (deps: typeof a): Job => ({
		name: "count",
		everyMinutes: 1,
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

Deno.test("a dead holder's run is taken over within its tick once its lease lapses, not at the next interval; each tick still runs once", async () => {
	const clock = testClock("2025-03-01T12:00:00Z");
	await using a = await createTestDeps({ clock, settings: { LEASE_SECONDS: 30 } });
	await using b = await createTestDeps({
		clock,
		settings: { DATABASE_URL: a.settings.DATABASE_URL, LEASE_SECONDS: 30 },
	});
	let runs = 0;
	const job: Job = { name: "hourly", everyMinutes: 60, run: () => Promise.resolve(runs++) };
	// A starts this hour's run and dies in it: its lease is never renewed nor released.
	const now = clock();
	assert.ok(
		await acquireLease(a.db, {
			name: job.name,
			holder: a.holder,
			now,
			expiresAt: new Date(now.getTime() + 30_000),
			tick: tickOf(job, now),
		}),
	);
	clock.advance(20_000);
	assert.equal(await runJob(b, job, { scheduled: true }), "skipped", "the lease may still be its holder's");
	clock.advance(20_000);
	assert.equal(
		await runJob(b, job, { scheduled: true }),
		"ok",
		"taken over in the same hour, at the next minute's check",
	);
	assert.equal(runs, 1);
	clock.advance(60_000);
	assert.equal(await runJob(a, job, { scheduled: true }), "skipped", "the hour's run is done");
	assert.equal(await runJob(b, job, { scheduled: true }), "skipped");
	clock.advance(60 * 60_000);
	assert.equal(await runJob(a, job, { scheduled: true }), "ok", "the next hour runs");
	assert.equal(runs, 2);
});

Deno.test("a run that outlasts its lease keeps it while its holder lives; one that lost it stops at its next step", async () => {
	const clock = testClock("2025-03-01T12:00:00Z");
	await using a = await createTestDeps({ clock, settings: { LEASE_SECONDS: 2 } });
	await using b = await createTestDeps({
		clock,
		settings: { DATABASE_URL: a.settings.DATABASE_URL, LEASE_SECONDS: 2 },
	});
	const other: Job = { name: "slow", everyMinutes: 1, run: () => Promise.resolve() };
	let steps = 0;
	const slow: Job = {
		name: "slow",
		everyMinutes: 1,
		run: async (_deps, signal) => {
			for (; steps < 3 && !signal.aborted; steps++) {
				// Each step takes five minutes of the clock; the heartbeat beats during it.
				clock.advance(5 * 60_000);
				// In the second, A's process stalls past its lease, and B takes the job over.
				if (steps === 1) {
					const now = clock();
					assert.ok(
						await acquireLease(b.db, {
							name: "slow",
							holder: b.holder,
							now,
							expiresAt: new Date(now.getTime() + 60_000),
						}),
					);
				}
				await new Promise((resolve) => setTimeout(resolve, 900));
				if (steps === 0) assert.equal(await runJob(b, other, { scheduled: false }), "skipped", "renewed: still held");
			}
		},
	};
	assert.equal(await runJob(a, slow, { scheduled: false }), "ok");
	assert.equal(steps, 2, "A stopped after learning it lost the lease, instead of running a third step beside B");
	assert.equal((await getLease(a.db, "slow"))?.holder, b.holder, "A's end released nothing of B's");
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

/** Polls `probe` every half second until it gives a value, for at most `ms`; undefined when it never did. */
async function within<T>(ms: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
	const deadline = performance.now() + ms;
	for (;;) {
		const value = await probe();
		if (value !== undefined || performance.now() > deadline) return value;
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

/** Reads the shared database file the way another process would, while the portals use it. */
async function readDatabase<T>(file: string, read: (db: Database["db"]) => Promise<T>): Promise<T> {
	const database = await openDatabase({ url: `file:${file}` });
	try {
		return await read(database.db);
	} finally {
		database.close();
	}
}

/** Real portal processes on one database file, their AWS behind `aws`, with a short lease; each killed at the end. */
function processes(dir: string, aws: string, extra: Record<string, string> = {}) {
	const started: PortalProcess[] = [];
	return {
		file: `${dir}/mliy.db`,
		async start(name: string, env: Record<string, string> = {}): Promise<PortalProcess> {
			const portal = await startPortal({
				MLIY_DATABASE_URL: `file:${dir}/mliy.db`,
				MLIY_LOG_LOCATION: `${dir}/logs-${name}`,
				MLIY_AWS_ENDPOINT_URL: aws,
				MLIY_LEASE_SECONDS: "3",
				...extra,
				...env,
			});
			started.push(portal);
			return portal;
		},
		/** What a process wrote to its logs, for a failure's message. */
		async logs(name: string): Promise<string> {
			const files = ["mliyweb.log", "mliylaunch.log"].map((f) => `${dir}/logs-${name}/${f}`);
			return (await Promise.all(files.map((f) => Deno.readTextFile(f).catch(() => "")))).join("").slice(-4000);
		},
		[Symbol.asyncDispose]: async () => {
			for (const portal of started) portal.kill();
			await Promise.all(started.map((portal) => portal.finished()));
			await Deno.remove(dir, { recursive: true }).catch(() => {});
		},
	};
}

motoTest(
	"kill -9 during a launch: a process started after it completes the launch within 2 minutes, with one stack",
	async (moto) => {
		const dir = await Deno.makeTempDir({ prefix: "mliy-crash-" });
		// A's CreateStack reaches moto (the stack exists), but A dies before the answer reaches it.
		await using aws = forwardingEndpoint(moto.url, "CreateStack");
		const seeded = await openDatabase({ url: `file:${dir}/mliy.db` });
		const world = await seedWorld(seeded.db);
		seeded.close();
		await using portals = processes(dir, aws.url, {
			MLIY_LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a"),
			MLIY_LAUNCH_AVAILABILITY_ZONE: "us-east-1a",
		});
		// A runs no cron: only the wake-up of the launch request moves the launch.
		const a = await portals.start("a", { MLIY_AWS_TIMEOUT_SECONDS: "120", MLIY_AWS_MAX_ATTEMPTS: "1" });
		const home = await (await fetch(`${a.url}/`, { headers: { REMOTE_USER: "alice" } })).text();
		const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(home)![1]!;
		const requested = await fetch(`${a.url}/launch/${world.science.id}/${world.config.id}`, {
			method: "POST",
			redirect: "manual",
			headers: { REMOTE_USER: "alice", "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({ intent: "launch", instanceType: "t2.micro" }),
		});
		await requested.body?.cancel();
		assert.equal(requested.status, 303);
		const launchId = requested.headers.get("Location")!.split("/").pop()!;
		await aws.held;
		a.child.kill("SIGKILL");
		await a.finished();
		const claimed = (await readDatabase(portals.file, (db) => getLaunch(db, launchId)))!;
		assert.equal(claimed.status, "queued", "A died inside the step that submits the stack");
		assert.ok(claimed.claimedBy?.includes(`:${a.child.pid}:`), `A's claim is left behind: ${claimed.claimedBy}`);
		// Its claim lapses LEASE_SECONDS after A's last renewal.
		await new Promise((resolve) => setTimeout(resolve, 3500));

		const restarted = performance.now();
		await portals.start("b", { MLIY_RUN_JOBS: "true" });
		const done = await within(120_000 - (performance.now() - restarted), async () => {
			const launch = await readDatabase(portals.file, (db) => getLaunch(db, launchId));
			return launch?.status === "complete" || launch?.status === "failed" ? launch : undefined;
		});
		const seconds = Math.round((performance.now() - restarted) / 1000);
		assert.equal(done?.status, "complete", `after ${seconds} s: ${done?.reason ?? ""}\n${await portals.logs("b")}`);
		assert.equal((await readDatabase(portals.file, (db) => instancesOfLaunch(db, launchId))).length, 1);
		const stacks = await new CloudFormationClient({
			region: "us-east-1",
			endpoint: moto.url,
			credentials: TEST_CREDENTIALS,
		})
			.send(new DescribeStacksCommand({}));
		assert.deepEqual(stacks.Stacks?.map((stack) => stack.StackName), [done.stackName], "the launch was submitted once");
		const made = await moto.ec2().send(
			new DescribeInstancesCommand({ Filters: [{ Name: "tag:mliy:launch-id", Values: [launchId] }] }),
		);
		assert.equal(made.Reservations?.flatMap((r) => r.Instances ?? []).length, 1, "one instance in AWS");
	},
);

motoTest(
	"kill -9 of the sync's holder: the other process resumes the sync within 2 minutes, though it runs every 30",
	async (moto) => {
		const dir = await Deno.makeTempDir({ prefix: "mliy-crash-" });
		// A's first DescribeInstances never answers: A is inside the sync when it dies.
		await using aws = forwardingEndpoint(moto.url, "DescribeInstances");
		await using portals = processes(dir, aws.url, {
			MLIY_RUN_JOBS: "true",
			MLIY_SYNC_INTERVAL_MINUTES: "30",
			MLIY_AWS_TIMEOUT_SECONDS: "120",
		});
		const lease = () => readDatabase(portals.file, (db) => getLease(db, "sync-aws"));
		const a = await portals.start("a");
		const startedSync = await Promise.race([
			aws.held.then(() => true),
			new Promise<false>((resolve) => setTimeout(() => resolve(false), 30_000)),
		]);
		assert.ok(startedSync, "A's check at startup runs the sync that never ran");
		assert.ok((await lease())?.holder?.includes(`:${a.child.pid}:`), "A holds the sync's lease");
		await portals.start("b");
		await new Promise((resolve) => setTimeout(resolve, 4000));
		assert.ok((await lease())?.holder?.includes(`:${a.child.pid}:`), "A renews its lease while it lives: B waits");

		a.child.kill("SIGKILL");
		await a.finished();
		const died = performance.now();
		const resumed = await within(120_000, async () => (await lease())?.lastSuccessAt ?? undefined);
		const seconds = Math.round((performance.now() - died) / 1000);
		assert.ok(resumed, `the sync had not resumed ${seconds} s after its holder died\n${await portals.logs("b")}`);
		assert.equal((await lease())?.holder, null, "B finished the run and released the lease");
	},
);

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
