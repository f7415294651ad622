/** The audit trail: who did what to which resource, when, and how it ended. */
import { desc, eq, sql } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
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
/** Prepared once: every machine's page reads its recent events. */
const auditStatements = preparedFor((db) => ({
	of: db.select().from(auditEvents).where(eq(auditEvents.resourceId, sql.placeholder("resourceId")))
		.orderBy(desc(auditEvents.at), desc(auditEvents.id)).limit(sql.placeholder("limit")).prepare(),
}));

export async function auditFor(db: Db, resourceId: string, limit = 20): Promise<AuditEvent[]> {
	return await auditStatements(db).of.all({ resourceId, limit });
}
