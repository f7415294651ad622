/**
 * Keeps the volumes the portal's stacks made in step with AWS: state, size, attachment, and their
 * billed periods (billed while they exist). Volumes are synced with their instances.
 */
import type { Ec2Volume } from "../aws/types.ts";
import { volumeCharge } from "../billing/charges.ts";
import { closeBillFor, openBillFor } from "../billing/periods.ts";
import { openBillOf } from "../db/bills.ts";
import { liveVolumes, updateVolume, type Volume, volumesByIds } from "../db/volumes.ts";
import type { Deps } from "../deps.ts";
import { clampToPast, VANISHED, VOLUME_GONE_STATES, withinVanishGrace } from "../machines/lifecycle.ts";
import { portalFilter } from "../machines/tags.ts";
import { diff } from "./observe.ts";

/** Applies what AWS shows about a volume: state, size, attachment and billed period. */
async function observeVolume(deps: Deps, row: Volume, seen: Ec2Volume | undefined, now: Date): Promise<void> {
	const state = seen?.state ?? VANISHED;
	const next: Partial<Volume> = { state };
	if (seen) {
		next.lastSeenAt = now;
		if (seen.sizeGb) next.sizeGb = seen.sizeGb;
		if (seen.volumeType) next.volumeType = seen.volumeType;
		if (seen.iops !== undefined) next.iops = seen.iops;
		if (seen.throughput !== undefined) next.throughput = seen.throughput;
		if (seen.attachedTo) next.instanceId = seen.attachedTo;
		if (seen.device) next.device = seen.device;
	}
	const changes = diff(row, next);
	const volume = { kind: "volume" as const, ...row, ...changes };
	if (VOLUME_GONE_STATES.includes(state) || state === "deleting") {
		// A vanished volume (deleted volumes nearly always end so) is billed until it was last seen.
		await closeBillFor(deps, volume, seen ? now : clampToPast(row.lastSeenAt ?? undefined, undefined, now), state);
	} else if (state !== "creating" && !await openBillOf(deps.db, row.id)) {
		const from = clampToPast(seen?.createTime, undefined, now);
		await openBillFor(deps, volume, volumeCharge(deps, volume, from), from);
	}
	if (Object.keys(changes).length > 0) await updateVolume(deps.db, row.id, changes);
}

/** Syncs every live volume (or one owner's); returns how many it followed. */
export async function syncVolumes(deps: Deps, scope: { ownerId?: number }, now: Date): Promise<number> {
	const tracked = await liveVolumes(deps.db, scope.ownerId);
	if (tracked.length === 0) return 0;
	const seen = new Map((await deps.aws.ec2.describeVolumes({ filters: portalFilter() })).map((v) => [v.id, v]));
	const missing = tracked.filter((v) => !seen.has(v.id)).map((v) => v.id);
	if (missing.length > 0) {
		for (const v of await deps.aws.ec2.describeVolumes({ filters: { "volume-id": missing } })) seen.set(v.id, v);
	}
	for (const row of tracked) {
		const volume = seen.get(row.id);
		if (!volume && withinVanishGrace(row, now)) continue;
		await observeVolume(deps, row, volume, now);
	}
	return tracked.length;
}

/** Refreshes specific volumes right away (when a launch records them). */
export async function refreshVolumes(deps: Deps, ids: readonly string[]): Promise<void> {
	if (ids.length === 0) return;
	const now = deps.clock();
	const seen = new Map(
		(await deps.aws.ec2.describeVolumes({ filters: { "volume-id": [...ids] } })).map((v) => [v.id, v]),
	);
	for (const row of await volumesByIds(deps.db, [...ids])) {
		const volume = seen.get(row.id);
		if (!volume && withinVanishGrace(row, now)) continue;
		await observeVolume(deps, row, volume, now);
	}
}
