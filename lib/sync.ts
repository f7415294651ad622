/**
 * Keeps the database in step with AWS. One paginated DescribeInstances (filtered by the portal's
 * LaunchedBy tag) and one DescribeVolumes per run update state, IPs and times, open and close
 * billed periods on every observed change (also changes made outside the portal), call the DNS
 * plugin when an IP appears or changes, adopt tagged instances the database does not know and mark
 * vanished ones. Pages never call AWS; they read what this writes.
 */
import { getConfigByName, getGroup, getGroupByName } from "./db/catalog.ts";
import { recordAudit } from "./db/audit.ts";
import { openBillOf } from "./db/bills.ts";
import {
	getInstance,
	insertInstance,
	type Instance,
	instancesByIds,
	markInstancesSeen,
	type NewInstance,
	type TrackedInstance,
	trackedInstances,
	updateInstance,
} from "./db/instances.ts";
import { getLaunch, type Launch } from "./db/launches.ts";
import { ensureUser, getUser } from "./db/users.ts";
import { liveVolumes, updateVolume, type Volume, volumesByIds } from "./db/volumes.ts";
import type { Ec2Instance, Ec2Volume } from "./aws/types.ts";
import { costCenterOf, instanceRate, startBilling, stopBilling, volumeRate } from "./billing.ts";
import type { Deps } from "./deps.ts";
import { publishDns, unpublishDns } from "./dns.ts";
import { getConfig } from "./db/catalog.ts";
import { launchedInstanceFields } from "./launch.ts";
import { USERNAME } from "./auth/identify.ts";
import { actionStale, clampToPast, VOLUME_GONE_STATES, withinVanishGrace } from "./machines/lifecycle.ts";
import { LAUNCH_TAG, portalFilter } from "./machines/tags.ts";

const BILLED_STATES = new Set(["running"]);
const UNBILLED_STATES = new Set(["stopping", "stopped", "shutting-down", "terminated", "vanished"]);

