/** Every SYNC_INTERVAL_MINUTES (default 5): mirrors AWS state of every managed resource into the database. */
import type { Job } from "../lib/jobs.ts";
import { syncResources } from "../lib/sync.ts";

export const SYNC_JOB_NAME = "sync-aws";

export function syncAwsJob(everyMinutes: number): Job {
	return {
		name: SYNC_JOB_NAME,
		everyMinutes,
		leaseMs: 10 * 60_000,
		run: (deps) => syncResources(deps),
	};
}
