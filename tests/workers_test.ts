/**
 * WORKERS: the portal started once serves one port from several processes (lib/workers.ts). Run
 * for real, as `./mliy start` runs it (`deno run -P main.ts`): the kernel spreads connections over
 * the processes, they share the database (what one writes, the other shows), the periodic jobs run
 * once per tick across them, SIGTERM to the process started stops them all, and a worker that dies
 * is started again while one whose primary died stops by itself.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../lib/db/client.ts";
import { getLease } from "../lib/db/leases.ts";
import { tickOf } from "../lib/jobs.ts";
import { resolveSettings } from "../lib/settings.ts";
import { V8_FLAGS, workerNumber } from "../lib/workers.ts";
import { freePort } from "../scripts/local_servers.ts";
import { startPortal } from "./_helpers/portal_process.ts";

const root = new URL("../", import.meta.url).pathname;

/** The settings of a portal of `workers` processes on a fresh database; AWS is a closed port (calls fail at once). */
async function workersEnv(workers: number, env: Record<string, string> = {}) {
	const dir = await Deno.makeTempDir({ prefix: "mliy-workers-" });
	return {
		dir,
		env: {
			MLIY_WORKERS: String(workers),
			MLIY_DATABASE_URL: `file:${dir}/mliy.db`,
			MLIY_LOG_LOCATION: `${dir}/logs`,
			MLIY_ADMIN_USERNAMES: "ada",
			MLIY_AWS_ENDPOINT_URL: `http://127.0.0.1:${freePort()}`,
			MLIY_AWS_MAX_ATTEMPTS: "1",
			MLIY_RATE_LIMIT_PER_SOURCE: "100000",
			...env,
		},
	};
}

/** `deno run -P main.ts`, as `./mliy start` (deno.json's permission set and unstable flags). */
const AS_MLIY_START = { args: ["run", "-P", `${root}main.ts`] };

/** One kept-alive connection: every request on it reaches the same process. */
interface Pinned {
	processId: string;
	get(path: string, user?: string): Promise<{ status: number; text: string }>;
	close(): void;
}

function connection(url: string): Omit<Pinned, "processId"> {
	const client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
	let open = true;
	return {
		async get(path, user) {
			const res = await fetch(`${url}${path}`, { client, headers: user ? { REMOTE_USER: user } : {} });
			return { status: res.status, text: await res.text() };
		},
		close: () => {
			if (open) client.close();
			open = false;
		},
	};
}

/** The process that answered a scrape, from its `mliy_process_info` line. */
function processIdOf(metrics: string): string {
	const id = /^mliy_process_info\{process_id="([^"]+)"\} 1$/m.exec(metrics)?.[1];
	assert.ok(id, "/metrics names the process that answered");
	return id;
}

/** Opens connections until one is pinned to each of `count` processes (new connections land where the kernel puts them). */
async function pinEach(url: string, count: number, tries = 200): Promise<Pinned[]> {
	const found = new Map<string, Pinned>();
	for (let i = 0; i < tries && found.size < count; i++) {
		const conn = connection(url);
		const processId = processIdOf((await conn.get("/metrics")).text);
		if (found.has(processId)) conn.close();
		else found.set(processId, { processId, ...conn });
		if (found.size < count) await new Promise((r) => setTimeout(r, 50));
	}
	assert.equal(found.size, count, `${count} processes answer on the port (saw ${[...found.keys()].join(", ")})`);
	return [...found.values()];
}

const pidOf = (processId: string) => Number(processId.split(":").at(-2));
const alive = (pid: number) => {
	try {
		return !Deno.readTextFileSync(`/proc/${pid}/status`).includes("State:\tZ");
	} catch {
		return false;
	}
};

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
		await new Promise((r) => setTimeout(r, 100));
	}
}

