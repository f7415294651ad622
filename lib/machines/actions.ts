/**
 * What every action on a machine starts and ends with, whatever its kind: the viewer may control
 * the machine (owner, teammate, manager or admin) and, for an owner-only action, is its owner or an
 * admin; a machine policy may take any action (it is no user: the audit names the policy and its
 * reason code); every attempt and its outcome is audited.
 */
import type { Viewer } from "../auth/identify.ts";
import { canTerminate, mayView } from "../auth/permissions.ts";
import { completeAudit, recordAudit } from "../db/audit.ts";
import type { ActionReason } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";

/** A machine policy acting on its own (idle, working hours, lifetime, dormancy) or a budget at its hard limit, with why. */
export interface PolicyActor {
	policy: ActionReason;
	/** Why, in the owner's words: recorded with the audit event. */
	why: string;
}

/** Who takes an action: a signed-in user, or a policy. */
export type Actor = Viewer | PolicyActor;

export function isPolicyActor(actor: Actor): actor is PolicyActor {
	return "policy" in actor;
}

/** The actor as logs and the audit name it: the username, "policy", or "budget". */
export function actorName(actor: Actor): string {
	return isPolicyActor(actor) ? (actor.policy === "budget" ? "budget" : "policy") : actor.username;
}

/** How an action's audit record ends: written once its outcome is known. */
export type AuditCompletion = (outcome: "ok" | "error" | "sent", detail: string) => Promise<void>;

/** The audit of an attempted action. */
export interface ActionAudit {
	/** Records an attempt that ended before AWS was asked (a refusal). */
	(outcome: "refused", detail: string): Promise<void>;
	/**
	 * Records the attempt as sent before the AWS call, so that whatever happens to the process
	 * during the call, the record says it was asked; returns how to complete the record afterwards.
	 */
	begin(detail: string): Promise<AuditCompletion>;
}

/**
 * Checks that the viewer may take the action on the machine. A refusal is audited and thrown as a
 * 403; otherwise returns the action's audit.
 */
export async function authorizeAction(
	deps: Pick<Deps, "db" | "clock">,
	actor: Actor,
	machine: { kind: string; noun: string; id: string; ownerId: number },
	action: { name: string; ownerOnly: boolean; verb: string },
): Promise<ActionAudit> {
	const policy = isPolicyActor(actor) ? actor : undefined;
	const withWhy = (detail: string) => policy ? [policy.why, detail].filter(Boolean).join("; ") : detail;
	const record = (outcome: "refused" | "sent", detail: string) =>
		recordAudit(deps.db, {
			at: deps.clock(),
			actorId: policy ? null : (actor as Viewer).id,
			actor: actorName(actor),
			action: action.name,
			resourceKind: machine.kind,
			resourceId: machine.id,
			outcome,
			detail: withWhy(detail),
			reason: policy?.policy ?? null,
		});
	const audit: ActionAudit = Object.assign(async (outcome: "refused", detail: string) => {
		await record(outcome, detail);
	}, {
		async begin(detail: string): Promise<AuditCompletion> {
			const id = await record("sent", detail);
			return (outcome, detail) => completeAudit(deps.db, id, outcome, withWhy(detail));
		},
	});
	if (policy) return audit;
	const viewer = actor as Viewer;
	if (!await mayView(deps.db, viewer, machine)) {
		await audit("refused", "not the owner, a teammate, a manager or an admin");
		throw new UserError(403, `This ${machine.noun} belongs to someone outside your groups.`);
	}
	if (action.ownerOnly && !canTerminate(viewer, machine.ownerId)) {
		await audit("refused", `${action.name} is for the owner or an admin`);
		throw new UserError(403, `Only the owner or an admin may ${action.verb} this ${machine.noun}.`);
	}
	return audit;
}

/**
 * Whether AWS has the deletion of a stack: it is being or has been deleted (or is gone), or
 * `undefined` when AWS cannot be asked. A terminate's confirmation after a timeout.
 */
export async function stackDeletionAsked(deps: Pick<Deps, "aws">, stackId: string): Promise<boolean | undefined> {
	try {
		const stack = await deps.aws.cloudFormation.describeStack(stackId);
		return !stack || stack.status.startsWith("DELETE_");
	} catch {
		return undefined;
	}
}
