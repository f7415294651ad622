/**
 * One sync of everything the portal manages, the name of the job that runs it, and what the pages
 * are told about how fresh their data is.
 */
import { getLease } from "../db/leases.ts";
import type { ConfigKind } from "../db/schema.ts";
import { getUser } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { MACHINE_KINDS, machineKind } from "../machines/kinds.ts";
import { syncSignals } from "../policy/signals.ts";
import { syncConsoleTails } from "./console.ts";
import { syncDisplay } from "./display.ts";
import { syncMachines, type SyncResult } from "./observe.ts";

/** The sync job's name: its lease row is where the pages read when AWS was last reached. */
export const SYNC_JOB_NAME = "sync-aws";

/** Syncs every machine of one kind, with its parts (all of them, or one owner's). */
export async function syncKind(deps: Deps, kind: ConfigKind, scope: { ownerId?: number } = {}): Promise<SyncResult> {
	const owner = scope.ownerId === undefined ? undefined : await getUser(deps.db, scope.ownerId);
	if (scope.ownerId !== undefined && !owner) return { seen: 0, changed: 0, adopted: 0, vanished: 0, parts: 0 };
	return await syncMachines(deps, machineKind(kind), { ownerId: scope.ownerId, username: owner?.username });
}

/**
 * Every kind in turn (instances with their volumes and the display plugin's columns and locks,
 * then clusters), all of them or one owner's for the dashboard refresh; then, in a full sync, the
 * workload signals and the console tails of setups that failed or are slow. Each kind runs even
 * when another fails (EC2 throttled must not freeze cluster states); the failures are then thrown
 * together so the job records them. A run whose `signal` is aborted (its lease was taken over)
 * stops before the next kind.
 */
export async function syncAll(deps: Deps, scope: { ownerId?: number } = {}, signal?: AbortSignal): Promise<void> {
	const outcomes: (Error | undefined)[] = [];
	for (const kind of Object.keys(MACHINE_KINDS) as ConfigKind[]) {
		if (signal?.aborted) break;
		const outcome = await syncKind(deps, kind, scope).then(() => undefined, (error: Error) => error);
		outcomes.push(outcome);
		// The display plugin's columns and locks, from the instances as this sync just saw them.
		if (kind === "instance" && !outcome) await syncDisplay(deps, scope);
	}
	if (scope.ownerId === undefined) {
		await syncSignalsLogged(deps);
		await syncConsoleTails(deps);
	}
	const failures = outcomes.filter((error) => error !== undefined);
	if (failures.length === 1) throw failures[0];
	if (failures.length > 1) throw new AggregateError(failures, failures.map((error) => error.message).join("; "));
}

/**
 * The workload signals of machines that report none of their own (CloudWatch, EMR). A failure is
 * logged, not thrown: without them the idle policy stops nothing, while the sync's own data is fresh.
 */
async function syncSignalsLogged(deps: Deps): Promise<void> {
	try {
		await syncSignals(deps);
	} catch (error) {
		deps.log.web.warn("workload signals not synced: {message}", { message: (error as Error).message });
	}
}

/** How fresh the pages' data is. */
export interface SyncStatus {
	/** When a sync last succeeded, or null when none has. */
	lastSuccessAt: Date | null;
	/** The banner to show when the data may be out of date; undefined when it is fresh. */
	notice?: string;
}

/** Reads the sync job's lease and says how fresh the data is, as of `now`. */
export async function syncStatus(deps: Pick<Deps, "db" | "settings">, now: Date): Promise<SyncStatus> {
	const lease = await getLease(deps.db, SYNC_JOB_NAME);
	const lastSuccessAt = lease?.lastSuccessAt ?? null;
	return {
		lastSuccessAt,
		notice: syncNotice(lastSuccessAt, lease?.lastError ? lease.lastErrorNotice : null, now, deps.settings),
	};
}

/**
 * The banner shown when what the pages show may be out of date, with the classified reason of the
 * last failure (never its raw message, which can hold ARNs and account ids).
 */
function syncNotice(
	lastSuccess: Date | null,
	failure: string | null,
	now: Date,
	settings: Pick<Deps["settings"], "SYNC_STALE_MINUTES">,
): string | undefined {
	if (lastSuccess && now.getTime() - lastSuccess.getTime() <= settings.SYNC_STALE_MINUTES * 60_000) return undefined;
	if (!lastSuccess) {
		return failure
			? `The portal has not reached AWS yet: ${failure}. States shown here may be out of date.`
			: "The portal has not synced with AWS yet; states shown here may be out of date.";
	}
	const minutes = Math.round((now.getTime() - lastSuccess.getTime()) / 60_000);
	return `AWS was last synced ${minutes} minutes ago${
		failure ? ` (the last attempt failed: ${failure})` : ""
	}; states shown here may be out of date.`;
}
