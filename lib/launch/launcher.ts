/**
 * The launcher: moves every active launch one step, for every kind: submits queued launches to
 * CloudFormation (with the launch id as the idempotency token) and follows creating ones through
 * their kind until they complete, fail or time out. All state lives in `launches`, so a launch
 * started before a restart finishes after it, and a claim keeps two processes off one launch.
 */
import { activeLaunches, claimLaunch, releaseLaunch } from "../db/launches.ts";
import type { Deps } from "../deps.ts";
import { machineKind } from "../machines/kinds.ts";
import type { Settings } from "../settings.ts";
import { refreshMachines } from "../sync/observe.ts";
import { refreshVolumes } from "../sync/volumes.ts";
import { loadLaunchContext, submitStack } from "./stacks.ts";

/**
 * The most AWS calls one step makes one after another (a cluster's: stack, resources, the cluster,
 * its groups, spot price, DNS, steps, then stack, events and delete when it ended; an instance's fewer).
 */
const AWS_CALLS_PER_STEP = 12;
/** The most the SDK's standard retry waits between two attempts. */
const MAX_RETRY_DELAY_SECONDS = 20;

/**
 * How long one process holds a launch for one step before others assume it crashed: longer than
 * the step's AWS calls can take, each tried AWS_MAX_ATTEMPTS times for up to AWS_TIMEOUT_SECONDS,
 * so a slow step never outlives its claim (and two processes never move one launch at once).
 */
export function claimMs(settings: Pick<Settings, "AWS_MAX_ATTEMPTS" | "AWS_TIMEOUT_SECONDS">): number {
	const perCall = settings.AWS_MAX_ATTEMPTS * (settings.AWS_TIMEOUT_SECONDS + MAX_RETRY_DELAY_SECONDS);
	return Math.max(2 * 60_000, AWS_CALLS_PER_STEP * perCall * 1000);
}

/** Moves every active launch one step; the errors of one launch do not stop the others. Returns how many it saw. */
export async function advanceLaunches(deps: Deps): Promise<number> {
	const launches = await activeLaunches(deps.db);
	for (const { id } of launches) {
		const now = deps.clock();
		const until = new Date(now.getTime() + claimMs(deps.settings));
		// Another process may be moving the same launch right now (two portals on one database).
		const launch = await claimLaunch(deps.db, id, now, until);
		if (!launch) continue;
		try {
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
		} catch (error) {
			deps.log.launch.error("launch {launchId}: step failed, will retry next run: {message}", {
				launchId: id,
				message: (error as Error).message,
			});
		} finally {
			await releaseLaunch(deps.db, id, until);
		}
	}
	return launches.length;
}
