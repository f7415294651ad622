/**
 * What an admin may do to the portal's record of any machine from the admin machine pages: archive
 * or unarchive it, lock or unlock an instance's controls by hand, hand a machine to another existing
 * user, and delete a volume left behind. Ownership is the portal's record (never a tag), so the
 * reassignment is the one way besides a launch and an adoption that a machine changes hands; every
 * attempt is audited with what it changed, refusals included (a delete sent without its
 * confirmation is no attempt: the confirmation is shown again).
 */
import type { Viewer } from "../auth/identify.ts";
import { explainActionFailure } from "../aws_failures.ts";
import { closeBillFor } from "../billing/periods.ts";
import { reassignMachine, volumeDetail } from "../db/admin_browse.ts";
import { completeAudit, recordAudit } from "../db/audit.ts";
import { getInstance, updateInstance } from "../db/instances.ts";
import { getUser, getUserByUsername } from "../db/users.ts";
import { updateVolume } from "../db/volumes.ts";
import type { Deps } from "../deps.ts";
import { AwsError, UserError } from "../errors.ts";
import { machineKind } from "../machines/kinds.ts";

/** The kinds of machine the admin pages act on. */
export type AdminMachineKind = "instance" | "cluster";

/** The longest reason a manual lock keeps. */
export const LOCK_REASON_MAX = 200;

function adminOnly(viewer: Viewer): void {
	if (viewer.role !== "admin") throw new UserError(403, "Only admins may change the portal's record of a machine.");
}

/** Records one admin action on a resource. */
function audit(
	deps: Pick<Deps, "db" | "clock">,
	admin: Viewer,
	event: { action: string; kind: string; id: string; outcome: "ok" | "refused" | "sent"; detail: string },
): Promise<number> {
	return recordAudit(deps.db, {
		at: deps.clock(),
		actorId: admin.id,
		actor: admin.username,
		action: event.action,
		resourceKind: event.kind,
		resourceId: event.id,
		outcome: event.outcome,
		detail: event.detail,
	});
}

async function machineOf(deps: Deps, kind: AdminMachineKind, id: string) {
	const machine = machineKind(kind);
	const row = await machine.rows.get(deps, id);
	if (!row) throw new UserError(404, `No ${machine.noun} ${id} is known to the portal.`);
	return { machine, row };
}

/**
 * Archives a machine's record (hidden from every list but the admin's, its bills kept in reports)
 * or brings it back. Only an ended machine is archived: the sync stops following archived ones, so
 * a live one would run unseen. Throws 403, 404, or 409 (alive, or already so).
 */
export async function setArchived(
	deps: Deps,
	admin: Viewer,
	kind: AdminMachineKind,
	id: string,
	archived: boolean,
): Promise<void> {
	adminOnly(admin);
	const { machine, row } = await machineOf(deps, kind, id);
	const action = archived ? "archive" : "unarchive";
	const refuse = async (why: string) => {
		await audit(deps, admin, { action, kind, id, outcome: "refused", detail: why });
		throw new UserError(409, `Not ${archived ? "archived" : "brought back"}: ${why}.`);
	};
	if (row.archived === archived) {
		await refuse(`the ${machine.noun} is ${archived ? "archived" : "not archived"} already`);
	}
	if (archived && !machine.endedStates.includes(row.state)) {
		await refuse(`the ${machine.noun} is ${row.state}; only an ended one is archived (terminate it first)`);
	}
	await machine.rows.update(deps, id, { archived, pendingAction: null, pendingSince: null });
	await audit(deps, admin, {
		action,
		kind,
		id,
		outcome: "ok",
		detail: archived ? "record archived by an admin" : "record brought back by an admin",
	});
}

/**
 * Locks an instance's controls by hand (only Terminate stays available, for its owner and for
 * policies alike) with the admin's reason, or lifts such a lock. A lock set by a plugin (an expired
 * image) is not a manual one: the plugin lifts it, so an unlock refuses it. Throws 403, 404, 409
 * (already so, or not a manual lock), 422 (a reason too long).
 */
export async function setManualLock(
	deps: Deps,
	admin: Viewer,
	id: string,
	lock: { locked: boolean; reason?: string },
): Promise<void> {
	adminOnly(admin);
	const instance = await getInstance(deps.db, id);
	if (!instance) throw new UserError(404, `No instance ${id} is known to the portal.`);
	const action = lock.locked ? "lock" : "unlock";
	const refuse = async (why: string) => {
		await audit(deps, admin, { action, kind: "instance", id, outcome: "refused", detail: why });
		throw new UserError(409, `Not ${lock.locked ? "locked" : "unlocked"}: ${why}.`);
	};
	if (lock.locked) {
		const reason = (lock.reason ?? "").trim().replace(/\s+/g, " ");
		if (reason.length > LOCK_REASON_MAX) {
			throw new UserError(422, "Not locked.", {
				fields: { reason: `At most ${LOCK_REASON_MAX} characters (this one has ${reason.length}).` },
			});
		}
		if (instance.manualLockReason !== null) await refuse("its controls are locked by hand already");
		const stored = reason || "locked by an admin";
		// Only the admin's own column: a plugin's lock (controls_locked) stays as the plugin left it.
		await updateInstance(deps.db, id, { manualLockReason: stored });
		await audit(deps, admin, { action, kind: "instance", id, outcome: "ok", detail: `controls locked: ${stored}` });
		return;
	}
	if (instance.manualLockReason === null) {
		await refuse(
			instance.controlsLocked
				? `the lock was not set by hand (${
					instance.controlsLockedReason ?? "the display plugin set it"
				}); it lifts when the plugin says so`
				: "its controls are not locked",
		);
	}
	await updateInstance(deps.db, id, { manualLockReason: null });
	await audit(deps, admin, {
		action,
		kind: "instance",
		id,
		outcome: "ok",
		detail: `controls unlocked (was: ${instance.manualLockReason})`,
	});
}

