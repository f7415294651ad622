/**
 * The budgets' ladder, one leased job a minute: at a budget's warning share its users and the
 * group's managers are told once a month; at 100 % once more (new launches in its scope are
 * refused by the launch request itself); at its hard limit every running machine of its scope that
 * no approved exception covers gets the policies' notice with the budget's lead time, then is
 * stopped (a cluster, which cannot be, terminated) through the one control path, audited with
 * reason `budget`, the most expensive first. A budget back under its hard limit (an increase
 * granted, a new month) cancels the stops still to come. Grants whose time box ended are expired.
 *
 * The notices and the exactly-once taking of each stop are the policies' own (lib/policy/notices.ts,
 * the policy_actions rows): one open budget stop per machine, claimed before it is taken.
 */
import { expireGrants } from "../approvals/requests.ts";
import { activeGrants } from "../db/approvals.ts";
import {
	adminUsers,
	groupCostCenters,
	launchIdsOf,
	listBudgets,
	managersOf,
	membersOf,
	openRates,
	type Recipient,
	recipientsByIds,
} from "../db/budgets.ts";
import { groupIdsOf } from "../db/users.ts";
import {
	cancelPolicyActions,
	insertPolicyNotice,
	openPolicyActions,
	type PolicyMachine,
	policyMachines,
} from "../db/policies.ts";
import type { Deps } from "../deps.ts";
import { formatMoney } from "../format.ts";
import { machineKind } from "../machines/kinds.ts";
import { takePlannedAction } from "../policy/act.ts";
import { deliverNotice, noticeTime, notifyUsers } from "../policy/notices.ts";
import { type BudgetStatus, budgetStatuses, figures } from "./status.ts";

/** The job's name (its lease). */
export const BUDGET_JOB_NAME = "enforce-budgets";

/** What one tick did. */
export interface BudgetTickResult {
	budgets: number;
	/** Notices recorded (per recipient) of warnings, exhausted budgets and hard limits. */
	told: number;
	noticed: number;
	stopped: number;
	failed: number;
	cancelled: number;
	expired: number;
}

/** Whether a machine falls in a budget's scope. */
function inScope(status: BudgetStatus, machine: PolicyMachine, costCenters: Map<number, string>, fallback: string) {
	const { budget } = status;
	if (budget.scope === "group") return machine.groupId === budget.groupId;
	if (budget.scope === "user") return machine.ownerId === budget.userId;
	const costCenter = machine.groupId === null ? fallback : costCenters.get(machine.groupId) ?? fallback;
	return costCenter === budget.costCenter;
}

/** Who hears of a budget: its user or its group's members, and the managers of their groups (else the admins). */
async function budgetRecipients(deps: Pick<Deps, "db" | "settings">, status: BudgetStatus): Promise<Recipient[]> {
	const { budget } = status;
	let people: Recipient[];
	let groupIds: number[];
	if (budget.scope === "user") {
		people = await recipientsByIds(deps.db, [budget.userId!]);
		groupIds = await groupIdsOf(deps.db, budget.userId!);
	} else {
		const centers = await groupCostCenters(deps.db, deps.settings.DEFAULT_CHARGE_CODE);
		groupIds = budget.scope === "group"
			? [budget.groupId!]
			: [...centers].filter(([, cc]) => cc === budget.costCenter).map(([id]) => id);
		people = await membersOf(deps.db, groupIds);
	}
	const managers = await managersOf(deps.db, groupIds);
	const deciders = managers.length ? managers : await adminUsers(deps.db, deps.settings.ADMIN_USERNAMES);
	const byId = new Map([...people, ...deciders].map((p) => [p.id, p]));
	return [...byId.values()];
}

async function tell(
	deps: Deps,
	status: BudgetStatus,
	rung: "warning" | "exhausted" | "hard",
	message: string,
): Promise<number> {
	const subject = rung === "warning"
		? `MLiy: ${status.label} is at ${Math.floor(status.share * 100)} %`
		: rung === "exhausted"
		? `MLiy: ${status.label} is used up`
		: `MLiy: ${status.label} is past its hard limit`;
	return await notifyUsers(deps, {
		topic: "budget",
		key: `budget:${status.budget.id}:${status.month.name}:${rung}`,
		subject,
		message,
		href: "/budgets",
		recipients: await budgetRecipients(deps, status),
		webhookGroupId: status.budget.groupId,
	});
}

