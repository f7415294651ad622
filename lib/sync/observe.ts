/**
 * The one diff step of every kind of machine, and the sync run around it. A run lists the kind's
 * machines once, reads the rows it follows once (with their billed flag), observes each machine
 * through its kind, looks up followed rows the listing left out, marks vanished ones after their
 * grace, adopts machines with the portal's tags it did not know, and records "seen" in one write:
 * a fixed number of statements however many machines there are, plus one write per changed row.
 */
import { USERNAME } from "../auth/identify.ts";
import { closeBillFor, openBillFor } from "../billing/periods.ts";
import { recordAudit } from "../db/audit.ts";
import { openBillOf } from "../db/bills.ts";
import { getConfig, getConfigByName, getGroup, getGroupByName } from "../db/catalog.ts";
import { getLaunch, type Launch } from "../db/launches.ts";
import { launchColumns, recordedByLaunch } from "../launch/stacks.ts";
import { ensureUser } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { reconcileDns } from "../machines/dns.ts";
import { actionStale, withinVanishGrace } from "../machines/lifecycle.ts";
import type {
	Adoption,
	MachineKind,
	MachineRow,
	Refreshed,
	SeenMachine,
	SyncScope,
	Tracked,
} from "../machines/model.ts";
import {
	CONFIG_TAG,
	GROUP_TAGS,
	isPortalTagged,
	LAUNCH_TAG,
	OWNER_TAG,
	STACK_ID_TAG,
	STACK_NAME_TAG,
} from "../machines/tags.ts";

/** What a sync run of one kind did, for logs, tests and benchmarks. */
export interface SyncResult {
	seen: number;
	changed: number;
	adopted: number;
	vanished: number;
	/** The parts the kind syncs with its machines (an instance's volumes). */
	parts: number;
}

/** The columns of `next` whose values differ from `row`'s (dates compared by time). */
export function diff<Row extends object>(row: Row, next: Partial<Row>): Partial<Row> {
	const changes: Partial<Row> = {};
	for (const key of Object.keys(next) as (keyof Row)[]) {
		const current = row[key];
		const value = next[key];
		const same = current instanceof Date && value instanceof Date
			? current.getTime() === value.getTime()
			: current === value;
		if (!same) changes[key] = value;
	}
	return changes;
}

/**
 * Applies what AWS shows about a machine to its row: the kind's columns, the billed period, the
 * action in flight and the DNS record; writes once, only when something changed. Returns the
 * changes. `lastSeenByCaller` leaves `lastSeenAt` to the caller's one write for a whole run.
 */
export async function observeMachine<Row extends MachineRow, Seen extends SeenMachine>(
	deps: Deps,
	kind: MachineKind<Row, Seen>,
	row: Tracked<Row>,
	seen: Seen | undefined,
	now: Date,
	options: { lastSeenByCaller?: boolean } = {},
): Promise<Partial<Row>> {
	const observation = await kind.sync.observe(deps, row, seen, now);
	const changes = diff(row as Row, { ...observation.fields, state: observation.state });
	// Billing follows the observed state, whoever changed it.
	const { open, close } = observation.bill;
	let opened = false;
	if (open && !(row.billed ?? await openBillOf(deps.db, row.id))) {
		const merged = { ...row, ...changes } as Row;
		const charge = await kind.price(deps, merged);
		opened = await openBillFor(deps, { kind: kind.name, ...merged }, charge, open);
		if (opened && charge.changes) Object.assign(changes, diff(merged, charge.changes));
	}
	if (close && (row.billed !== false || opened)) {
		await closeBillFor(deps, { kind: kind.name, id: row.id }, close, observation.state);
	}
	if (row.pendingAction && actionDone(kind, row, observation.state, now)) {
		Object.assign(changes, { pendingAction: null, pendingSince: null });
	}
	Object.assign(changes, await reconcileDns(deps, row, observation.dns));
	if (seen && !options.lastSeenByCaller) Object.assign(changes, { lastSeenAt: now });
	if (Object.keys(changes).length > 0) await kind.rows.update(deps, row.id, changes);
	if ("state" in changes) {
		deps.log.web.info("{kind} {id}: {from} -> {to}", {
			kind: kind.name,
			id: row.id,
			from: row.state,
			to: changes.state,
		});
	}
	return changes;
}

