/** The periodic jobs and their thin Deno.cron registration. */
import type { Deps } from "../lib/deps.ts";
import { CHECK_SCHEDULE, type Job, runJob } from "../lib/jobs.ts";
import { advanceLaunchesJob } from "./advance_launches.ts";
import { advanceResizesJob } from "./advance_resizes.ts";
import { enforceBudgetsJob } from "./enforce_budgets.ts";
import { enforcePoliciesJob } from "./enforce_policies.ts";
import { readActualCostsJob } from "./read_actual_costs.ts";
import { reindexPricingJob } from "./reindex_pricing.ts";
import { syncAwsJob } from "./sync_aws.ts";
import { writeChargebacksJob } from "./write_chargebacks.ts";

/** Every periodic job for these settings. */
function allJobs(deps: Pick<Deps, "settings">): Job[] {
	return [
		advanceLaunchesJob,
		advanceResizesJob,
		syncAwsJob(deps.settings.SYNC_INTERVAL_MINUTES),
		reindexPricingJob,
		enforcePoliciesJob,
		enforceBudgetsJob,
		readActualCostsJob,
		writeChargebacksJob,
	];
}

/**
 * Registers each job with Deno.cron, checked every minute (a job runs when its tick is due, or to
 * take over the run of a holder that died) and once now, at startup: work a stopped process left
 * resumes without waiting for the next interval. Runs go through {@link runJob} (leases) and the
 * background tracker, so shutdown can wait for a running step.
 */
export function registerJobs(deps: Deps, signal: AbortSignal): void {
	for (const job of allJobs(deps)) {
		const check = () => deps.background.run(job.name, () => runJob(deps, job, { scheduled: true }));
		Deno.cron(job.name, CHECK_SCHEDULE, { signal }, check);
		check();
	}
}
