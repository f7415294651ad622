/** Queries and writes for `launches`: the durable record that lets a launch survive a restart. */
import { and, desc, eq, gte, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
import { type ConfigKind, launches, type LaunchStatus } from "./schema.ts";

export type Launch = typeof launches.$inferSelect;
export type NewLaunch = typeof launches.$inferInsert;

export async function insertLaunch(db: Db, launch: NewLaunch): Promise<Launch> {
	const [row] = await db.insert(launches).values(launch).returning();
	return row!;
}

/** Inserts the launch unless one with its id exists (a second submission of one confirmation); returns it when new. */
export async function insertLaunchOnce(db: Db, launch: NewLaunch): Promise<Launch | undefined> {
	const [row] = await db.insert(launches).values(launch).onConflictDoNothing().returning();
	return row;
}

/** The user's latest launch of a configuration made since `since`, if any. */
export async function latestLaunchOf(
	db: Db,
	query: { userId: number; configId: number; since: Date },
): Promise<Launch | undefined> {
	const [row] = await db.select().from(launches).where(and(
		eq(launches.userId, query.userId),
		eq(launches.configId, query.configId),
		gte(launches.createdAt, query.since),
	)).orderBy(desc(launches.createdAt)).limit(1);
	return row;
}

export async function getLaunch(db: Db, id: string): Promise<Launch | undefined> {
	const [row] = await launchStatements(db).byId.all({ id });
	return row;
}

/** Launches still in flight (queued or creating), oldest first; all of them, or one user's or one kind's. */
/** The pages' reads of a launch and of a user's launches, prepared once. */
const launchStatements = preparedFor((db) => ({
	byId: db.select().from(launches).where(eq(launches.id, sql.placeholder("id"))).prepare(),
	activeOfUserKind: db.select().from(launches).where(and(
		inArray(launches.status, ["queued", "creating"]),
		eq(launches.userId, sql.placeholder("userId")),
		eq(launches.kind, sql.placeholder("kind")),
	)).orderBy(launches.createdAt).prepare(),
	recent: db.select().from(launches).where(eq(launches.userId, sql.placeholder("userId")))
		.orderBy(desc(launches.createdAt)).limit(sql.placeholder("limit")).prepare(),
}));

export async function activeLaunches(
	db: Db,
	filters: { userId?: number; kind?: ConfigKind } = {},
): Promise<Launch[]> {
	if (filters.userId !== undefined && filters.kind !== undefined) {
		return await launchStatements(db).activeOfUserKind.all({ userId: filters.userId, kind: filters.kind });
	}
	return await db.select().from(launches).where(and(
		inArray(launches.status, ["queued", "creating"]),
		filters.userId === undefined ? undefined : eq(launches.userId, filters.userId),
		filters.kind === undefined ? undefined : eq(launches.kind, filters.kind),
	)).orderBy(launches.createdAt);
}

/**
 * Updates a launch only if it is still in `expectedStatus`, so two processes that both saw the
 * launch cannot both move it; returns the updated row or `undefined` when another got there first.
 */
export async function updateLaunch(
	db: Db,
	id: string,
	expectedStatus: LaunchStatus,
	changes: Partial<Omit<NewLaunch, "id">>,
): Promise<Launch | undefined> {
	const [row] = await db.update(launches).set({ ...changes, updatedAt: new Date() })
		.where(and(eq(launches.id, id), eq(launches.status, expectedStatus))).returning();
	return row;
}

/** Hides a launch's failure notice from its owner's dashboard. */
export async function dismissLaunch(db: Db, id: string, at: Date): Promise<void> {
	await db.update(launches).set({ dismissedAt: at }).where(eq(launches.id, id));
}

/** A user's recent launches, newest first. */
export async function recentLaunches(db: Db, userId: number, limit = 10): Promise<Launch[]> {
	return await launchStatements(db).recent.all({ userId, limit });
}

/**
 * Claims an active launch for one step for `holder` until `until` unless another claim holds it; a
 * crashed holder's claim lapses (a live one renews it with {@link renewLaunchClaim}). Returns the
 * launch as claimed, or `undefined` when this caller may not move it now.
 */
export async function claimLaunch(
	db: Db,
	id: string,
	holder: string,
	now: Date,
	until: Date,
): Promise<Launch | undefined> {
	const [row] = await db.update(launches).set({ claimedBy: holder, claimedUntil: until }).where(and(
		eq(launches.id, id),
		inArray(launches.status, ["queued", "creating"]),
		or(isNull(launches.claimedUntil), lt(launches.claimedUntil, now)),
	)).returning();
	return row;
}

/** Extends `holder`'s claim on the launch to `until`; false when it holds it no more. */
export async function renewLaunchClaim(db: Db, id: string, holder: string, until: Date): Promise<boolean> {
	const rows = await db.update(launches).set({ claimedUntil: until }).where(
		and(eq(launches.id, id), eq(launches.claimedBy, holder)),
	).returning({ id: launches.id });
	return rows.length === 1;
}

/** Releases `holder`'s claim; a claim another process took since (after this one lapsed) is left alone. */
export async function releaseLaunch(db: Db, id: string, holder: string): Promise<void> {
	await db.update(launches).set({ claimedBy: null, claimedUntil: null }).where(
		and(eq(launches.id, id), eq(launches.claimedBy, holder)),
	);
}
