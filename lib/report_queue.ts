/**
 * The instances' reports (progress and activity), checked against memory and written in batches.
 *
 * An instance reports every few seconds while it sets up and every minute after, and each report
 * used to cost a read of its instance and launch and a transaction of its own. Here the instance a
 * report is checked against (its launch's token hash, its state, its setup's progress) is cached
 * per instance, and the reports a route accepted are written together, in order, in one
 * transaction per window ({@link REPORT_WINDOW_MS}).
 *
 * The cache stays true by SQLite's `PRAGMA data_version`, read on the writer's own connection for
 * every report (a few microseconds): it moves when any other connection — this process's pool
 * (a sync, an action, an end of setup) or another process — commits, and then the whole cache is
 * dropped; the writer's own batches do not move it. Where there is no such check (a libSQL
 * server), nothing is cached and every report reads its instance, as before; only the writes are
 * coalesced.
 *
 * What is queued but not yet written is part of what a report is checked against (the last
 * progress of each instance), so a re-read after a change elsewhere still sees it. A crash loses at
 * most the unwritten window; each report overwrites the previous one anyway, and the history
 * misses those stages. A batch the database refuses (busy, full, failing) stays queued and is tried
 * again the next window, logged; the queue holds at most {@link MAX_QUEUED} reports, and beyond that
 * a report is answered as a busy database (503) rather than dropped. Shutdown flushes.
 */
import { LRUCache } from "lru-cache";
import { isDatabaseBusy } from "./db/client.ts";
import type { Db } from "./db/client.ts";
import { unwritableReason } from "./db/errors.ts";
import { instanceForProgress, type ProgressTarget } from "./db/instances.ts";
import { type ActivityTarget, instanceForActivity } from "./db/policies.ts";
import type { ActivityWrite, ProgressWrite, ReportStore, ReportWrite } from "./db/reports.ts";
import type { Loggers } from "./log.ts";

/**
 * How long accepted reports wait to be written together. A window's batch is written on the
 * JavaScript thread, so requests arriving meanwhile wait for it: under the bench's load (≈ 11,000
 * reports a second) 20 ms windows gave the callback a p90 of 12 ms and a p99 of 25 ms, 5 ms windows
 * 7 ms and 17 ms at the same rate (bench/RESULTS.md). A crash loses at most this window.
 */
export const REPORT_WINDOW_MS = 5;
/** Reports waiting at most; past that the database is answered as busy. */
export const MAX_QUEUED = 50_000;
/** Instances whose checks are cached, each kind. */
const CACHED_INSTANCES = 20_000;
/** How often a database that keeps refusing the batch is logged again. */
const LOG_AGAIN_MS = 10_000;

export type { ActivityWrite, ProgressWrite };

/** The error a report is refused with when the queue is full: answered as a busy database. */
function queueFull(queued: number): Error {
	return Object.assign(new Error(`database is busy: ${queued} reports wait to be written`), { code: "SQLITE_BUSY" });
}

/** Whether a batch failed because of the database (try again later) rather than because of a report. */
function databaseRefused(error: unknown): boolean {
	return isDatabaseBusy(error) || unwritableReason(error) !== undefined;
}

export interface ReportQueueOptions {
	db: Db;
	store: ReportStore;
	log: Loggers["web"];
	windowMs?: number;
	maxQueued?: number;
}

export class ReportQueue {
	readonly #db: Db;
	readonly #store: ReportStore;
	readonly #log: Loggers["web"];
	readonly #windowMs: number;
	readonly #maxQueued: number;
	#queued: ReportWrite[] = [];
	/**
	 * Reports of the batch being written, not yet in the database: counted as queued. A write to an
	 * embedded file is synchronous, so nothing sees it in flight; one through a libSQL server is on
	 * the network for milliseconds, while reports keep coming.
	 */
	#inFlight = 0;
	#writing: Promise<void> | undefined;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#closed = false;
	#refusedSince: number | undefined;
	#loggedAt = 0;
	readonly #progress = new LRUCache<string, ProgressTarget>({ max: CACHED_INSTANCES });
	readonly #activity = new LRUCache<string, ActivityTarget>({ max: CACHED_INSTANCES });
	/** The latest queued progress of each instance, until it is written. */
	readonly #unwritten = new Map<string, ProgressWrite>();
	#mark: number | undefined;
	/** Moves whenever the cache is dropped: a read that started before may not be cached. */
	#epoch = 0;

	constructor(options: ReportQueueOptions) {
		this.#db = options.db;
		this.#store = options.store;
		this.#log = options.log;
		this.#windowMs = options.windowMs ?? REPORT_WINDOW_MS;
		this.#maxQueued = options.maxQueued ?? MAX_QUEUED;
	}

	/** Reports accepted and not yet written. */
	get queued(): number {
		return this.#queued.length + this.#inFlight;
	}

