/** Queries and writes for `instance_resizes`: the "stop, resize, start" sequences on their way. */
import { eq, sql } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
import { instanceResizes, type ResizeStep } from "./schema.ts";

export type InstanceResize = typeof instanceResizes.$inferSelect;

/** Records a sequence unless one is on its way for the instance; returns it when new. */
export async function insertResize(
	db: Db,
	row: { instanceId: string; fromType: string; toType: string; requestedBy: number; auditId?: number | null },
): Promise<InstanceResize | undefined> {
	const [inserted] = await db.insert(instanceResizes).values(row).onConflictDoNothing().returning();
	return inserted;
}

/** Prepared once: the instance page asks whether a resize is on its way. */
const resizeStatements = preparedFor((db) => ({
	of: db.select().from(instanceResizes).where(eq(instanceResizes.instanceId, sql.placeholder("instanceId"))).prepare(),
}));

export async function getResize(db: Db, instanceId: string): Promise<InstanceResize | undefined> {
	const [row] = await resizeStatements(db).of.all({ instanceId });
	return row;
}

/** Every sequence on its way, oldest first. */
export async function resizesInFlight(db: Db): Promise<InstanceResize[]> {
	return await db.select().from(instanceResizes).orderBy(instanceResizes.createdAt);
}

export async function setResizeStep(db: Db, instanceId: string, step: ResizeStep): Promise<void> {
	await db.update(instanceResizes).set({ step, updatedAt: new Date() }).where(
		eq(instanceResizes.instanceId, instanceId),
	);
}

export async function deleteResize(db: Db, instanceId: string): Promise<void> {
	await db.delete(instanceResizes).where(eq(instanceResizes.instanceId, instanceId));
}
