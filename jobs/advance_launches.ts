/** Every minute (and right after a launch): submits queued launches and follows creating stacks and clusters. */
import type { Job } from "../lib/jobs.ts";
import { advanceLaunches } from "../lib/launcher.ts";
import { LAUNCH_HANDLERS } from "../lib/launch_kinds.ts";

export const advanceLaunchesJob: Job = {
	name: "poll-launches",
	everyMinutes: 1,
	leaseMs: 5 * 60_000,
	run: (deps) => advanceLaunches(deps, LAUNCH_HANDLERS),
};
