/**
 * Billing reports: cost is the stored rate of each billed period times the exact time inside the
 * report's range (no rounding up to whole hours): the hourly rate, or for what is priced by the
 * month (volumes) each calendar month's share of the monthly rate; summed per resource, user,
 * group and cost center; the live burn rate; month to date; CSV.
 */
import type { Db } from "../db/client.ts";
import { type Bill, type BillFilters, type BillRow, billsOverlapping, openBills } from "../db/bills.ts";
import type { TeamScope } from "../db/scope.ts";
import { hoursInMonth, proratedCost } from "./ebs.ts";

/** A report's date range: whole days in the configured time zone, `to` inclusive. */
export interface ReportRange {
	from: Temporal.PlainDate;
	to: Temporal.PlainDate;
}

/** The instants a report covers: from the start of `from` to the end of `to` in `timeZone`, capped at now. */
export function rangeInstants(range: ReportRange, timeZone: string, now: Date): { start: Date; end: Date } {
	const start = new Date(range.from.toZonedDateTime({ timeZone }).epochMilliseconds);
	const endOfTo = new Date(range.to.add({ days: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds);
	return { start, end: endOfTo.getTime() > now.getTime() ? now : endOfTo };
}

/** The part of a period inside [start, end), an open period running until `now`; null when none. */
function overlap(
	period: { startedAt: Date; endedAt: Date | null },
	range: { start: Date; end: Date },
	now: Date,
): { from: Date; to: Date } | null {
	const from = Math.max(period.startedAt.getTime(), range.start.getTime());
	const to = Math.min((period.endedAt ?? now).getTime(), range.end.getTime(), now.getTime());
	return to > from ? { from: new Date(from), to: new Date(to) } : null;
}

/** Hours of a period that fall inside [start, end); an open period runs until `now`. */
export function overlapHours(
	period: { startedAt: Date; endedAt: Date | null },
	range: { start: Date; end: Date },
	now: Date,
): number {
	const part = overlap(period, range, now);
	return part ? (part.to.getTime() - part.from.getTime()) / 3_600_000 : 0;
}

/**
 * What a period costs inside the range: its monthly rate prorated over each calendar month's own
 * length, else its hourly rate × the hours; null when its price is unknown.
 */
export function periodCost(
	bill: Pick<Bill, "startedAt" | "endedAt" | "hourlyRate" | "monthlyRate">,
	range: { start: Date; end: Date },
	now: Date,
): number | null {
	if (bill.hourlyRate === null) return null;
	const part = overlap(bill, range, now);
	if (!part) return 0;
	if (bill.monthlyRate !== null) return proratedCost(bill.monthlyRate, part.from, part.to);
	return bill.hourlyRate * (part.to.getTime() - part.from.getTime()) / 3_600_000;
}

/** What an open period burns per hour now: a monthly rate over the hours of the current month. */
function hourlyNow(bill: Pick<Bill, "hourlyRate" | "monthlyRate">, now: Date): number | null {
	if (bill.hourlyRate === null) return null;
	return bill.monthlyRate !== null ? bill.monthlyRate / hoursInMonth(now) : bill.hourlyRate;
}

/** One resource in a report, all its periods in the range summed. */
export interface ReportRow {
	resourceId: string;
	resourceKind: string;
	/** The machine's name (a volume's: its instance's); null when the portal has none. */
	machineName: string | null;
	username: string;
	userName: string;
	groupName: string | null;
	costCenter: string;
	description: string;
	periods: number;
	hours: number;
	/** Null when some period's price is unknown. */
	cost: number | null;
	active: boolean;
}

export interface Totals {
	hours: number;
	cost: number;
	/** Periods whose price is unknown and so are not in `cost`. */
	unknown: number;
}

export interface Report {
	start: Date;
	end: Date;
	rows: ReportRow[];
	byUser: Map<string, Totals>;
	byGroup: Map<string, Totals>;
	byCostCenter: Map<string, Totals>;
	total: Totals;
}

function addTo(map: Map<string, Totals>, key: string, hours: number, cost: number | null) {
	const t = map.get(key) ?? { hours: 0, cost: 0, unknown: 0 };
	t.hours += hours;
	if (cost === null) t.unknown += 1;
	else t.cost += cost;
	map.set(key, t);
}

/** Builds the billing report for a range, scope and filters from the billed periods. */
export async function buildReport(
	db: Db,
	query: { scope: TeamScope; range: ReportRange; filters?: BillFilters; timeZone: string; now: Date },
): Promise<Report> {
	const { start, end } = rangeInstants(query.range, query.timeZone, query.now);
	const bills = end.getTime() > start.getTime()
		? await billsOverlapping(db, query.scope, { start, end }, query.filters)
		: [];
	return summarise(bills, { start, end }, query.now);
}

/** Sums periods per resource and totals per user, group and cost center. */
export function summarise(bills: readonly BillRow[], range: { start: Date; end: Date }, now: Date): Report {
	const rows = new Map<string, ReportRow>();
	const report: Report = {
		start: range.start,
		end: range.end,
		rows: [],
		byUser: new Map(),
		byGroup: new Map(),
		byCostCenter: new Map(),
		total: { hours: 0, cost: 0, unknown: 0 },
	};
	for (const bill of bills) {
		const hours = overlapHours(bill, range, now);
		const cost = periodCost(bill, range, now);
		const row = rows.get(bill.resourceId) ?? {
			resourceId: bill.resourceId,
			resourceKind: bill.resourceKind,
			machineName: bill.machineName,
			username: bill.username,
			userName: bill.userName,
			groupName: bill.groupName,
			costCenter: bill.costCenter,
			description: bill.description,
			periods: 0,
			hours: 0,
			cost: 0,
			active: false,
		};
		row.periods += 1;
		row.hours += hours;
		row.cost = row.cost === null || cost === null ? null : row.cost + cost;
		row.active ||= bill.endedAt === null;
		row.description = bill.description;
		rows.set(bill.resourceId, row);
		addTo(report.byUser, bill.username, hours, cost);
		addTo(report.byGroup, bill.groupName ?? "(no group)", hours, cost);
		addTo(report.byCostCenter, bill.costCenter, hours, cost);
		report.total.hours += hours;
		if (cost === null) report.total.unknown += 1;
		else report.total.cost += cost;
	}
	report.rows = [...rows.values()];
	return report;
}

/** A resource billed now whose price is unknown: not in the burn's sums. */
export interface UnpricedResource {
	resourceId: string;
	resourceKind: string;
	description: string;
	userName: string;
}

/** Live burn: $/hour of what runs now, per user and per group. */
export interface BurnRate {
	/** $/hour of what runs now with a known price. */
	total: number;
	/**
	 * By username (display names are not unique); `name` is the label, the display name, with the
	 * username added when two users in the map share it.
	 */
	byUser: Map<string, { name: string; hourly: number }>;
	byGroup: Map<string, number>;
	/** What runs now at an unknown price: counted here, never as $0 in the sums. */
	unknown: number;
	unpriced: UnpricedResource[];
}

/** The burn rate of the periods open at `now` within the scope. */
export async function burnRate(db: Db, scope: TeamScope, now: Date): Promise<BurnRate> {
	const burn: BurnRate = { total: 0, byUser: new Map(), byGroup: new Map(), unknown: 0, unpriced: [] };
	for (const bill of await openBills(db, scope)) {
		const hourly = hourlyNow(bill, now);
		if (hourly === null) {
			burn.unknown += 1;
			burn.unpriced.push({
				resourceId: bill.resourceId,
				resourceKind: bill.resourceKind,
				description: bill.description,
				userName: bill.userName,
			});
			continue;
		}
		burn.total += hourly;
		const user = burn.byUser.get(bill.username) ?? { name: bill.userName, hourly: 0 };
		user.hourly += hourly;
		burn.byUser.set(bill.username, user);
		const group = bill.groupName ?? "(no group)";
		burn.byGroup.set(group, (burn.byGroup.get(group) ?? 0) + hourly);
	}
	const named = new Map<string, number>();
	for (const user of burn.byUser.values()) named.set(user.name, (named.get(user.name) ?? 0) + 1);
	for (const [username, user] of burn.byUser) if (named.get(user.name)! > 1) user.name += ` (${username})`;
	return burn;
}

/** Month-to-date spend per group, in the configured time zone. */
export async function monthToDate(
	db: Db,
	scope: TeamScope,
	timeZone: string,
	now: Date,
): Promise<Map<string, Totals>> {
	const today = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(timeZone).toPlainDate();
	const report = await buildReport(db, {
		scope,
		range: { from: today.with({ day: 1 }), to: today },
		timeZone,
		now,
	});
	return report.byGroup;
}

/** The report as CSV (RFC 4180), with a totals line. */
export function reportCsv(report: Report): string {
	const header = [
		"resource",
		"kind",
		"owner",
		"group",
		"cost_center",
		"description",
		"periods",
		"hours",
		"cost_usd",
		"active",
	];
	const lines = [header.join(",")];
	for (const r of report.rows) {
		lines.push(
			[
				r.resourceId,
				r.resourceKind,
				r.username,
				r.groupName ?? "",
				r.costCenter,
				r.description,
				String(r.periods),
				r.hours.toFixed(4),
				r.cost === null ? "unknown" : r.cost.toFixed(4),
				r.active ? "yes" : "no",
			].map(csvField).join(","),
		);
	}
	lines.push(
		["TOTAL", "", "", "", "", "", "", report.total.hours.toFixed(4), report.total.cost.toFixed(4), ""].join(","),
	);
	return lines.join("\r\n") + "\r\n";
}

/** Quotes a CSV field, and defuses spreadsheet formulas (a leading =, +, - or @). */
export function csvField(value: string): string {
	const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
	return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
