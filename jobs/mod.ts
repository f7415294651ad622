/** The periodic jobs and their thin Deno.cron registration. */
import type { Deps } from "../lib/deps.ts";
import { cronSchedule, type Job, runJob } from "../lib/jobs.ts";
import { pollLaunchesJob } from "./poll_launches.ts";
import { syncAwsJob } from "./sync_aws.ts";

/** Every periodic job for these settings. */
export function allJobs(deps: Pick<Deps, "settings">): Job[] {
	return [pollLaunchesJob, syncAwsJob(deps.settings.SYNC_INTERVAL_MINUTES)];
}

/**
 * Registers each job with Deno.cron. Runs go through {@link runJob} (leases) and the background
 * tracker, so shutdown can wait for a running step. Re-indexing the pricing file is per process.
 */
export function registerJobs(deps: Deps, signal: AbortSignal): void {
	for (const job of allJobs(deps)) {
		Deno.cron(job.name, cronSchedule(job), { signal }, () => {
			deps.background.run(job.name, () => runJob(deps, job, { scheduled: true }));
		});
	}
	Deno.cron("reindex-pricing", "* * * * *", { signal }, () => {
		deps.background.run("reindex-pricing", () => deps.pricing.reloadIfChanged());
	});
}
