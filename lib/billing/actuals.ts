/**
 * Estimates against the bill. A daily job reads AWS Cost Explorer (GetCostAndUsage, DAILY,
 * NetUnblendedCost) for the portal's tagged cost (`LaunchedBy: MLIY`), grouped by the cost
 * allocation tags every stack carries, `Cost Center` and `mliy:launch-id`, and stores the cost per
 * UTC day, cost center and launch (with the launch's group). The billing page then sets the
 * portal's own estimate of the same UTC days (its billed periods at their rates) beside what AWS
 * billed, per month, with the gap in dollars and percent, and flags the days that differ by more
 * than COST_GAP_PERCENT. Cost Explorer not enabled, or the tags not activated, is said plainly:
 * never shown as zeros.
 */
import {
	actualByDay,
	type CostExplorerStatus,
	costExplorerStatus,
	type CostScope,
	groupsOfLaunches,
	type NewActualCost,
	periodsOverlapping,
	replaceActualCosts,
	saveCostExplorerStatus,
} from "../db/actual_costs.ts";
import type { Deps } from "../deps.ts";
import { AwsError } from "../errors.ts";
import { LAUNCH_TAG, LAUNCHED_BY_TAG, LAUNCHED_BY_VALUE } from "../machines/tags.ts";

/** The cost allocation tags the portal groups AWS's cost by (every stack carries them; README "Estimates against the bill"). */
export const COST_CENTER_TAG = "Cost Center";
export const COST_TAGS = [COST_CENTER_TAG, LAUNCH_TAG] as const;
/** The metric read: what was billed after discounts and credits, as the portal's rates are after AWS_DISCOUNT. */
export const COST_METRIC = "NetUnblendedCost";

const DAY_MS = 86_400_000;

/** The UTC day of an instant, `2025-03-01`. */
export function utcDay(at: Date | number): string {
	return new Date(at).toISOString().slice(0, 10);
}

function dayStart(day: string): number {
	return Date.parse(`${day}T00:00:00Z`);
}

/** The days Cost Explorer is read for: from the first of last month (AWS revises recent days) to today, not included. */
export function readWindow(now: Date): { fromDay: string; toDay: string } {
	const today = utcDay(now);
	const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
	return { fromDay: utcDay(first), toDay: today };
}

const DISABLED = "AWS Cost Explorer is not enabled for this account (or the portal's role may not call " +
	"ce:GetCostAndUsage), so what AWS billed cannot be shown.";
const UNTAGGED =
	`AWS Cost Explorer holds no cost with the portal's tags for these days: activate ${LAUNCHED_BY_TAG}, ` +
	`${COST_CENTER_TAG} and ${LAUNCH_TAG} as cost allocation tags in the AWS Billing console (AWS applies them to ` +
	"cost from then on), so what AWS billed can be shown.";
const NO_LAUNCH_IDS = `AWS's cost carries no ${LAUNCH_TAG} tag (not activated as a cost allocation tag?): ` +
	"what AWS billed is compared per cost center only, not per group.";

const NO_COST_CENTERS = `AWS's cost carries no ${COST_CENTER_TAG} tag (not activated as a cost allocation tag?): ` +
	"what AWS billed is compared in total only.";

/** What one read did. */
export interface ActualsResult {
	state: CostExplorerStatus["state"];
	rows: number;
}

/**
 * The daily job's body: reads the window's days from Cost Explorer, stores them in place of what
 * was stored for those days, and records what it found. A denied call (Cost Explorer not enabled)
 * is recorded, not thrown: it is the account's state, not a failure; other errors are recorded
 * and thrown, so the job reports them and runs again.
 */
