/**
 * Where a budget stands this month (in TIME_ZONE): spent so far from the billed periods of its
 * scope (instances, volumes and clusters alike), the burn of what runs now, the forecast to the end
 * of the month at that burn, what is left, and its rung of the ladder: ok, warning (at its warning
 * share), exhausted (at 100 %: new launches are refused) and hard (at its hard limit: its running
 * machines are stopped). Budget increases granted and still in force raise the limit.
 */
import { activeGrants } from "../db/approvals.ts";
import { type Budget, budgetsCovering, recipientsByIds, spendBy } from "../db/budgets.ts";
import { listGroups } from "../db/catalog.ts";
import type { BudgetScope } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { formatMoney } from "../format.ts";

export type BudgetLevel = "ok" | "warning" | "exhausted" | "hard";

/** A month of the portal's time zone: its name and the instants it starts and ends. */
export interface Month {
	/** `2025-03`. */
	name: string;
	start: Date;
	end: Date;
}

/** The month `at` falls in, in the time zone. */
export function monthOf(at: Date, timeZone: string): Month {
	const month = Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(timeZone).toPlainDate()
		.toPlainYearMonth();
	return namedMonth(month, timeZone);
}

/** The month named `2025-03`, in the time zone. */
export function namedMonth(month: Temporal.PlainYearMonth, timeZone: string): Month {
	const startOf = (m: Temporal.PlainYearMonth) =>
		new Date(m.toPlainDate({ day: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds);
	return { name: month.toString(), start: startOf(month), end: startOf(month.add({ months: 1 })) };
}

/** One budget as it stands now. */
export interface BudgetStatus {
	budget: Budget;
	/** "science", "Alice Ng", "CC-1": the group's, user's or cost center's name. */
	name: string;
	/** "the group science's budget". */
	label: string;
	month: Month;
	/** The budget plus the increases granted and in force. */
	limit: number;
	granted: number;
	warnAt: number;
	/** Where the hard limit is, in dollars; null: it has none. */
	hardAt: number | null;
	spent: number;
	/** Periods of unknown price: not in `spent`. */
	unknown: number;
	/** $/hour billed now in the scope. */
	burn: number;
	/** Spent by the end of the month at the current burn. */
	forecast: number;
	left: number;
	/** Spent as a share of the limit. */
	share: number;
	level: BudgetLevel;
	/** When the spend reaches the limit at the current burn, if it does this month and has not yet. */
	runsOutAt: Date | null;
}

const SCOPE_WORDS: Record<BudgetScope, string> = { group: "group", user: "user", cost_center: "cost center" };

function levelOf(spent: number, limit: number, warnAt: number, hardAt: number | null): BudgetLevel {
	if (hardAt !== null && spent >= hardAt) return "hard";
	if (spent >= limit) return "exhausted";
	if (spent >= warnAt) return "warning";
	return "ok";
}

/** When spend at `burn` $/hour reaches `limit` after `now`, if before the month ends; null otherwise. */
export function runsOut(spent: number, limit: number, burn: number, now: Date, monthEnd: Date): Date | null {
	if (spent >= limit || burn <= 0) return null;
	const at = now.getTime() + (limit - spent) / burn * 3_600_000;
	return at < monthEnd.getTime() ? new Date(at) : null;
}

/** The statuses of these budgets now: one spend statement per kind of scope, one read of the grants. */
export async function budgetStatuses(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	budgets: readonly Budget[],
): Promise<BudgetStatus[]> {
	if (budgets.length === 0) return [];
	const now = deps.clock();
	const month = monthOf(now, deps.settings.TIME_ZONE);
	const window = { start: month.start, end: month.end, now };
	const keysOf = (scope: BudgetScope) =>
		budgets.filter((b) => b.scope === scope).map((b) =>
			scope === "group" ? b.groupId! : scope === "user" ? b.userId! : b.costCenter!
		);
	const [byGroup, byUser, byCostCenter, grants, groups, people] = await Promise.all([
		spendBy(deps.db, "group", keysOf("group"), window),
		spendBy(deps.db, "user", keysOf("user"), window),
		spendBy(deps.db, "cost_center", keysOf("cost_center"), window),
		activeGrants(deps.db, now, "budget"),
		listGroups(deps.db),
		recipientsByIds(deps.db, keysOf("user") as number[]),
	]);
	const groupNames = new Map(groups.map((g) => [g.id, g.name]));
	const userNames = new Map(people.map((p) => [p.id, p.username]));
	const hoursLeft = Math.max(0, month.end.getTime() - now.getTime()) / 3_600_000;
	return budgets.map((budget) => {
		const spend = budget.scope === "group"
			? byGroup.get(budget.groupId!)
			: budget.scope === "user"
			? byUser.get(budget.userId!)
			: byCostCenter.get(budget.costCenter!);
		const granted = grants.filter((g) => g.budgetId === budget.id).reduce((sum, g) => sum + (g.grantAmount ?? 0), 0);
		const limit = budget.amount + granted;
		const hardAt = budget.hardAmount !== null
			? budget.hardAmount + granted
			: budget.hardShare !== null
			? budget.hardShare * limit
			: null;
		const spent = spend?.cost ?? 0;
		const burn = spend?.burn ?? 0;
		const name = budget.scope === "group"
			? groupNames.get(budget.groupId!) ?? `group ${budget.groupId}`
			: budget.scope === "user"
			? userNames.get(budget.userId!) ?? `user ${budget.userId}`
			: budget.costCenter!;
		return {
			budget,
			name,
			label: `the ${SCOPE_WORDS[budget.scope]} ${name}'s budget`,
			month,
			limit,
			granted,
			warnAt: budget.warnShare * limit,
			hardAt,
			spent,
			unknown: spend?.unknown ?? 0,
			burn,
			forecast: spent + burn * hoursLeft,
			left: limit - spent,
			share: limit > 0 ? spent / limit : 1,
			level: levelOf(spent, limit, budget.warnShare * limit, hardAt),
			runsOutAt: runsOut(spent, limit, burn, now, month.end),
		};
	});
}

/** The statuses of the budgets over a launch or machine (its group's, owner's and cost center's). */
export async function coveringStatuses(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	of: { groupId: number | null; userId: number; costCenter: string },
): Promise<BudgetStatus[]> {
	return await budgetStatuses(deps, await budgetsCovering(deps.db, of));
}

/** "$1,012.40 of $1,000.00 spent this month (101 %)": a budget's figures in one line. */
export function figures(status: BudgetStatus): string {
	const percent = Math.floor(status.share * 100);
	const granted = status.granted > 0 ? ` (incl. $${formatMoney(status.granted)} granted)` : "";
	const unknown = status.unknown > 0 ? `, and ${status.unknown} period(s) of unknown price` : "";
	return `$${formatMoney(status.spent)} of $${
		formatMoney(status.limit)
	}${granted} spent in ${status.month.name} (${percent} %)${unknown}`;
}
