/**
 * Job leases: several server processes share one database and each periodic job still runs once
 * per schedule tick. A lease has a holder and an expiry that its holder renews while it works, so
 * only a crashed holder's lease lapses, and another process then takes over its run.
 */
import { and, eq, isNotNull, isNull, lt, ne, or, sql } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
import { jobLeases } from "./schema.ts";

export type JobLease = typeof jobLeases.$inferSelect;

/** Who asks for which lease, when, until when, and (for a scheduled run) for which tick. */
export interface LeaseRequest {
	name: string;
	holder: string;
	now: Date;
	expiresAt: Date;
	/** The schedule tick of a scheduled run: the lease is refused when another process ran it. */
	tick?: number;
}

/**
 * Takes the lease for `name` until `expiresAt` when nobody holds it (or the holder's lease
 * lapsed) and, when `tick` is given, when no process has run this tick yet, or the run of this
 * tick was left unfinished by a holder whose lease lapsed (it crashed: the run is taken over).
 */
export async function acquireLease(db: Db, request: LeaseRequest): Promise<boolean> {
	const { name, holder, now, expiresAt, tick } = request;
	await db.insert(jobLeases).values({ name }).onConflictDoNothing();
	const rows = await db.update(jobLeases).set({
		holder,
		expiresAt,
		lastStartedAt: now,
		...(tick === undefined ? {} : { lastTick: tick }),
	}).where(and(
		eq(jobLeases.name, name),
		or(isNull(jobLeases.holder), lt(jobLeases.expiresAt, now)),
		tick === undefined
			? undefined
			: or(isNull(jobLeases.lastTick), lt(jobLeases.lastTick, tick), isNotNull(jobLeases.holder)),
	)).returning({ name: jobLeases.name });
	return rows.length === 1;
}

/** Extends the lease `holder` holds to `expiresAt`; false when it holds it no more (another took over). */
export async function renewLease(db: Db, name: string, holder: string, expiresAt: Date): Promise<boolean> {
	const rows = await db.update(jobLeases).set({ expiresAt }).where(
		and(eq(jobLeases.name, name), eq(jobLeases.holder, holder)),
	).returning({ name: jobLeases.name });
	return rows.length === 1;
}

/** Releases the lease and records how the run ended (a failure as thrown and as users may be told). */
export async function releaseLease(
	db: Db,
	name: string,
	holder: string,
	outcome: { finishedAt: Date; error?: { raw: string; notice: string } },
): Promise<void> {
	await db.update(jobLeases).set({
		holder: null,
		expiresAt: null,
		lastFinishedAt: outcome.finishedAt,
		lastError: outcome.error?.raw ?? null,
		lastErrorNotice: outcome.error?.notice ?? null,
		runs: sql`${jobLeases.runs} + 1`,
		...(outcome.error === undefined ? { lastSuccessAt: outcome.finishedAt } : {}),
	}).where(and(eq(jobLeases.name, name), eq(jobLeases.holder, holder)));
}

const leaseStatements = preparedFor((db) => ({
	byName: db.select().from(jobLeases).where(eq(jobLeases.name, sql.placeholder("name"))).prepare(),
}));

export async function getLease(db: Db, name: string): Promise<JobLease | undefined> {
	return await leaseStatements(db).byName.get({ name });
}

/** The holder of the leases that are rate limits, not runs. */
const RATE_LIMIT_HOLDER = "rate-limit";

/** Takes a lease that is never released, only expires: a rate limit shared by every process. */
export async function takeRateLimit(db: Db, name: string, now: Date, windowMs: number): Promise<boolean> {
	return await acquireLease(db, {
		name,
		holder: RATE_LIMIT_HOLDER,
		now,
		expiresAt: new Date(now.getTime() + windowMs),
	});
}

/**
 * The jobs whose lease is held by a run that started before `startedBefore`: stuck (its holder
 * renews the lease but never finishes) or abandoned (its holder died and no process took over).
 */
export async function staleLeases(db: Db, startedBefore: Date): Promise<string[]> {
	const rows = await db.select({ name: jobLeases.name }).from(jobLeases).where(and(
		isNotNull(jobLeases.holder),
		ne(jobLeases.holder, RATE_LIMIT_HOLDER),
		lt(jobLeases.lastStartedAt, startedBefore),
	)).orderBy(jobLeases.name);
	return rows.map((r) => r.name);
}
