/**
 * The enforcer: one leased job, every minute. It reads every machine once (with its choices,
 * postponements and last signals: written by the activity endpoint and the sync, never fetched
 * here), plans what each machine's policy does and when, gives each action's notice once at its
 * lead time, and takes due actions through the same control path as a user, as the policy.
 *
 * Exactly once across processes: a notice is a row of which at most one is open per machine and
 * reason, and taking the action claims that row first. A machine that changed since its notice
 * (used again, stopped or started by hand, postponed) plans differently: its open action is
 * cancelled and planned anew, never taken blindly. A failed action is reported and retried.
 */
import { openBillOf } from "../db/bills.ts";
import {
	cancelPolicyActions,
	catalogPolicies,
	insertPolicyNotice,
	openPolicyActions,
	type PolicyAction,
	type PolicyMachine,
	policyMachines,
	setMachinePolicy,
} from "../db/policies.ts";
import { POLICY_REASONS } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { type ActOutcome, takePlannedAction } from "./act.ts";
import { plansOf, policyResolver } from "./evaluate.ts";
import { deliverNotice, noticeTime } from "./notices.ts";
import { explainPlan, noticeAt, type Plan, signalFreshMs } from "./plan.ts";

/** The job's name (its lease). */
export const ENFORCER_JOB_NAME = "enforce-policies";

/** Actions taken at once: AWS calls overlap, a tick with many due actions (the end of working hours) stays short. */
const ACT_CONCURRENCY = 4;

/** What one tick did, for logs, tests and the benchmark. */
export interface EnforceResult {
	machines: number;
	/** Machines under a policy (or with an open action). */
	evaluated: number;
	noticed: number;
	acted: number;
	failed: number;
	cancelled: number;
}

/** Runs one tick of the policies over every machine. */
export async function enforcePolicies(deps: Deps): Promise<EnforceResult> {
	const now = deps.clock();
	const [machines, catalog, open] = await Promise.all([
		policyMachines(deps.db),
		catalogPolicies(deps.db),
		// A budget's stops are the budget job's (lib/budgets/enforce.ts).
		openPolicyActions(deps.db, { reasons: POLICY_REASONS }),
	]);
	const result: EnforceResult = {
		machines: machines.length,
		evaluated: 0,
		noticed: 0,
		acted: 0,
		failed: 0,
		cancelled: 0,
	};
	const openOf = new Map<string, PolicyAction[]>();
	for (const action of open) openOf.set(action.machineId, [...openOf.get(action.machineId) ?? [], action]);
	const resolve = policyResolver(catalog, deps.settings.TIME_ZONE, now);
	const freshMs = signalFreshMs(deps.settings);

	const cancel: number[] = [];
	const notices: { machine: PolicyMachine; plan: Plan }[] = [];
	const due: { machine: PolicyMachine; action: PolicyAction }[] = [];
	for (const machine of machines) {
		const entry = resolve(machine.groupId, machine.configId);
		const opened = openOf.get(machine.id);
		if (!entry.any && !opened) continue;
		result.evaluated += 1;
		openOf.delete(machine.id);
		const plans = plansOf(machine, entry, now, freshMs);
		const planned = new Map<string, Plan>();
		for (const plan of plans) if (!planned.has(plan.reason)) planned.set(plan.reason, plan);
		for (const action of opened ?? []) {
			const plan = planned.get(action.reason);
			planned.delete(action.reason);
			if (action.status === "acting" && (action.nextAttemptAt?.getTime() ?? 0) > now.getTime()) continue;
			if (!plan || plan.action !== action.action || plan.deadline.getTime() !== action.deadline.getTime()) {
				cancel.push(action.id);
			} else if (now.getTime() >= action.actAt.getTime()) {
				if (action.status === "noticed" || (action.nextAttemptAt?.getTime() ?? 0) <= now.getTime()) {
					due.push({ machine, action });
				}
			}
		}
		for (const plan of planned.values()) if (now.getTime() >= noticeAt(plan).getTime()) notices.push({ machine, plan });
	}
	// Open actions of machines that ended or are gone: nothing is left to do.
	for (const actions of openOf.values()) {
		for (const action of actions) if (action.status !== "acting") cancel.push(action.id);
	}
	await cancelPolicyActions(deps.db, cancel, now);
	result.cancelled = cancel.length;

	for (const { machine, plan } of notices) {
		const recorded = await insertPolicyNotice(deps.db, {
			machineId: machine.id,
			kind: machine.kind,
			ownerId: machine.ownerId,
			groupId: machine.groupId,
			reason: plan.reason,
			action: plan.action,
			deadline: plan.deadline,
			// A notice that goes out late still gives its whole lead time.
			actAt: new Date(Math.max(plan.deadline.getTime(), now.getTime() + plan.noticeMinutes * 60_000)),
			noticedAt: now,
			detail: explainPlan(plan, (at) => noticeTime(at, deps.settings.TIME_ZONE)),
			stateAtNotice: machine.state,
		});
		if (!recorded) continue;
		result.noticed += 1;
		deps.log.web.info("policy notice: {reason} {action} of {id} at {at}", {
			reason: plan.reason,
			action: plan.action,
			id: machine.id,
			at: recorded.actAt.toISOString(),
		});
		if (plan.noticeMinutes > 0) deliverNotice(deps, recorded, machine);
		if (now.getTime() >= recorded.actAt.getTime()) due.push({ machine, action: recorded });
	}

	// One action per machine per tick: after it the machine is planned again from what it became.
	const acting = new Set<string>();
	const queue = due.sort((a, b) => a.action.actAt.getTime() - b.action.actAt.getTime())
		.filter(({ machine }) => !acting.has(machine.id) && acting.add(machine.id));
	const workers = Array.from({ length: Math.min(ACT_CONCURRENCY, queue.length) }, async () => {
		for (let next = queue.shift(); next; next = queue.shift()) {
			const outcome = await act(deps, next.machine, next.action, now);
			if (outcome === "done") result.acted += 1;
			else if (outcome === "failed") result.failed += 1;
			else if (outcome === "cancelled") result.cancelled += 1;
		}
	});
	await Promise.all(workers);
	return result;
}

/** Takes one due action as its policy; a schedule's stop is remembered, so working hours start it again. */
async function act(deps: Deps, machine: PolicyMachine, action: PolicyAction, now: Date): Promise<ActOutcome> {
	const rate = action.action === "start" ? undefined : (await openBillOf(deps.db, machine.id))?.hourlyRate;
	const outcome = await takePlannedAction(deps, machine, action, now, rate);
	if (outcome === "done" && action.reason === "schedule" && action.action === "stop") {
		await setMachinePolicy(deps.db, machine, { scheduleStoppedAt: now }, now);
	}
	return outcome;
}
