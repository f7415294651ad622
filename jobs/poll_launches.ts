/** Every minute (and right after a launch): submits queued launches and follows creating stacks. */
import type { Job } from "../lib/jobs.ts";
import { advanceLaunches } from "../lib/launcher.ts";

export const pollLaunchesJob: Job = {
	name: "poll-launches",
	everyMinutes: 1,
	leaseMs: 5 * 60_000,
	run: (deps) => advanceLaunches(deps),
};
