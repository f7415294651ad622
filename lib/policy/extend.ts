/**
 * The extend page of a notice's link: reading it changes nothing (mail scanners follow links);
 * posting it postpones the action once, by an amount the policy allows, for the user the link was
 * sent to. A forged or altered link, another user's link, an expired or used one are refused.
 */
import type { Viewer } from "../auth/identify.ts";
import { recordAudit } from "../db/audit.ts";
import {
	catalogPolicies,
	getPolicyAction,
	markPostponed,
	type PolicyAction,
	policyMachines,
	POSTPONED_COLUMNS,
	setMachinePolicy,
} from "../db/policies.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { policyResolver } from "./evaluate.ts";
import { factsOf } from "./evaluate.ts";
import { readExtendToken } from "./links.ts";
import { noticeMessage, noticeTime } from "./notices.ts";
import { planActions, signalFreshMs } from "./plan.ts";
import { machineKind } from "../machines/kinds.ts";

/** The postponements offered, in minutes; those beyond the policy's longest are left out. */
const STEPS = [30, 60, 120, 240, 480, 24 * 60, 3 * 24 * 60, 7 * 24 * 60];

/** What the extend page shows. */
export interface ExtendView {
	action: PolicyAction;
	message: string;
	/** Whether it can still be postponed (the page shows the button). */
	open: boolean;
	/** Why not, when it cannot. */
	closed?: string;
	/** The postponements to choose from, in minutes. */
	choices: number[];
}

/** The action a link names, for the user it was sent to; a 403 or 404 otherwise. */
async function linkedAction(deps: Pick<Deps, "db" | "secret">, viewer: Viewer, token: string): Promise<PolicyAction> {
	const claim = await readExtendToken(deps.secret, token);
	if (!claim) throw new UserError(403, "This link is not one the portal made: it is altered or incomplete.");
	if (claim.userId !== viewer.id) {
		throw new UserError(403, "This link was sent to someone else: only they can use it.");
	}
	const action = await getPolicyAction(deps.db, claim.actionId);
	if (!action) throw new UserError(404, "This notice no longer exists.");
	return action;
}

/** Why the action cannot be postponed any more, or undefined when it can. */
function closedBecause(action: PolicyAction, now: Date, timeZone: string): string | undefined {
	if (action.status === "postponed") return "This link was already used: the action was postponed.";
	if (action.status === "done") {
		return `The action was taken at ${noticeTime(action.endedAt ?? action.actAt, timeZone)}.`;
	}
	if (action.status === "cancelled") return "The action is no longer planned: nothing needs postponing.";
	if (action.status === "acting") return "The action is being taken right now.";
	if (action.action === "start") return "Starts are not postponed.";
	if (action.reason === "budget") return "A budget's stops are not postponed: ask for an exception instead.";
	if (action.actAt.getTime() <= now.getTime()) return "This link has expired: the action was due already.";
	return undefined;
}

/**
 * The longest postponement of the action's machine's policy, and for lifetime and dormancy (which
 * may be postponed only that much in all) what is left of it.
 */
async function postponeLimit(deps: Pick<Deps, "db" | "clock" | "settings">, action: PolicyAction) {
	const now = deps.clock();
	const [machine] = await policyMachines(deps.db, [action.machineId]);
	if (!machine) return { maxMinutes: 0 };
	const entry = policyResolver(await catalogPolicies(deps.db), deps.settings.TIME_ZONE, now)(
		machine.groupId,
		machine.configId,
	);
	const maxMinutes = entry.policy.maxPostponeMinutes;
	if (action.reason !== "lifetime" && action.reason !== "dormancy") return { maxMinutes };
	// The deadline without any postponement, and what the policy's total allows beyond it.
	const natural = planActions(
		{ ...factsOf(machine, now), postponed: {} },
		machineKind(machine.kind).policy,
		entry.policy,
		{
			now,
			calendar: entry.calendar,
			freshMs: signalFreshMs(deps.settings),
		},
	).find((p) => p.reason === action.reason)?.deadline;
	if (!natural) return { maxMinutes: 0 };
	const left = (natural.getTime() + maxMinutes * 60_000 - action.actAt.getTime()) / 60_000;
	return { maxMinutes: Math.max(0, Math.min(maxMinutes, Math.floor(left))) };
}

/** What the extend page of `token` shows the viewer; changes nothing. */
export async function extendView(
	deps: Pick<Deps, "db" | "clock" | "settings" | "secret">,
	viewer: Viewer,
	token: string,
): Promise<ExtendView> {
	const action = await linkedAction(deps, viewer, token);
	const closed = closedBecause(action, deps.clock(), deps.settings.TIME_ZONE);
	const { maxMinutes } = closed ? { maxMinutes: 0 } : await postponeLimit(deps, action);
	const choices = STEPS.filter((m) => m <= maxMinutes);
	if (!closed && choices.length === 0 && maxMinutes >= 15) choices.push(maxMinutes);
	return {
		action,
		message: noticeMessage(action, deps.settings.TIME_ZONE),
		open: !closed && choices.length > 0,
		closed: closed ?? (choices.length === 0 ? "The policy allows no further postponement." : undefined),
		choices,
	};
}

/**
 * Postpones the action of `token` by `minutes` (one of the page's choices), once. Returns when the
 * action is now due. A 403 (forged, someone else's), 404, 409 (used, expired, taken) or 422.
 */
export async function postponeAction(
	deps: Pick<Deps, "db" | "clock" | "settings" | "secret" | "log">,
	viewer: Viewer,
	token: string,
	raw: Record<string, unknown>,
): Promise<{ until: Date }> {
	const view = await extendView(deps, viewer, token);
	if (!view.open) throw new UserError(409, view.closed ?? "This action cannot be postponed.");
	const minutes = Number(raw.minutes);
	if (!view.choices.includes(minutes)) {
		throw new UserError(422, "Please correct the marked fields.", {
			fields: { minutes: `Choose one of ${view.choices.join(", ")} minutes` },
		});
	}
	const now = deps.clock();
	const { action } = view;
	if (!await markPostponed(deps.db, action.id, viewer.id, now)) {
		throw new UserError(409, "This link was already used, or the action was taken meanwhile.");
	}
	const until = new Date(action.actAt.getTime() + minutes * 60_000);
	if (action.reason === "budget") throw new UserError(409, "A budget's stops are not postponed.");
	await setMachinePolicy(deps.db, { kind: action.kind, id: action.machineId }, {
		[POSTPONED_COLUMNS[action.reason]]: until,
	}, now);
	await recordAudit(deps.db, {
		at: now,
		actorId: viewer.id,
		actor: viewer.username,
		action: "postpone",
		resourceKind: action.kind,
		resourceId: action.machineId,
		outcome: "ok",
		detail: `${action.reason} ${action.action} postponed by ${minutes} minutes, to ${until.toISOString()}`,
		reason: action.reason,
	});
	deps.log.web.info("{reason} {action} of {id} postponed by {user} to {until}", {
		reason: action.reason,
		action: action.action,
		id: action.machineId,
		user: viewer.username,
		until: until.toISOString(),
	});
	return { until };
}
