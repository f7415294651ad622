/**
 * A machine's row as the policies see it: its effective policy (built once per tick for each group
 * and configuration pair, with the group's calendar of working hours), its facts for the planner,
 * and its plans. The enforcer, the sync's signal step and the pages share it.
 */
import type { catalogPolicies, PolicyMachine } from "../db/policies.ts";
import { machineKind } from "../machines/kinds.ts";
import { actionStale } from "../machines/lifecycle.ts";
import { type MachineFacts, type Plan, planActions } from "./plan.ts";
import { WorkCalendar } from "./schedule.ts";
import { type EffectivePolicy, effectivePolicy, hasRules } from "./spec.ts";

/** The effective policy of a group and configuration, with the group's calendar: built once per tick. */
export interface PolicyEntry {
	policy: EffectivePolicy;
	any: boolean;
	calendar?: WorkCalendar;
}

/** A machine's row as the planner reads it. */
export function factsOf(m: PolicyMachine, now: Date): MachineFacts {
	return {
		state: m.state,
		// An action in flight for so long that it is forgotten does not hold the policies back.
		pendingAction: m.pendingAction && !actionStale(m.pendingSince, now) ? m.pendingAction : null,
		launchedAt: m.launchedAt,
		startedAt: m.startedAt,
		stoppedAt: m.stoppedAt,
		choices: { idleMinutes: m.idleMinutes, lifetimeHours: m.lifetimeHours, autoStart: m.autoStart },
		keepAliveUntil: m.keepAliveUntil,
		postponed: {
			idle: m.idlePostponedUntil,
			schedule: m.schedulePostponedUntil,
			lifetime: m.lifetimePostponedUntil,
			dormancy: m.dormancyPostponedUntil,
		},
		scheduleStoppedAt: m.scheduleStoppedAt,
		signalAt: m.signalAt,
		activeAt: m.activeAt,
	};
}

/** Builds the effective policies of a tick, one per group and configuration pair, on first use. */
export function policyResolver(
	catalog: Awaited<ReturnType<typeof catalogPolicies>>,
	timeZone: string,
	now: Date,
): (groupId: number | null, configId: number | null) => PolicyEntry {
	const entries = new Map<string, PolicyEntry>();
	return (groupId, configId) => {
		const key = `${groupId}:${configId}`;
		let entry = entries.get(key);
		if (!entry) {
			const policy = effectivePolicy(
				groupId === null ? {} : catalog.groups.get(groupId)?.policy,
				configId === null ? {} : catalog.configs.get(configId),
			);
			entry = {
				policy,
				any: hasRules(policy),
				calendar: policy.schedule ? new WorkCalendar(policy.schedule, timeZone, now) : undefined,
			};
			entries.set(key, entry);
		}
		return entry;
	};
}

/** One machine's plans, as the pages and the enforcer see them. */
export function plansOf(
	machine: PolicyMachine,
	entry: PolicyEntry,
	now: Date,
	freshMs: number,
): Plan[] {
	if (!entry.any) return [];
	const plans = planActions(factsOf(machine, now), machineKind(machine.kind).policy, entry.policy, {
		now,
		calendar: entry.calendar,
		freshMs,
	});
	// Locked controls allow only a termination: a stop or start would be refused at every tick.
	return machine.locked ? plans.filter((plan) => plan.action === "terminate") : plans;
}
