/**
 * The one diff step of every kind of machine, and the sync run around it. A run lists the kind's
 * machines once, reads the rows it follows once (with their billed flag), observes each machine
 * through its kind, looks up followed rows the listing left out, marks vanished ones after their
 * grace, adopts the machines with the portal's tags it did not know that a portal launch is proven
 * to have made (the one ownership rule, {@link adoptionOf}) and keeps the others as found for the
 * admins, and records "seen" in one write: a fixed number of statements however many machines
 * there are, plus one write per changed row.
 */
import { closeBillFor, openBillFor } from "../billing/periods.ts";
import { recordAudit } from "../db/audit.ts";
import { openBillOf } from "../db/bills.ts";
import { getConfig, getGroup } from "../db/catalog.ts";
import {
	forgetFound,
	forgetFoundUnseen,
	foundByIds,
	type FoundMachine,
	markFoundSeen,
	type NewFoundMachine,
	saveFound,
} from "../db/found.ts";
import { getLaunch, type Launch } from "../db/launches.ts";
import { launchColumns, recordedByLaunch } from "../launch/stacks.ts";
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
	boundedTags,
	isPortalTagged,
	LAUNCH_PROOF_TAG,
	LAUNCH_TAG,
	STACK_ID_TAG,
	STACK_NAME_TAG,
} from "../machines/tags.ts";
import { launchProof, timingSafeEqual } from "../tokens.ts";

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
	// Listed machines the database does not know, as AWS shows them.
	const unknown: Seen[] = [];
	for (const listing of listed) {
		listedIds.add(listing.id);
		const row = trackedById.get(listing.id) ?? untracked.get(listing.id);
		if (row?.archived) continue;
		const seen = kind.sync.detail ? await kind.sync.detail(deps, row, listing) : listing;
		if (row) {
			const changes = await observeMachine(deps, kind, row, seen, now, { lastSeenByCaller: true });
			observed.push(row.id);
			if (Object.keys(changes).length > 0) result.changed += 1;
		} else unknown.push(seen);
	}
	result.adopted = await adoptUnknown(deps, kind, unknown, now);
	// A whole listing shows every found machine still alive with the portal's tags: the others are gone.
	if (scope.ownerId === undefined) await forgetFoundUnseen(deps.db, kind.name, now);

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

/** A machine's claim to be a portal launch's, as its tags make it; see {@link claimOf}. */
export type Claim =
	| { proven: true; launch: Launch; proof: "stack" | "signature" }
	| { proven: false; reason: string; launch?: Launch };

/** Proofs by strength: CloudFormation's own tags cannot be set by hand, the signature can be copied. */
const STRENGTH = { stack: 2, signature: 1 } as const;

/**
 * What a machine's tags claim: the portal launch of the kind its launch-id tag names, and whether
 * that launch is proven to have made it: by its stack (CloudFormation's reserved `aws:` tags, which
 * nobody can set by hand, name the launch's stack) or, while the launch is still in flight and
 * nothing says another stack made the machine, by the portal's signature of the launch id.
 */
export async function claimOf(
	deps: Pick<Deps, "db" | "secret">,
	kind: Pick<MachineKind, "name" | "noun">,
	tags: Readonly<Record<string, string>>,
): Promise<Claim> {
	const launchId = tags[LAUNCH_TAG];
	if (!launchId) return { proven: false, reason: "it has no launch-id tag" };
	const launch = await getLaunch(deps.db, launchId.slice(0, 100));
	if (launch?.kind !== kind.name) {
		return { proven: false, reason: `its launch-id tag names no ${kind.noun} launch of the portal` };
	}
	const stackTag = tags[STACK_ID_TAG];
	// Before CreateStack's answer is recorded, the launch knows its stack by name (unique among live stacks).
	const byStack = launch.stackId ? stackTag === launch.stackId : tags[STACK_NAME_TAG] === launch.stackName;
	if (byStack) return { proven: true, launch, proof: "stack" };
	const signature = tags[LAUNCH_PROOF_TAG];
	const signed = signature !== undefined && timingSafeEqual(signature, await launchProof(deps.secret, launch.id));
	if (signed && !stackTag && (launch.status === "queued" || launch.status === "creating")) {
		return { proven: true, launch, proof: "signature" };
	}
	return {
		proven: false,
		launch,
		reason: stackTag
			? `its tags name launch ${launch.id}, but another stack made it`
			: `its tags name launch ${launch.id} without proof that the launch made it (copied by hand?)`,
	};
}

/**
 * The one ownership rule: whose a machine unknown to the database is. It belongs to a user only
 * when it comes from a launch the portal recorded (its claim is proven, see {@link claimOf}) and
 * is that launch's one machine of the kind: none is recorded for the launch yet, and no other
 * machine of the same listing (`rivals`) claims the launch as strongly. Tags copied from a real
 * launch onto another machine so never give it to the launch's owner; the owner, group and
 * configuration tags are never read. Returns the adoption, or why there is none.
 */
export async function adoptionOf(
	deps: Deps,
	kind: MachineKind<MachineRow>,
	seen: SeenMachine,
	claim: Claim,
	rivals: readonly Claim[],
): Promise<{ adoption: Adoption; proof: string } | { refusal: string; launchId?: string }> {
	if (!claim.proven) return { refusal: claim.reason, launchId: claim.launch?.id };
	const { launch, proof } = claim;
	const [recorded] = await kind.rows.ofLaunch(deps, launch.id);
	if (recorded) {
		return { refusal: `launch ${launch.id} already has its ${kind.noun}, ${recorded.id}`, launchId: launch.id };
	}
	if (rivals.some((r) => r.proven && r.launch.id === launch.id && STRENGTH[r.proof] >= STRENGTH[proof])) {
		return { refusal: `other ${kind.noun}s claim launch ${launch.id} as well`, launchId: launch.id };
	}
	const [group, config] = await Promise.all([getGroup(deps.db, launch.groupId), getConfig(deps.db, launch.configId)]);
	const row = { ...launchColumns(launch), stackId: launch.stackId ?? seen.tags[STACK_ID_TAG] ?? null };
	return {
		adoption: { launch, group, config, row },
		proof: proof === "stack" ? "its stack" : "the portal's signature",
	};
}

