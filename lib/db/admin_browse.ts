/**
 * The admin's lists of every machine the portal records — instances, clusters, volumes left behind,
 * launches — each one page at a time: rows matching a free-text search and filters, sorted by one
 * column (the id breaks ties, so a page never repeats or skips a row), and how many match in all.
 *
 * Built to stay fast over 10,000 rows: the search and filters are conditions on the list's own
 * table (names of owners, groups and configurations are matched through subqueries on those small
 * tables), so the count reads that table alone; the page is LIMIT/OFFSET, sorted by the
 * `(archived, column, id)` indexes where the column is the table's own (schema.ts), and joined to
 * its owner, group and configuration only for the rows shown. Also the one write that moves a
 * machine between owners.
 */
import { aliasedTable, and, asc, desc, eq, inArray, isNull, notInArray, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "./client.ts";
import { inTransaction } from "./catalog.ts";
import { bills, clusters, groups, instances, launches, softwareConfigs, users, volumes } from "./schema.ts";
import { INSTANCE_ENDED_STATES, VOLUME_GONE_STATES } from "../machines/lifecycle.ts";

/** What a list may be narrowed by; every field is optional. */
export interface BrowseFilter {
	/** Text found (case-insensitively) in the id, name, owner, instance type, configuration or group. */
	search?: string;
	/** A state (a launch's status). */
	state?: string;
	/** The owner's (the launcher's) username. */
	owner?: string;
	groupId?: number;
	configId?: number;
	/** A launch's kind. */
	kind?: "instance" | "cluster";
	/** Archived ones only (true), not archived (false), either (undefined). Not for volumes and launches. */
	archived?: boolean;
	/** Volumes: only those left behind (attached to nothing alive, still existing). */
	leftBehind?: boolean;
}

/** Ascending or descending. */
export type SortDirection = "asc" | "desc";

/** One page: where it starts and how long it is. */
export interface BrowsePage {
	offset: number;
	limit: number;
}

/** The column keys each list sorts by (the URL's `sort=`). */
export const BROWSE_SORTS = {
	instances: ["created", "id", "name", "owner", "group", "config", "type", "state", "seen"],
	clusters: ["created", "id", "name", "owner", "group", "config", "type", "state"],
	volumes: ["created", "id", "size", "type", "state", "owner", "instance"],
	launches: ["created", "id", "owner", "group", "config", "kind", "type", "status"],
} as const;

export type BrowseList = keyof typeof BROWSE_SORTS;
export type BrowseSort<L extends BrowseList> = (typeof BROWSE_SORTS)[L][number];

const owner = aliasedTable(users, "owner");

/** A LIKE pattern for text anywhere, its wildcards escaped (used with ESCAPE '\'). */
function pattern(text: string): string {
	return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function contains(column: SQLiteColumn, like: string): SQL {
	return sql`lower(${column}) LIKE ${like} ESCAPE '\\'`;
}

/** Ids of the users, groups or configurations whose name contains the pattern: small tables, read once. */
function namedLike(column: SQLiteColumn, table: typeof users | typeof groups | typeof softwareConfigs, like: string) {
	const name = table === users ? users.username : table === groups ? groups.name : softwareConfigs.name;
	return inArray(column, sql`(SELECT ${table.id} FROM ${table} WHERE ${contains(name, like)})`);
}

function ownedBy(column: SQLiteColumn, username: string): SQL {
	return inArray(column, sql`(SELECT ${users.id} FROM ${users} WHERE ${users.username} = ${username})`);
}

/** The conditions shared by the lists of machines (instances, clusters). */
function machineWhere(t: typeof instances | typeof clusters, filter: BrowseFilter): SQL | undefined {
	const like = filter.search ? pattern(filter.search) : undefined;
	return and(
		filter.archived === undefined ? undefined : eq(t.archived, filter.archived),
		filter.state ? eq(t.state, filter.state) : undefined,
		filter.owner ? ownedBy(t.ownerId, filter.owner) : undefined,
		filter.groupId === undefined ? undefined : eq(t.groupId, filter.groupId),
		filter.configId === undefined ? undefined : eq(t.configId, filter.configId),
		like
			? or(
				contains(t.id, like),
				contains(t.name, like),
				contains(t.instanceType, like),
				namedLike(t.ownerId, users, like),
				namedLike(t.groupId, groups, like),
				namedLike(t.configId, softwareConfigs, like),
			)
			: undefined,
	);
}

function order(column: SQLiteColumn | SQL, id: SQLiteColumn, dir: SortDirection): SQL[] {
	return dir === "asc" ? [asc(column), asc(id)] : [desc(column), desc(id)];
}

async function countOf(
	db: Db,
	table: typeof instances | typeof clusters | typeof volumes | typeof launches,
	where?: SQL,
) {
	const [row] = await db.select({ n: sql<number>`count(*)` }).from(table).where(where);
	return Number(row?.n ?? 0);
}

/** An instance as the admin list shows it. */
export interface InstanceBrowseRow {
	id: string;
	name: string;
	ownerUsername: string;
	groupName: string | null;
	configName: string | null;
	instanceType: string;
	state: string;
	pendingAction: string | null;
	archived: boolean;
	controlsLocked: boolean;
	controlsLockedReason: string | null;
	manualLockReason: string | null;
	/** JSON, as the sync stored it. */
	tags: string;
	volumes: number;
	createdAt: Date;
	lastSeenAt: Date | null;
}

/** One page of instances, and how many match. */
export async function browseInstances(
	db: Db,
	filter: BrowseFilter,
	sort: BrowseSort<"instances">,
	dir: SortDirection,
	page: BrowsePage,
): Promise<{ rows: InstanceBrowseRow[]; total: number }> {
	const where = machineWhere(instances, filter);
	const by = {
		created: instances.createdAt,
		id: instances.id,
		name: instances.name,
		owner: owner.username,
		group: groups.name,
		config: softwareConfigs.name,
		type: instances.instanceType,
		state: instances.state,
		seen: instances.lastSeenAt,
	}[sort];
	const [rows, total] = await Promise.all([
		db.select({
			id: instances.id,
			name: instances.name,
			ownerUsername: owner.username,
			groupName: groups.name,
			configName: softwareConfigs.name,
			instanceType: instances.instanceType,
			state: instances.state,
			pendingAction: instances.pendingAction,
			archived: instances.archived,
			controlsLocked: instances.controlsLocked,
			controlsLockedReason: instances.controlsLockedReason,
			manualLockReason: instances.manualLockReason,
			tags: instances.tags,
			volumes: sql<number>`(SELECT count(*) FROM ${volumes} WHERE ${volumes.instanceId} = ${instances.id})`,
			createdAt: instances.createdAt,
			lastSeenAt: instances.lastSeenAt,
		}).from(instances)
			.innerJoin(owner, eq(owner.id, instances.ownerId))
			.leftJoin(groups, eq(groups.id, instances.groupId))
			.leftJoin(softwareConfigs, eq(softwareConfigs.id, instances.configId))
			.where(where).orderBy(...order(by, instances.id, dir)).limit(page.limit).offset(page.offset),
		countOf(db, instances, where),
	]);
	return { rows: rows.map((r) => ({ ...r, volumes: Number(r.volumes) })), total };
}

/** A cluster as the admin list shows it. */
export interface ClusterBrowseRow {
	id: string;
	name: string;
	ownerUsername: string;
	groupName: string | null;
	configName: string | null;
	instanceType: string;
	coreNodes: number;
	state: string;
	pendingAction: string | null;
	archived: boolean;
	tags: string;
	createdAt: Date;
}

/** One page of clusters, and how many match. */
export async function browseClusters(
	db: Db,
	filter: BrowseFilter,
	sort: BrowseSort<"clusters">,
	dir: SortDirection,
	page: BrowsePage,
): Promise<{ rows: ClusterBrowseRow[]; total: number }> {
	const where = machineWhere(clusters, filter);
	const by = {
		created: clusters.createdAt,
		id: clusters.id,
		name: clusters.name,
		owner: owner.username,
		group: groups.name,
		config: softwareConfigs.name,
		type: clusters.instanceType,
		state: clusters.state,
	}[sort];
	const [rows, total] = await Promise.all([
		db.select({
			id: clusters.id,
			name: clusters.name,
			ownerUsername: owner.username,
			groupName: groups.name,
			configName: softwareConfigs.name,
			instanceType: clusters.instanceType,
			coreNodes: clusters.coreNodes,
			state: clusters.state,
			pendingAction: clusters.pendingAction,
			archived: clusters.archived,
			tags: clusters.tags,
			createdAt: clusters.createdAt,
		}).from(clusters)
			.innerJoin(owner, eq(owner.id, clusters.ownerId))
			.leftJoin(groups, eq(groups.id, clusters.groupId))
			.leftJoin(softwareConfigs, eq(softwareConfigs.id, clusters.configId))
			.where(where).orderBy(...order(by, clusters.id, dir)).limit(page.limit).offset(page.offset),
		countOf(db, clusters, where),
	]);
	return { rows, total };
}

/** States after which a volume no longer exists, or soon will not: never "left behind". */
const VOLUME_ENDING_STATES = [...VOLUME_GONE_STATES, "deleting"];

/**
 * A volume left behind: it still exists, and nothing alive holds it — attached to no instance, or
 * to one the portal knows has ended (the sync keeps the last attachment it saw).
 */
function leftBehind(): SQL {
	return and(
		notInArray(volumes.state, VOLUME_ENDING_STATES),
		or(
			isNull(volumes.instanceId),
			eq(volumes.state, "available"),
			inArray(
				volumes.instanceId,
				sql`(SELECT ${instances.id} FROM ${instances} WHERE ${inArray(instances.state, [...INSTANCE_ENDED_STATES])})`,
			),
		),
	)!;
}

/** A volume as the admin list shows it. */
export interface VolumeBrowseRow {
	id: string;
	instanceId: string | null;
	/** The state of the instance it was last attached to, when the portal knows that instance. */
	instanceState: string | null;
	ownerUsername: string;
	groupName: string | null;
	sizeGb: number;
	volumeType: string;
	iops: number | null;
	throughput: number | null;
	device: string;
	state: string;
	createdAt: Date;
	lastSeenAt: Date | null;
}

const attached = aliasedTable(instances, "attached");

function volumeSelect(db: Db) {
	return db.select({
		id: volumes.id,
		instanceId: volumes.instanceId,
		instanceState: attached.state,
		ownerUsername: owner.username,
		groupName: groups.name,
		sizeGb: volumes.sizeGb,
		volumeType: volumes.volumeType,
		iops: volumes.iops,
		throughput: volumes.throughput,
		device: volumes.device,
		state: volumes.state,
		createdAt: volumes.createdAt,
		lastSeenAt: volumes.lastSeenAt,
	}).from(volumes)
		.innerJoin(owner, eq(owner.id, volumes.ownerId))
		.leftJoin(groups, eq(groups.id, volumes.groupId))
		.leftJoin(attached, eq(attached.id, volumes.instanceId));
}

/** One page of volumes (left behind, unless the filter says otherwise), and how many match. */
export async function browseVolumes(
	db: Db,
	filter: BrowseFilter,
	sort: BrowseSort<"volumes">,
	dir: SortDirection,
	page: BrowsePage,
): Promise<{ rows: VolumeBrowseRow[]; total: number }> {
	const like = filter.search ? pattern(filter.search) : undefined;
	const where = and(
		filter.leftBehind === false ? undefined : leftBehind(),
		filter.state ? eq(volumes.state, filter.state) : undefined,
		filter.owner ? ownedBy(volumes.ownerId, filter.owner) : undefined,
		filter.groupId === undefined ? undefined : eq(volumes.groupId, filter.groupId),
		like
			? or(
				contains(volumes.id, like),
				contains(volumes.instanceId, like),
				contains(volumes.volumeType, like),
				namedLike(volumes.ownerId, users, like),
				namedLike(volumes.groupId, groups, like),
			)
			: undefined,
	);
	const by = {
		created: volumes.createdAt,
		id: volumes.id,
		size: volumes.sizeGb,
		type: volumes.volumeType,
		state: volumes.state,
		owner: owner.username,
		instance: volumes.instanceId,
	}[sort];
	const [rows, total] = await Promise.all([
		volumeSelect(db).where(where).orderBy(...order(by, volumes.id, dir)).limit(page.limit).offset(page.offset),
		countOf(db, volumes, where),
	]);
	return { rows, total };
}

/** One volume with its owner and the state of the instance it was last attached to. */
export async function volumeDetail(
	db: Db,
	id: string,
): Promise<(VolumeBrowseRow & { leftBehind: boolean }) | undefined> {
	const [row] = await volumeSelect(db).where(eq(volumes.id, id));
	if (!row) return undefined;
	const [left] = await db.select({ id: volumes.id }).from(volumes).where(and(eq(volumes.id, id), leftBehind()));
	return { ...row, leftBehind: Boolean(left) };
}

/** A launch as the admin list shows it. */
export interface LaunchBrowseRow {
	id: string;
	ownerUsername: string;
	groupName: string | null;
	configName: string | null;
	kind: "instance" | "cluster";
	instanceType: string;
	status: string;
	step: string;
	stackName: string;
	createdAt: Date;
	finishedAt: Date | null;
}

/** One page of launches, and how many match. */
export async function browseLaunches(
	db: Db,
	filter: BrowseFilter,
	sort: BrowseSort<"launches">,
	dir: SortDirection,
	page: BrowsePage,
): Promise<{ rows: LaunchBrowseRow[]; total: number }> {
	const like = filter.search ? pattern(filter.search) : undefined;
	const where = and(
		filter.state ? sql`${launches.status} = ${filter.state}` : undefined,
		filter.owner ? ownedBy(launches.userId, filter.owner) : undefined,
		filter.groupId === undefined ? undefined : eq(launches.groupId, filter.groupId),
		filter.configId === undefined ? undefined : eq(launches.configId, filter.configId),
		filter.kind ? eq(launches.kind, filter.kind) : undefined,
		like
			? or(
				contains(launches.id, like),
				contains(launches.instanceType, like),
				contains(launches.stackName, like),
				namedLike(launches.userId, users, like),
				namedLike(launches.groupId, groups, like),
				namedLike(launches.configId, softwareConfigs, like),
			)
			: undefined,
	);
	const by = {
		created: launches.createdAt,
		id: launches.id,
		owner: owner.username,
		group: groups.name,
		config: softwareConfigs.name,
		kind: launches.kind,
		type: launches.instanceType,
		status: launches.status,
	}[sort];
	const [rows, total] = await Promise.all([
		db.select({
			id: launches.id,
			ownerUsername: owner.username,
			groupName: groups.name,
			configName: softwareConfigs.name,
			kind: launches.kind,
			instanceType: launches.instanceType,
			status: launches.status,
			step: launches.step,
			stackName: launches.stackName,
			createdAt: launches.createdAt,
			finishedAt: launches.finishedAt,
		}).from(launches)
			.innerJoin(owner, eq(owner.id, launches.userId))
			.leftJoin(groups, eq(groups.id, launches.groupId))
			.leftJoin(softwareConfigs, eq(softwareConfigs.id, launches.configId))
			.where(where).orderBy(...order(by, launches.id, dir)).limit(page.limit).offset(page.offset),
		countOf(db, launches, where),
	]);
	return { rows, total };
}

/**
 * Moves a machine to another owner at `at`, in one transaction: the machine, the volumes attached
 * to it, and their open billed periods — each closed at `at` and reopened for the new owner with the
 * same charge, so what ran before stays the old owner's cost and what runs after is the new one's.
 * Returns the previous owner's id, or undefined when there is no such machine.
 */
export async function reassignMachine(
	db: Db,
	kind: "instance" | "cluster",
	id: string,
	ownerId: number,
	at: Date,
): Promise<number | undefined> {
	const table = kind === "instance" ? instances : clusters;
	return await inTransaction(db, async (tx) => {
		const [before] = await tx.select({ ownerId: table.ownerId }).from(table).where(eq(table.id, id));
		if (!before) return undefined;
		await tx.update(table).set({ ownerId, updatedAt: at }).where(eq(table.id, id));
		const volumeIds = kind === "instance"
			? (await tx.update(volumes).set({ ownerId, updatedAt: at }).where(eq(volumes.instanceId, id))
				.returning({ id: volumes.id })).map((v) => v.id)
			: [];
		const open = await tx.select().from(bills).where(
			and(inArray(bills.resourceId, [id, ...volumeIds]), isNull(bills.endedAt)),
		);
		for (const { id: billId, ...bill } of open) {
			if (bill.userId === ownerId) continue;
			await tx.update(bills).set({ endedAt: sql`max(${bills.startedAt}, ${at.getTime()})` }).where(
				eq(bills.id, billId),
			);
			await tx.insert(bills).values({
				...bill,
				userId: ownerId,
				startedAt: new Date(Math.max(at.getTime(), bill.startedAt.getTime())),
				endedAt: null,
			});
		}
		return before.ownerId;
	});
}

/** How many instances and clusters are recorded and not archived (the admin overview's count). */
export async function countRecordedMachines(db: Db): Promise<number> {
	const [a, b] = await Promise.all([
		countOf(db, instances, eq(instances.archived, false)),
		countOf(db, clusters, eq(clusters.archived, false)),
	]);
	return a + b;
}
