/**
 * How an EC2 instance is observed: one paginated DescribeInstances filtered by the portal's tag
 * (and the owner's, for the dashboard refresh) lists them; what it shows becomes state, IPs, times,
 * billed periods (billed while running), DNS (while running, at the shown IP) and the end of a
 * bootstrap that stopped reporting; never the owner, which is the portal's record whatever the tags
 * say. Their volumes are synced with them.
 */
import type { Ec2Instance } from "../aws/types.ts";
import { instanceRate } from "../billing/rates.ts";
import type { Instance, NewInstance } from "../db/instances.ts";
import type { Deps } from "../deps.ts";
import { launchedInstanceFields } from "../launch/instance.ts";
import { clampToPast, VANISHED } from "../machines/lifecycle.ts";
import type { MachineSync, Observation } from "../machines/model.ts";
import { EMR_CLUSTER_TAG, OWNER_TAG, portalFilter, storedTags } from "../machines/tags.ts";
import { syncVolumes } from "./volumes.ts";

const BILLED_STATES = new Set(["running"]);
const UNBILLED_STATES = new Set(["stopping", "stopped", "shutting-down", "terminated", VANISHED]);
/** States in which the instance's DNS record is removed. */
const DNS_GONE_STATES = new Set(["shutting-down", "terminated", VANISHED]);

/** Parses EC2's "User initiated (2024-01-01 10:00:00 GMT)" into the time of the change. */
export function transitionTime(reason: string | undefined): Date | undefined {
	const match = reason && /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/.exec(reason);
	if (!match) return undefined;
	const at = new Date(`${match[1]}T${match[2]}Z`);
	return Number.isNaN(at.getTime()) ? undefined : at;
}

/** What AWS shows about an instance, as its row should hold it. */
function observeInstance(
	deps: Deps,
	row: Instance,
	seen: Ec2Instance | undefined,
	now: Date,
): Observation<Instance> {
	const state = seen?.state ?? VANISHED;
	const fields: Partial<NewInstance> = {};
	if (seen) {
		fields.instanceType = seen.type || row.instanceType;
		fields.amiId = seen.imageId || row.amiId;
		fields.availabilityZone = seen.availabilityZone ?? row.availabilityZone;
		fields.privateIp = seen.privateIp ?? null;
		fields.publicIp = seen.publicIp ?? null;
		fields.tags = storedTags(seen.tags);
	}

	// A vanished instance is billed until it was last seen, not until the sync noticed.
	const changedAt = clampToPast(
		seen ? transitionTime(seen.stateTransitionReason) : row.lastSeenAt ?? undefined,
		row.startedAt,
		now,
	);
	if (state === "running") {
		if (row.state !== "running" || !row.startedAt) fields.startedAt = clampToPast(seen?.launchTime, row.stoppedAt, now);
	} else if (UNBILLED_STATES.has(state) && !UNBILLED_STATES.has(row.state)) {
		fields.stoppedAt = changedAt;
	}

	// A bootstrap that stopped reporting does not leave a progress bar forever: its setup stalled.
	if (
		row.setupState === "running" && row.progressUpdatedAt &&
		now.getTime() - row.progressUpdatedAt.getTime() > deps.settings.PROGRESS_TIMEOUT_MINUTES * 60_000
	) {
		fields.progressText = `no progress report since ${row.progressUpdatedAt.toISOString().slice(0, 16)}Z`;
		fields.progressPercent = null;
		fields.setupState = "stalled";
		fields.setupEndedAt = now;
	}

	const ip = (deps.settings.DISPLAY_PUBLIC_IP ? seen?.publicIp : seen?.privateIp) ?? null;
	return {
		state,
		fields,
		bill: BILLED_STATES.has(state)
			? { open: fields.startedAt ?? row.startedAt ?? now }
			: UNBILLED_STATES.has(state)
			? { close: changedAt }
			: {},
		dns: DNS_GONE_STATES.has(state) ? { alive: false } : { alive: true, address: state === "running" ? ip : null },
	};
}

/** Instances: listed by the portal's tag, with their volumes. */
export const instanceSync: MachineSync<Instance, Ec2Instance> = {
	async list(deps, scope) {
		const filters = portalFilter();
		// Only narrows the listing of one owner's refresh; the rows followed are the owner's by the portal's record.
		if (scope.username !== undefined) filters[`tag:${OWNER_TAG}`] = [scope.username];
		return await deps.aws.ec2.describeInstances({ filters });
	},

	async lookup(deps, ids) {
		return await deps.aws.ec2.describeInstances({ filters: { "instance-id": [...ids] } });
	},

	observe: (deps, row, seen, now) => Promise.resolve(observeInstance(deps, row, seen, now)),

	owns: (seen) => !seen.tags[EMR_CLUSTER_TAG],

	adopted(seen, from, now) {
		const fields = from.launch
			? launchedInstanceFields(from.launch, from.group, from.config, now)
			: { name: seen.tags.Name ?? "", amiId: "" };
		return {
			...fields,
			...from.row,
			id: seen.id,
			instanceType: seen.type,
			amiId: seen.imageId || fields.amiId,
			state: "pending",
			launchedAt: seen.launchTime ?? now,
		};
	},

	found: (deps, seen) => ({
		name: seen.tags.Name ?? "",
		instanceType: seen.type,
		launchedAt: seen.launchTime,
		charge: { description: seen.type, rate: instanceRate(deps, { type: seen.type }) },
	}),

	syncParts: syncVolumes,
};
