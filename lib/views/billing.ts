/**
 * The billing report's data: the billed periods in a date range, filtered to users, groups and
 * cost centers the viewer may see (a 403 for anyone else's), with totals by user, group and cost
 * center, the month to date by group, the live burn rate, and what the machine policies saved
 * (per group and month; for admins, which policies acted most); and the same report as CSV.
 */
import type { Viewer } from "../auth/identify.ts";
import { scopeGroupIds, seesEverything, viewerScope } from "../auth/permissions.ts";
import {
	buildReport,
	burnRate,
	monthToDate,
	type Report,
	reportCsv,
	type ReportRow,
	type Totals,
	type UnpricedResource,
} from "../billing/reports.ts";
import { policySavings, savingsCsv, type SavingsRow } from "../billing/savings.ts";
import { type BillFilters, costCentersInScope } from "../db/bills.ts";
import { POLICY_REASONS, type PolicyReason } from "../db/schema.ts";
import { listGroups } from "../db/catalog.ts";
import { usersInScope } from "../db/instances.ts";
import { teammateIds } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import {
	type Choice,
	compareValues,
	listHref,
	type ListSort,
	type SortHeading,
	sortHeadings,
	type SortOptions,
	sortParams,
} from "./lists.ts";
import { type BudgetBarsProps, teamBudgetBars } from "./budgets.ts";
import { type CostComparison, costComparison, type DayComparison } from "../billing/actuals.ts";
import { chargebackCsv, chargebackReport, fileSafe, parseMonth } from "../billing/chargeback.ts";

export type { BillFilters, CostComparison, DayComparison, Totals };

/** The columns the billed resources sort on. */
export type BillingColumn = "resource" | "owner" | "group" | "costCenter" | "type" | "periods" | "hours" | "cost";

/**
 * The report's orders, sorted in memory (the report is summed per resource there anyway); the most
 * expensive first unless asked otherwise, a cost not known last in either direction.
 */
export const BILLING_SORTS: SortOptions<BillingColumn> = {
	columns: {
		resource: "asc",
		owner: "asc",
		group: "asc",
		costCenter: "asc",
		type: "asc",
		periods: "desc",
		hours: "desc",
		cost: "desc",
	},
	default: { column: "cost", dir: "desc" },
};

const BILLING_LABELS: Record<BillingColumn, string> = {
	resource: "Resource",
	owner: "Owner",
	group: "Group",
	costCenter: "Charge code",
	type: "Type",
	periods: "Periods",
	hours: "Hours",
	cost: "Estimated cost",
};

/** What each column sorts by. */
const BILLING_KEYS: Record<BillingColumn, (row: ReportRow) => string | number | null> = {
	resource: (r) => r.resourceId,
	owner: (r) => r.userName,
	group: (r) => r.groupName,
	costCenter: (r) => r.costCenter,
	type: (r) => r.description,
	periods: (r) => r.periods,
	hours: (r) => r.hours,
	cost: (r) => r.cost,
};

/** The rows in the order asked; ties go by the resource id in the same direction, so the same report reads the same. */
function sortRows(rows: ReportRow[], sort: ListSort<BillingColumn>): ReportRow[] {
	const key = BILLING_KEYS[sort.column];
	return [...rows].sort((a, b) =>
		compareValues(key(a), key(b), sort.dir) || compareValues(a.resourceId, b.resourceId, sort.dir)
	);
}

/** A report's query, as its route reads it: whole days in the portal's time zone, `to` inclusive. */
export interface BillingQuery {
	from: Temporal.PlainDate;
	to: Temporal.PlainDate;
	filters: BillFilters;
	/** The order of the billed resources (the CSV's too); the most expensive first when absent. */
	sort?: ListSort<BillingColumn>;
}

/** A billed resource of the report, with its page while it is running (volumes have none). */
export interface BillingRow extends ReportRow {
	href: string | null;
}

