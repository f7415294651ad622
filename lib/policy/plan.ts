/**
 * What the policies will do to one machine, and when: a pure function of the machine's row, its
 * owner's choices and postponements, its last workload signals and its effective policy. The
 * enforcer acts on it, the pages show its earliest entry ("stops at 19:00 unless extended"). Each
 * deadline depends only on stored times, so it stays the same from one tick to the next until
 * something real changes (activity, a keep-alive, a start or stop by hand, an extend link).
 */
import type { PolicyReason } from "../db/schema.ts";
import type { WorkCalendar } from "./schedule.ts";
import { type EffectivePolicy, type PolicyChoices, resolveChoices } from "./spec.ts";

/** How the policies see a kind's states, and the actions that stop and start its spending. */
export interface PolicyStates {
	/** States in which the machine runs and is paid for (idle, schedule stop). */
	running: readonly string[];
	/** States in which it is stopped and may be started again (dormancy, schedule start). */
	stopped: readonly string[];
	/** What stops its spending: "stop", or "terminate" for a kind that cannot be stopped. */
	stop: "stop" | "terminate";
	/** What starts it again, when the kind can be. */
	start?: "start";
	/** Every state before its end (lifetime). */
	live: readonly string[];
}

/** One machine as the planner reads it. */
export interface MachineFacts {
	state: string;
	pendingAction: string | null;
	/** When its life began: launched (instances) or first recorded. */
	launchedAt: Date;
	startedAt: Date | null;
	stoppedAt: Date | null;
	choices: Partial<PolicyChoices>;
	keepAliveUntil: Date | null;
	postponed: Partial<Record<PolicyReason, Date | null>>;
	scheduleStoppedAt: Date | null;
	/** The last workload signal of any source, and the last one above a threshold. */
	signalAt: Date | null;
	activeAt: Date | null;
}

/** An action the policy will take. */
export interface Plan {
	reason: PolicyReason;
	action: "stop" | "start" | "terminate";
	/** When it is due. */
	deadline: Date;
	/** How long before the deadline the notice goes out (0: none, for a start). */
	noticeMinutes: number;
	/** What the rule counts from (the idle time, the launch, the stop) or the boundary it keeps (working hours). */
	since: Date;
	/** The rule's limit: idle minutes, lifetime hours, dormancy days (none for working hours). */
	limit?: number;
}

/** What the planner needs besides the machine. */
export interface PlanContext {
	now: Date;
	/** The group's working days, when it has working hours. */
	calendar?: WorkCalendar;
	/** Signals older than this do not show the machine idle (nothing is known of it then). */
	freshMs: number;
}

const MINUTE = 60_000;

const later = (...times: (Date | null | undefined)[]): Date =>
	new Date(Math.max(...times.map((t) => t?.getTime() ?? -Infinity)));

function plural(n: number, unit: string): string {
	return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/**
 * Every action the policy plans for the machine, soonest first (empty while another action is in
 * flight: the machine is changing and is planned again once it settles).
 */
export function planActions(
	facts: MachineFacts,
	states: PolicyStates,
	policy: EffectivePolicy,
	context: PlanContext,
): Plan[] {
	if (facts.pendingAction) return [];
	const resolved = resolveChoices(policy, facts.choices);
	const plans: Plan[] = [];
	const running = states.running.includes(facts.state);
	const stopped = states.stopped.includes(facts.state);
	const { now, calendar } = context;

	if (running && policy.idle && resolved.idleMinutes !== undefined && facts.signalAt) {
		const fresh = now.getTime() - facts.signalAt.getTime() <= context.freshMs;
		if (fresh) {
			const since = later(facts.startedAt ?? facts.launchedAt, facts.activeAt, facts.keepAliveUntil);
			plans.push({
				reason: "idle",
				action: states.stop,
				deadline: later(new Date(since.getTime() + resolved.idleMinutes * MINUTE), facts.postponed.idle),
				noticeMinutes: policy.idle.noticeMinutes,
				since,
				limit: resolved.idleMinutes,
			});
		}
	}

	const awaitsStart = stopped && !!states.start && !!calendar && resolved.autoStart && !!facts.scheduleStoppedAt &&
		(!facts.startedAt || facts.startedAt.getTime() <= facts.scheduleStoppedAt.getTime());
	if (running && calendar && states.stop === "stop") {
		const end = calendar.endAfter(facts.startedAt ?? facts.launchedAt);
		if (end) {
			plans.push({
				reason: "schedule",
				action: "stop",
				deadline: later(end, facts.postponed.schedule, facts.keepAliveUntil),
				noticeMinutes: policy.schedule!.noticeMinutes,
				since: end,
			});
		}
	}
	if (awaitsStart) {
		let start = calendar.startAfter(facts.scheduleStoppedAt!);
		// Working hours that ended while nothing could start it are skipped: the next ones count.
		const endOfThat = start && calendar.endAfter(start);
		if (start && endOfThat && endOfThat.getTime() <= now.getTime()) start = calendar.startAfter(now);
		if (start) {
			plans.push({
				reason: "schedule",
				action: states.start!,
				deadline: start,
				noticeMinutes: 0,
				since: start,
			});
		}
	}

	if (states.live.includes(facts.state) && policy.lifetime && resolved.lifetimeHours !== undefined) {
		const natural = new Date(facts.launchedAt.getTime() + resolved.lifetimeHours * 60 * MINUTE);
		plans.push({
			reason: "lifetime",
			action: "terminate",
			deadline: later(natural, facts.postponed.lifetime),
			noticeMinutes: policy.lifetime.noticeMinutes,
			since: facts.launchedAt,
			limit: resolved.lifetimeHours,
		});
	}

	if (stopped && policy.dormancy && !awaitsStart) {
		const since = facts.stoppedAt ?? facts.launchedAt;
		plans.push({
			reason: "dormancy",
			action: "terminate",
			deadline: later(new Date(since.getTime() + policy.dormancy.days * 24 * 60 * MINUTE), facts.postponed.dormancy),
			noticeMinutes: policy.dormancy.noticeMinutes,
			since,
			limit: policy.dormancy.days,
		});
	}
	return plans.sort((a, b) => a.deadline.getTime() - b.deadline.getTime());
}

/** Why the plan is due, in the owner's words; `time` formats an instant in the portal's time zone. */
export function explainPlan(plan: Plan, time: (at: Date) => string): string {
	const limit = plan.limit ?? 0;
	switch (plan.reason) {
		case "idle":
			return `no activity above the thresholds since ${time(plan.since)}; the idle ${
				plan.action === "terminate" ? "termination" : plan.action
			} comes after ${plural(limit, "minute")}`;
		case "schedule":
			return plan.action === "start"
				? `working hours begin at ${time(plan.since)}`
				: `working hours end at ${time(plan.since)}`;
		case "lifetime":
			return `its lifetime of ${plural(limit, "hour")} from ${time(plan.since)} is over`;
		case "dormancy":
			return `stopped since ${time(plan.since)}; machines stopped for ${plural(limit, "day")} are terminated`;
	}
}

/** When the plan's notice goes out. */
export function noticeAt(plan: Plan): Date {
	return new Date(plan.deadline.getTime() - plan.noticeMinutes * MINUTE);
}

/** How old signals may be and still show a machine idle: a few syncs, at least ten minutes. */
export function signalFreshMs(settings: { SYNC_INTERVAL_MINUTES: number }): number {
	return Math.max(10, 3 * settings.SYNC_INTERVAL_MINUTES) * MINUTE;
}
