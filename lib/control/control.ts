/**
 * The one control path of every machine, whatever its kind: the actor may take the action, the
 * controls are not locked, the machine is in a state the action starts from, no other action is in
 * flight (double clicks, two tabs, two processes); then the kind's AWS call, the row's new state,
 * bill and DNS, the audit of every attempt (written before the call, completed after it), and the
 * machine followed for a short while until it settles; a terminate whose call timed out is
 * confirmed with AWS instead of failed.
 */
import type { Viewer } from "../auth/identify.ts";
import { explainActionFailure } from "../aws_failures.ts";
import { canTerminate } from "../auth/permissions.ts";
import type { ConfigKind } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { AwsError, UserError } from "../errors.ts";
import { type Actor, actorName, type AuditCompletion, authorizeAction } from "../machines/actions.ts";
import { machineKind } from "../machines/kinds.ts";
import { ACTION_STALE_MS } from "../machines/lifecycle.ts";
import type { ActionRule, MachineKind, MachineRow } from "../machines/model.ts";
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
 * While an action is in flight only those that take over from it (terminate) are offered: any
 * other would be refused as "already in progress".
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
		if (row.pendingAction && !rule.supersedes?.includes(row.pendingAction)) return false;
		return rule.from.includes(row.state);
	});
}

/**
/**
 * Performs an action on a machine for `actor` (a user, or a policy); returns the row as the action
 * left it. The audit record is written before the AWS call and completed after it. When the call
 * times out on an action AWS may still have carried out (a terminate), the row stays in flight and
 * carries a `notice` for the user: sent, being confirmed. Throws {@link UserError}: 403 (not
 * allowed), 404 (unknown), 409 (locked, wrong state, another action in flight, AWS refused), 503
 * (AWS unavailable).
 */
export async function controlMachine(
	deps: Deps,
	actor: Actor,
	request: ControlRequest,
): Promise<MachineRow & { notice?: string }> {
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

	// Written before AWS is asked: a crash or a hung call still leaves the record that it was.
	const complete = await audit.begin(`asking AWS to ${action}`);
	try {
		await rule.perform(deps, row);
	} catch (error) {
		if (error instanceof AwsError && error.kind === "timeout" && rule.confirm) {
			// AWS may well have done it: keep it in flight, ask AWS shortly, tell the user so.
			await complete("sent", "AWS did not answer in time; it may have been carried out: confirming");
			deps.log.web.warn("{action} {id} by {user}: AWS did not answer in time; confirming", {
				action,
				id,
				user: actorName(actor),
			});
			deps.background.run(`confirm ${action} ${id}`, () => confirmLater(deps, kind, rule, row, action, now, complete));
			const current = (await kind.rows.get(deps, id))!;
			return Object.assign(current, {
				notice: `The ${action} request was sent to AWS, which did not answer in time. The portal is confirming ` +
					`it with AWS; this ${kind.noun} shows the outcome in a moment.`,
			});
		}
		await kind.rows.update(deps, id, { pendingAction: null, pendingSince: null });
		// The user and the activity get plain words; the log gets what AWS (or the network) said.
		const message = error instanceof AwsError
			? explainActionFailure(error)
			: "The action failed on the portal's side; the portal's log has the details.";
		await complete("error", message);
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
	await complete("ok", settled.detail);
	deps.log.web.info("{action} {id} by {user}", { action, id, kind: kind.name, user: actorName(actor) });
	if (rule.refresh) followAction(deps, kind, id, action);
	return (await kind.rows.get(deps, id))!;
}

/** How long after an action its machine is observed again (and a timed-out one confirmed). */
const REFRESH_AFTER_MS = 2000;

/**
 * After an action's AWS call timed out: asks AWS whether it was carried out. Yes: it is settled as
 * if the call had answered (billed until it was asked for) and audited as confirmed. No: it is
 * released for another try. Cannot tell: it stays in flight, and the sync confirms it when it sees
 * the machine end (or forgets it when it goes stale).
 */
async function confirmLater(
	deps: Deps,
	kind: MachineKind,
	rule: ActionRule<MachineRow>,
	row: MachineRow,
	action: string,
	asked: Date,
	complete: AuditCompletion,
): Promise<void> {
	// At shutdown the record stays "sent" and the sync confirms it.
	if (!await deps.background.sleep(REFRESH_AFTER_MS)) return;
	const confirmed = await rule.confirm!(deps, row);
	const current = await kind.rows.get(deps, row.id);
	if (current?.pendingAction !== action) {
		// The sync saw it through already.
		await complete("ok", "AWS did not answer in time; the sync saw it carried out");
	} else if (confirmed === true) {
		const settled = await rule.settle(deps, row, asked);
		await kind.rows.update(deps, row.id, settled.changes);
		await complete("ok", `confirmed after AWS did not answer in time${settled.detail ? `; ${settled.detail}` : ""}`);
		if (rule.refresh) await refreshMachines(deps, kind, [row.id]);
	} else if (confirmed === false) {
		await kind.rows.update(deps, row.id, { pendingAction: null, pendingSince: null });
		await complete("error", "AWS did not answer in time and did not carry it out; it may be asked again");
	} else {
		await complete("sent", "AWS did not answer in time and cannot be asked now; the sync confirms it");
	}
	deps.log.web.info("{action} {id} after a timeout: {outcome}", {
		action,
		id: row.id,
		outcome: confirmed === undefined ? "unknown, left to the sync" : confirmed ? "carried out" : "not carried out",
	});
}

/**
 * When the machine is looked at again after an action, in ms after the previous look: often at
 * first, then less, about a minute and a half in all, longer than a stop, a start or a reboot takes.
 */
export const SETTLE_DELAYS_MS: readonly number[] = [
	1000,
	2000,
	3000,
	4000,
	5000,
	5000,
	10_000,
	10_000,
	15_000,
	15_000,
	20_000,
];

/**
 * Follows an action in the background until the machine settles (the kind's rule says the action
 * is done, and the row's action in flight is cleared), so the page, which polls the row while an
 * action is in flight, shows the real state within seconds instead of at the next sync. It stops
 * early when AWS does not show the machine, or another action took over.
 */
function followAction(deps: Deps, kind: MachineKind, id: string, action: string): void {
	deps.background.run(`settle ${action} ${id}`, async () => {
		for (const delay of SETTLE_DELAYS_MS) {
			if (!await deps.background.sleep(delay)) return;
			const [refreshed] = await refreshMachines(deps, kind, [id]);
			if (!refreshed?.seen || refreshed.row.pendingAction !== action) return;
		}
	});
}