/** The billing page. */
export interface BillingProps {
	from: string;
	to: string;
	filters: BillFilters;
	/** The instants the report covers (the end is capped at now). */
	start: Date;
	end: Date;
	rows: BillingRow[];
	/** The rows' order, the form's sort fields and the table's headings. */
	sort: ListSort<BillingColumn>;
	sortChoices: Choice[];
	headings: Partial<Record<BillingColumn, SortHeading>>;
	total: Totals;
	/** Each total, the most expensive first. */
	byUser: [string, Totals][];
	byGroup: [string, Totals][];
	byCostCenter: [string, Totals][];
	/** This month's spend per group, the most first. */
	monthToDate: [string, Totals][];
	/**
	 * $/hour of what runs now with a known price, per group; `unpriced` is what runs at an unknown
	 * price (not in the sums), each with its page when it has one.
	 */
	burn: { total: number; byGroup: [string, number][]; unpriced: (UnpricedResource & { href: string | null })[] };
	/** What the filters offer (each shown only when there is a choice). */
	users: Choice[];
	groups: Choice[];
	costCenters: Choice[];
	/** The budgets of the groups (and their cost centers) the viewer sees. */
	budgets: BudgetBarsProps;
	/** The estimate against what AWS billed (Cost Explorer), per month of the range, for the groups the viewer sees. */
	comparison: CostComparison;
	/** Whether a user filter is on: what AWS billed is known per group and cost center, not per user. */
	userFiltered: boolean;
	/** The chargeback download form, for those who may download it. */
	chargeback: ChargebackFormProps | null;
	region: string;
	/** The configured discount, as a fraction. */
	discount: number;
	/** What the machine policies saved in the range's months. */
	savings?: SavingsProps;
	timeZone: string;
}

/** The machine policies' savings of the report's months, per group and month. */
export interface SavingsProps {
	/** The whole months covered, `2025-03`. */
	from: string;
	to: string;
	rows: SavingsRow[];
	total: { hours: number; dollars: number; actions: number };
	/** Admins only: the policies that acted most, by group and reason, the most first. */
	mostActive: { groupName: string; reason: PolicyReason; actions: number }[] | null;
	/** Admins only: the actions of each reason in all. */
	byReason: [PolicyReason, number][] | null;
	/** Whether a user or cost-center filter is set: savings are per group, those filters do not narrow them. */
	groupOnly: boolean;
}

/** Refuses (403) a filter on a user or group the viewer may not see the bills of. */
async function checkFilters(deps: Pick<Deps, "db">, viewer: Viewer, filters: BillFilters): Promise<void> {
	if (seesEverything(viewer)) return;
	const groupIds = scopeGroupIds(viewer);
	if (filters.groupId !== undefined && !groupIds.includes(filters.groupId)) {
		throw new UserError(403, "You may only see the bills of your own groups and the groups you manage.");
	}
	if (filters.userId !== undefined && filters.userId !== viewer.id) {
		const team = await teammateIds(deps.db, groupIds);
		if (!team.includes(filters.userId)) {
			throw new UserError(
				403,
				"You may only see your own bills and those of your teammates and the groups you manage.",
			);
		}
	}
}

async function report(deps: Deps, viewer: Viewer, query: BillingQuery): Promise<Report> {
	await checkFilters(deps, viewer, query.filters);
	const built = await buildReport(deps.db, {
		scope: viewerScope(viewer),
		range: query,
		filters: query.filters,
		timeZone: deps.settings.TIME_ZONE,
		now: deps.clock(),
	});
	return { ...built, rows: sortRows(built.rows, query.sort ?? BILLING_SORTS.default) };
}

/** The billing page's address for the query in another order. */
function billingHref(query: BillingQuery, sort: ListSort<BillingColumn>): string {
	return listHref("/billing", {
		from: query.from.toString(),
		to: query.to.toString(),
		user: query.filters.userId,
		group: query.filters.groupId,
		costCenter: query.filters.costCenter,
		...sortParams(sort, BILLING_SORTS),
	});
}

