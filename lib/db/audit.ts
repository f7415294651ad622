/** The audit trail: who did what to which resource, when, and how it ended. */
import { desc, eq } from "drizzle-orm";
import type { Db } from "./client.ts";
import { auditEvents } from "./schema.ts";

export type AuditEvent = typeof auditEvents.$inferSelect;
export type NewAuditEvent = typeof auditEvents.$inferInsert;

export async function recordAudit(db: Db, event: NewAuditEvent): Promise<void> {
	await db.insert(auditEvents).values({ ...event, detail: event.detail?.slice(0, 1000) ?? "" });
}

/** Recent events for a resource, newest first. */
export async function auditFor(db: Db, resourceId: string, limit = 20): Promise<AuditEvent[]> {
	return await db.select().from(auditEvents).where(eq(auditEvents.resourceId, resourceId)).orderBy(
		desc(auditEvents.at),
		desc(auditEvents.id),
	).limit(limit);
}
