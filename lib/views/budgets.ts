/**
 * Budgets as the pages show them: bars (spent, forecast, what is left, when it runs out) for the
 * viewer's own budgets (the dashboard), the groups' the viewer sees (team view, billing), and the
 * budgets page with who may set which; and what a launch would do to the budgets over it (the
 * launch confirmation's "this adds about $X/day; the group's budget runs out on the 23rd").
 */
import type { Viewer } from "../auth/identify.ts";
import { managesGroup, maySetBudget, scopeGroupIds, seesEverything } from "../auth/permissions.ts";
import { type Budget, listBudgets } from "../db/budgets.ts";
import { listGroups } from "../db/catalog.ts";
import type { BudgetScope } from "../db/schema.ts";
import { listMemberships } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { formatMoney } from "../format.ts";
import { type BudgetLevel, type BudgetStatus, budgetStatuses, coveringStatuses, runsOut } from "../budgets/status.ts";
import { costCenterOf } from "../billing/rates.ts";
import type { Group } from "../db/catalog.ts";
import type { Choice } from "./lists.ts";

/** One budget's bar. */
export interface BudgetBarProps {
	id: number;
	scope: BudgetScope;
	/** "Group science", "User alice", "Cost center CC-1". */
	title: string;
	month: string;
	limit: number;
	spent: number;
	forecast: number;
	left: number;
	/** Spent as a whole percentage of the limit (may pass 100). */
	percent: number;
	warnAt: number;
	hardAt: number | null;
	level: BudgetLevel;
	/** "runs out on the 23rd at the current burn", "lasts the month at the current burn", "used up". */
	outlook: string;
	burn: number;
	unknown: number;
	granted: number;
}

/** A list of bars, with the budgets page when the viewer may see it. */
export interface BudgetBarsProps {
	bars: BudgetBarProps[];
	/** The budgets page (set, ask for more). */
	href: string;
}

const TITLES: Record<BudgetScope, string> = { group: "Group", user: "User", cost_center: "Cost center" };

/** `23rd`: a day of the month in words. */
export function ordinal(day: number): string {
	const teen = day % 100 >= 11 && day % 100 <= 13;
	const suffix = teen ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[day % 10] ?? "th";
	return `${day}${suffix}`;
}

function dayOfMonth(at: Date, timeZone: string): number {
	return Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(timeZone).day;
}

function outlookOf(status: BudgetStatus, timeZone: string): string {
	if (status.level === "hard") return "past its hard limit";
	if (status.level === "exhausted") return "used up";
	if (status.runsOutAt) return `runs out on the ${ordinal(dayOfMonth(status.runsOutAt, timeZone))} at the current burn`;
	return status.burn > 0 ? "lasts the month at the current burn" : "nothing is running";
}

export function budgetBar(status: BudgetStatus, timeZone: string): BudgetBarProps {
	return {
		id: status.budget.id,
		scope: status.budget.scope,
		title: `${TITLES[status.budget.scope]} ${status.name}`,
		month: status.month.name,
		limit: status.limit,
		spent: status.spent,
		forecast: status.forecast,
		left: status.left,
		percent: Math.floor(status.share * 100),
		warnAt: status.warnAt,
		hardAt: status.hardAt,
		level: status.level,
		outlook: outlookOf(status, timeZone),
		burn: status.burn,
		unknown: status.unknown,
		granted: status.granted,
	};
}

/** The cost centers of these groups, as bills are charged. */
function costCentersOf(groups: readonly Group[], groupIds: readonly number[], fallback: string): Set<string> {
	return new Set(groups.filter((g) => groupIds.includes(g.id)).map((g) => costCenterOf(g, fallback)));
}

async function bars(deps: Deps, budgets: readonly Budget[]): Promise<BudgetBarProps[]> {
	return (await budgetStatuses(deps, budgets)).map((s) => budgetBar(s, deps.settings.TIME_ZONE));
}