/** Whether the action in flight is finished: forgotten when stale, else as the kind's rule says. */
function actionDone<Row extends MachineRow>(kind: MachineKind<Row>, row: Row, state: string, now: Date): boolean {
	if (actionStale(row.pendingSince, now)) return true;
	return kind.control.ruleFor(row.pendingAction!, row)?.done(state, row.pendingSince, now) ?? true;
}

/**
 * Syncs every machine of a kind (or one owner's, for the dashboard refresh). Throws when AWS cannot
 * be reached; the caller (a job) records it and the next run recovers.
 */
export async function syncMachines<Row extends MachineRow, Seen extends SeenMachine>(
	deps: Deps,
	kind: MachineKind<Row, Seen>,
	scope: SyncScope = {},
): Promise<SyncResult> {
	const now = deps.clock();
	const tracked = await kind.rows.tracked(deps, scope.ownerId);
	const listed = await kind.sync.list(deps, scope, tracked);
	const result: SyncResult = { seen: listed.length, changed: 0, adopted: 0, vanished: 0, parts: 0 };
	const trackedById = new Map(tracked.map((row) => [row.id, row]));
	// Listed machines the sync does not follow (ended or archived rows, or unknown), read at once.
	const untracked = new Map<string, Tracked<Row>>(
		(await kind.rows.byIds(deps, listed.filter((s) => !trackedById.has(s.id)).map((s) => s.id)))
			.map((row) => [row.id, row]),
	);
	const listedIds = new Set<string>();
	// Machines AWS listed: their lastSeenAt is written in one statement at the end.
	const observed: string[] = [];
	for (const listing of listed) {
		listedIds.add(listing.id);
		const row = trackedById.get(listing.id) ?? untracked.get(listing.id);
		if (row?.archived) continue;
		const seen = kind.sync.detail ? await kind.sync.detail(deps, row, listing) : listing;
		if (row) {
			const changes = await observeMachine(deps, kind, row, seen, now, { lastSeenByCaller: true });
			observed.push(row.id);
			if (Object.keys(changes).length > 0) result.changed += 1;
		} else if (await adoptMachine(deps, kind, seen, now)) {
			result.adopted += 1;
		}
	}

	// Followed rows missing from the listing: look them up by id (they may have ended, or lost their
	// tag); only those AWS no longer knows at all are vanished, after their grace.
	const missing = tracked.filter((row) => !listedIds.has(row.id));
	if (missing.length > 0) {
		const found = new Map((await kind.sync.lookup(deps, missing.map((row) => row.id))).map((s) => [s.id, s]));
		for (const row of missing) {
			const seen = found.get(row.id);
			if (!seen && withinVanishGrace(row, now)) continue;
			const changes = await observeMachine(deps, kind, row, seen, now, { lastSeenByCaller: true });
			if (seen) {
				observed.push(row.id);
				if (Object.keys(changes).length > 0) result.changed += 1;
			} else {
				result.vanished += 1;
				await recordAudit(deps.db, {
					at: now,
					actor: "sync",
					action: "vanished",
					resourceKind: kind.name,
					resourceId: row.id,
					outcome: "ok",
					detail: `AWS no longer lists this ${kind.noun}`,
				});
			}
		}
	}
	await kind.rows.markSeen(deps, observed, now);
	if (kind.sync.syncParts) result.parts = await kind.sync.syncParts(deps, scope, now);
	deps.log.web.info("sync {kind}: {seen} seen, {changed} changed, {adopted} adopted, {vanished} vanished", {
		kind: kind.name,
		...result,
		ownerId: scope.ownerId,
	});
	return result;
}

/**
 * Observes these machines now (after a launch records them, or after an action); a machine AWS does
 * not show yet is left alone within its grace. Returns each row as it was left.
 */
export async function refreshMachines<Row extends MachineRow, Seen extends SeenMachine>(
	deps: Deps,
	kind: MachineKind<Row, Seen>,
	ids: readonly string[],
): Promise<Refreshed<Row, Seen>[]> {
	if (ids.length === 0) return [];
	const now = deps.clock();
	const found = new Map((await kind.sync.lookup(deps, ids)).map((s) => [s.id, s]));
	const refreshed: Refreshed<Row, Seen>[] = [];
	for (const row of await kind.rows.byIds(deps, ids)) {
		const seen = found.get(row.id);
		if (row.archived || (!seen && withinVanishGrace(row, now))) {
			refreshed.push({ row });
			continue;
		}
		refreshed.push({ row: { ...row, ...await observeMachine(deps, kind, row, seen, now) }, seen });
	}
	return refreshed;
}