export async function readActualCosts(deps: Pick<Deps, "db" | "clock" | "aws" | "log">): Promise<ActualsResult> {
	const now = deps.clock();
	const { fromDay, toDay } = readWindow(now);
	const previous = await costExplorerStatus(deps.db);
	const keep = { coveredFrom: previous?.coveredFrom ?? null, coveredTo: previous?.coveredTo ?? null };
	let answer;
	try {
		answer = await deps.aws.costExplorer.dailyCostByTags({
			fromDay,
			toDay,
			metric: COST_METRIC,
			filterTag: { key: LAUNCHED_BY_TAG, values: [LAUNCHED_BY_VALUE] },
			groupByTags: [...COST_TAGS],
		});
	} catch (error) {
		if (!(error instanceof AwsError)) throw error;
		const state = error.kind === "denied" ? "disabled" : "failed";
		const message = state === "disabled" ? DISABLED : `The last read of AWS Cost Explorer failed (${error.kind}).`;
		await saveCostExplorerStatus(deps.db, { state, readAt: now.toISOString(), ...keep, message });
		deps.log.web.warn("cost explorer read of {fromDay}..{toDay}: {state}", { fromDay, toDay, state });
		if (state === "disabled") return { state, rows: 0 };
		throw error;
	}
	if (answer.length === 0) {
		await saveCostExplorerStatus(deps.db, { state: "untagged", readAt: now.toISOString(), ...keep, message: UNTAGGED });
		return { state: "untagged", rows: 0 };
	}
	const groups = await groupsOfLaunches(deps.db, [...new Set(answer.map((r) => r.tags[LAUNCH_TAG]!).filter(Boolean))]);
	// One figure per day, cost center and launch, however AWS's pages split them.
	const merged = new Map<string, NewActualCost>();
	for (const row of answer) {
		const costCenter = row.tags[COST_CENTER_TAG] ?? "";
		const launchId = row.tags[LAUNCH_TAG] ?? "";
		const key = `${row.day}|${costCenter}|${launchId}`;
		const stored = merged.get(key);
		if (stored) {
			stored.amount += row.amount;
			stored.estimated ||= row.estimated;
		} else {
			merged.set(key, {
				day: row.day,
				costCenter,
				launchId,
				groupId: groups.get(launchId) ?? null,
				amount: row.amount,
				estimated: row.estimated,
				fetchedAt: now,
			});
		}
	}
	await replaceActualCosts(deps.db, fromDay, toDay, [...merged.values()]);
	await saveCostExplorerStatus(deps.db, {
		state: "ok",
		readAt: now.toISOString(),
		coveredFrom: keep.coveredFrom && keep.coveredFrom < fromDay ? keep.coveredFrom : fromDay,
		coveredTo: toDay,
		message: !answer.some((r) => r.tags[COST_CENTER_TAG])
			? NO_COST_CENTERS
			: !answer.some((r) => r.tags[LAUNCH_TAG])
			? NO_LAUNCH_IDS
			: "",
	});
	deps.log.web.info("cost explorer: {rows} figure(s) of {fromDay}..{toDay} stored", {
		rows: merged.size,
		fromDay,
		toDay,
	});
	return { state: "ok", rows: merged.size };
}

/** One UTC day's estimate and bill. */
export interface DayComparison {
	day: string;
	estimate: number;
	actual: number;
	/** What AWS billed less the estimate. */
	gap: number;
	/** The gap as a percentage of the estimate; null when the estimate is 0. */
	gapPercent: number | null;
}

/** A month's estimate and bill over the days AWS was read for. */
export interface MonthComparison {
	/** `2025-03` (UTC). */
	month: string;
	/** The days compared, [fromDay, toDay). */
	fromDay: string;
	toDay: string;
	estimate: number;
	actual: number;
	gap: number;
	gapPercent: number | null;
	/** Billed periods of unknown price in those days: the estimate leaves them out. */
	unknown: number;
	/** The days whose gap is above the threshold. */
	flagged: DayComparison[];
}

/** The billing page's comparison: a plain sentence when there is nothing to compare. */
export interface CostComparison {
	state: CostExplorerStatus["state"] | "unread";
	/** Why there are no figures, or what to keep in mind about them. */
	message: string;
	readAt: string | null;
	thresholdPercent: number;
	months: MonthComparison[];
}

function percentOf(gap: number, estimate: number): number | null {
	return estimate > 0 ? gap / estimate * 100 : null;
}

/** Whether a day's gap is above the threshold (any billed cost the portal did not estimate is). */
export function flagged(day: Pick<DayComparison, "gap" | "estimate">, thresholdPercent: number): boolean {
	if (Math.abs(day.gap) < 0.005) return false;
	return day.estimate <= 0 || Math.abs(day.gap) / day.estimate * 100 > thresholdPercent;
}