/** Runs one tick of the budgets' ladder. */
export async function enforceBudgets(deps: Deps): Promise<BudgetTickResult> {
	const now = deps.clock();
	const tz = deps.settings.TIME_ZONE;
	const result: BudgetTickResult = { budgets: 0, told: 0, noticed: 0, stopped: 0, failed: 0, cancelled: 0, expired: 0 };
	result.expired = await expireGrants(deps);
	const statuses = await budgetStatuses(deps, await listBudgets(deps.db));
	result.budgets = statuses.length;

	for (const status of statuses) {
		if (status.level === "warning") {
			const percent = Math.floor(status.budget.warnShare * 100);
			result.told += await tell(
				deps,
				status,
				"warning",
				`${capitalised(status.label)} has reached ${percent} %: ${figures(status)}; at the current burn of $${
					formatMoney(status.burn)
				}/h it ends the month at $${formatMoney(status.forecast)}.`,
			);
		} else if (status.level === "exhausted" || status.level === "hard") {
			result.told += await tell(
				deps,
				status,
				"exhausted",
				`${capitalised(status.label)} is used up: ${figures(status)}. New launches in it need an approval.`,
			);
		}
	}

	// The hard limits: which running machines each stops, and with which lead time.
	const hard = statuses.filter((s) => s.level === "hard");
	const [machines, open] = await Promise.all([
		hard.length ? policyMachines(deps.db) : Promise.resolve([]),
		openPolicyActions(deps.db, { reasons: ["budget"] }),
	]);
	const costCenters = await groupCostCenters(deps.db, deps.settings.DEFAULT_CHARGE_CODE);
	const running = machines.filter((m) => machineKind(m.kind).policy.running.includes(m.state) && !m.pendingAction);
	const [launchOf, covers] = await Promise.all([
		launchIdsOf(deps.db, running.map((m) => m.id)),
		activeGrants(deps.db, now, "launch"),
	]);
	const covered = new Set(covers.map((g) => g.launchId).filter(Boolean));
	const stops = new Map<string, { machine: PolicyMachine; status: BudgetStatus }>();
	for (const status of hard) {
		for (const machine of running) {
			if (stops.has(machine.id) || !inScope(status, machine, costCenters, deps.settings.DEFAULT_CHARGE_CODE)) continue;
			if (covered.has(launchOf.get(machine.id) ?? "")) continue;
			stops.set(machine.id, { machine, status });
		}
	}

	// Stops planned before that no budget asks for any more (raised, a new month, covered, gone) are cancelled.
	const stale = open.filter((a) => !stops.has(a.machineId) && a.status !== "acting").map((a) => a.id);
	await cancelPolicyActions(deps.db, stale, now);
	result.cancelled = stale.length;

	const openOf = new Map(open.filter((a) => stops.has(a.machineId)).map((a) => [a.machineId, a]));
	const newly = new Map<number, { status: BudgetStatus; count: number; at: Date }>();
	for (const { machine, status } of stops.values()) {
		if (openOf.has(machine.id)) continue;
		const actAt = new Date(now.getTime() + status.budget.noticeMinutes * 60_000);
		const recorded = await insertPolicyNotice(deps.db, {
			machineId: machine.id,
			kind: machine.kind,
			ownerId: machine.ownerId,
			groupId: machine.groupId,
			reason: "budget",
			action: machineKind(machine.kind).policy.stop,
			deadline: actAt,
			actAt,
			noticedAt: now,
			detail: `${status.label} is past its hard limit of $${formatMoney(status.hardAt!)} (${figures(status)})`,
			stateAtNotice: machine.state,
		});
		if (!recorded) continue;
		result.noticed += 1;
		openOf.set(machine.id, recorded);
		deliverNotice(deps, recorded, machine);
		const entry = newly.get(status.budget.id) ?? { status, count: 0, at: actAt };
		entry.count += 1;
		newly.set(status.budget.id, entry);
	}
	for (const { status, count, at } of newly.values()) {
		result.told += await tell(
			deps,
			status,
			"hard",
			`${capitalised(status.label)} is past its hard limit of $${formatMoney(status.hardAt!)}: ${
				figures(status)
			}. ${count} running machine(s) in it will be stopped at ${
				noticeTime(at, tz)
			}, the most expensive first, unless an exception is approved.`,
		);
	}

	// Due stops, the most expensive first, one after the other.
	const due = [...openOf.values()].filter((a) =>
		a.actAt.getTime() <= now.getTime() &&
		(a.status === "noticed" || (a.nextAttemptAt?.getTime() ?? 0) <= now.getTime())
	);
	const rates = await openRates(deps.db, due.map((a) => a.machineId));
	due.sort((a, b) => (rates.get(b.machineId) ?? 0) - (rates.get(a.machineId) ?? 0) || a.id - b.id);
	for (const action of due) {
		const outcome = await takePlannedAction(
			deps,
			stops.get(action.machineId)!.machine,
			action,
			deps.clock(),
			rates.get(action.machineId),
		);
		if (outcome === "done") result.stopped += 1;
		else if (outcome === "failed") result.failed += 1;
		else if (outcome === "cancelled") result.cancelled += 1;
	}
	return result;
}

function capitalised(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}