/** Parses EC2's "User initiated (2024-01-01 10:00:00 GMT)" into the time of the change. */
export function transitionTime(reason: string | undefined): Date | undefined {
	const match = reason && /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/.exec(reason);
	if (!match) return undefined;
	const at = new Date(`${match[1]}T${match[2]}Z`);
	return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Whether an in-flight action is finished by the state now seen. */
function actionDone(action: string | null, state: string, pendingSince: Date | null, now: Date): boolean {
	if (!action) return false;
	if (actionStale(pendingSince, now)) return true;
	switch (action) {
		case "start":
			return state === "running" || state === "terminated";
		case "stop":
			return state === "stopped" || state === "terminated";
		case "terminate":
			return state === "terminated" || state === "vanished";
		case "restart":
			return state !== "running" || (pendingSince !== null && now.getTime() - pendingSince.getTime() > 30_000);
		default:
			return true;
	}
}

/**
 * Applies what AWS shows about an instance to its row: state, IPs, times, billed periods, DNS and
 * the in-flight action. Writes only when something changed. Returns the changes made. A row the
 * sync read with {@link trackedInstances} carries its owner's username and whether a period is
 * open, so nothing is read per row; the sync also records lastSeenAt of all the rows it saw at once.
 */
export async function observeInstance(
	deps: Deps,
	row: Instance & Partial<Pick<TrackedInstance, "ownerUsername" | "billed">>,
	seen: Ec2Instance | undefined,
	now: Date,
	options: { lastSeenByCaller?: boolean } = {},
): Promise<Partial<NewInstance>> {
	const state = seen?.state ?? "vanished";
	const changes: Partial<NewInstance> = {};
	const set = <K extends keyof NewInstance>(key: K, value: NewInstance[K]) => {
		const current = row[key as keyof Instance];
		const same = current instanceof Date && value instanceof Date
			? current.getTime() === value.getTime()
			: current === value;
		if (!same) changes[key] = value;
	};

	if (seen) {
		set("instanceType", seen.type || row.instanceType);
		set("amiId", seen.imageId || row.amiId);
		set("availabilityZone", seen.availabilityZone ?? row.availabilityZone);
		set("privateIp", seen.privateIp ?? null);
		set("publicIp", seen.publicIp ?? null);
		await followOwnerTag(deps, row, seen, set);
	}
	set("state", state);

	// A vanished instance is billed until it was last seen, not until the sync noticed.
	const changedAt = clampToPast(
		seen ? transitionTime(seen.stateTransitionReason) : row.lastSeenAt ?? undefined,
		row.startedAt,
		now,
	);
	if (state === "running") {
		const startedAt = clampToPast(seen?.launchTime, row.stoppedAt, now);
		if (row.state !== "running" || !row.startedAt) set("startedAt", startedAt);
	} else if (UNBILLED_STATES.has(state) && !UNBILLED_STATES.has(row.state)) {
		set("stoppedAt", changedAt);
	}

	// Billing follows the observed state, whoever changed it.
	if (BILLED_STATES.has(state)) {
		if (!(row.billed ?? await openBillOf(deps.db, row.id))) {
			const startedAt = changes.startedAt ?? row.startedAt ?? now;
			await openInstanceBill(deps, { ...row, ...changes } as Instance, startedAt as Date);
		}
	} else if (UNBILLED_STATES.has(state) && row.billed !== false) {
		if (await stopBilling(deps.db, row.id, changedAt)) {
			deps.log.web.info("billing for {id} stopped ({state})", { id: row.id, state });
		}
	}

	if (actionDone(row.pendingAction, state, row.pendingSince, now)) {
		set("pendingAction", null);
		set("pendingSince", null);
	}

	// DNS: a record while the instance runs with an IP; moved when the IP changes; removed at the end.
	const ip = (deps.settings.DISPLAY_PUBLIC_IP ? seen?.publicIp : seen?.privateIp) ?? null;
	if (state === "running" && ip && ip !== row.dnsIp) {
		const published = await publishDns(deps, row.id, ip);
		if (published.ok) {
			set("dnsIp", ip);
			set("dnsName", published.name);
		}
	} else if ((state === "terminated" || state === "vanished" || state === "shutting-down") && row.dnsIp) {
		if (await unpublishDns(deps, row.id, row.dnsIp)) set("dnsIp", null);
	}

	// A bootstrap that stopped reporting does not leave a progress bar forever.
	if (
		row.progressPercent !== null && row.progressPercent < 100 && row.progressUpdatedAt &&
		now.getTime() - row.progressUpdatedAt.getTime() > deps.settings.PROGRESS_TIMEOUT_MINUTES * 60_000
	) {
		set("progressText", `no progress report since ${row.progressUpdatedAt.toISOString().slice(0, 16)}Z`);
		set("progressPercent", null);
	}

	if (seen && !options.lastSeenByCaller) changes.lastSeenAt = now;
	if (Object.keys(changes).length > 0) await updateInstance(deps.db, row.id, changes);
	if (changes.state) {
		deps.log.web.info("instance {id}: {from} -> {to}", { id: row.id, from: row.state, to: state });
	}
	return changes;
}

/** Ownership follows the `userid` tag (as in the original), so a re-tagged instance moves owner. */
async function followOwnerTag(
	deps: Deps,
	row: Instance & { ownerUsername?: string },
	seen: Ec2Instance,
	set: <K extends keyof NewInstance>(key: K, value: NewInstance[K]) => void,
): Promise<void> {
	const tagged = seen.tags.userid?.trim().toLowerCase();
	if (!tagged) return;
	const current = row.ownerUsername ?? (await getUser(deps.db, row.ownerId))?.username;
	if (current === tagged) return;
	if (!USERNAME.test(tagged)) return;
	const { user } = await ensureUser(deps.db, { username: tagged });
	set("ownerId", user.id);
	deps.log.web.info("instance {id} now owned by {owner} (userid tag)", { id: row.id, owner: tagged });
}

/** Opens the instance's billed period at `at` with the discounted on-demand rate. */
export async function openInstanceBill(deps: Deps, instance: Instance, at: Date): Promise<void> {
	const group = instance.groupId ? await getGroup(deps.db, instance.groupId) : undefined;
	const config = instance.configId ? await getConfig(deps.db, instance.configId) : undefined;
	const opened = await startBilling(deps.db, {
		resourceKind: "instance",
		resourceId: instance.id,
		userId: instance.ownerId,
		groupId: instance.groupId,
		costCenter: costCenterOf(group, deps.settings.DEFAULT_CHARGE_CODE),
		description: instance.instanceType,
		rate: instanceRate(deps, { type: instance.instanceType, os: config?.os }),
		at,
	});
	if (opened) deps.log.web.info("billing for {id} started", { id: instance.id, at: at.toISOString() });
}

/** Applies what AWS shows about a volume: state and billed period (billed while it exists). */
async function observeVolume(deps: Deps, row: Volume, seen: Ec2Volume | undefined, now: Date): Promise<void> {
	const state = seen?.state ?? "vanished";
	const changes: Partial<Volume> = {};
	if (state !== row.state) changes.state = state;
	if (seen) {
		changes.lastSeenAt = now;
		if (seen.sizeGb && seen.sizeGb !== row.sizeGb) changes.sizeGb = seen.sizeGb;
		if (seen.volumeType && seen.volumeType !== row.volumeType) changes.volumeType = seen.volumeType;
		if (seen.attachedTo && seen.attachedTo !== row.instanceId) changes.instanceId = seen.attachedTo;
		if (seen.device && seen.device !== row.device) changes.device = seen.device;
	}
	if (VOLUME_GONE_STATES.includes(state) || state === "deleting") {
		// A vanished volume (deleted volumes nearly always end so) is billed until it was last seen.
		await stopBilling(deps.db, row.id, seen ? now : clampToPast(row.lastSeenAt ?? undefined, undefined, now));
	} else if (state !== "creating" && !await openBillOf(deps.db, row.id)) {
		const group = row.groupId ? await getGroup(deps.db, row.groupId) : undefined;
		const sizeGb = changes.sizeGb ?? row.sizeGb;
		const volumeType = changes.volumeType ?? row.volumeType;
		await startBilling(deps.db, {
			resourceKind: "volume",
			resourceId: row.id,
			userId: row.ownerId,
			groupId: row.groupId,
			costCenter: costCenterOf(group, deps.settings.DEFAULT_CHARGE_CODE),
			description: `${volumeType} ${sizeGb} GiB`,
			rate: volumeRate(deps.settings, volumeType, sizeGb),
			at: clampToPast(seen?.createTime, undefined, now),
		});
	}
	if (Object.keys(changes).length > 0) await updateVolume(deps.db, row.id, changes);
}

/** What a sync run did, for logs, tests and benchmarks. */
export interface SyncResult {
	seen: number;
	changed: number;
	adopted: number;
	vanished: number;
	volumes: number;
}

/**
 * Syncs every managed instance and volume (or one owner's, for the dashboard refresh).
 * Throws when AWS cannot be reached; the caller (a job) logs it and the next run recovers.
 */
export async function syncResources(deps: Deps, scope: { ownerId?: number } = {}): Promise<SyncResult> {
	const now = deps.clock();
	const filters: Record<string, string[]> = portalFilter();
	if (scope.ownerId !== undefined) {
		const owner = await getUser(deps.db, scope.ownerId);
		if (!owner) return { seen: 0, changed: 0, adopted: 0, vanished: 0, volumes: 0 };
		filters["tag:userid"] = [owner.username];
	}
	const seenInstances = await deps.aws.ec2.describeInstances({ filters });
	const tracked = await trackedInstances(deps.db, scope.ownerId);
	const result: SyncResult = { seen: seenInstances.length, changed: 0, adopted: 0, vanished: 0, volumes: 0 };
	const trackedById = new Map(tracked.map((row) => [row.id, row]));
	// Listed instances the sync does not follow (ended or archived rows, or unknown), read at once.
	const untracked = new Map(
		(await instancesByIds(deps.db, seenInstances.filter((s) => !trackedById.has(s.id)).map((s) => s.id)))
			.map((row) => [row.id, row]),
	);
	const seenIds = new Set<string>();
	// Rows AWS listed: their lastSeenAt is written in one statement at the end.
	const observed: string[] = [];

	for (const seen of seenInstances) {
		seenIds.add(seen.id);
		const row = trackedById.get(seen.id) ?? untracked.get(seen.id);
		if (row) {
			if (row.archived) continue;
			const changes = await observeInstance(deps, row, seen, now, { lastSeenByCaller: true });
			observed.push(row.id);
			if (Object.keys(changes).length > 0) result.changed += 1;
		} else if (seen.state !== "terminated" && await adoptInstance(deps, seen, now)) {
			result.adopted += 1;
		}
	}

	// Tracked rows missing from the tagged listing: look them up by id (their tag may have been
	// removed); only those AWS no longer knows at all are vanished.
	const missing = tracked.filter((row) => !seenIds.has(row.id));
	if (missing.length > 0) {
		const found = new Map(
			(await deps.aws.ec2.describeInstances({ filters: { "instance-id": missing.map((r) => r.id) } }))
				.map((instance) => [instance.id, instance]),
		);
		for (const row of missing) {
			const seen = found.get(row.id);
			if (!seen && withinVanishGrace(row, now)) continue;
			const changes = await observeInstance(deps, row, seen, now, { lastSeenByCaller: true });
			if (seen) observed.push(row.id);
			if (!seen) {
				result.vanished += 1;
				await recordAudit(deps.db, {
					at: now,
					actor: "sync",
					action: "vanished",
					resourceKind: "instance",
					resourceId: row.id,
					outcome: "ok",
					detail: "AWS no longer lists this instance",
				});
			} else if (Object.keys(changes).length > 0) result.changed += 1;
		}
	}
	await markInstancesSeen(deps.db, observed, now);

	result.volumes = await syncVolumes(deps, scope.ownerId, now);
	deps.log.web.info("sync: {seen} instances seen, {changed} changed, {adopted} adopted, {vanished} vanished", {
		...result,
		ownerId: scope.ownerId,
	});
	return result;
}

async function syncVolumes(deps: Deps, ownerId: number | undefined, now: Date): Promise<number> {
	const tracked = await liveVolumes(deps.db, ownerId);
	if (tracked.length === 0) return 0;
	const filters: Record<string, string[]> = portalFilter();
	const seen = new Map((await deps.aws.ec2.describeVolumes({ filters })).map((v) => [v.id, v]));
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

/** Refreshes specific instances right away (after an action or when a launch records them). */
export async function refreshInstances(deps: Deps, ids: readonly string[]): Promise<void> {
	if (ids.length === 0) return;
	const now = deps.clock();
	const found = new Map(
		(await deps.aws.ec2.describeInstances({ filters: { "instance-id": [...ids] } })).map((i) => [i.id, i]),
	);
	for (const row of await instancesByIds(deps.db, ids)) {
		const seen = found.get(row.id);
		if (row.archived) continue;
		if (!seen && withinVanishGrace(row, now)) continue;
		await observeInstance(deps, row, seen, now);
	}
}

/** Refreshes specific volumes right away. */
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

/**
 * Records an instance that carries the portal's tags but is unknown to the database. An instance of
 * one of the portal's own launches is recorded as the launcher records it (CloudFormation gives it
 * the stack's tags, launch id included), so its progress token and launch page work whichever of
 * the sync and the launcher sees it first.
 */
async function adoptInstance(deps: Deps, seen: Ec2Instance, now: Date): Promise<boolean> {
	const launch = await launchOfInstance(deps, seen);
	let fields: Omit<NewInstance, "id" | "instanceType">;
	let owner: string;
	if (launch) {
		const [group, config] = await Promise.all([getGroup(deps.db, launch.groupId), getConfig(deps.db, launch.configId)]);
		fields = {
			...launchedInstanceFields(launch, group, config, now),
			stackId: launch.stackId ?? seen.tags["aws:cloudformation:stack-id"] ?? null,
		};
		owner = `launch ${launch.id}`;
	} else {
		const username = seen.tags.userid?.trim().toLowerCase();
		if (!username || !USERNAME.test(username)) {
			deps.log.web.warn("not adopting {id}: it has no usable userid tag", { id: seen.id });
			return false;
		}
		const groupName = seen.tags.Group ?? seen.tags.UserGroup;
		const group = groupName ? await getGroupByName(deps.db, groupName) : undefined;
		const config = seen.tags["Software Config"]
			? await getConfigByName(deps.db, seen.tags["Software Config"])
			: undefined;
		fields = {
			stackId: seen.tags["aws:cloudformation:stack-id"] ?? null,
			stackName: seen.tags["aws:cloudformation:stack-name"] ?? null,
			ownerId: (await ensureUser(deps.db, { username })).user.id,
			groupId: group?.id ?? null,
			configId: config?.id ?? null,
			name: seen.tags.Name ?? "",
		};
		owner = username;
	}
	const inserted = await insertInstance(deps.db, {
		...fields,
		id: seen.id,
		instanceType: seen.type,
		amiId: seen.imageId || fields.amiId,
		state: "pending",
		launchedAt: seen.launchTime ?? now,
	});
	if (!inserted) return false;
	const row = (await getInstance(deps.db, seen.id))!;
	await observeInstance(deps, row, seen, now);
	await recordAudit(deps.db, {
		at: now,
		actor: "sync",
		action: "adopt",
		resourceKind: "instance",
		resourceId: seen.id,
		outcome: "ok",
		detail: `found in AWS with the portal's tags; owner ${owner}`,
	});
	deps.log.web.info("adopted {id} for {owner}", { id: seen.id, owner });
	return true;
}

/**
 * The portal launch an instance belongs to, from its launch-id tag. The tag alone could be copied
 * by hand; CloudFormation's own stack-name tag (the `aws:` prefix is reserved) must match too.
 */
async function launchOfInstance(deps: Deps, seen: Ec2Instance): Promise<Launch | undefined> {
	const launchId = seen.tags[LAUNCH_TAG];
	if (!launchId) return undefined;
	const launch = await getLaunch(deps.db, launchId);
	if (launch?.kind !== "instance" || launch.stackName !== seen.tags["aws:cloudformation:stack-name"]) return undefined;
	return launch;
}