	/** Whether the cache may be used; drops it when another connection committed since the last look. */
	async #current(): Promise<number | undefined> {
		const mark = await this.#store.changeMark();
		if (mark === undefined) return undefined;
		if (mark !== this.#mark) {
			this.#progress.clear();
			this.#activity.clear();
			this.#mark = mark;
			this.#epoch++;
		}
		return this.#epoch;
	}

	/** The instance a progress report is checked against, with its queued progress; undefined when unknown. */
	async progressTarget(id: string): Promise<ProgressTarget | undefined> {
		const epoch = await this.#current();
		const hit = epoch === undefined ? undefined : this.#progress.get(id);
		if (hit) return hit;
		const row = await instanceForProgress(this.#db, id);
		if (!row) return undefined;
		const unwritten = this.#unwritten.get(id);
		// Only where the guarded write would still apply it (the setup still reports).
		if (unwritten && (row.setupState === null || row.setupState === "running")) {
			if (!row.progressUpdatedAt || row.progressUpdatedAt.getTime() <= unwritten.at.getTime()) {
				Object.assign(row, { progressText: unwritten.text, progressUpdatedAt: unwritten.at, setupState: "running" });
			}
		}
		if (epoch !== undefined && epoch === this.#epoch) this.#progress.set(id, row);
		return row;
	}

	/** The instance an activity report or keep-alive is checked against; undefined when unknown. */
	async activityTarget(id: string): Promise<ActivityTarget | undefined> {
		const epoch = await this.#current();
		const hit = epoch === undefined ? undefined : this.#activity.get(id);
		if (hit) return hit;
		const row = await instanceForActivity(this.#db, id);
		if (row && epoch !== undefined && epoch === this.#epoch) this.#activity.set(id, row);
		return row;
	}

	/** Queues a progress report of a setup still running; the cached instance shows it at once. */
	progress(write: ProgressWrite): void {
		this.#enqueue({ kind: "progress", write });
		this.#unwritten.set(write.instanceId, write);
		this.settled(write.instanceId, write);
	}

	/**
	 * Shows a report on the cached instance: a progress just queued, or the end of a setup the
	 * caller writes at once (so that a report racing it is refused at once, as after the write).
	 */
	settled(id: string, write: Pick<ProgressWrite, "text" | "at" | "setupState">): void {
		const cached = this.#progress.peek(id);
		if (cached) {
			cached.progressText = write.text;
			cached.progressUpdatedAt = write.at;
			cached.setupState = write.setupState;
		}
	}

	/** Drops what is cached of an instance (a write the cache anticipated failed). */
	forget(id: string): void {
		this.#progress.delete(id);
		this.#activity.delete(id);
	}

	/** Queues an activity report. */
	activity(write: ActivityWrite): void {
		this.#enqueue({ kind: "activity", write });
	}

	#enqueue(report: ReportWrite): void {
		if (this.queued >= this.#maxQueued) throw queueFull(this.queued);
		this.#queued.push(report);
		this.#schedule(this.#windowMs);
	}

	#schedule(ms: number): void {
		if (this.#timer !== undefined || this.#closed) return;
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			this.flush().catch(() => {
				// Logged by #write; the reports stay queued for the next window.
				this.#schedule(this.#windowMs);
			});
		}, ms);
	}

	/**
	 * Writes everything queued so far; resolves when it is in the database. Rejects when the
	 * database refused the batch (the reports stay queued and the next window tries again).
	 */
	async flush(): Promise<void> {
		while (true) {
			if (this.#writing) {
				await this.#writing.catch(() => {});
				continue;
			}
			if (this.#queued.length === 0) return;
			const batch = this.#queued;
			this.#queued = [];
			this.#inFlight = batch.length;
			this.#writing = this.#write(batch).finally(() => {
				this.#writing = undefined;
				this.#inFlight = 0;
			});
			await this.#writing;
		}
	}

	async #write(batch: ReportWrite[]): Promise<void> {
		try {
			await this.#store.write(batch);
		} catch (error) {
			if (databaseRefused(error)) {
				this.#inFlight = 0;
				this.#queued = [...batch, ...this.#queued];
				this.#refused(error);
				throw error;
			}
			// Not the database: some report of the batch cannot be written. Write them one by one, so
			// that only such a report is left out (and said).
			await this.#writeEach(batch);
			return;
		}
		this.#written(batch);
	}

	async #writeEach(batch: ReportWrite[]): Promise<void> {
		for (const [i, report] of batch.entries()) {
			try {
				await this.#store.write([report]);
				this.#written([report]);
			} catch (error) {
				if (databaseRefused(error)) {
					this.#inFlight = 0;
					this.#queued = [...batch.slice(i), ...this.#queued];
					this.#refused(error);
					throw error;
				}
				this.#written([report]);
				this.#log.error("a {kind} report of {instanceId} cannot be written and is left out: {message}", {
					kind: report.kind,
					instanceId: report.kind === "progress" ? report.write.instanceId : report.write.machineId,
					message: (error as Error).message,
				});
			}
		}
	}

	#written(batch: readonly ReportWrite[]): void {
		this.#inFlight = Math.max(0, this.#inFlight - batch.length);
		for (const report of batch) {
			if (report.kind === "progress" && this.#unwritten.get(report.write.instanceId) === report.write) {
				this.#unwritten.delete(report.write.instanceId);
			}
		}
		if (this.#refusedSince !== undefined) {
			this.#log.info("the queued reports are written again after {seconds} s", {
				seconds: Math.round((Date.now() - this.#refusedSince) / 1000),
			});
			this.#refusedSince = undefined;
		}
	}

	#refused(error: unknown): void {
		const now = Date.now();
		this.#refusedSince ??= now;
		if (now - this.#loggedAt < LOG_AGAIN_MS) return;
		this.#loggedAt = now;
		this.#log.warn("the database refused {reports} queued reports ({message}); they are tried again", {
			reports: this.#queued.length,
			message: (error as Error).message,
		});
	}

	/** Stops the window and writes what is queued (a few tries); says what could not be written. */
	async close(): Promise<void> {
		this.#closed = true;
		clearTimeout(this.#timer);
		this.#timer = undefined;
		for (let attempt = 1;; attempt++) {
			try {
				await this.flush();
				return;
			} catch (error) {
				if (attempt >= 3) {
					this.#log.error("{reports} reports could not be written before shutdown: {message}", {
						reports: this.#queued.length,
						message: (error as Error).message,
					});
					return;
				}
			}
		}
	}
}