/** The dashboard's bars: the viewer's own budget, their groups' and their groups' cost centers'. */
export async function myBudgetBars(deps: Deps, viewer: Viewer): Promise<BudgetBarsProps> {
	const [budgets, groups] = await Promise.all([listBudgets(deps.db), listGroups(deps.db)]);
	const centers = costCentersOf(groups, viewer.groupIds, deps.settings.DEFAULT_CHARGE_CODE);
	const mine = budgets.filter((b) =>
		b.userId === viewer.id || (b.groupId !== null && viewer.groupIds.includes(b.groupId)) ||
		(b.costCenter !== null && centers.has(b.costCenter))
	);
	return { bars: await bars(deps, mine), href: "/budgets" };
}

/** The team view's and billing page's bars: the budgets of the groups (and their cost centers) the viewer sees. */
export async function teamBudgetBars(deps: Deps, viewer: Viewer): Promise<BudgetBarsProps> {
	const budgets = (await listBudgets(deps.db)).filter((b) => b.scope !== "user");
	if (seesEverything(viewer)) return { bars: await bars(deps, budgets), href: "/budgets" };
	const groupIds = scopeGroupIds(viewer);
	const centers = costCentersOf(await listGroups(deps.db), groupIds, deps.settings.DEFAULT_CHARGE_CODE);
	const seen = budgets.filter((b) =>
		(b.groupId !== null && groupIds.includes(b.groupId)) || (b.costCenter !== null && centers.has(b.costCenter))
	);
	return { bars: await bars(deps, seen), href: "/budgets" };
}

/** A budget on its page: its bar and what the viewer may do with it. */
export interface BudgetRowProps extends BudgetBarProps {
	/** The budget as set (shares in percent), for its edit form. */
	values: Record<string, string>;
	mayEdit: boolean;
	/** Whether the viewer may ask for more (the budget covers them, or they may set it). */
	mayAsk: boolean;
}

/** The budgets page. */
export interface BudgetsPageProps {
	rows: BudgetRowProps[];
	/** The scopes the viewer may set a budget for (none: no form). */
	scopes: BudgetScope[];
	groups: Choice[];
	/** The values and errors of the form: a refused one's, or the budget being changed. */
	values: Record<string, string>;
	/** Whether the form changes an existing budget (its scope is then fixed). */
	editing: boolean;
	errors: Record<string, string>;
	timeZone: string;
	/** The first day a request's time box may end (today), and the last of this month. */
	today: string;
	monthEnd: string;
}

function formValues(budget: Budget, usernames: Map<number, string>): Record<string, string> {
	return {
		scope: budget.scope,
		groupId: budget.groupId === null ? "" : String(budget.groupId),
		username: budget.userId === null ? "" : usernames.get(budget.userId) ?? "",
		costCenter: budget.costCenter ?? "",
		amount: String(budget.amount),
		warnPercent: String(Math.round(budget.warnShare * 100)),
		hardPercent: budget.hardShare === null ? "" : String(Math.round(budget.hardShare * 100)),
		hardAmount: budget.hardAmount === null ? "" : String(budget.hardAmount),
		noticeMinutes: String(budget.noticeMinutes),
	};
}

/**
 * The budgets the viewer sees (managers and admins: all; others: those over them), each with
 * whether they may change it or ask for more, and the form of a new one.
 */
