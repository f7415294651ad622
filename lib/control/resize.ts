/**
 * Resizing an instance: a stopped instance's type is changed (ModifyInstanceAttribute) to another
 * type its configuration offers its group, the same allowance the launch wizard uses; a running
 * one is stopped, resized and started again ("stop, resize, start"), a sequence recorded in
 * `instance_resizes` and moved on right after the request and by the resize job, so a restart of
 * the portal in between does not leave it stopped. The stop and the start go through the one
 * control path (`controlMachine`); the instance's next billed period opens at its new type's rate,
 * since the start bills the type the row holds. Every attempt is audited.
 */
import type { Viewer } from "../auth/identify.ts";
import { viewerOf } from "../auth/identify.ts";
import { explainActionFailure } from "../aws_failures.ts";
import { sortInstanceTypes } from "../catalog/instance_types.ts";
import { completeAudit, recordAudit } from "../db/audit.ts";
import { usableTypes } from "../db/catalog.ts";
import { getInstance, type Instance, updateInstance } from "../db/instances.ts";
import {
	deleteResize,
	getResize,
	insertResize,
	type InstanceResize,
	resizesInFlight,
	setResizeStep,
} from "../db/resizes.ts";
import { getUser } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { AwsError, UserError } from "../errors.ts";
import { type ActionAudit, authorizeAction } from "../machines/actions.ts";
import { machineKind } from "../machines/kinds.ts";
import { ACTION_STALE_MS, INSTANCE_ENDED_STATES } from "../machines/lifecycle.ts";
import { refreshMachines } from "../sync/observe.ts";
import { controlMachine, SETTLE_DELAYS_MS } from "./control.ts";

/** The resize job's name (its lease row). */
export const RESIZE_JOB_NAME = "advance-resizes";

/** How long a "stop, resize, start" may wait for its instance to stop before it is given up. */
export const RESIZE_TIMEOUT_MS = 30 * 60_000;

/** How a resize is asked for: a plain resize of a stopped instance, or "stop, resize, start" of a running one. */
export type ResizeMode = "stopped" | "restart";

/** What a resize request did. */
export interface ResizeOutcome {
	/** `resized`: the type changed now; `stopping`: the sequence began, the instance starts again by itself. */
	outcome: "resized" | "stopping";
	instance: Instance;
	/** In the user's words. */
	text: string;
}

/**
 * The types an instance may be resized to: those its configuration offers its group (less the
 * group's excluded types, as the wizard), but its own; none for an instance launched from no
 * configuration the portal knows.
 */
export async function resizeTypes(
	deps: Pick<Deps, "db">,
	instance: Pick<Instance, "configId" | "groupId" | "instanceType">,
): Promise<{ name: string; description: string }[]> {
	if (instance.configId === null || instance.groupId === null) return [];
	const types = sortInstanceTypes(await usableTypes(deps.db, instance.configId, instance.groupId));
	return types.filter((t) => t.name !== instance.instanceType).map((t) => ({
		name: t.name,
		description: t.description,
	}));
}

/** Why the instance cannot be resized in its state, for `mode`; undefined when it can. */
export function resizeRefusal(
	instance: Pick<Instance, "state" | "pendingAction">,
	mode: ResizeMode,
): string | undefined {
	if (instance.pendingAction) return `A ${instance.pendingAction} is already in progress for this instance.`;
	if (instance.state === "stopped") return undefined;
	if (instance.state === "running" || instance.state === "pending") {
		return mode === "restart"
			? undefined
			: "The instance is running: EC2 changes the type of a stopped instance only. Stop it first, or choose " +
				"“stop, resize, start”.";
	}
	return `Cannot resize: the instance is ${instance.state}, not stopped or running.`;
}

/**
 * Resizes the instance `id` to `type` for the viewer (who may control it): at once when it is
 * stopped, or, with mode "restart", by stopping it, resizing it and starting it again. Throws
 * {@link UserError}: 404 (unknown), 403 (not the viewer's to control), 422 (a type not offered,
 * or its own), 409 (locked, wrong state, another action or resize in flight, AWS refused), 503.
 */
