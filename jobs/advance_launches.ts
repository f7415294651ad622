/** Every minute (and right after a launch): submits queued launches and follows creating stacks and clusters. */
import type { Job } from "../lib/jobs.ts";
import { advanceLaunches } from "../lib/launch/launcher.ts";

export const advanceLaunchesJob: Job = {
	name: "poll-launches",
	everyMinutes: 1,
	leaseMs: 5 * 60_000,
	run: advanceLaunches,
};
