/**
 * Requests for an exception and their grants, the rules that make a launch need one, and the
 * notices of budgets and requests to users (each event once per recipient).
 */
import { aliasedTable, and, desc, eq, gt, gte, inArray, isNotNull, lte, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import {
	type ApprovalKind,
	approvalRules,
	approvals,
	type ApprovalStatus,
	groups,
	NOTICE_TOPICS,
	userNotices,
	users,
} from "./schema.ts";
import { displayName, personColumns } from "./users.ts";

export type Approval = typeof approvals.$inferSelect;
export type NewApproval = typeof approvals.$inferInsert;
export type ApprovalRule = typeof approvalRules.$inferSelect;
export type NewApprovalRule = typeof approvalRules.$inferInsert;
export type UserNotice = typeof userNotices.$inferSelect;

export async function listApprovalRules(db: Db): Promise<ApprovalRule[]> {
	return await db.select().from(approvalRules).orderBy(approvalRules.subject, approvalRules.id);
}

export async function insertApprovalRule(db: Db, rule: NewApprovalRule): Promise<number> {
	const [row] = await db.insert(approvalRules).values(rule).returning({ id: approvalRules.id });
	return row!.id;
}

export async function deleteApprovalRule(db: Db, id: number): Promise<boolean> {
	return (await db.delete(approvalRules).where(eq(approvalRules.id, id)).returning({ id: approvalRules.id })).length >
		0;
}

export async function insertApproval(db: Db, approval: NewApproval): Promise<Approval> {
	const [row] = await db.insert(approvals).values(approval).returning();
	return row!;
}

export async function getApproval(db: Db, id: number): Promise<Approval | undefined> {
	return await db.query.approvals.findFirst({ where: eq(approvals.id, id) });
}

/**
 * Moves a request from one of `from` to its next status with `changes`, once: returns the row
 * when this call moved it (two managers deciding at once: one wins), undefined otherwise.
 */
export async function moveApproval(
	db: Db,
	id: number,
	from: readonly ApprovalStatus[],
	changes: Partial<NewApproval> & { status: ApprovalStatus },
): Promise<Approval | undefined> {
	const [row] = await db.update(approvals).set(changes).where(
		and(eq(approvals.id, id), inArray(approvals.status, [...from])),
	).returning();
	return row;
}

export async function updateApproval(db: Db, id: number, changes: Partial<NewApproval>): Promise<void> {
	await db.update(approvals).set(changes).where(eq(approvals.id, id));
}

/** Grants in force at `now`: approved, not yet past their time box. */
export async function activeGrants(db: Db, now: Date, kind?: ApprovalKind): Promise<Approval[]> {
	return await db.select().from(approvals).where(and(
		eq(approvals.status, "approved"),
		gt(approvals.grantUntil, now),
		kind ? eq(approvals.kind, kind) : undefined,
	));
}

/** Approved grants whose time box has ended by `now` (the job expires them). */
export async function lapsedGrants(db: Db, now: Date): Promise<Approval[]> {
	return await db.select().from(approvals).where(and(
		eq(approvals.status, "approved"),
		isNotNull(approvals.grantUntil),
		lte(approvals.grantUntil, now),
	));
}

/** The grant that recorded a launch, if any. */
export async function grantOfLaunch(db: Db, launchId: string): Promise<Approval | undefined> {
	return await db.query.approvals.findFirst({ where: eq(approvals.launchId, launchId) });
}

/** A request with the names of its requester, decider and group, as the approvals page lists it. */
export interface ApprovalRow extends Approval {
	requesterUsername: string;
	requesterName: string;
	deciderName: string | null;
	groupName: string | null;
}

/** What the approvals page filters on. */
export interface ApprovalFilters {
	id?: number;
	status?: ApprovalStatus;
	kind?: ApprovalKind;
	groupId?: number;
	requesterId?: number;
}

const requester = aliasedTable(users, "requester");

/**
 * Requests matching the filters that `visible` lets the viewer see (their own, or those of the
 * groups they decide for), newest first.
 */
export async function approvalRows(
	db: Db,
	visible: SQL | undefined,
	filters: ApprovalFilters,
	limit = 200,
): Promise<ApprovalRow[]> {
	const rows = await db.select({
		approval: approvals,
		requester: personColumns(requester),
		// A second alias of users would make drizzle's row type `never`: the decider's name is a subquery.
		deciderName: sql<
			string | null
		>`(SELECT coalesce(nullif(trim(${users.firstName} || ' ' || ${users.lastName}), ''), ${users.username}) FROM ${users} WHERE ${users.id} = ${approvals.decidedBy})`,
		groupName: groups.name,
	}).from(approvals)
		.innerJoin(requester, eq(requester.id, approvals.requesterId))
		.leftJoin(groups, eq(groups.id, approvals.groupId))
		.where(and(
			visible,
			filters.id === undefined ? undefined : eq(approvals.id, filters.id),
			filters.status ? eq(approvals.status, filters.status) : undefined,
			filters.kind ? eq(approvals.kind, filters.kind) : undefined,
			filters.groupId === undefined ? undefined : eq(approvals.groupId, filters.groupId),
			filters.requesterId === undefined ? undefined : eq(approvals.requesterId, filters.requesterId),
		))
		.orderBy(desc(approvals.createdAt), desc(approvals.id))
		.limit(limit);
	return rows.map((r) => ({
		...r.approval,
		requesterUsername: r.requester.username,
		requesterName: displayName(r.requester),
		deciderName: r.deciderName,
		groupName: r.groupName,
	}));
}

/** Whose requests a viewer sees: their own, and (deciding for some groups, or all) those of the groups. */
export function visibleApprovals(
	viewer: { id: number },
	decides: { all: boolean; groupIds: readonly number[] },
): SQL | undefined {
	if (decides.all) return undefined;
	return or(
		eq(approvals.requesterId, viewer.id),
		decides.groupIds.length ? inArray(approvals.groupId, [...decides.groupIds]) : undefined,
	);
}

/**
 * Records a notice for each recipient unless they already have the one of that key; returns the
 * recipients this call recorded it for (who are then told by email).
 */
export async function insertUserNotices(
	db: Db,
	notice: { topic: (typeof NOTICE_TOPICS)[number]; key: string; message: string; href: string; at: Date },
	userIds: readonly number[],
): Promise<number[]> {
	if (userIds.length === 0) return [];
	const rows = await db.insert(userNotices).values([...new Set(userIds)].map((userId) => ({ ...notice, userId })))
		.onConflictDoNothing().returning({ userId: userNotices.userId });
	return rows.map((r) => r.userId);
}

/** A user's notices since `since`, newest first. */
export async function userNoticesFor(db: Db, userId: number, since: Date, limit = 20): Promise<UserNotice[]> {
	return await db.select().from(userNotices).where(and(eq(userNotices.userId, userId), gte(userNotices.at, since)))
		.orderBy(desc(userNotices.at), desc(userNotices.id)).limit(limit);
}