export async function resizeInstance(
	deps: Deps,
	viewer: Viewer,
	id: string,
	type: unknown,
	mode: ResizeMode = "stopped",
): Promise<ResizeOutcome> {
	const row = await getInstance(deps.db, id);
	if (!row || row.archived) throw new UserError(404, `No instance ${id.slice(0, 40)} is known to the portal`);
	const audit = await authorizeAction(deps, viewer, { kind: "instance", noun: "instance", id, ownerId: row.ownerId }, {
		name: "resize",
		ownerOnly: false,
		verb: "resize",
	});
	const refuse = async (
		status: UserError["status"],
		message: string,
		fields?: Record<string, string>,
	): Promise<never> => {
		await audit("refused", message);
		throw new UserError(status, message, fields ? { fields } : undefined);
	};
	const locked = machineKind("instance").control.locked(row);
	if (locked) return await refuse(409, locked);
	const wanted = typeof type === "string" ? type.trim().slice(0, 64) : "";
	if (!wanted) return await refuse(422, "Choose the instance type to resize to.", { instanceType: "required" });
	if (wanted === row.instanceType) {
		return await refuse(422, `The instance is already a ${wanted}.`, { instanceType: "its own type" });
	}
	const allowed = await resizeTypes(deps, row);
	if (!allowed.some((t) => t.name === wanted)) {
		const message = `${wanted} is not a type this instance's configuration offers its group` +
			(allowed.length ? ` (offered: ${allowed.map((t) => t.name).join(", ")})` : "");
		return await refuse(422, message, { instanceType: "not offered" });
	}
	if (await getResize(deps.db, id)) return await refuse(409, "A resize of this instance is already on its way.");
	const refusal = resizeRefusal(row, mode);
	if (refusal) return await refuse(409, refusal);
	if (row.state === "stopped") {
		const instance = await changeType(deps, row, wanted, audit);
		return {
			outcome: "resized",
			instance,
			text: `${id} now has type ${wanted}. It is stopped; start it when you need it.`,
		};
	}
	return await stopResizeStart(deps, viewer, row, wanted);
}

/**
 * Changes a stopped instance's type: claimed like an action (so nothing else moves it meanwhile),
 * audited before the AWS call and completed after it.
 */
async function changeType(deps: Deps, row: Instance, type: string, audit: ActionAudit): Promise<Instance> {
	const kind = machineKind("instance");
	const now = deps.clock();
	const claimed = await kind.rows.claim(deps, {
		id: row.id,
		action: "resize",
		states: ["stopped"],
		now,
		staleBefore: new Date(now.getTime() - ACTION_STALE_MS),
	});
	if (!claimed) {
		await audit("refused", "the instance is no longer stopped, or another action is in progress");
		throw new UserError(409, "The instance is no longer stopped, or another action is in progress for it.");
	}
	const complete = await audit.begin(`asking AWS to change the type from ${row.instanceType} to ${type}`);
	try {
		await deps.aws.ec2.modifyInstanceType(row.id, type);
	} catch (error) {
		await kind.rows.update(deps, row.id, { pendingAction: null, pendingSince: null });
		const message = error instanceof AwsError
			? explainActionFailure(error)
			: "The resize failed on the portal's side; the portal's log has the details.";
		await complete("error", message);
		deps.log.web.warn("resize {id} failed: {message}", { id: row.id, message: (error as Error).message });
		throw new UserError(error instanceof AwsError && error.transient ? 503 : 409, message, { cause: error });
	}
	await updateInstance(deps.db, row.id, { instanceType: type, pendingAction: null, pendingSince: null });
	await complete("ok", `${row.instanceType} → ${type}`);
	deps.log.web.info("resized {id} from {from} to {to}", { id: row.id, from: row.instanceType, to: type });
	return (await getInstance(deps.db, row.id))!;
}

/** Begins "stop, resize, start": records the sequence, stops the instance, and follows it in the background. */
async function stopResizeStart(deps: Deps, viewer: Viewer, row: Instance, type: string): Promise<ResizeOutcome> {
	const auditId = await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: viewer.id,
		actor: viewer.username,
		action: "resize",
		resourceKind: "instance",
		resourceId: row.id,
		outcome: "sent",
		detail: `stop, resize from ${row.instanceType} to ${type}, start: stopping it first`,
	});
	const resize = await insertResize(deps.db, {
		instanceId: row.id,
		fromType: row.instanceType,
		toType: type,
		requestedBy: viewer.id,
		auditId,
	});
	if (!resize) {
		await completeAudit(deps.db, auditId, "refused", "a resize of this instance is already on its way");
		throw new UserError(409, "A resize of this instance is already on its way.");
	}
	try {
		await controlMachine(deps, viewer, { kind: "instance", id: row.id, action: "stop" });
	} catch (error) {
		await deleteResize(deps.db, row.id);
		await completeAudit(deps.db, auditId, "error", `the stop was refused: ${(error as Error).message}`);
		throw error;
	}
	followResize(deps, row.id);
	return {
		outcome: "stopping",
		instance: (await getInstance(deps.db, row.id))!,
		text: `Stopping ${row.id} to resize it to ${type}; it starts again by itself once resized.`,
	};
}

