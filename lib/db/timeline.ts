/**
 * Queries and writes for what a launch leaves behind besides its machine: every progress report
 * (the boot timeline, and the samples of a configuration's usual stage durations) and the stack's
 * CloudFormation events.
 */
import { and, desc, eq, inArray, ne, sql } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
import { progressReports, stackEvents, type StoredStackEvent } from "./schema.ts";

export type ProgressReport = typeof progressReports.$inferSelect;

/** Prepared once: the progress callback appends a report on every call; the instance page reads them. */
const timelineStatements = preparedFor((db) => ({
	insert: db.insert(progressReports).values({
		instanceId: sql.placeholder("instanceId"),
		configId: sql.placeholder("configId"),
		stage: sql.placeholder("stage"),
		percent: sql.placeholder("percent"),
		at: sql.placeholder("at"),
	}).prepare(),
	ofInstance: db.select().from(progressReports).where(eq(progressReports.instanceId, sql.placeholder("instanceId")))
		.orderBy(progressReports.at, progressReports.id).prepare(),
}));

/** Appends a progress report to the instance's history. */
export async function insertProgressReport(
	db: Db,
	report: { instanceId: string; configId: number | null; stage: string; percent: number; at: Date },
): Promise<void> {
	await timelineStatements(db).insert.run(report);
}

/** The instance's progress reports, oldest first. */
export async function progressReportsOf(db: Db, instanceId: string): Promise<ProgressReport[]> {
	return await timelineStatements(db).ofInstance.all({ instanceId });
}

/**
 * The progress reports of the configuration's `instances` most recently reporting instances other
 * than `except`, oldest first: the samples of its usual stage durations.
 */
export async function recentReportsOfConfig(
	db: Db,
	query: { configId: number; except: string; instances: number },
): Promise<ProgressReport[]> {
	const recent = await db.select({ instanceId: progressReports.instanceId }).from(progressReports)
		.where(and(eq(progressReports.configId, query.configId), ne(progressReports.instanceId, query.except)))
		.groupBy(progressReports.instanceId)
		.orderBy(desc(sql`max(${progressReports.at})`))
		.limit(query.instances);
	if (recent.length === 0) return [];
	return await db.select().from(progressReports).where(and(
		eq(progressReports.configId, query.configId),
		inArray(progressReports.instanceId, recent.map((r) => r.instanceId)),
	)).orderBy(progressReports.at, progressReports.id);
}

/** Stores (or replaces) the events of a launch's stack. */
export async function saveStackEvents(
	db: Db,
	row: { launchId: string; stackId: string; events: StoredStackEvent[]; storedAt: Date },
): Promise<void> {
	await db.insert(stackEvents).values(row).onConflictDoUpdate({
		target: stackEvents.launchId,
		set: { stackId: row.stackId, events: row.events, storedAt: row.storedAt },
	});
}

/** The stored events of a launch's stack, if the launcher stored them. */
export async function stackEventsOf(
	db: Db,
	launchId: string,
): Promise<{ stackId: string; events: StoredStackEvent[]; storedAt: Date } | undefined> {
	const [row] = await db.select().from(stackEvents).where(eq(stackEvents.launchId, launchId));
	return row;
}