export async function budgetsPageView(
	deps: Deps,
	viewer: Viewer,
	form: { values: Record<string, string>; errors: Record<string, string>; edit?: number } = { values: {}, errors: {} },
): Promise<BudgetsPageProps> {
	const [budgets, groups, memberships] = await Promise.all([
		listBudgets(deps.db),
		listGroups(deps.db),
		listMemberships(deps.db),
	]);
	const fallback = deps.settings.DEFAULT_CHARGE_CODE;
	// A scoped manager sees the budgets of the groups they manage as a member sees their own groups'.
	const groupIds = scopeGroupIds(viewer);
	const centers = costCentersOf(groups, groupIds, fallback);
	const groupsOfUser = (userId: number) => memberships.filter((m) => m.userId === userId).map((m) => m.groupId);
	const covers = (b: Budget) =>
		b.userId === viewer.id || (b.groupId !== null && groupIds.includes(b.groupId)) ||
		(b.costCenter !== null && centers.has(b.costCenter)) ||
		(b.userId !== null && groupsOfUser(b.userId).some((id) => viewer.managedGroupIds.includes(id)));
	const visible = seesEverything(viewer) ? budgets : budgets.filter(covers);
	const statuses = await budgetStatuses(deps, visible);
	const usernames = new Map<number, string>();
	for (const status of statuses) if (status.budget.userId !== null) usernames.set(status.budget.userId, status.name);
	const now = deps.clock();
	const tz = deps.settings.TIME_ZONE;
	const today = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(tz).toPlainDate();
	const rows = statuses.map((status) => {
		const { budget } = status;
		const mayEdit = maySetBudget(viewer, {
			scope: budget.scope,
			userGroupIds: budget.userId === null ? [] : groupsOfUser(budget.userId),
		});
		return {
			...budgetBar(status, tz),
			values: formValues(budget, usernames),
			mayEdit,
			mayAsk: covers(budget) || mayEdit,
		};
	});
	// A manager sets the budgets of the users of the groups they manage.
	const settable: BudgetScope[] = viewer.role === "admin"
		? ["group", "user", "cost_center"]
		: groups.some((g) => managesGroup(viewer, g.id))
		? ["user"]
		: [];
	const edited = form.edit === undefined ? undefined : rows.find((r) => r.id === form.edit && r.mayEdit);
	return {
		rows,
		scopes: edited ? [edited.scope] : settable,
		groups: groups.map((g) => ({ value: g.id, label: g.name })),
		values: edited ? edited.values : form.values,
		editing: edited !== undefined,
		errors: form.errors,
		timeZone: tz,
		today: today.toString(),
		monthEnd: today.with({ day: today.daysInMonth }).toString(),
	};
}

/** What a launch does to one budget over it. */
export interface BudgetEffect {
	title: string;
	/** "This adds about $25.54/day; the group science's budget runs out on the 23rd." */
	text: string;
	level: BudgetLevel;
}

/**
 * What a launch of `hourly` $/hour into a group by a user does to the budgets over it, the soonest
 * to run out first: one line each.
 */
export async function launchBudgetEffects(
	deps: Deps,
	launch: { group: Group; userId: number; hourly: number | null },
): Promise<BudgetEffect[]> {
	const statuses = await coveringStatuses(deps, {
		groupId: launch.group.id,
		userId: launch.userId,
		costCenter: costCenterOf(launch.group, deps.settings.DEFAULT_CHARGE_CODE),
	});
	if (statuses.length === 0) return [];
	const now = deps.clock();
	const tz = deps.settings.TIME_ZONE;
	const added = launch.hourly ?? 0;
	const perDay = launch.hourly === null ? "an unknown amount" : `about $${formatMoney(added * 24)}/day`;
	const effects = statuses.map((status) => {
		const at = runsOut(status.spent, status.limit, status.burn + added, now, status.month.end);
		const hoursLeft = Math.max(0, status.month.end.getTime() - now.getTime()) / 3_600_000;
		const outcome = status.spent >= status.limit
			? `${status.label} is used up ($${formatMoney(status.spent)} of $${formatMoney(status.limit)})`
			: at
			? `${status.label} runs out on the ${ordinal(dayOfMonth(at, tz))}`
			: `${status.label} lasts the month (about $${formatMoney(status.spent + (status.burn + added) * hoursLeft)} of $${
				formatMoney(status.limit)
			})`;
		return {
			status,
			at,
			effect: { title: status.label, text: `This adds ${perDay}; ${outcome}.`, level: status.level },
		};
	});
	effects.sort((a, b) => (a.at?.getTime() ?? Infinity) - (b.at?.getTime() ?? Infinity));
	return effects.map((e) => e.effect);
}
