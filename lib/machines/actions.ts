/**
 * What every action on a machine starts and ends with, whatever its kind: the viewer may control
 * the machine (owner, teammate, manager or admin) and, for an owner-only action, is its owner or an
 * admin; a machine policy may take any action (it is no user: the audit names the policy and its
 * reason code); every attempt and its outcome is audited; AWS failures are told in the user's words.
 */
import type { Viewer } from "../auth/identify.ts";
import { canTerminate, mayView } from "../auth/permissions.ts";
import { recordAudit } from "../db/audit.ts";
import type { ActionReason } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { type AwsError, UserError } from "../errors.ts";

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

/** Records how an attempted action ended. */
export type ActionAudit = (outcome: "ok" | "refused" | "error", detail: string) => Promise<void>;

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
	const audit: ActionAudit = (outcome, detail) =>
		recordAudit(deps.db, {
			at: deps.clock(),
			actorId: policy ? null : (actor as Viewer).id,
			actor: actorName(actor),
			action: action.name,
			resourceKind: machine.kind,
			resourceId: machine.id,
			outcome,
			detail: policy ? [policy.why, detail].filter(Boolean).join("; ") : detail,
			reason: policy?.policy ?? null,
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

/** A message for the user about an AWS failure, without internals. */
export function explainAwsError(error: AwsError): string {
	switch (error.kind) {
		case "throttled":
			return "AWS is throttling requests right now; try again in a minute.";
		case "unavailable":
		case "timeout":
			return "AWS did not answer; try again in a minute.";
		case "denied":
			return "AWS refused the portal's credentials for this action; tell an admin.";
		case "not_found":
			return "AWS no longer knows this resource; the next sync will update its state.";
		default:
			return `AWS refused the action: ${error.message.replace(/^\w+: /, "").slice(0, 300)}`;
	}
}
