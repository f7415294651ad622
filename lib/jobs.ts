/**
 * Running periodic jobs safely across processes: a run takes the job's lease in the database
 * (holder, expiry) and renews it while it works (a heartbeat), so the lease lapses only when its
 * holder died, LEASE_SECONDS after; a scheduled run also claims its schedule tick, so each tick
 * runs once however many processes fire it, except that a tick a dead holder left unfinished is
 * taken over. Every process checks every job once a minute and once at startup, so a dead holder's
 * run resumes within about a minute whatever the job's interval. A job that keeps one process's own
 * state (the pricing index) runs in every process, guarded in memory.
 */
import { acquireLease, releaseLease, renewLease, staleLeases } from "./db/leases.ts";
import type { Deps } from "./deps.ts";
import { CREDENTIAL_CODES } from "./aws_failures.ts";
import { AwsError } from "./errors.ts";
import type { Settings } from "./settings.ts";

/** A periodic job: a plain function plus its schedule. */
export interface Job {
	/** Stable kebab-case name (lease key, cron name, metrics label). */
	name: string;
	/** Minutes between runs: a run per tick of this many minutes. */
	everyMinutes: number;
	/** Runs in every process, not once across them: the lease is this process's alone. */
	everyProcess?: boolean;
	/** `signal` is aborted when the run lost its lease (another process took it over): stop at the next step. */
	run(deps: Deps, signal: AbortSignal): Promise<unknown>;
}

export type JobOutcome = "ok" | "failed" | "skipped";

/** The cron schedule of every job: each process checks once a minute whether a job is due or abandoned. */
export const CHECK_SCHEDULE = "* * * * *";

/** The schedule tick `now` falls in. */
export function tickOf(job: Pick<Job, "everyMinutes">, now: Date): number {
	return Math.floor(now.getTime() / (job.everyMinutes * 60_000));
}

/** How long a lease or a launch claim lasts unless its holder renews it. */
export function leaseMs(settings: Pick<Settings, "LEASE_SECONDS">): number {
	return settings.LEASE_SECONDS * 1000;
}

/**
 * Runs `work` while renewing its hold with `renew` every third of `holdMs` (the heartbeat), so the
 * hold never lapses while its holder lives however long `work` takes. When a renewal finds the hold
 * lost (it lapsed, say while the process was stalled, and another took over), `work`'s signal is
 * aborted so it stops at its next step; a renewal that fails (a busy database) is retried at the next beat.
 */
export async function whileHeld<T>(
	deps: Pick<Deps, "log">,
	holdMs: number,
	renew: () => Promise<boolean>,
	work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
	const lost = new AbortController();
	let beat = Promise.resolve();
	const timer = setInterval(() => {
		beat = beat.then(async () => {
			if (lost.signal.aborted) return;
			try {
				if (!await renew()) lost.abort(new Error("the hold was taken over"));
			} catch (error) {
				deps.log.web.warn("could not renew a lease: {message}", { message: (error as Error).message });
			}
		});
	}, Math.max(50, Math.floor(holdMs / 3)));
	try {
		return await work(lost.signal);
	} finally {
		clearInterval(timer);
		await beat;
	}
}

/**
 * Runs the job if this process gets its lease: for a scheduled run (`scheduled: true`) once per
 * tick across processes (or to take over a dead holder's run); for a kick (right after a launch)
 * whenever nobody holds it.
 */
export async function runJob(deps: Deps, job: Job, options: { scheduled: boolean }): Promise<JobOutcome> {
	if (job.everyProcess) return await runInProcess(deps, job);
	const now = deps.clock();
	const holdMs = leaseMs(deps.settings);
	const acquired = await acquireLease(deps.db, {
		name: job.name,
		holder: deps.holder,
		now,
		expiresAt: new Date(now.getTime() + holdMs),
		tick: options.scheduled ? tickOf(job, now) : undefined,
	});
	if (!acquired) {
		deps.metrics.jobRuns.inc({ job: job.name, outcome: "skipped" });
		return "skipped";
	}
	const started = performance.now();
	let error: { raw: string; notice: string } | undefined;
	try {
		await whileHeld(
			deps,
			holdMs,
			() => renewLease(deps.db, job.name, deps.holder, new Date(deps.clock().getTime() + holdMs)),
			(signal) => job.run(deps, signal),
		);
	} catch (e) {
		error = { raw: (e as Error).message || String(e), notice: failureNotice(e) };
		deps.log.web.error("job {job} failed: {message}", { job: job.name, message: error.raw });
	} finally {
		await releaseLease(deps.db, job.name, deps.holder, { finishedAt: deps.clock(), error });
		deps.metrics.jobDuration.observe({ job: job.name }, (performance.now() - started) / 1000);
		deps.metrics.jobRuns.inc({ job: job.name, outcome: error === undefined ? "ok" : "failed" });
	}
	return error === undefined ? "ok" : "failed";
}

