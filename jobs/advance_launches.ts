/** Every minute (and right after a launch): submits queued launches and follows creating stacks and clusters. */
import type { Job } from "../lib/jobs.ts";
import { advanceLaunches, LAUNCHER_JOB_NAME } from "../lib/launch/launcher.ts";

export const advanceLaunchesJob: Job = {
	name: LAUNCHER_JOB_NAME,
	everyMinutes: 1,
	run: advanceLaunches,
};