/**
 * Decides about the machines a listing showed that the database does not know: those with the
 * portal's tags that a portal launch is proven to have made are recorded as that launch records
 * them (so its launch page works whichever of the sync and the launcher sees them first); the
 * others with the portal's tags are kept as found, nobody's, for the admins. Returns how many
 * were adopted. Reads nothing when there are none.
 */
async function adoptUnknown<Row extends MachineRow, Seen extends SeenMachine>(
	deps: Deps,
	kind: MachineKind<Row, Seen>,
	unknown: readonly Seen[],
	now: Date,
): Promise<number> {
	const candidates = unknown.filter((seen) =>
		!kind.endedStates.includes(seen.state) && isPortalTagged(seen.tags) && kind.sync.owns(seen)
	);
	if (candidates.length === 0) return 0;
	const claims = await Promise.all(candidates.map((seen) => claimOf(deps, kind, seen.tags)));
	const known = new Map((await foundByIds(deps.db, candidates.map((seen) => seen.id))).map((f) => [f.id, f]));
	const unchanged: string[] = [];
	let adopted = 0;
	for (const [i, seen] of candidates.entries()) {
		const outcome = await adoptionOf(deps, kind, seen, claims[i]!, claims.filter((_, j) => j !== i));
		if ("adoption" in outcome) {
			if (await adoptMachine(deps, kind, seen, outcome, now)) adopted += 1;
			continue;
		}
		const found = foundRecord(deps, kind, seen, outcome, now);
		const before = known.get(seen.id);
		if (before && sameFound(before, found)) {
			unchanged.push(seen.id);
			continue;
		}
		if (await saveFound(deps.db, found) && !before) await foundAudit(deps, kind, found, now);
	}
	await markFoundSeen(deps.db, unchanged, now);
	return adopted;
}

/** Records a proven launch's machine the sync saw first, observes it and audits it as its launch does; false when another process recorded it first. */
async function adoptMachine<Row extends MachineRow, Seen extends SeenMachine>(
	deps: Deps,
	kind: MachineKind<Row, Seen>,
	seen: Seen,
	outcome: { adoption: Adoption; proof: string },
	now: Date,
): Promise<boolean> {
	if (!await kind.rows.insert(deps, kind.sync.adopted(seen, outcome.adoption, now))) return false;
	await forgetFound(deps.db, seen.id);
	await observeMachine(deps, kind, (await kind.rows.get(deps, seen.id))!, seen, now);
	// One of the portal's own launches, which the sync saw first: recorded as the launcher records it.
	await recordedByLaunch(deps, outcome.adoption.launch!, { kind: kind.name, id: seen.id });
	deps.log.web.debug("recorded {kind} {id} of launch {launchId} before the launcher did, proven by {proof}", {
		kind: kind.name,
		id: seen.id,
		launchId: outcome.adoption.launch!.id,
		proof: outcome.proof,
	});
	return true;
}

/** A found machine's record as AWS shows it now. */
function foundRecord<Seen extends SeenMachine>(
	deps: Deps,
	kind: MachineKind<MachineRow, Seen>,
	seen: Seen,
	outcome: { refusal: string; launchId?: string },
	now: Date,
): NewFoundMachine {
	const facts = kind.sync.found(deps, seen);
	return {
		id: seen.id,
		kind: kind.name,
		name: boundedTags({ Name: facts.name }).Name ?? "",
		instanceType: facts.instanceType.slice(0, 64),
		state: seen.state.slice(0, 64),
		tags: boundedTags(seen.tags),
		reason: outcome.refusal,
		claimedLaunchId: outcome.launchId ?? null,
		costDescription: facts.charge.description.slice(0, 200),
		hourlyRate: facts.charge.rate.known ? facts.charge.rate.hourly : null,
		launchedAt: facts.launchedAt ?? null,
		firstSeenAt: now,
		lastSeenAt: now,
	};
}

/** Whether a found machine's record already holds what AWS shows now (its sighting times aside). */
function sameFound(before: FoundMachine, now: NewFoundMachine): boolean {
	const { tags, launchedAt, firstSeenAt: _first, lastSeenAt: _last, ...rest } = now;
	return Object.entries(diff(before, rest)).length === 0 &&
		before.launchedAt?.getTime() === launchedAt?.getTime() &&
		JSON.stringify(before.tags) === JSON.stringify(tags);
}

/** Audits and logs that the sync found a machine with the portal's tags that nobody owns. */
async function foundAudit(
	deps: Deps,
	kind: MachineKind<MachineRow>,
	found: NewFoundMachine,
	now: Date,
): Promise<void> {
	await recordAudit(deps.db, {
		at: now,
		actor: "sync",
		action: "adopt",
		resourceKind: kind.name,
		resourceId: found.id,
		outcome: "refused",
		detail: `found in AWS with the portal's tags, not launched by it: ${found.reason}`,
	});
	deps.log.web.warn("{kind} {id} has the portal's tags but is nobody's ({reason}); an admin may adopt it", {
		kind: kind.name,
		id: found.id,
		reason: found.reason,
	});
}
