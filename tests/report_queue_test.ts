/**
 * The coalesced progress and activity writes (lib/report_queue.ts): reports are answered at once
 * from a cache of their instances that another connection's commit invalidates, written together
 * one transaction per window, kept through a busy database, and a crash loses at most the window.
 */
import assert from "node:assert/strict";
import { eq, sql } from "drizzle-orm";
import { isDatabaseBusy, openDatabase } from "../lib/db/client.ts";
import { getInstance, type NewInstance } from "../lib/db/instances.ts";
import { activityOf } from "../lib/db/policies.ts";
import { type ReportStore, reportStore, type ReportWrite } from "../lib/db/reports.ts";
import { instances, launches, machineActivity, progressReports, type SetupState } from "../lib/db/schema.ts";
import { progressReportsOf } from "../lib/db/timeline.ts";
import { ReportQueue } from "../lib/report_queue.ts";
import { getLoggers } from "../lib/log.ts";
import { holdWriteLock } from "./_helpers/db_lock.ts";
import { createTestDeps, DATABASE_ENGINES, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { postJson } from "./_helpers/policies.ts";
import { addInstance, addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

const ID = "i-0123456789abcdef0";
const TOKEN = "the-launch-token";

const progress = (deps: TestDeps, spec: string, token = TOKEN) =>
	request(deps.app, `/ajax/progress/${ID}/${spec}`, { method: "POST", headers: { "X-MLiy-Progress-Token": token } });

async function launched(deps: TestDeps) {
	await addLaunchedInstance(deps.db, await seedWorld(deps.db), TOKEN, { progressPercent: 5, progressText: "start" });
}

/** The real store, counting its transactions (a count no peer reports). */
function counted(store: ReportStore): ReportStore & { batches: number[] } {
	const batches: number[] = [];
	return {
		batches,
		write: (reports) => {
			batches.push(reports.length);
			return store.write(reports);
		},
		changeMark: () => store.changeMark(),
	};
}

const T = Date.UTC(2026, 0, 1);

/**
 * Instances whose setup may report (i-a, i-b, i-f), has ended (i-c), or whose instance is
 * archived (i-d) or ended (i-e); a machine with an activity on record (i-a); and a batch of their
 * reports: several of one instance, one ending a setup before another report of it, several of
 * one machine with and without activity.
 */
async function mixedBatch(deps: TestDeps): Promise<ReportWrite[]> {
	const world = await seedWorld(deps.db);
	const instance = (id: string, values: Partial<NewInstance> = {}) =>
		addInstance(deps.db, { id, ownerId: world.alice.id, configId: world.config.id, ...values });
	await instance("i-a");
	await instance("i-b", { setupState: "running", progressText: "boot", progressPercent: 1 });
	await instance("i-c", { setupState: "done", setupEndedAt: new Date(T - 60_000), progressText: "done" });
	await instance("i-d", { archived: true });
	await instance("i-e", { state: "terminated" });
	await instance("i-f", { setupState: "running" });
	const activity = (machineId: string, ms: number, cpu: number, active: boolean): ReportWrite => ({
		kind: "activity",
		write: {
			machineId,
			at: new Date(T + ms),
			activeAt: active ? new Date(T + ms) : undefined,
			values: {
				cpuPercent: cpu,
				gpuPercent: cpu > 50 ? cpu : null,
				kernelsBusy: 0,
				sessions: 1,
				networkBytesPerSecond: ms,
			},
		},
	});
	await reportStore(deps.database).write([activity("i-a", -5_000, 80, true)]);
	const progress = (instanceId: string, stage: number, setupState: SetupState = "running"): ReportWrite => ({
		kind: "progress",
		write: {
			instanceId,
			configId: world.config.id,
			text: String(stage),
			percent: stage * 10,
			at: new Date(T + stage * 1000),
			setupState,
			endedAt: setupState === "running" ? null : new Date(T + stage * 1000),
		},
	});
	return [
		progress("i-a", 1),
		activity("i-a", 100, 90, true),
		progress("i-b", 1),
		progress("i-c", 1),
		activity("i-b", 200, 10, false),
		progress("i-a", 2),
		activity("i-a", 300, 5, false),
		progress("i-d", 1),
		progress("i-f", 1, "failed"),
		progress("i-e", 1),
		activity("i-b", 50, 70, true),
		progress("i-f", 2),
		progress("i-a", 3),
		activity("i-b", 400, 3, false),
		activity("i-a", 250, 60, true),
	];
}

/** What the reports write: the instances' progress, the history, the machines' activity. */
async function rowsOf(deps: TestDeps) {
	return {
		instances: await deps.db.select({
			id: instances.id,
			text: instances.progressText,
			percent: instances.progressPercent,
			at: instances.progressUpdatedAt,
			setupState: instances.setupState,
			setupEndedAt: instances.setupEndedAt,
		}).from(instances).orderBy(instances.id),
		history: await deps.db.select().from(progressReports).orderBy(progressReports.id),
		activity: await deps.db.select().from(machineActivity).orderBy(machineActivity.machineId),
	};
}

// Each runs on an embedded file and on the same file through a libSQL server's URL (the test server,
// tests/_fakes/libsql_server.ts): there the queue writes through the server and caches nothing.
for (const engine of DATABASE_ENGINES) {
	const remote = engine === "remote";
	const suffix = remote ? " (through a libSQL server)" : "";

	Deno.test(`reports are answered at once and written together: one transaction per window, in order, history included${suffix}`, async () => {
		await using deps = await createTestDeps({ remote });
		await launched(deps);
		const store = counted(reportStore(deps.database));
		const queue = new ReportQueue({ db: deps.db, store, log: getLoggers().web, windowMs: 20 });
		try {
			const at = deps.clock();
			for (let i = 1; i <= 50; i++) {
				queue.progress({
					instanceId: ID,
					configId: null,
					text: `stage ${i}`,
					percent: i,
					at: new Date(at.getTime() + i),
					setupState: "running",
					endedAt: null,
				});
			}
			assert.equal((await getInstance(deps.db, ID))!.progressPercent, 5, "nothing written before the window ends");
			// The window's timer writes them, without anyone flushing.
			const deadline = Date.now() + 2000;
			while (queue.queued > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
			await queue.flush();
			assert.deepEqual(store.batches, [50], "one transaction for the window");
			const row = (await getInstance(deps.db, ID))!;
			assert.equal(row.progressPercent, 50, "the last report is the instance's");
			assert.equal(row.progressText, "stage 50");
			const history = await progressReportsOf(deps.db, ID);
			assert.deepEqual(history.map((h) => h.percent), Array.from({ length: 50 }, (_, i) => i + 1));
		} finally {
			await queue.close();
		}
	});

	Deno.test(`the endpoint answers from the queue and a flush writes what it answered${suffix}`, async () => {
		await using deps = await createTestDeps({ remote });
		await launched(deps);
		for (const stage of ["installing(20)", "configuring(40)", "configuring(60)"]) {
			assert.equal((await progress(deps, stage)).status, 200, stage);
		}
		await deps.reports.flush();
		assert.equal((await getInstance(deps.db, ID))!.progressPercent, 60);
		assert.deepEqual((await progressReportsOf(deps.db, ID)).map((h) => h.percent), [20, 40, 60]);
	});

	Deno.test(`a report that would be refused is refused at once, before anything is written${suffix}`, async () => {
		await using deps = await createTestDeps({ remote });
		await launched(deps);
		assert.equal((await progress(deps, "installing(20)")).status, 200);
		assert.equal((await progress(deps, "installing(30)", "a-wrong-token")).status, 403, "a wrong token");
		assert.equal((await progress(deps, "done(100)")).status, 200);
		// No flush: the cached instance already shows the end of its setup.
		const late = await progress(deps, "installing(40)");
		assert.equal(late.status, 409);
		assert.match((await late.json()).error, /already reported done\(100\)/);
		const history = await progressReportsOf(deps.db, ID);
		assert.deepEqual(history.map((h) => [h.stage, h.percent]), [["installing", 20], ["done", 100]], "in order");
		assert.equal((await getInstance(deps.db, ID))!.setupState, "done", "the end is written at once");
	});

	Deno.test(`a failure stage ends the setup at once: written, audited, and later reports get 409${suffix}`, async () => {
		await using deps = await createTestDeps({ remote });
		await launched(deps);
		assert.equal((await progress(deps, "installing(20)")).status, 200);
		assert.equal((await progress(deps, "failed(30)")).status, 200);
		const row = (await getInstance(deps.db, ID))!;
		assert.equal(row.setupState, "failed", "no flush needed");
		assert.deepEqual((await progressReportsOf(deps.db, ID)).map((h) => h.percent), [20, 30], "the queued one first");
		const audited = await deps.db.all<{ action: string }>(
			sql`SELECT action FROM audit_events WHERE resource_id = ${ID}`,
		);
		assert.ok(audited.some((a) => a.action === "setup failed"), JSON.stringify(audited));
		assert.equal((await progress(deps, "installing(40)")).status, 409);
	});

	Deno.test(`the cache stays true: another connection's or process's change is seen by the very next report${suffix}`, async () => {
		await using a = await createTestDeps({ remote });
		await using b = await createTestDeps({
			remote,
			clock: a.clock,
			settings: { DATABASE_URL: a.settings.DATABASE_URL },
		});
		await launched(a);
		assert.equal((await progress(a, "installing(20)")).status, 200, "cached now");
		assert.equal((await progress(b, "installing(30)")).status, 200, "the other process");
		await b.reports.flush();
		// Another process ends the setup: this one refuses at once.
		assert.equal((await progress(b, "done(100)")).status, 200);
		assert.equal((await progress(a, "installing(40)")).status, 409, "the other process's done is seen");

		// This process's own pool (a sync, an action) changes the instance: seen too.
		await a.db.update(instances).set({ setupState: "running", progressUpdatedAt: a.clock() }).where(
			eq(instances.id, ID),
		);
		assert.equal((await progress(a, "installing(50)")).status, 200);
		await a.reports.flush();
		await a.db.update(instances).set({ state: "terminated" }).where(eq(instances.id, ID));
		assert.equal((await progress(a, "installing(60)")).status, 409, "terminated");
		await a.db.update(instances).set({ state: "running" }).where(eq(instances.id, ID));
		// A new token for the launch: the old one is refused at once.
		const instance = (await getInstance(a.db, ID))!;
		await a.db.update(launches).set({ progressTokenHash: "0".repeat(64) }).where(eq(launches.id, instance.launchId!));
		assert.equal((await progress(a, "installing(70)")).status, 403, "the cached token hash was dropped");

		assert.equal((await getInstance(a.db, ID))!.progressPercent, 50, "the queued report was written");
	});

	Deno.test(`activity reports are checked from the cache and written with their window${suffix}`, async () => {
		await using deps = await createTestDeps({ remote });
		await addLaunchedInstance(deps.db, await seedWorld(deps.db), TOKEN, { state: "running" });
		const post = (cpu: number) => postJson(deps.app, `/ajax/activity/${ID}`, { cpu }, TOKEN);
		assert.equal((await post(90)).status, 200);
		assert.equal((await post(3)).status, 200);
		await deps.reports.flush();
		const recorded = (await activityOf(deps.db, ID))!;
		assert.equal(recorded.cpuPercent, 3, "the last report's values");
		assert.equal(recorded.activeAt?.getTime(), deps.clock().getTime(), "the earlier busy report's activity stays");
		await deps.db.update(instances).set({ state: "terminated" }).where(eq(instances.id, ID));
		assert.equal((await post(50)).status, 409, "ended, seen at once");
	});

	Deno.test(`a busy database: reports are still answered, the batch is tried again each window, and nothing is lost${suffix}`, async () => {
		await using deps = await createTestDeps({ remote, settings: { DATABASE_BUSY_TIMEOUT_MS: 50 } });
		await launched(deps);
		const lock = await holdWriteLock(`${deps.dir}/test.db`, 700);
		for (const stage of ["installing(20)", "installing(30)", "configuring(40)"]) {
			assert.equal((await progress(deps, stage)).status, 200, `${stage} answered while the database is locked`);
		}
		await assert.rejects(deps.reports.flush(), /locked|busy/i, "a flush while locked says so");
		assert.equal(deps.reports.queued, 3, "the refused batch is kept");
		await lock.released;
		// The next windows write it without anyone flushing.
		const deadline = Date.now() + 3000;
		while (deps.reports.queued > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
		assert.equal(deps.reports.queued, 0, "written once the lock was gone");
		assert.deepEqual((await progressReportsOf(deps.db, ID)).map((h) => h.percent), [20, 30, 40]);
		assert.equal((await getInstance(deps.db, ID))!.progressPercent, 40);
	});

	Deno.test(`while the database stays locked the queue holds a bounded number of reports, then answers as a busy database${suffix}`, async () => {
		await using deps = await createTestDeps({ remote, settings: { DATABASE_BUSY_TIMEOUT_MS: 50 } });
		await launched(deps);
		const queue = new ReportQueue({
			db: deps.db,
			store: reportStore(deps.database),
			log: getLoggers().web,
			maxQueued: 3,
		});
		const write = (percent: number) => ({
			instanceId: ID,
			configId: null,
			text: `stage ${percent}`,
			percent,
			at: new Date(deps.clock().getTime() + percent),
			setupState: "running" as const,
			endedAt: null,
		});
		const lock = await holdWriteLock(`${deps.dir}/test.db`, 600);
		try {
			for (const percent of [10, 20, 30]) queue.progress(write(percent));
			await assert.rejects(queue.flush(), /locked|busy/i);
			const refused = (() => {
				try {
					queue.progress(write(40));
				} catch (error) {
					return error;
				}
			})();
			assert.ok(isDatabaseBusy(refused), `answered as a busy database (503), not dropped: ${refused}`);
			await lock.released;
			await queue.flush();
			assert.deepEqual((await progressReportsOf(deps.db, ID)).map((h) => h.percent), [10, 20, 30], "the kept ones");
		} finally {
			await queue.close();
		}
	});

	Deno.test(`a window's batch leaves exactly the rows its reports leave written one by one${suffix}`, async () => {
		await using together = await createTestDeps({ remote });
		await using oneByOne = await createTestDeps({ remote });
		const reports = await mixedBatch(together);
		await mixedBatch(oneByOne);
		await reportStore(together.database).write(reports);
		const store = reportStore(oneByOne.database);
		for (const report of reports) await store.write([report]);
		const written = await rowsOf(together);
		assert.deepEqual(written, await rowsOf(oneByOne));
		assert.deepEqual(
			written.history.map((h) => `${h.instanceId} ${h.stage}`),
			["i-a 1", "i-b 1", "i-a 2", "i-f 1", "i-a 3"],
			"the history of setups that may report, in order, up to a report ending one",
		);
	});
}

Deno.test("shutdown writes what is queued", async () => {
	const dir = await Deno.makeTempDir({ prefix: "mliy-close-" });
	const url = `file:${dir}/close.db`;
	try {
		const deps = await createTestDeps({ settings: { DATABASE_URL: url } });
		await launched(deps);
		assert.equal((await progress(deps, "installing(20)")).status, 200);
		await deps[Symbol.asyncDispose]();
		const database = await openDatabase({ url });
		try {
			const written = (await database.db.select().from(progressReports)).map((r) => r.percent);
			assert.deepEqual(written, [20], "written at close");
		} finally {
			database.close();
		}
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});

// ---------------------------------------------------------------------------------------------
// A crash mid-window: a child Deno process runs the queue against a file database and is killed.

const BATCH = 500;

/** The child: queues BATCH reports at a time, flushes, and says how many are written, until killed. */
const CHILD = `
	import { openDatabase } from "./lib/db/client.ts";
	import { reportStore } from "./lib/db/reports.ts";
	import { ReportQueue } from "./lib/report_queue.ts";
	import { getLoggers } from "./lib/log.ts";
	const database = await openDatabase({ url: Deno.args[0] });
	const queue = new ReportQueue({ db: database.db, store: reportStore(database), log: getLoggers().web, windowMs: 5 });
	let seq = 0;
	console.log("ready");
	while (true) {
		for (let i = 0; i < ${BATCH}; i++) {
			seq++;
			queue.progress({ instanceId: "${ID}", configId: null, text: "s" + seq, percent: seq % 100,
				at: new Date(1_700_000_000_000 + seq), setupState: "running", endedAt: null });
			queue.activity({ machineId: "${ID}", at: new Date(1_700_000_000_000 + seq),
				values: { cpuPercent: seq % 100, gpuPercent: null, kernelsBusy: 0, sessions: 0, networkBytesPerSecond: seq } });
		}
		await queue.flush();
		console.log("written " + seq);
	}`;

Deno.test("a crash mid-window loses at most the window and corrupts nothing", async () => {
	const dir = await Deno.makeTempDir({ prefix: "mliy-crash-" });
	const url = `file:${dir}/crash.db`;
	try {
		const seeded = await openDatabase({ url });
		await addLaunchedInstance(seeded.db, await seedWorld(seeded.db), TOKEN);
		seeded.close();
		for (let round = 0; round < 3; round++) {
			const child = new Deno.Command(Deno.execPath(), {
				args: ["eval", "--quiet", CHILD, url],
				cwd: new URL("..", import.meta.url).pathname,
				stdout: "piped",
				stderr: "inherit",
			}).spawn();
			let written = 0;
			const lines = (async () => {
				let buffer = "";
				for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
					buffer += chunk;
					for (const line of buffer.split("\n").slice(0, -1)) {
						const match = /^written (\d+)$/.exec(line);
						if (match) written = Number(match[1]);
					}
					buffer = buffer.slice(buffer.lastIndexOf("\n") + 1);
				}
			})();
			// Let it write a few batches, then kill it wherever it is (often inside a transaction).
			while (written < BATCH * (2 + round)) await new Promise((r) => setTimeout(r, 5));
			await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
			child.kill("SIGKILL");
			await child.status;
			await lines;

			const after = await openDatabase({ url });
			try {
				const [check] = await after.db.all<{ integrity_check: string }>(sql`PRAGMA integrity_check`);
				assert.equal(check!.integrity_check, "ok", "the file is intact");
				const stages = new Set(
					(await after.db.select({ stage: progressReports.stage }).from(progressReports)).map((r) => r.stage),
				);
				const ofRound = [...stages].map((s) => Number(s.slice(1))).filter((n) => n >= 1);
				const top = Math.max(0, ...ofRound);
				for (let seq = 1; seq <= written; seq++) {
					assert.ok(stages.has(`s${seq}`), `round ${round}: report ${seq} was written before the crash`);
				}
				assert.ok(top - written <= BATCH, `round ${round}: at most one window more than said (${top}, ${written})`);
				assert.equal(top % BATCH, 0, `round ${round}: a window is written whole or not at all (${top})`);
				const row = (await getInstance(after.db, ID))!;
				assert.equal(row.progressText, `s${top}`, "the instance shows the last written report");
				const activity = (await activityOf(after.db, ID))!;
				assert.equal(activity.networkBytesPerSecond, top, "and its activity the same window's");
				// The next round starts over: fresh sequence numbers from 1 again would collide, so clear.
				await after.db.delete(progressReports);
			} finally {
				after.close();
			}
		}
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});
