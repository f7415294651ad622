/**
 * Budgets and what they read: the budgets themselves, what the billed periods of each budget's
 * scope cost in a window (one aggregate statement per kind of scope, however many periods), the
 * rates machines are billed at now, and who hears of a group's budget (its members and managers).
 */
import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
import {
	bills,
	budgets,
	type BudgetScope,
	clusters,
	groupManagers,
	groups,
	instances,
	memberships,
	users,
} from "./schema.ts";

export type Budget = typeof budgets.$inferSelect;
export type NewBudget = typeof budgets.$inferInsert;

/** The unique key of a budget's scope: one budget per group, user or cost center. */
export function budgetTarget(
	scope: BudgetScope,
	of: { groupId?: number | null; userId?: number | null; costCenter?: string | null },
): string {
	return scope === "group"
		? `group:${of.groupId}`
		: scope === "user"
		? `user:${of.userId}`
		: `cost_center:${of.costCenter}`;
}

/** Prepared once: the dashboard and the team view read every budget. */
const budgetStatements = preparedFor((db) => ({
	all: db.select().from(budgets).orderBy(budgets.scope, budgets.id).prepare(),
}));

export async function listBudgets(db: Db): Promise<Budget[]> {
	return await budgetStatements(db).all.all();
}

export async function getBudget(db: Db, id: number): Promise<Budget | undefined> {
	return await db.query.budgets.findFirst({ where: eq(budgets.id, id) });
}

/** The budgets over a launch or a machine: its group's, its owner's and its cost center's. */
export async function budgetsCovering(
	db: Db,
	of: { groupId: number | null; userId: number; costCenter: string },
): Promise<Budget[]> {
	return await db.select().from(budgets).where(or(
		of.groupId === null ? undefined : eq(budgets.groupId, of.groupId),
		eq(budgets.userId, of.userId),
		eq(budgets.costCenter, of.costCenter),
	));
}

/** Creates or replaces the budget of a scope; returns its id. */
export async function saveBudget(db: Db, budget: NewBudget): Promise<number> {
	const { id: _id, createdAt: _c, createdBy: _by, ...changes } = budget;
	const [row] = await db.insert(budgets).values(budget).onConflictDoUpdate({
		target: budgets.target,
		set: changes,
	}).returning({ id: budgets.id });
	return row!.id;
}

export async function deleteBudget(db: Db, id: number): Promise<boolean> {
	return (await db.delete(budgets).where(eq(budgets.id, id)).returning({ id: budgets.id })).length > 0;
}

/** What the periods of one scope key cost in a window: dollars, periods of unknown price, and $/hour open now. */
export interface ScopeSpend {
	cost: number;
	unknown: number;
	burn: number;
}

/**
 * What billed periods cost in [start, end), capped at `now`, summed per value of one column (the
 * group, the payer or the cost center), for the keys asked only; one statement.
 */
export async function spendBy(
	db: Db,
	by: BudgetScope,
	keys: readonly (number | string)[],
	window: { start: Date; end: Date; now: Date },
): Promise<Map<number | string, ScopeSpend>> {
	const spent = new Map<number | string, ScopeSpend>();
	if (keys.length === 0) return spent;
	const column = by === "group" ? bills.groupId : by === "user" ? bills.userId : bills.costCenter;
	const start = window.start.getTime();
	const end = Math.min(window.end.getTime(), window.now.getTime());
	const rows = await db.select({
		key: column,
		cost: sql<
			number
		>`coalesce(sum(${bills.hourlyRate} * max(0, min(coalesce(${bills.endedAt}, ${end}), ${end}) - max(${bills.startedAt}, ${start}))), 0) / 3600000.0`,
		unknown: sql<number>`sum(${bills.hourlyRate} IS NULL)`,
		burn: sql<number>`coalesce(sum(CASE WHEN ${bills.endedAt} IS NULL THEN ${bills.hourlyRate} END), 0)`,
	}).from(bills).where(and(
		// Periods open now count toward the burn even when they began this very instant.
		sql`${bills.startedAt} < ${window.end.getTime()}`,
		or(isNull(bills.endedAt), sql`${bills.endedAt} > ${start}`),
		inArray(column, [...keys] as never[]),
	)).groupBy(column);
	for (const r of rows) {
		if (r.key === null) continue;
		spent.set(r.key, { cost: Number(r.cost), unknown: Number(r.unknown), burn: Number(r.burn) });
	}
	return spent;
}

