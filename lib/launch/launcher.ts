/**
 * The launcher: moves every active launch one step, for every kind: submits queued launches to
 * CloudFormation (with the launch id as the idempotency token) and follows creating ones through
 * their kind until they complete, fail or time out. All state lives in `launches`, so a launch
 * started before a restart finishes after it, and a claim keeps two processes off one launch.
 */
import { activeLaunches, claimLaunch, type Launch, releaseLaunch, renewLaunchClaim } from "../db/launches.ts";
import type { Deps } from "../deps.ts";
import { leaseMs, whileHeld } from "../jobs.ts";
import { machineKind } from "../machines/kinds.ts";
import { refreshMachines } from "../sync/observe.ts";
import { refreshVolumes } from "../sync/volumes.ts";
import { loadLaunchContext, submitStack } from "./stacks.ts";

/** The launcher job's name (its lease row). */
export const LAUNCHER_JOB_NAME = "poll-launches";

/**
 * Moves every active launch one step; the errors of one launch do not stop the others. Each step
 * holds its launch's claim, renewed while it works, so another process (two portals on one
 * database) never moves the same launch at once and takes over a dead one's within LEASE_SECONDS.
 * A run whose `signal` is aborted (its job lease was taken over) stops before the next launch.
 * Returns how many it saw.
 */
export async function advanceLaunches(deps: Deps, signal?: AbortSignal): Promise<number> {
	const launches = await activeLaunches(deps.db);
	const holdMs = leaseMs(deps.settings);
	for (const { id } of launches) {
		if (signal?.aborted) break;
		const now = deps.clock();
		const launch = await claimLaunch(deps.db, id, deps.holder, now, new Date(now.getTime() + holdMs));
		if (!launch) continue;
		try {
			await whileHeld(
				deps,
				holdMs,
				() => renewLaunchClaim(deps.db, id, deps.holder, new Date(deps.clock().getTime() + holdMs)),
				() => stepLaunch(deps, launch),
			);
		} catch (error) {
			deps.log.launch.error("launch {launchId}: step failed, will retry next run: {message}", {
				launchId: id,
				message: (error as Error).message,
			});
		} finally {
			await releaseLaunch(deps.db, id, deps.holder);
		}
	}
	return launches.length;
}

/** One step of a claimed launch: submit a queued one, follow a creating one through its kind. */
async function stepLaunch(deps: Deps, launch: Launch): Promise<void> {
	const kind = machineKind(launch.kind);
	const context = await loadLaunchContext(deps, launch);
	if (launch.status === "queued") {
		await submitStack(deps, launch, context, (stack) => kind.launch.stack(deps, launch, stack));
	} else if (launch.status === "creating") {
		await kind.launch.follow(deps, launch, {
			...context,
			refresh: (ids) => refreshMachines(deps, kind, ids),
			refreshVolumes: (ids) => refreshVolumes(deps, ids),
		});
	}
}