/** Moves the sequence on in the background as the instance stops, until it is done (the job takes over after a restart). */
function followResize(deps: Deps, id: string): void {
	deps.background.run(`resize ${id}`, async () => {
		for (const delay of SETTLE_DELAYS_MS) {
			if (!await deps.background.sleep(delay)) return;
			const resize = await getResize(deps.db, id);
			if (!resize) return;
			await advanceResize(deps, resize);
		}
	});
}

/** Ends a sequence, completing the request's audit record (or, without one, recording how it ended). */
async function endSequence(
	deps: Deps,
	resize: InstanceResize,
	outcome: "ok" | "error",
	detail: string,
): Promise<void> {
	await deleteResize(deps.db, resize.instanceId);
	if (resize.auditId !== null) return await completeAudit(deps.db, resize.auditId, outcome, detail);
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: resize.requestedBy,
		actor: "portal",
		action: "resize",
		resourceKind: "instance",
		resourceId: resize.instanceId,
		outcome,
		detail,
	});
}

/** Ends a sequence that cannot go on, saying why in the instance's activity. */
async function giveUp(deps: Deps, resize: InstanceResize, why: string): Promise<void> {
	await endSequence(deps, resize, "error", `stop, resize to ${resize.toType}, start given up: ${why}`);
	deps.log.web.warn("resize {id} given up: {why}", { id: resize.instanceId, why });
}

/**
 * One step of a "stop, resize, start", as the instance is now: waits while it stops, changes its
 * type once it is stopped, then starts it; gives up (audited) when the instance ended, its
 * requester lost the right to control it, or it did not stop within RESIZE_TIMEOUT_MS. Two
 * processes stepping the same sequence are kept apart by the action claims.
 */
export async function advanceResize(deps: Deps, resize: InstanceResize): Promise<void> {
	const id = resize.instanceId;
	const kind = machineKind("instance");
	let row = await getInstance(deps.db, id);
	if (row && !row.archived && row.state !== "stopped") {
		const [refreshed] = await refreshMachines(deps, kind, [id]);
		row = (refreshed?.row as Instance | undefined) ?? row;
	}
	if (!row || row.archived || INSTANCE_ENDED_STATES.includes(row.state)) {
		return await giveUp(deps, resize, `the instance is ${row?.state ?? "gone"}`);
	}
	const user = await getUser(deps.db, resize.requestedBy);
	if (!user) return await giveUp(deps, resize, "its requester is no longer known");
	const viewer = await viewerOf(deps.db, user, deps.settings.ADMIN_USERNAMES);
	try {
		if (resize.step === "stopping") {
			if (row.state !== "stopped" || row.pendingAction) {
				if (deps.clock().getTime() - resize.createdAt.getTime() > RESIZE_TIMEOUT_MS) {
					await giveUp(deps, resize, `the instance did not stop within ${RESIZE_TIMEOUT_MS / 60_000} minutes`);
				}
				return;
			}
			if (row.instanceType !== resize.toType) {
				const audit = await authorizeAction(deps, viewer, {
					kind: "instance",
					noun: "instance",
					id,
					ownerId: row.ownerId,
				}, {
					name: "resize",
					ownerOnly: false,
					verb: "resize",
				});
				await changeType(deps, row, resize.toType, audit);
			}
			await setResizeStep(deps.db, id, "starting");
		}
		const current = (await getInstance(deps.db, id))!;
		if (current.state === "stopped") await controlMachine(deps, viewer, { kind: "instance", id, action: "start" });
		await endSequence(deps, resize, "ok", `stopped, resized from ${resize.fromType} to ${resize.toType}, started`);
	} catch (error) {
		if (!(error instanceof UserError)) throw error;
		// Another process moved it meanwhile (409): the next step sees where it is. Anything else ends it.
		if (error.status === 409 || error.status === 503) return;
		await giveUp(deps, resize, error.message);
	}
}

/** Moves every "stop, resize, start" on one step; one's trouble does not stop the others. Returns how many it saw. */
export async function advanceResizes(deps: Deps, signal?: AbortSignal): Promise<number> {
	const resizes = await resizesInFlight(deps.db);
	for (const resize of resizes) {
		if (signal?.aborted) break;
		try {
			await advanceResize(deps, resize);
		} catch (error) {
			deps.log.web.error("resize {id}: step failed, will retry next run: {message}", {
				id: resize.instanceId,
				message: (error as Error).message,
			});
		}
	}
	return resizes.length;
}
