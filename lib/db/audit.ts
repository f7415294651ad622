/** The audit trail: who did what to which resource, when, and how it ended. */
import { desc, eq } from "drizzle-orm";
import type { Db } from "./client.ts";
import { auditEvents } from "./schema.ts";

export type AuditEvent = typeof auditEvents.$inferSelect;
export type NewAuditEvent = typeof auditEvents.$inferInsert;

/** Records an event; returns its id (to complete it when its outcome is known). */
export async function recordAudit(db: Db, event: NewAuditEvent): Promise<number> {
	const [row] = await db.insert(auditEvents).values({ ...event, detail: event.detail?.slice(0, 1000) ?? "" })
		.returning({ id: auditEvents.id });
	return row!.id;
}

/** Completes an event recorded before its outcome was known ("sent"): how it ended. */
export async function completeAudit(
	db: Db,
	id: number,
	outcome: AuditEvent["outcome"],
	detail: string,
): Promise<void> {
	await db.update(auditEvents).set({ outcome, detail: detail.slice(0, 1000) }).where(eq(auditEvents.id, id));
}

/** Recent events for a resource, newest first. */
export async function auditFor(db: Db, resourceId: string, limit = 20): Promise<AuditEvent[]> {
	return await db.select().from(auditEvents).where(eq(auditEvents.resourceId, resourceId)).orderBy(
		desc(auditEvents.at),
		desc(auditEvents.id),
	).limit(limit);
}
