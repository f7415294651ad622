/**
 * Searching the audit trail (the admin's audit view): filters that each narrow the events, newest
 * first, a page at a time by keyset (the `at` and id of the last row shown), so a page costs the
 * same wherever it is in a long trail.
 */
import { and, count, desc, eq, gte, inArray, lt, or, type SQL } from "drizzle-orm";
import type { Db } from "./client.ts";
import { AUDIT_OUTCOMES, auditEvents, clusters, instances, launches } from "./schema.ts";
import type { AuditEvent } from "./audit.ts";

/** What an audit search may be narrowed by; every field is optional. */
export interface AuditFilter {
	/** Who acted, as the trail names them: a username, or "policy", "sync", "launcher", "command line". */
	actor?: string;
	/** Events on the machines and launches of this group. */
	groupId?: number;
	/** Events on this resource (an instance, cluster or launch id, a username). */
	resourceId?: string;
	action?: string;
	outcome?: (typeof AUDIT_OUTCOMES)[number];
	/** At or after. */
	from?: Date;
	/** Before. */
	until?: Date;
}

/** Where a page starts: after the row with this time and id (pages go from newest to oldest). */
export interface AuditCursor {
	at: Date;
	id: number;
}

function conditions(db: Db, filter: AuditFilter): SQL | undefined {
	const parts: (SQL | undefined)[] = [
		filter.actor === undefined ? undefined : eq(auditEvents.actor, filter.actor),
		filter.resourceId === undefined ? undefined : eq(auditEvents.resourceId, filter.resourceId),
		filter.action === undefined ? undefined : eq(auditEvents.action, filter.action),
		filter.outcome === undefined ? undefined : eq(auditEvents.outcome, filter.outcome),
		filter.from === undefined ? undefined : gte(auditEvents.at, filter.from),
		filter.until === undefined ? undefined : lt(auditEvents.at, filter.until),
	];
	if (filter.groupId !== undefined) {
		const group = filter.groupId;
		parts.push(or(
			inArray(
				auditEvents.resourceId,
				db.select({ id: instances.id }).from(instances).where(eq(instances.groupId, group)),
			),
			inArray(auditEvents.resourceId, db.select({ id: clusters.id }).from(clusters).where(eq(clusters.groupId, group))),
			inArray(auditEvents.resourceId, db.select({ id: launches.id }).from(launches).where(eq(launches.groupId, group))),
		));
	}
	return and(...parts);
}

/** One page of matching events, newest first, and whether more follow. */
export async function searchAudit(
	db: Db,
	filter: AuditFilter,
	options: { after?: AuditCursor; limit: number },
): Promise<{ events: AuditEvent[]; more: boolean }> {
	const after = options.after;
	const where = and(
		conditions(db, filter),
		after === undefined ? undefined : or(
			lt(auditEvents.at, after.at),
			and(eq(auditEvents.at, after.at), lt(auditEvents.id, after.id)),
		),
	);
	const rows = await db.select().from(auditEvents).where(where).orderBy(desc(auditEvents.at), desc(auditEvents.id))
		.limit(options.limit + 1);
	return { events: rows.slice(0, options.limit), more: rows.length > options.limit };
}

/** How many events match. */
export async function countAudit(db: Db, filter: AuditFilter): Promise<number> {
	const [row] = await db.select({ n: count() }).from(auditEvents).where(conditions(db, filter));
	return row?.n ?? 0;
}

/** The actions the trail holds, for the filter's choices. */
export async function auditActions(db: Db): Promise<string[]> {
	const rows = await db.selectDistinct({ action: auditEvents.action }).from(auditEvents).orderBy(auditEvents.action);
	return rows.map((row) => row.action);
}
