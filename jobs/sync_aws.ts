/** Every SYNC_INTERVAL_MINUTES (default 5): mirrors AWS state of every managed instance, volume and cluster. */
import { syncClusters } from "../lib/cluster.ts";
import type { Deps } from "../lib/deps.ts";
import type { Job } from "../lib/jobs.ts";
import { syncResources } from "../lib/sync.ts";

export const SYNC_JOB_NAME = "sync-aws";

/** Instances and volumes, then clusters (all of them, or one owner's for the dashboard refresh). */
export async function syncAll(deps: Deps, scope: { ownerId?: number } = {}): Promise<void> {
	await syncResources(deps, scope);
	await syncClusters(deps, scope);
}

export function syncAwsJob(everyMinutes: number): Job {
	return { name: SYNC_JOB_NAME, everyMinutes, leaseMs: 10 * 60_000, run: (deps) => syncAll(deps) };
}
