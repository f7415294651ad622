/**
 * The one control path of every machine, whatever its kind: the actor may take the action, the
 * controls are not locked, the machine is in a state the action starts from, no other action is in
 * flight (double clicks, two tabs, two processes); then the kind's AWS call, the row's new state,
 * bill and DNS, the audit of every attempt and its outcome, and a refresh soon after.
 */
import type { Viewer } from "../auth/identify.ts";
import { canTerminate } from "../auth/permissions.ts";
import type { ConfigKind } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { AwsError, UserError } from "../errors.ts";
import { type Actor, actorName, authorizeAction, explainAwsError } from "../machines/actions.ts";
import { machineKind } from "../machines/kinds.ts";
import { ACTION_STALE_MS } from "../machines/lifecycle.ts";
import type { MachineRow } from "../machines/model.ts";
import { refreshMachines } from "../sync/observe.ts";

/** An action asked for: which machine, of which kind, and what to do. */
export interface ControlRequest {
	kind: ConfigKind;
	id: string;
	action: string;
}

/** Whether the kind has an action of that name. */
export function isAction(kind: ConfigKind, action: string): boolean {
	return machineKind(kind).control.actions.includes(action);
}

/**
 * Which actions the viewer may take on the machine now (for showing buttons). `mayControl` is
 * whether the viewer may control it at all; lists pass true because their rows are already scoped.
 */
export function availableActions(kind: ConfigKind, viewer: Viewer, row: MachineRow, mayControl: boolean): string[] {
	if (row.archived || !mayControl) return [];
	const { control } = machineKind(kind);
	const locked = control.locked(row) !== undefined;
	return control.actions.filter((action) => {
		const rule = control.ruleFor(action, row);
		if (!rule) return false;
		if (rule.ownerOnly && !canTerminate(viewer, row.ownerId)) return false;
		if (locked && !rule.ownerOnly) return false;
		return rule.from.includes(row.state);
	});
}

/**
 * Performs an action on a machine for `actor` (a user, or a policy); returns the row as the action
 * left it. Throws {@link UserError}: 403 (not allowed), 404 (unknown), 409 (locked, wrong state,
 * another action in flight, AWS refused), 503 (AWS unavailable).
 */
export async function controlMachine(deps: Deps, actor: Actor, request: ControlRequest): Promise<MachineRow> {
	const kind = machineKind(request.kind);
	const { id, action } = request;
	const now = deps.clock();
	const row = await kind.rows.get(deps, id);
	if (!row || row.archived) throw new UserError(404, `No ${kind.noun} ${id} is known to the portal`);
	const rule = kind.control.ruleFor(action, row);
	if (!rule) throw new UserError(400, `Unknown action "${action.slice(0, 40)}" for a ${kind.noun}`);
	const audit = await authorizeAction(deps, actor, { kind: kind.name, noun: kind.noun, id, ownerId: row.ownerId }, {
		name: action,
		ownerOnly: rule.ownerOnly,
		verb: rule.verb,
	});
	const locked = kind.control.locked(row);
	if (locked && !rule.ownerOnly) {
		await audit("refused", "controls locked");
		throw new UserError(409, locked);
	}
	if (!rule.from.includes(row.state)) {
		await audit("refused", rule.refusal(row.state));
		throw new UserError(409, rule.refusal(row.state));
	}
	const claimed = await kind.rows.claim(deps, {
		id,
		action,
		states: rule.from,
		now,
		staleBefore: new Date(now.getTime() - ACTION_STALE_MS),
		supersedes: rule.supersedes,
	});
	if (!claimed) {
		const current = await kind.rows.get(deps, id);
		const message = current?.pendingAction
			? `A ${current.pendingAction} is already in progress for this ${kind.noun}`
			: rule.refusal(current?.state ?? "gone");
		await audit("refused", message);
		throw new UserError(409, message);
	}

	try {
		await rule.perform(deps, row);
	} catch (error) {
		await kind.rows.update(deps, id, { pendingAction: null, pendingSince: null });
		const message = error instanceof AwsError ? explainAwsError(error) : "The action failed unexpectedly";
		await audit("error", error instanceof Error ? error.message : String(error));
		deps.log.web.warn("{action} {id} by {user} failed: {message}", {
			action,
			id,
			user: actorName(actor),
			message: (error as Error).message,
		});
		throw new UserError(error instanceof AwsError && error.transient ? 503 : 409, message, { cause: error });
	}

	const settled = await rule.settle(deps, row, now);
	await kind.rows.update(deps, id, settled.changes);
	await audit("ok", settled.detail);
	deps.log.web.info("{action} {id} by {user}", { action, id, kind: kind.name, user: actorName(actor) });
	if (rule.refresh) {
		// Follow the change in the background so the page shows the real state soon.
		deps.background.run(`refresh ${id}`, async () => {
			await new Promise((resolve) => setTimeout(resolve, 2000));
			await refreshMachines(deps, kind, [id]);
		});
	}
	return (await kind.rows.get(deps, id))!;
}
