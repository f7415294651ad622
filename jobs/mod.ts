/** The periodic jobs and their thin Deno.cron registration. */
import type { Deps } from "../lib/deps.ts";
import { cronSchedule, type Job, runJob } from "../lib/jobs.ts";
import { advanceLaunchesJob } from "./advance_launches.ts";
import { enforcePoliciesJob } from "./enforce_policies.ts";
import { reindexPricingJob } from "./reindex_pricing.ts";
import { syncAwsJob } from "./sync_aws.ts";

/** Every periodic job for these settings. */
function allJobs(deps: Pick<Deps, "settings">): Job[] {
	return [advanceLaunchesJob, syncAwsJob(deps.settings.SYNC_INTERVAL_MINUTES), reindexPricingJob, enforcePoliciesJob];
}

/**
 * Registers each job with Deno.cron. Runs go through {@link runJob} (leases) and the background
 * tracker, so shutdown can wait for a running step.
 */
export function registerJobs(deps: Deps, signal: AbortSignal): void {
	for (const job of allJobs(deps)) {
		Deno.cron(job.name, cronSchedule(job), { signal }, () => {
			deps.background.run(job.name, () => runJob(deps, job, { scheduled: true }));
		});
	}
}
