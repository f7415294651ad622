/**
 * What every action on a machine starts and ends with, whatever its kind: the viewer may control
 * the machine (owner, teammate, manager or admin) and, for an owner-only action, is its owner or an
 * admin; every attempt and its outcome is audited.
 */
import type { Viewer } from "../auth/identify.ts";
import { canTerminate, mayView } from "../auth/permissions.ts";
import { recordAudit } from "../db/audit.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";

/** Records how an attempted action ended. */
export type ActionAudit = (outcome: "ok" | "refused" | "error", detail: string) => Promise<void>;

/**
 * Checks that the viewer may take the action on the machine. A refusal is audited and thrown as a
 * 403; otherwise returns the action's audit.
 */
export async function authorizeAction(
	deps: Pick<Deps, "db" | "clock">,
	viewer: Viewer,
	machine: { kind: string; noun: string; id: string; ownerId: number },
	action: { name: string; ownerOnly: boolean; verb: string },
): Promise<ActionAudit> {
	const audit: ActionAudit = (outcome, detail) =>
		recordAudit(deps.db, {
			at: deps.clock(),
			actorId: viewer.id,
			actor: viewer.username,
			action: action.name,
			resourceKind: machine.kind,
			resourceId: machine.id,
			outcome,
			detail,
		});
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