/** The savings of the query's months in the viewer's scope (and group filter). */
async function savings(deps: Deps, viewer: Viewer, query: BillingQuery): Promise<SavingsRow[]> {
	const rows = await policySavings(deps, {
		from: query.from.toPlainYearMonth().toString(),
		to: query.to.toPlainYearMonth().toString(),
		scope: viewerScope(viewer),
	});
	const groupId = query.filters.groupId;
	return groupId === undefined ? rows : rows.filter((r) => r.groupId === groupId);
}

function savingsProps(viewer: Viewer, query: BillingQuery, rows: SavingsRow[]): SavingsProps {
	const count = (r: SavingsRow) => POLICY_REASONS.reduce((n, reason) => n + r.actions[reason], 0);
	const admin = viewer.role === "admin";
	const acted = new Map<string, { groupName: string; reason: PolicyReason; actions: number }>();
	for (const row of rows) {
		for (const reason of POLICY_REASONS) {
			if (row.actions[reason] === 0) continue;
			const key = `${row.groupId}|${reason}`;
			const entry = acted.get(key) ?? { groupName: row.groupName, reason, actions: 0 };
			entry.actions += row.actions[reason];
			acted.set(key, entry);
		}
	}
	return {
		from: query.from.toPlainYearMonth().toString(),
		to: query.to.toPlainYearMonth().toString(),
		rows,
		total: {
			hours: rows.reduce((n, r) => n + r.hours, 0),
			dollars: rows.reduce((n, r) => n + r.dollars, 0),
			actions: rows.reduce((n, r) => n + count(r), 0),
		},
		mostActive: admin
			? [...acted.values()].sort((a, b) => b.actions - a.actions || a.groupName.localeCompare(b.groupName))
			: null,
		byReason: admin ? POLICY_REASONS.map((reason) => [reason, rows.reduce((n, r) => n + r.actions[reason], 0)]) : null,
		groupOnly: query.filters.userId !== undefined || query.filters.costCenter !== undefined,
	};
}

function mostFirst(map: Map<string, Totals>): [string, Totals][] {
	return [...map.entries()].sort((a, b) => b[1].cost - a[1].cost);
}

/** The page of a billed machine (volumes have none). */
function pageOf(resource: { resourceKind: string; resourceId: string }): string | null {
	if (resource.resourceKind === "volume") return null;
	return `/${resource.resourceKind === "cluster" ? "clusters" : "instances"}/${resource.resourceId}`;
}