/**
 * Records a machine that carries the portal's tags but is unknown to the database. A machine of one
 * of the portal's own launches is recorded as the launcher records it (CloudFormation gives it the
 * stack's tags, launch id included), so its launch page works whichever of the sync and the
 * launcher sees it first; any other is recorded for the owner its tags name.
 */
async function adoptMachine<Row extends MachineRow, Seen extends SeenMachine>(
	deps: Deps,
	kind: MachineKind<Row, Seen>,
	seen: Seen,
	now: Date,
): Promise<boolean> {
	if (kind.endedStates.includes(seen.state) || !isPortalTagged(seen.tags) || !kind.sync.owns(seen)) return false;
	const from = await adoptionOf(deps, kind, seen);
	if (!from) return false;
	if (!await kind.rows.insert(deps, kind.sync.adopted(seen, from.adoption, now))) return false;
	await observeMachine(deps, kind, (await kind.rows.get(deps, seen.id))!, seen, now);
	// One of the portal's own launches, which the sync saw first: recorded as the launcher records it.
	if (from.adoption.launch) {
		await recordedByLaunch(deps, from.adoption.launch, { kind: kind.name, id: seen.id });
		return true;
	}
	await recordAudit(deps.db, {
		at: now,
		actor: "sync",
		action: "adopt",
		resourceKind: kind.name,
		resourceId: seen.id,
		outcome: "ok",
		detail: `found in AWS with the portal's tags; owner ${from.owner}`,
	});
	deps.log.web.info("adopted {kind} {id} for {owner}", { kind: kind.name, id: seen.id, owner: from.owner });
	return true;
}

/** Whose the machine is: its launch's owner, else the user its owner tag names (created if new). */
async function adoptionOf(
	deps: Deps,
	kind: MachineKind<MachineRow>,
	seen: SeenMachine,
): Promise<{ adoption: Adoption; owner: string } | undefined> {
	const launch = await launchOf(deps, kind, seen.tags);
	if (launch) {
		const [group, config] = await Promise.all([getGroup(deps.db, launch.groupId), getConfig(deps.db, launch.configId)]);
		const row = { ...launchColumns(launch), stackId: launch.stackId ?? seen.tags[STACK_ID_TAG] ?? null };
		return { adoption: { launch, group, config, row }, owner: `launch ${launch.id}` };
	}
	const username = seen.tags[OWNER_TAG]?.trim().toLowerCase();
	if (!username || !USERNAME.test(username)) {
		deps.log.web.warn("not adopting {id}: it has no usable {tag} tag", { id: seen.id, tag: OWNER_TAG });
		return undefined;
	}
	const groupName = GROUP_TAGS.map((tag) => seen.tags[tag]).find(Boolean);
	const configName = seen.tags[CONFIG_TAG];
	const [group, config, { user }] = await Promise.all([
		groupName ? getGroupByName(deps.db, groupName) : undefined,
		configName ? getConfigByName(deps.db, configName) : undefined,
		ensureUser(deps.db, { username }),
	]);
	const row = {
		launchId: null,
		ownerId: user.id,
		groupId: group?.id ?? null,
		configId: config?.id ?? null,
		stackId: seen.tags[STACK_ID_TAG] ?? null,
		stackName: seen.tags[STACK_NAME_TAG] ?? null,
	};
	return { adoption: { group, config, row }, owner: username };
}

/**
 * The portal launch of the kind a machine belongs to, from its launch-id tag. The tag alone could be
 * copied by hand; CloudFormation's own stack-name tag (the `aws:` prefix is reserved) must match too.
 */
async function launchOf(
	deps: Deps,
	kind: MachineKind<MachineRow>,
	tags: Readonly<Record<string, string>>,
): Promise<Launch | undefined> {
	const launchId = tags[LAUNCH_TAG];
	if (!launchId) return undefined;
	const launch = await getLaunch(deps.db, launchId);
	if (launch?.kind !== kind.name || launch.stackName !== tags[STACK_NAME_TAG]) return undefined;
	return launch;
}