/**
 * Hands a machine (an instance with its volumes, or a cluster) to another existing user: from now
 * on it is theirs — on their dashboard, controlled and billed as theirs — and no longer its previous
 * owner's; what it cost until now stays the previous owner's. Audited with both owners. Throws 403,
 * 404, 422 (no such user, or the same owner).
 */
export async function reassignOwner(
	deps: Deps,
	admin: Viewer,
	kind: AdminMachineKind,
	id: string,
	username: string,
): Promise<{ from: string; to: string }> {
	adminOnly(admin);
	const { machine, row } = await machineOf(deps, kind, id);
	const name = username.trim().toLowerCase();
	const user = name ? await getUserByUsername(deps.db, name) : undefined;
	const previous = await getUser(deps.db, row.ownerId);
	const from = previous?.username ?? `user #${row.ownerId}`;
	// Why not, in the form's words and the audit's; none when the user exists and is someone else.
	const refusal: [string, string] | undefined = !name
		? ["Name the user who is to own it.", "no new owner named"]
		: !user
		? [
			`No user ${name.slice(0, 100)}: users exist once they have signed in (or been imported).`,
			`no user ${name.slice(0, 100)}`,
		]
		: user.id === row.ownerId
		? [`${user.username} owns it already.`, `${user.username} owns it already`]
		: undefined;
	if (refusal || !user) {
		const [field, detail] = refusal ?? ["", ""];
		await audit(deps, admin, { action: "reassign", kind, id, outcome: "refused", detail });
		throw new UserError(422, `The ${machine.noun} was not reassigned.`, { fields: { username: field } });
	}
	const to = user.username;
	await reassignMachine(deps.db, kind, id, user.id, deps.clock());
	await audit(deps, admin, {
		action: "reassign",
		kind,
		id,
		outcome: "ok",
		detail: `owner changed from ${from} to ${to}`,
	});
	deps.log.web.warn("{admin} reassigned {kind} {id} from {from} to {to}", {
		admin: admin.username,
		kind,
		id,
		from,
		to,
	});
	return { from, to };
}

/**
 * Deletes a volume left behind (attached to nothing alive) in AWS, once the admin confirmed it, and
 * ends its billed period. Audited before the call (sent) and completed after it. Throws 403, 404,
 * 409 (not left behind, or AWS refuses), 422 (not confirmed), 503 (AWS unavailable).
 */
export async function deleteLeftoverVolume(
	deps: Deps,
	admin: Viewer,
	id: string,
	confirmed: boolean,
): Promise<void> {
	adminOnly(admin);
	const volume = await volumeDetail(deps.db, id);
	if (!volume) throw new UserError(404, `No volume ${id} is known to the portal.`);
	if (!volume.leftBehind) {
		await audit(deps, admin, {
			action: "delete-volume",
			kind: "volume",
			id,
			outcome: "refused",
			detail: `not left behind: ${volume.state}${volume.instanceId ? `, attached to ${volume.instanceId}` : ""}`,
		});
		throw new UserError(
			409,
			`Volume ${id} is not left behind (it is ${volume.state}${
				volume.instanceId ? ` on ${volume.instanceId}` : ""
			}): only a volume nothing alive holds is deleted here.`,
		);
	}
	if (!confirmed) {
		throw new UserError(422, "Confirm that the volume and everything on it is to be deleted.", {
			fields: { confirm: "Confirm that the volume and everything on it is to be deleted." },
		});
	}
	const eventId = await audit(deps, admin, {
		action: "delete-volume",
		kind: "volume",
		id,
		outcome: "sent",
		detail: `${volume.volumeType} ${volume.sizeGb} GiB of ${volume.ownerUsername}`,
	});
	try {
		await deps.aws.ec2.deleteVolume(id);
	} catch (error) {
		if (!(error instanceof AwsError)) throw error;
		await completeAudit(deps.db, eventId, "error", error.message);
		throw new UserError(error.transient ? 503 : 409, explainActionFailure(error), { cause: error });
	}
	const now = deps.clock();
	await updateVolume(deps.db, id, { state: "deleting" });
	await closeBillFor(deps, { kind: "volume", id }, now, "deleted by an admin");
	await completeAudit(
		deps.db,
		eventId,
		"ok",
		`${volume.volumeType} ${volume.sizeGb} GiB of ${volume.ownerUsername} deleted`,
	);
}