/** The $/hour each of these resources is billed at now (an open period with a known price). */
export async function openRates(db: Db, resourceIds: readonly string[]): Promise<Map<string, number>> {
	const rates = new Map<string, number>();
	for (let i = 0; i < resourceIds.length; i += 500) {
		const rows = await db.select({ id: bills.resourceId, rate: bills.hourlyRate }).from(bills).where(and(
			isNull(bills.endedAt),
			inArray(bills.resourceId, resourceIds.slice(i, i + 500)),
		));
		for (const r of rows) if (r.rate !== null) rates.set(r.id, r.rate);
	}
	return rates;
}

/** The launch each of these machines (of either kind) came from. */
export async function launchIdsOf(db: Db, machineIds: readonly string[]): Promise<Map<string, string>> {
	const found = new Map<string, string>();
	for (let i = 0; i < machineIds.length; i += 500) {
		const ids = machineIds.slice(i, i + 500);
		const [a, b] = await Promise.all([
			db.select({ id: instances.id, launchId: instances.launchId }).from(instances).where(inArray(instances.id, ids)),
			db.select({ id: clusters.id, launchId: clusters.launchId }).from(clusters).where(inArray(clusters.id, ids)),
		]);
		for (const r of [...a, ...b]) if (r.launchId) found.set(r.id, r.launchId);
	}
	return found;
}

/** The groups with their cost centers as bills record them (a group without one: the default charge code). */
export async function groupCostCenters(db: Db, defaultChargeCode: string): Promise<Map<number, string>> {
	const rows = await db.select({ id: groups.id, costCenter: groups.costCenter }).from(groups);
	return new Map(rows.map((r) => [r.id, r.costCenter || defaultChargeCode]));
}

/** A person a notice goes to. */
export interface Recipient {
	id: number;
	username: string;
	email: string;
}

const recipientColumns = { id: users.id, username: users.username, email: users.email };
const isManager = or(eq(users.role, "manager"), eq(users.directoryRole, "manager"));
const isAdmin = or(eq(users.role, "admin"), eq(users.directoryRole, "admin"));

/**
 * The managers of these groups (as the policies' notices find them): the global managers among
 * their members, and the users assigned to manage them.
 */
export async function managersOf(db: Db, groupIds: readonly number[]): Promise<Recipient[]> {
	if (groupIds.length === 0) return [];
	const ids = [...groupIds];
	return await db.selectDistinct(recipientColumns).from(users).where(or(
		and(
			isManager,
			inArray(
				users.id,
				db.select({ id: memberships.userId }).from(memberships).where(inArray(memberships.groupId, ids)),
			),
		),
		inArray(
			users.id,
			db.select({ id: groupManagers.userId }).from(groupManagers).where(inArray(groupManagers.groupId, ids)),
		),
	));
}

/** Every member of these groups. */
export async function membersOf(db: Db, groupIds: readonly number[]): Promise<Recipient[]> {
	if (groupIds.length === 0) return [];
	return await db.selectDistinct(recipientColumns).from(users).innerJoin(
		memberships,
		eq(memberships.userId, users.id),
	).where(inArray(memberships.groupId, [...groupIds]));
}

/** The admins (by role; ADMIN_USERNAMES are the caller's to add). */
export async function adminUsers(db: Db, usernames: readonly string[] = []): Promise<Recipient[]> {
	return await db.select(recipientColumns).from(users).where(
		usernames.length ? or(isAdmin, inArray(users.username, [...usernames])) : isAdmin,
	);
}

export async function recipientsByIds(db: Db, ids: readonly number[]): Promise<Recipient[]> {
	if (ids.length === 0) return [];
	return await db.select(recipientColumns).from(users).where(inArray(users.id, [...ids]));
}