/**
 * The portal's estimate per UTC day in [fromDay, toDay) from billed periods (each at its rate,
 * open ones until now), and how many of the periods have no known price (left out of it).
 */
export function estimateByDay(
	periods: readonly { startedAt: Date; endedAt: Date | null; hourlyRate: number | null }[],
	fromDay: string,
	toDay: string,
	now: Date,
): { cost: Map<string, number>; unknown: number } {
	const cost = new Map<string, number>();
	let unknown = 0;
	const end = Math.min(dayStart(toDay), now.getTime());
	for (const p of periods) {
		const from = Math.max(p.startedAt.getTime(), dayStart(fromDay));
		const to = Math.min(p.endedAt?.getTime() ?? end, end);
		if (to <= from) continue;
		if (p.hourlyRate === null) {
			unknown += 1;
			continue;
		}
		for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) {
			const ms = Math.min(to, day + DAY_MS) - Math.max(from, day);
			if (ms <= 0) continue;
			const name = utcDay(day);
			cost.set(name, (cost.get(name) ?? 0) + p.hourlyRate * ms / 3_600_000);
		}
	}
	return { cost, unknown };
}

/**
 * Estimate and bill side by side for the UTC months overlapping [fromDay, toDay] that Cost
 * Explorer was read for, within the scope (the viewer's groups, or everything for those who see it).
 */
export async function costComparison(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	scope: CostScope,
	range: { fromDay: string; toDay: string },
): Promise<CostComparison> {
	const status = await costExplorerStatus(deps.db);
	const thresholdPercent = deps.settings.COST_GAP_PERCENT;
	const base = { readAt: status?.readAt ?? null, thresholdPercent, months: [] };
	if (!status) {
		return {
			...base,
			state: "unread",
			message: "What AWS billed has not been read yet: a daily job reads AWS Cost Explorer.",
		};
	}
	if (!status.coveredFrom || !status.coveredTo) return { ...base, state: status.state, message: status.message };
	const now = deps.clock();
	const months: MonthComparison[] = [];
	const firstMonth = range.fromDay.slice(0, 7);
	const lastMonth = range.toDay.slice(0, 7);
	for (let month = firstMonth; month <= lastMonth; month = nextMonth(month)) {
		const fromDay = maxDay(`${month}-01`, status.coveredFrom, range.fromDay);
		const toDay = minDay(`${nextMonth(month)}-01`, status.coveredTo, utcDay(dayStart(range.toDay) + DAY_MS));
		if (fromDay >= toDay) continue;
		const [periods, actual] = await Promise.all([
			periodsOverlapping(deps.db, scope, { start: new Date(dayStart(fromDay)), end: new Date(dayStart(toDay)) }),
			actualByDay(deps.db, scope, fromDay, toDay),
		]);
		const estimated = estimateByDay(periods, fromDay, toDay, now);
		const days: DayComparison[] = [];
		for (let day = fromDay; day < toDay; day = utcDay(dayStart(day) + DAY_MS)) {
			const estimate = estimated.cost.get(day) ?? 0;
			const billed = actual.get(day) ?? 0;
			days.push({
				day,
				estimate,
				actual: billed,
				gap: billed - estimate,
				gapPercent: percentOf(billed - estimate, estimate),
			});
		}
		const estimate = days.reduce((sum, d) => sum + d.estimate, 0);
		const billed = days.reduce((sum, d) => sum + d.actual, 0);
		months.push({
			month,
			fromDay,
			toDay,
			estimate,
			actual: billed,
			gap: billed - estimate,
			gapPercent: percentOf(billed - estimate, estimate),
			unknown: estimated.unknown,
			flagged: days.filter((d) => flagged(d, thresholdPercent)),
		});
	}
	return { ...base, state: status.state, message: status.message, months };
}

function nextMonth(month: string): string {
	const [y, m] = month.split("-").map(Number) as [number, number];
	return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
}

function maxDay(...days: string[]): string {
	return days.reduce((a, b) => (a > b ? a : b));
}

function minDay(...days: string[]): string {
	return days.reduce((a, b) => (a < b ? a : b));
}
