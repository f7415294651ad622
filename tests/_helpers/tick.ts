/** One tick of the launcher's cron, the one way tests move launches forward. */
import type { Deps } from "../../lib/deps.ts";
import { runJob } from "../../lib/jobs.ts";
import { advanceLaunchesJob } from "../../jobs/advance_launches.ts";

/**
 * Runs the launcher job once, as its cron does, after the background work in flight (the launcher
 * a request woke, a refresh after an action) has finished. Throws when the run does not complete.
 */
export async function tick(deps: Deps): Promise<void> {
	await deps.background.idle();
	const outcome = await runJob(deps, advanceLaunchesJob, { scheduled: false });
	if (outcome !== "ok") throw new Error(`the launcher's tick was ${outcome}`);
}