/** The billing page for the query. */
export async function billingView(deps: Deps, viewer: Viewer, query: BillingQuery): Promise<BillingProps> {
	const scope = viewerScope(viewer);
	const tz = deps.settings.TIME_ZONE;
	const sort = query.sort ?? BILLING_SORTS.default;
	const built = await report(deps, viewer, query);
	const costScope = {
		groupIds: query.filters.groupId !== undefined ? [query.filters.groupId] : scope.everyone ? null : viewer.groupIds,
		costCenter: query.filters.costCenter,
	};
	const [mtd, burn, users, groups, costCenters, budgets, comparison, chargeback, saved] = await Promise.all([
		monthToDate(deps.db, scope, tz, deps.clock()),
		burnRate(deps.db, scope, deps.clock()),
		usersInScope(deps.db, scope),
		listGroups(deps.db),
		costCentersInScope(deps.db, scope),
		teamBudgetBars(deps, viewer),
		costComparison(deps, costScope, { fromDay: query.from.toString(), toDay: query.to.toString() }),
		chargebackForm(deps, viewer),
		savings(deps, viewer, query),
	]);
	return {
		from: query.from.toString(),
		to: query.to.toString(),
		filters: query.filters,
		start: built.start,
		end: built.end,
		rows: built.rows.map((r) => ({ ...r, href: r.active ? pageOf(r) : null })),
		sort,
		sortChoices: Object.entries(BILLING_LABELS).map(([value, label]) => ({ value, label })),
		headings: sortHeadings(
			Object.keys(BILLING_LABELS) as BillingColumn[],
			sort,
			BILLING_SORTS,
			(s) => billingHref(query, s),
		),
		total: built.total,
		byUser: mostFirst(built.byUser),
		byGroup: mostFirst(built.byGroup),
		byCostCenter: mostFirst(built.byCostCenter),
		monthToDate: mostFirst(mtd),
		burn: {
			total: burn.total,
			byGroup: [...burn.byGroup.entries()].sort((a, b) => b[1] - a[1]),
			unpriced: burn.unpriced.map((r) => ({ ...r, href: pageOf(r) })),
		},
		users: users.map((u) => ({ value: u.id, label: u.username })),
		groups: (scope.everyone ? groups : groups.filter((g) => viewer.groupIds.includes(g.id)))
			.map((g) => ({ value: g.id, label: g.name })),
		costCenters: costCenters.map((cc) => ({ value: cc, label: cc })),
		budgets,
		comparison,
		userFiltered: query.filters.userId !== undefined,
		chargeback,
		region: deps.settings.AWS_REGION,
		discount: deps.settings.AWS_DISCOUNT,
		savings: savingsProps(viewer, query, saved),
		timeZone: tz,
	};
}

/** The same report as CSV, then (after an empty line) the policies' savings, with the file name a download gets. */
export async function billingCsv(
	deps: Deps,
	viewer: Viewer,
	query: BillingQuery,
): Promise<{ filename: string; body: string }> {
	const built = await report(deps, viewer, query);
	return {
		filename: `mliy-billing-${query.from}-${query.to}.csv`,
		body: `${reportCsv(built)}\r\n${savingsCsv(await savings(deps, viewer, query))}`,
	};
}

/**
 * Who downloads chargeback reports: global managers and admins. A cost center's report covers every
 * machine charged to it, whichever group, so a manager of some groups does not get it.
 */
function mayChargeback(viewer: Viewer): boolean {
	return seesEverything(viewer);
}

/** The chargeback form of the billing page: the cost centers and the month it suggests (the last one). */
export interface ChargebackFormProps {
	costCenters: Choice[];
	month: string;
}

async function chargebackForm(deps: Deps, viewer: Viewer): Promise<ChargebackFormProps | null> {
	if (!mayChargeback(viewer)) return null;
	const centers = await costCentersInScope(deps.db, viewerScope(viewer));
	const thisMonth = Temporal.PlainYearMonth.from(deps.clock().toISOString().slice(0, 7));
	return {
		costCenters: centers.map((cc) => ({ value: cc, label: cc })),
		month: thisMonth.subtract({ months: 1 }).toString(),
	};
}

/** A chargeback report to download: `month` (UTC), `costCenter`, `format` csv or json; managers and admins only. */
export async function chargebackDownload(
	deps: Deps,
	viewer: Viewer,
	query: Record<string, string>,
): Promise<{ filename: string; contentType: string; body: string }> {
	if (!mayChargeback(viewer)) throw new UserError(403, "Only managers and admins download chargeback reports.");
	const month = parseMonth(query.month);
	const costCenter = (query.costCenter ?? "").trim();
	if (!costCenter || costCenter.length > 60) throw new UserError(400, "Choose a cost center");
	const format = query.format || "csv";
	if (format !== "csv" && format !== "json") throw new UserError(400, "The format is csv or json");
	const report = await chargebackReport(deps, month, costCenter);
	const filename = `chargeback-${report.month}-${fileSafe(costCenter)}.${format}`;
	return format === "csv"
		? { filename, contentType: "text/csv; charset=utf-8", body: chargebackCsv(report) }
		: { filename, contentType: "application/json", body: JSON.stringify(report, null, "\t") + "\n" };
}
