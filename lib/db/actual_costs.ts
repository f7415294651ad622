/**
 * What AWS billed, as the daily Cost Explorer job stores it (per UTC day, cost center and launch),
 * what the last read found (kept in app_state: enabled or not, tags active or not, the days it
 * covered), and the billed periods the estimates of those days are computed from.
 */
import { and, eq, gt, gte, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { actualCosts, appState, bills, launches, volumes } from "./schema.ts";

export type ActualCost = typeof actualCosts.$inferSelect;
export type NewActualCost = typeof actualCosts.$inferInsert;

/**
 * Replaces the stored figures of the days in [fromDay, toDay) with `rows`, in one transaction:
 * AWS revises recent days, so each read's days are its own.
 */
export async function replaceActualCosts(
	db: Db,
	fromDay: string,
	toDay: string,
	rows: readonly NewActualCost[],
): Promise<void> {
	await db.transaction(async (tx) => {
		await tx.delete(actualCosts).where(and(gte(actualCosts.day, fromDay), lt(actualCosts.day, toDay)));
		for (let i = 0; i < rows.length; i += 200) await tx.insert(actualCosts).values(rows.slice(i, i + 200));
	});
}

/** The group of each of these launches. */
export async function groupsOfLaunches(db: Db, launchIds: readonly string[]): Promise<Map<string, number | null>> {
	const found = new Map<string, number | null>();
	for (let i = 0; i < launchIds.length; i += 500) {
		const rows = await db.select({ id: launches.id, groupId: launches.groupId }).from(launches)
			.where(inArray(launches.id, launchIds.slice(i, i + 500)));
		for (const r of rows) found.set(r.id, r.groupId);
	}
	return found;
}

/** Which figures: those of these groups (null: every group, and cost no launch of the portal claims). */
export interface CostScope {
	groupIds: readonly number[] | null;
	costCenter?: string;
}

/** What AWS billed per UTC day in [fromDay, toDay) within the scope. */
export async function actualByDay(
	db: Db,
	scope: CostScope,
	fromDay: string,
	toDay: string,
): Promise<Map<string, number>> {
	if (scope.groupIds?.length === 0) return new Map();
	const rows = await db.select({ day: actualCosts.day, amount: sql<number>`sum(${actualCosts.amount})` })
		.from(actualCosts).where(and(
			gte(actualCosts.day, fromDay),
			lt(actualCosts.day, toDay),
			scope.groupIds ? inArray(actualCosts.groupId, [...scope.groupIds]) : undefined,
			scope.costCenter === undefined ? undefined : eq(actualCosts.costCenter, scope.costCenter),
		)).groupBy(actualCosts.day);
	return new Map(rows.map((r) => [r.day, Number(r.amount)]));
}

/** A billed period as the estimate of a day reads it. */
export interface EstimatedPeriod {
	startedAt: Date;
	endedAt: Date | null;
	hourlyRate: number | null;
}

/** The billed periods overlapping [start, end) within the scope. */
export async function periodsOverlapping(
	db: Db,
	scope: CostScope,
	range: { start: Date; end: Date },
): Promise<EstimatedPeriod[]> {
	if (scope.groupIds?.length === 0) return [];
	return await db.select({ startedAt: bills.startedAt, endedAt: bills.endedAt, hourlyRate: bills.hourlyRate })
		.from(bills).where(and(
			lt(bills.startedAt, range.end),
			or(isNull(bills.endedAt), gt(bills.endedAt, range.start)),
			scope.groupIds ? inArray(bills.groupId, [...scope.groupIds]) : undefined,
			scope.costCenter === undefined ? undefined : eq(bills.costCenter, scope.costCenter),
		));
}

/** What the last read of Cost Explorer found. */
export interface CostExplorerStatus {
	/**
	 * ok: figures stored; disabled: Cost Explorer is not enabled (or not allowed) for the account;
	 * untagged: AWS answered but none of its cost carries the portal's tags (not activated as cost
	 * allocation tags); failed: the read failed otherwise (retried at the next run).
	 */
	state: "ok" | "disabled" | "untagged" | "failed";
	readAt: string;
	/** The UTC days read so far, [coveredFrom, coveredTo): earlier reads' days stay stored. */
	coveredFrom: string | null;
	coveredTo: string | null;
	/** What AWS said, classified (never the raw message: it can hold account ids). */
	message: string;
}

const STATUS_KEY = "cost-explorer";

export async function costExplorerStatus(db: Db): Promise<CostExplorerStatus | undefined> {
	const row = await db.query.appState.findFirst({ where: eq(appState.key, STATUS_KEY) });
	return row ? JSON.parse(row.value) as CostExplorerStatus : undefined;
}

export async function saveCostExplorerStatus(db: Db, status: CostExplorerStatus): Promise<void> {
	const value = JSON.stringify(status);
	await db.insert(appState).values({ key: STATUS_KEY, value }).onConflictDoUpdate({
		target: appState.key,
		set: { value },
	});
}

/** What AWS billed per launch of one cost center in the UTC days [fromDay, toDay); "" for its cost no launch claims. */
export async function actualByLaunch(
	db: Db,
	costCenter: string,
	fromDay: string,
	toDay: string,
): Promise<Map<string, number>> {
	const rows = await db.select({ launchId: actualCosts.launchId, amount: sql<number>`sum(${actualCosts.amount})` })
		.from(actualCosts).where(and(
			eq(actualCosts.costCenter, costCenter),
			gte(actualCosts.day, fromDay),
			lt(actualCosts.day, toDay),
		)).groupBy(actualCosts.launchId);
	return new Map(rows.map((r) => [r.launchId, Number(r.amount)]));
}

/** The instance each of these volumes is attached to (a volume on its own is left out). */
export async function instancesOfVolumes(db: Db, volumeIds: readonly string[]): Promise<Map<string, string>> {
	const found = new Map<string, string>();
	for (let i = 0; i < volumeIds.length; i += 500) {
		const rows = await db.select({ id: volumes.id, instanceId: volumes.instanceId }).from(volumes)
			.where(inArray(volumes.id, volumeIds.slice(i, i + 500)));
		for (const r of rows) if (r.instanceId) found.set(r.id, r.instanceId);
	}
	return found;
}

/** The cost centers billed in [start, end). */
export async function costCentersBilled(db: Db, range: { start: Date; end: Date }): Promise<string[]> {
	const rows = await db.selectDistinct({ costCenter: bills.costCenter }).from(bills).where(and(
		lt(bills.startedAt, range.end),
		or(isNull(bills.endedAt), gt(bills.endedAt, range.start)),
	)).orderBy(bills.costCenter);
	return rows.map((r) => r.costCenter);
}
