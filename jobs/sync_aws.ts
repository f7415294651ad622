/** Every SYNC_INTERVAL_MINUTES (default 5): mirrors AWS state of every managed instance, volume and cluster. */
import type { Job } from "../lib/jobs.ts";
import { SYNC_JOB_NAME, syncAll } from "../lib/sync/all.ts";

export function syncAwsJob(everyMinutes: number): Job {
	return { name: SYNC_JOB_NAME, everyMinutes, run: (deps, signal) => syncAll(deps, {}, signal) };
}
