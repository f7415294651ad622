/**
 * Running periodic jobs safely across processes: a run takes the job's lease in the database
 * (holder, expiry); a scheduled run also claims its schedule tick, so each tick runs once however
 * many processes fire it. A holder that crashes lets its lease lapse after `leaseMs`. A job that
 * keeps one process's own state (the pricing index) runs in every process, leased in memory.
 */
import { acquireLease, releaseLease } from "./db/leases.ts";
import type { Deps } from "./deps.ts";
import { CREDENTIAL_CODES } from "./aws_failures.ts";
import { AwsError } from "./errors.ts";

/** A periodic job: a plain function plus its schedule. */
export interface Job {
	/** Stable kebab-case name (lease key, cron name, metrics label). */
	name: string;
	/** Minutes between runs; the cron schedule is derived from it. */
	everyMinutes: number;
	/** How long a run may hold the lease before another process may assume it crashed. */
	leaseMs: number;
	/** Runs in every process, not once across them: the lease is this process's alone. */
	everyProcess?: boolean;
	run(deps: Deps): Promise<unknown>;
}

export type JobOutcome = "ok" | "failed" | "skipped";

/** The schedule tick `now` falls in. */
export function tickOf(job: Pick<Job, "everyMinutes">, now: Date): number {
	return Math.floor(now.getTime() / (job.everyMinutes * 60_000));
}

/** The cron expression for a job's interval. */
export function cronSchedule(job: Pick<Job, "everyMinutes">): string {
	return job.everyMinutes === 1 ? "* * * * *" : `*/${job.everyMinutes} * * * *`;
}

/**
 * Runs the job if this process gets its lease: for a scheduled run (`scheduled: true`) only once per
 * tick across processes; for a kick (right after a launch) whenever nobody holds it.
 */
export async function runJob(deps: Deps, job: Job, options: { scheduled: boolean }): Promise<JobOutcome> {
	if (job.everyProcess) return await runInProcess(deps, job);
	const now = deps.clock();
	const acquired = await acquireLease(deps.db, {
		name: job.name,
		holder: deps.holder,
		now,
		expiresAt: new Date(now.getTime() + job.leaseMs),
		tick: options.scheduled ? tickOf(job, now) : undefined,
	});
	if (!acquired) {
		deps.metrics.jobRuns.inc({ job: job.name, outcome: "skipped" });
		return "skipped";
	}
	const started = performance.now();
	let error: { raw: string; notice: string } | undefined;
	try {
		await job.run(deps);
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

/** When each every-process job's running lease lapses, per app. */
const inProcess = new WeakMap<Deps, Map<string, number>>();

/** Runs an every-process job unless this process is already running it (within its lease). */
async function runInProcess(deps: Deps, job: Job): Promise<JobOutcome> {
	const leases = inProcess.get(deps) ?? new Map<string, number>();
	inProcess.set(deps, leases);
	const now = deps.clock().getTime();
	if ((leases.get(job.name) ?? 0) > now) {
		deps.metrics.jobRuns.inc({ job: job.name, outcome: "skipped" });
		return "skipped";
	}
	leases.set(job.name, now + job.leaseMs);
	const started = performance.now();
	try {
		await job.run(deps);
		deps.metrics.jobRuns.inc({ job: job.name, outcome: "ok" });
		return "ok";
	} catch (error) {
		deps.log.web.error("job {job} failed: {message}", { job: job.name, message: (error as Error).message });
		deps.metrics.jobRuns.inc({ job: job.name, outcome: "failed" });
		return "failed";
	} finally {
		leases.delete(job.name);
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
