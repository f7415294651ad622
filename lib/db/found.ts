/**
 * Queries and writes for `found_machines`: machines AWS shows with the portal's tags that no portal
 * launch is proven to have made, kept for the admins (who alone may adopt them for a user).
 */
import { and, desc, eq, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { clusters, type ConfigKind, foundMachines, instances } from "./schema.ts";

export type FoundMachine = typeof foundMachines.$inferSelect;
export type NewFoundMachine = typeof foundMachines.$inferInsert;

/** Ids per statement, well under SQLite's limit on bound parameters. */
const IDS_PER_STATEMENT = 500;

/** The found machines with these ids. */
export async function foundByIds(db: Db, ids: readonly string[]): Promise<FoundMachine[]> {
	const found: FoundMachine[] = [];
	for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
		found.push(
			...await db.select().from(foundMachines).where(inArray(foundMachines.id, ids.slice(i, i + IDS_PER_STATEMENT))),
		);
	}
	return found;
}

export async function getFound(db: Db, id: string): Promise<FoundMachine | undefined> {
	return await db.query.foundMachines.findFirst({ where: eq(foundMachines.id, id) });
}

/** Every found machine, the most recently seen first. */
export async function listFound(db: Db): Promise<FoundMachine[]> {
	return await db.select().from(foundMachines).orderBy(desc(foundMachines.lastSeenAt), foundMachines.id);
}

/**
 * The later of the stored sighting and `at`: a run that listed a machine before another run marked
 * it must not make it look unseen to that run's {@link forgetFoundUnseen}.
 */
function laterSighting(at: SQL | Date): SQL<Date> {
	return sql`max(${foundMachines.lastSeenAt}, ${at instanceof Date ? at.getTime() : at})`;
}

/**
 * Records a found machine, or what AWS shows of it now; `firstSeenAt` is kept from its first
 * sighting. A machine the portal records by then (adopted while the listing that found it was
 * read: an adoption records the machine, then forgets the found one) is not kept: false then.
 */
export async function saveFound(db: Db, machine: NewFoundMachine): Promise<boolean> {
	const { id: _id, firstSeenAt: _first, ...now } = machine;
	await db.insert(foundMachines).values(machine).onConflictDoUpdate({
		target: foundMachines.id,
		set: { ...now, lastSeenAt: laterSighting(sql`excluded.last_seen_at`) },
	});
	const table = machine.kind === "cluster" ? clusters : instances;
	const recorded = await db.delete(foundMachines).where(
		and(eq(foundMachines.id, machine.id), sql`EXISTS (SELECT 1 FROM ${table} WHERE ${table.id} = ${machine.id})`),
	).returning({ id: foundMachines.id });
	return recorded.length === 0;
}

/** One write recording that AWS listed these found machines at `at`. */
export async function markFoundSeen(db: Db, ids: readonly string[], at: Date): Promise<void> {
	for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
		await db.update(foundMachines).set({ lastSeenAt: laterSighting(at) }).where(
			inArray(foundMachines.id, ids.slice(i, i + IDS_PER_STATEMENT)),
		);
	}
}

/** Forgets a found machine: it was adopted, or recorded by its launch. */
export async function forgetFound(db: Db, id: string): Promise<void> {
	await db.delete(foundMachines).where(eq(foundMachines.id, id));
}

/**
 * Forgets the found machines of a kind a whole listing did not show alive: the run marked every one
 * it showed at `seenAt`, so those last seen before are gone from AWS, ended, or lost the portal's
 * tags. Returns how many.
 */
export async function forgetFoundUnseen(db: Db, kind: ConfigKind, seenAt: Date): Promise<number> {
	const rows = await db.delete(foundMachines).where(
		and(eq(foundMachines.kind, kind), lt(foundMachines.lastSeenAt, seenAt)),
	).returning({ id: foundMachines.id });
	return rows.length;
}
