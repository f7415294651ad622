/** Every SYNC_INTERVAL_MINUTES (default 5): mirrors AWS state of every managed instance, volume and cluster. */
import { syncClusters } from "../lib/cluster.ts";
import type { Deps } from "../lib/deps.ts";
import type { Job } from "../lib/jobs.ts";
import { syncResources } from "../lib/sync.ts";

export const SYNC_JOB_NAME = "sync-aws";

/**
 * Instances and volumes, then clusters (all of them, or one owner's for the dashboard refresh).
 * Each half runs even when the other fails (EC2 throttled must not freeze cluster states); the
 * failures are then thrown together so the job records them.
 */
export async function syncAll(deps: Deps, scope: { ownerId?: number } = {}): Promise<void> {
	const outcomes = [
		await syncResources(deps, scope).then(() => undefined, (error: Error) => error),
		await syncClusters(deps, scope).then(() => undefined, (error: Error) => error),
	];
	const failures = outcomes.filter((error) => error !== undefined);
	if (failures.length === 1) throw failures[0];
	if (failures.length > 1) throw new AggregateError(failures, failures.map((error) => error.message).join("; "));
}

export function syncAwsJob(everyMinutes: number): Job {
	return { name: SYNC_JOB_NAME, everyMinutes, leaseMs: 10 * 60_000, run: (deps) => syncAll(deps) };
}
