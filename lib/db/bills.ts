/** Billed periods: one row per continuously billed period of an instance, volume or cluster. */
import { aliasedTable, and, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { type Db, jsonListOf, preparedFor } from "./client.ts";
import { bills, clusters, groups, instances, type ResourceKind, users, volumes } from "./schema.ts";
import { inTeamScope, type TeamScope } from "./scope.ts";
import { displayName, personColumns } from "./users.ts";

export type Bill = typeof bills.$inferSelect;
export type NewBill = typeof bills.$inferInsert;

/**
 * Opens a period unless one is already open for the resource (the database allows only one). An
 * open period never starts before the resource's last period ended: a sync working from a
 * snapshot taken before a Stop would otherwise reopen the period the Stop just closed, from its
 * old start, and bill that time twice.
 */
export async function openBill(db: Db, bill: NewBill): Promise<boolean> {
	const startedAt = bill.endedAt
		? bill.startedAt
		: sql`max(${bill.startedAt.getTime()}, coalesce((SELECT max(${bills.endedAt}) FROM ${bills} WHERE ${
			eq(bills.resourceId, bill.resourceId)
		}), 0))`;
	const rows = await db.insert(bills).values({ ...bill, startedAt }).onConflictDoNothing().returning({ id: bills.id });
	return rows.length > 0;
}

/** Closes the resource's open period at `at` (never before it started); returns whether one was open. */
export async function closeBill(db: Db, resourceId: string, at: Date): Promise<boolean> {
	const rows = await db.update(bills).set({
		endedAt: sql`max(${bills.startedAt}, ${at.getTime()})`,
	}).where(and(eq(bills.resourceId, resourceId), isNull(bills.endedAt))).returning({ id: bills.id });
	return rows.length > 0;
}

export async function openBillOf(db: Db, resourceId: string): Promise<Bill | undefined> {
	return await db.query.bills.findFirst({ where: and(eq(bills.resourceId, resourceId), isNull(bills.endedAt)) });
}

export async function billsOf(db: Db, resourceId: string): Promise<Bill[]> {
	return await db.select().from(bills).where(eq(bills.resourceId, resourceId)).orderBy(bills.startedAt);
}

/** A bill with its payer's and group's names, and the name of the machine it bills (a volume's: its instance's). */
export interface BillRow extends Bill {
	username: string;
	userName: string;
	groupName: string | null;
	machineName: string | null;
}

const payer = aliasedTable(users, "payer");
const billedInstance = aliasedTable(instances, "billed_instance");
const billedCluster = aliasedTable(clusters, "billed_cluster");
const billedVolume = aliasedTable(volumes, "billed_volume");
const volumeInstance = aliasedTable(instances, "volume_instance");

/** Filters of the billing report. */
export interface BillFilters {
	userId?: number;
	groupId?: number;
	costCenter?: string;
	kind?: ResourceKind;
}

function billRowSelect(db: Db) {
	return db.select({
		bill: bills,
		payer: personColumns(payer),
		groupName: groups.name,
		machineName: sql<string | null>`coalesce(${billedInstance.name}, ${billedCluster.name}, ${volumeInstance.name})`,
	}).from(bills)
		.innerJoin(payer, eq(payer.id, bills.userId))
		.leftJoin(groups, eq(groups.id, bills.groupId))
		.leftJoin(billedInstance, and(eq(bills.resourceKind, "instance"), eq(billedInstance.id, bills.resourceId)))
		.leftJoin(billedCluster, and(eq(bills.resourceKind, "cluster"), eq(billedCluster.id, bills.resourceId)))
		.leftJoin(billedVolume, and(eq(bills.resourceKind, "volume"), eq(billedVolume.id, bills.resourceId)))
		.leftJoin(volumeInstance, eq(volumeInstance.id, billedVolume.instanceId));
}

function toBillRow(r: Awaited<ReturnType<ReturnType<typeof billRowSelect>["execute"]>>[number]): BillRow {
	return {
		...r.bill,
		username: r.payer.username,
		userName: displayName(r.payer),
		groupName: r.groupName,
		machineName: r.machineName || null,
	};
}

/** Periods overlapping [start, end) within the scope and filters. */
export async function billsOverlapping(
	db: Db,
	scope: TeamScope,
	range: { start: Date; end: Date },
	filters: BillFilters = {},
): Promise<BillRow[]> {
	const rows = await billRowSelect(db).where(and(
		lt(bills.startedAt, range.end),
		or(isNull(bills.endedAt), gt(bills.endedAt, range.start)),
		inTeamScope(bills.userId, scope),
		filters.userId === undefined ? undefined : eq(bills.userId, filters.userId),
		filters.groupId === undefined ? undefined : eq(bills.groupId, filters.groupId),
		filters.costCenter === undefined ? undefined : eq(bills.costCenter, filters.costCenter),
		filters.kind === undefined ? undefined : eq(bills.resourceKind, filters.kind),
	)).orderBy(bills.resourceId, bills.startedAt);
	return rows.map(toBillRow);
}

/** Open periods within the scope: what is being paid for right now. */
export async function openBills(db: Db, scope: TeamScope): Promise<BillRow[]> {
	const rows = await billRowSelect(db).where(and(isNull(bills.endedAt), inTeamScope(bills.userId, scope)));
	return rows.map(toBillRow);
}

/** Distinct cost centers on bills in the scope (for the report's filter). */
export async function costCentersInScope(db: Db, scope: TeamScope): Promise<string[]> {
	const rows = await db.selectDistinct({ costCenter: bills.costCenter }).from(bills).where(
		inTeamScope(bills.userId, scope),
	)
		.orderBy(bills.costCenter);
	return rows.map((r) => r.costCenter);
}

/** A billed period with the machine it is part of: the machine itself, or the instance a volume belongs to. */
export interface MachineBill extends Bill {
	machineId: string;
}

/**
 * Every billed period of these machines and of their volumes, oldest first, in one query per
 * batch of ids (the dashboard's rows and a machine's page read them alike).
 */
/** Prepared once (every dashboard and team page asks): the machines' ids come as one JSON array. */
const billStatements = preparedFor((db) => ({
	ofMachines: db.select({ bill: bills, machineId: sql<string>`coalesce(${volumes.instanceId}, ${bills.resourceId})` })
		.from(bills)
		.leftJoin(volumes, and(eq(bills.resourceKind, "volume"), eq(volumes.id, bills.resourceId)))
		.where(or(inArray(bills.resourceId, jsonListOf("ids")), inArray(volumes.instanceId, jsonListOf("ids"))))
		.orderBy(bills.startedAt).prepare(),
}));

export async function billsOfMachines(db: Db, machineIds: readonly string[]): Promise<MachineBill[]> {
	if (machineIds.length === 0) return [];
	const rows = await billStatements(db).ofMachines.all({ ids: JSON.stringify(machineIds) });
	return rows.map((r) => ({ ...r.bill, machineId: r.machineId }));
}
