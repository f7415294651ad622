/** Queries and writes for `volumes`. */
import { and, eq, inArray, notInArray, sql } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
import { volumes } from "./schema.ts";
import { VOLUME_GONE_STATES } from "../machines/lifecycle.ts";

export type Volume = typeof volumes.$inferSelect;
export type NewVolume = typeof volumes.$inferInsert;

export async function insertVolume(db: Db, volume: NewVolume): Promise<boolean> {
	const rows = await db.insert(volumes).values(volume).onConflictDoNothing().returning({ id: volumes.id });
	return rows.length > 0;
}

/** Prepared once: the instance page reads its volumes. */
const volumeStatements = preparedFor((db) => ({
	of: db.select().from(volumes).where(eq(volumes.instanceId, sql.placeholder("instanceId"))).prepare(),
}));

export async function volumesOf(db: Db, instanceId: string): Promise<Volume[]> {
	return await volumeStatements(db).of.all({ instanceId });
}

/** Volumes that still exist as far as the portal knows. */
export async function liveVolumes(db: Db, ownerId?: number): Promise<Volume[]> {
	return await db.select().from(volumes).where(and(
		notInArray(volumes.state, [...VOLUME_GONE_STATES]),
		ownerId === undefined ? undefined : eq(volumes.ownerId, ownerId),
	));
}

export async function updateVolume(db: Db, id: string, changes: Partial<NewVolume>): Promise<void> {
	await db.update(volumes).set({ ...changes, updatedAt: new Date() }).where(eq(volumes.id, id));
}

export async function volumesByIds(db: Db, ids: string[]): Promise<Volume[]> {
	if (ids.length === 0) return [];
	return await db.select().from(volumes).where(inArray(volumes.id, ids));
}
