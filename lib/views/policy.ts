/**
 * The machine policies as the pages show them, plain values for components: a machine's effective
 * policy with its owner's choices and the next planned action ("stops at 19:00 unless extended",
 * "idle for 12 min; stops after 30"), for a list of rows at once (the dashboard) or one machine in
 * full (the detail page), and the viewer's notices (the banner of every page).
 */
import type { Viewer } from "../auth/identify.ts";
import { catalogPolicies, type PolicyMachine, policyMachines } from "../db/policies.ts";
import type { ConfigKind } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { plansOf, type PolicyEntry, policyResolver } from "../policy/evaluate.ts";
import { activeNotices, noticeTime, type NoticeView } from "../policy/notices.ts";
import { explainPlan, noticeAt, type Plan, signalFreshMs } from "../policy/plan.ts";
import { machineUnderPolicy } from "../policy/signals.ts";
import { type EffectivePolicy, resolveChoices, type ResolvedPolicy } from "../policy/spec.ts";

export type { NoticeView };
export { activeNotices };

/** The next action a machine's policy plans, as a row or a detail page shows it. */
export interface NextAction {
	reason: Plan["reason"];
	action: Plan["action"];
	at: Date;
	/** When its notice goes out (at or before `at`). */
	noticeAt: Date;
	/** "stops at 2025-03-01 19:00 UTC unless extended", "idle for 12 min; stops after 30". */
	summary: string;
	/** Why, in full. */
	why: string;
}

const VERB: Record<string, string> = { stop: "stops", start: "starts", terminate: "is terminated" };

/**
 * The plan in a few words. An idle plan counts the idle minutes, unless a keep-alive holds it (it
 * counts from the keep-alive's end) or an extend link postponed it (its new time is what matters).
 */
function summaryOf(plan: Plan, now: Date, timeZone: string): string {
	const verb = VERB[plan.action] ?? plan.action;
	const at = `${verb} at ${noticeTime(plan.deadline, timeZone)}`;
	if (plan.reason === "idle") {
		const bare = verb.replace("is ", "");
		if (plan.since.getTime() > now.getTime()) {
			return `kept running until ${noticeTime(plan.since, timeZone)}; then ${bare} after ${plan.limit} idle min`;
		}
		const idle = Math.max(0, Math.floor((now.getTime() - plan.since.getTime()) / 60_000));
		const natural = plan.since.getTime() + (plan.limit ?? 0) * 60_000;
		if (plan.deadline.getTime() > natural) return `idle for ${idle} min; postponed: ${at} unless extended`;
		return `idle for ${idle} min; ${bare} after ${plan.limit}`;
	}
	return `${at}${plan.action === "start" ? "" : " unless extended"}`;
}

function nextOf(plans: Plan[], now: Date, timeZone: string): NextAction | undefined {
	const plan = plans[0];
	if (!plan) return undefined;
	return {
		reason: plan.reason,
		action: plan.action,
		at: plan.deadline,
		noticeAt: noticeAt(plan),
		summary: summaryOf(plan, now, timeZone),
		why: explainPlan(plan, (at) => noticeTime(at, timeZone)),
	};
}

/** The next planned action of each of these machines (the dashboard's rows), by id; one read for all. */
export async function nextActions(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	ids: readonly string[],
): Promise<Map<string, NextAction>> {
	if (ids.length === 0) return new Map();
	const now = deps.clock();
	const [machines, catalog] = await Promise.all([policyMachines(deps.db, ids), catalogPolicies(deps.db)]);
	const resolve = policyResolver(catalog, deps.settings.TIME_ZONE, now);
	const freshMs = signalFreshMs(deps.settings);
	const found = new Map<string, NextAction>();
	for (const machine of machines) {
		const next = nextOf(
			plansOf(machine, resolve(machine.groupId, machine.configId), now, freshMs),
			now,
			deps.settings.TIME_ZONE,
		);
		if (next) found.set(machine.id, next);
	}
	return found;
}

/** A machine's policy in full, for its detail page. */
export interface MachinePolicyView {
	policy: EffectivePolicy;
	/** The values that apply (the owner's choices within the policy). */
	applied: ResolvedPolicy;
	keepAliveUntil: Date | null;
	signals: { at: Date | null; activeAt: Date | null; reportedAt: Date | null };
	next?: NextAction;
	/** Every planned action, soonest first. */
	plans: NextAction[];
	/** Whether the viewer may change the choices (the owner or an admin); everyone who sees it may keep it alive. */
	mayChange: boolean;
}

/** The policy view of one machine the viewer may see (a 403 or 404 otherwise). */
export async function machinePolicyView(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	viewer: Viewer,
	target: { kind: ConfigKind; id: string },
): Promise<MachinePolicyView> {
	const machine = await machineUnderPolicy(deps, viewer, target, false);
	const now = deps.clock();
	const entry: PolicyEntry = policyResolver(
		{
			groups: new Map(
				machine.groupId === null ? [] : [[machine.groupId, {
					policy: machine.groupPolicy,
					webhook: "",
					name: "",
				}]],
			),
			configs: new Map(machine.configId === null ? [] : [[machine.configId, machine.configPolicy]]),
		},
		deps.settings.TIME_ZONE,
		now,
	)(machine.groupId, machine.configId);
	const plans = plansOf(machine as PolicyMachine, entry, now, signalFreshMs(deps.settings));
	const views = plans.map((p) => nextOf([p], now, deps.settings.TIME_ZONE)!);
	return {
		policy: entry.policy,
		applied: resolveChoices(entry.policy, {
			idleMinutes: machine.idleMinutes,
			lifetimeHours: machine.lifetimeHours,
			autoStart: machine.autoStart,
		}),
		keepAliveUntil: machine.keepAliveUntil && machine.keepAliveUntil > now ? machine.keepAliveUntil : null,
		signals: { at: machine.signalAt, activeAt: machine.activeAt, reportedAt: machine.reportedAt },
		next: views[0],
		plans: views,
		mayChange: viewer.id === machine.ownerId || viewer.role === "admin",
	};
}

/** A notice as the banner of every page shows it: what will be done (or was, and why), with the way to postpone it. */
export interface BannerNotice {
	id: number;
	phase: NoticeView["phase"];
	/** "Instance i-… will be stopped at … by its idle policy: …", or what was done and why. */
	message: string;
	/** The machine's page. */
	machineHref: string;
	machineId: string;
	/** "stop", "terminate", …: what the extend link postpones. */
	action: string;
	/** The viewer's extend page, while the action can still be postponed. */
	extendPath?: string;
}

/** The machine page of a kind's machine. */
export function machineHref(kind: string, id: string): string {
	return `/${kind === "cluster" ? "clusters" : "instances"}/${id}`;
}

/** The viewer's notices for the banner (none when their banner channel is off). */
export async function bannerNotices(
	deps: Pick<Deps, "db" | "clock" | "settings" | "secret">,
	viewer: Viewer,
): Promise<BannerNotice[]> {
	return (await activeNotices(deps, viewer)).map((n) => ({
		id: n.id,
		phase: n.phase,
		message: n.message,
		machineHref: machineHref(n.kind, n.machineId),
		machineId: n.machineId,
		action: n.action,
		extendPath: n.extendPath,
	}));
}