Deno.test("WORKERS=2: two processes answer on one port, each sees what the other wrote, and SIGTERM stops both", async () => {
	const { dir, env } = await workersEnv(2, { MLIY_RUN_JOBS: "false" });
	const portal = await startPortal(env, AS_MLIY_START);
	const pinned: Pinned[] = [];
	try {
		pinned.push(...await pinEach(portal.url, 2));
		const [a, b] = pinned as [Pinned, Pinned];
		assert.notEqual(pidOf(a.processId), pidOf(b.processId), "two processes, not one");
		assert.ok([a, b].some((p) => pidOf(p.processId) === portal.child.pid), "one of them is the process started");
		const worker = [a, b].find((p) => pidOf(p.processId) !== portal.child.pid)!;
		const workerArgs = Deno.readTextFileSync(`/proc/${pidOf(worker.processId)}/cmdline`).split("\0");
		assert.ok(
			workerArgs.includes(`--v8-flags=${V8_FLAGS}`),
			`the worker runs with the portal's V8 flags: ${workerArgs}`,
		);
		assert.ok(workerArgs.includes("--worker=1"));

		// A first visit through one process creates the account (a write); the other lists it.
		assert.equal((await a.get("/", "newcomer")).status, 200);
		const users = await b.get("/admin/users", "ada");
		assert.equal(users.status, 200);
		assert.match(users.text, /newcomer/, "the account made by one process is on the other's admin list");
		// And the other way round.
		assert.equal((await b.get("/", "second")).status, 200);
		assert.match((await a.get("/admin/users", "ada")).text, /second/);

		for (const p of pinned) p.close();
		portal.child.kill("SIGTERM");
		const { code, output } = await portal.finished();
		assert.equal(code, 0, output);
		for (const p of pinned) assert.ok(!alive(pidOf(p.processId)), `process ${p.processId} stopped`);
		assert.equal((output.match(/SIGTERM: finishing requests/g) ?? []).length, 2, "both stopped gracefully");
		await assert.rejects(fetch(`${portal.url}/health`), "nothing listens on the port any more");
	} finally {
		for (const p of pinned) p.close();
		portal.kill();
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("WORKERS=2 with jobs: each job's tick runs in one process, the other skips it", async () => {
	// The sync every 30 minutes and the daily jobs: their tick does not change during the test.
	const { dir, env } = await workersEnv(2, { MLIY_RUN_JOBS: "true", MLIY_SYNC_INTERVAL_MINUTES: "30" });
	const tickAtStart = tickOf({ everyMinutes: 30 }, new Date());
	const portal = await startPortal(env, AS_MLIY_START);
	const pinned: Pinned[] = [];
	try {
		pinned.push(...await pinEach(portal.url, 2));
		/** A job's runs by outcome in each process, from its /metrics. */
		const runs = async (job: string) => {
			const counts = [];
			for (const p of pinned) {
				const metrics = (await p.get("/metrics")).text;
				const count = (outcome: string) =>
					Number(
						new RegExp(`^mliy_job_runs_total\\{job="${job}",outcome="${outcome}"\\} (\\d+)$`, "m").exec(metrics)?.[1] ??
							0,
					);
				counts.push({ ran: count("ok") + count("failed"), skipped: count("skipped") });
			}
			return counts;
		};
		for (const job of ["sync-aws", "read-actual-costs", "write-chargebacks"]) {
			// Both processes checked the job at start; wait until both have an outcome.
			await until(`both processes checked ${job}`, async () => (await runs(job)).every((c) => c.ran + c.skipped >= 1));
			const counts = await runs(job);
			if (tickOf({ everyMinutes: 30 }, new Date()) !== tickAtStart) return; // a new tick began: nothing to compare
			assert.equal(
				counts.reduce((n, c) => n + c.ran, 0),
				1,
				`${job} ran once across the processes: ${JSON.stringify(counts)}`,
			);
			assert.equal(counts.reduce((n, c) => n + c.skipped, 0), 1, `${job}: the other process skipped the tick`);
		}
		// The database agrees: one run recorded per job.
		for (const p of pinned) p.close();
		portal.child.kill("SIGTERM");
		assert.equal((await portal.finished()).code, 0);
		await using database = await openDatabase({ url: env.MLIY_DATABASE_URL });
		assert.equal((await getLease(database.db, "sync-aws"))?.runs, 1);
	} finally {
		for (const p of pinned) p.close();
		portal.kill();
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("WORKERS=2: a worker that dies is started again; workers stop when the process started is killed", async () => {
	const { dir, env } = await workersEnv(2, { MLIY_RUN_JOBS: "false" });
	const portal = await startPortal(env, AS_MLIY_START);
	try {
		const first = await pinEach(portal.url, 2);
		const worker = first.find((p) => pidOf(p.processId) !== portal.child.pid)!;
		for (const p of first) p.close();
		Deno.kill(pidOf(worker.processId), "SIGKILL");
		// A new worker (another process id) joins the primary on the port.
		await until("a new worker answers", async () => {
			const again = await pinEach(portal.url, 2).catch(() => []);
			for (const p of again) p.close();
			return again.length === 2 && again.every((p) => p.processId !== worker.processId);
		}, 20_000);

		const now = await pinEach(portal.url, 2);
		for (const p of now) p.close();
		const replacement = pidOf(now.find((p) => pidOf(p.processId) !== portal.child.pid)!.processId);
		// The primary dies without a chance to stop anything: its worker notices and stops itself.
		portal.child.kill("SIGKILL");
		await portal.finished();
		await until("the orphaned worker stopped", () => !alive(replacement));
	} finally {
		portal.kill();
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("WORKERS above 1 needs a database the processes share, and at most 64 processes", () => {
	assert.throws(
		() => resolveSettings({ env: { MLIY_WORKERS: "2", MLIY_DATABASE_URL: ":memory:" } }),
		/"WORKERS" needs a database the processes share/,
	);
	assert.throws(() => resolveSettings({ env: { MLIY_WORKERS: "65" } }), /"WORKERS" must be at most 64/);
	assert.throws(() => resolveSettings({ env: { MLIY_WORKERS: "0" } }), /"WORKERS" must be at least 1/);
	assert.equal(resolveSettings({ env: { MLIY_WORKERS: "1", MLIY_DATABASE_URL: ":memory:" } }).WORKERS, 1);
	assert.equal(resolveSettings({}).WORKERS, 1, "one process unless asked");
});

Deno.test("a worker knows its number from its argument; the process started is number 0", () => {
	assert.equal(workerNumber([]), 0);
	assert.equal(workerNumber(["--worker=3"]), 3);
	assert.equal(workerNumber(["--worker=x"]), 0);
});

Deno.test("the portal runs with the same V8 flags however it is started: ./mliy start, the compiled binary (a worker: above)", async () => {
	const tasks = JSON.parse(await Deno.readTextFile(`${root}deno.json`)).tasks;
	assert.match(tasks.start, new RegExp(`^deno run -P --v8-flags=${V8_FLAGS} main\\.ts$`));
	assert.ok(tasks.compile.includes(` --v8-flags=${V8_FLAGS} `), "the compiled binary carries them");
	assert.ok(tasks.compile.includes(" --unstable-net "), "and may listen with reusePort");
});