/**
 * The jobs whose lease is held by a run that started more than SYNC_STALE_MINUTES ago: its holder
 * is stuck (renewing the lease, never finishing) or died with nobody to take over; `/health` says so.
 */
export async function staleJobs(deps: Pick<Deps, "db" | "settings">, now: Date): Promise<string[]> {
	return await staleLeases(deps.db, new Date(now.getTime() - deps.settings.SYNC_STALE_MINUTES * 60_000));
}

/** The every-process jobs running now, per app. */
const inProcess = new WeakMap<Deps, Set<string>>();

/** Runs an every-process job unless this process is already running it. */
async function runInProcess(deps: Deps, job: Job): Promise<JobOutcome> {
	const running = inProcess.get(deps) ?? new Set<string>();
	inProcess.set(deps, running);
	if (running.has(job.name)) {
		deps.metrics.jobRuns.inc({ job: job.name, outcome: "skipped" });
		return "skipped";
	}
	running.add(job.name);
	const started = performance.now();
	try {
		await job.run(deps, new AbortController().signal);
		deps.metrics.jobRuns.inc({ job: job.name, outcome: "ok" });
		return "ok";
	} catch (error) {
		deps.log.web.error("job {job} failed: {message}", { job: job.name, message: (error as Error).message });
		deps.metrics.jobRuns.inc({ job: job.name, outcome: "failed" });
		return "failed";
	} finally {
		running.delete(job.name);
		deps.metrics.jobDuration.observe({ job: job.name }, (performance.now() - started) / 1000);
	}
}

/** What users are told of each class of failure, most serious first. */
const NOTICES = {
	credentials: "AWS refused the portal's credentials (an admin must configure them)",
	denied: "AWS denied the portal a permission it needs (an admin must check its IAM policy)",
	unanswered: "AWS did not answer",
	throttled: "AWS was throttling the portal's requests",
	refused: "AWS refused one of the portal's requests",
	internal: "the portal hit an unexpected error (its log has the details)",
} as const;
type FailureClass = keyof typeof NOTICES;
const BY_SEVERITY = Object.keys(NOTICES) as FailureClass[];

function classOf(error: unknown): FailureClass {
	if (!(error instanceof AwsError)) return "internal";
	if (CREDENTIAL_CODES.test(error.code ?? "") || /credential/i.test(error.message)) return "credentials";
	switch (error.kind) {
		case "denied":
			return "denied";
		case "unavailable":
		case "timeout":
			return "unanswered";
		case "throttled":
			return "throttled";
		default:
			return "refused";
	}
}

/**
 * What users may be told about a failed run (the sync's shows in every page's banner): its class,
 * never its message, which for AWS can hold ARNs and account ids; the raw message stays in the log
 * and the lease for operators. A failure of several parts (AggregateError) is told by its most
 * serious one.
 */
export function failureNotice(error: unknown): string {
	const classes = (error instanceof AggregateError ? error.errors : [error]).map(classOf);
	return NOTICES[BY_SEVERITY.find((c) => classes.includes(c)) ?? "internal"];
}

/**
 * Runs a job soon in the background (e.g. submit a launch right after the request); when another
 * process holds the lease it retries a few times, and the next scheduled tick is the backstop.
 */
export function kickJob(deps: Deps, job: Job): void {
	deps.background.run(`kick ${job.name}`, async () => {
		for (let attempt = 0; attempt < 5; attempt++) {
			if (await runJob(deps, job, { scheduled: false }) !== "skipped") return;
			if (!await deps.background.sleep(1000 * (attempt + 1))) return;
		}
	});
}
