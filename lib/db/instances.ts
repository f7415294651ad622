/** Queries and writes for `instances`, including the joined rows the pages show. */
import {
	aliasedTable,
	and,
	asc,
	desc,
	eq,
	gt,
	inArray,
	isNull,
	lt,
	notInArray,
	or,
	type Placeholder,
	type SQL,
	sql,
} from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { type Db, jsonListOf, preparedFor } from "./client.ts";
import { billedFlag, listable } from "./machines.ts";
import { groups, instances, instanceTallies, launches, type SetupState, softwareConfigs, users } from "./schema.ts";
import { inPreparedScope, type ScopeShape, scopeShape, scopeValues, type TeamScope } from "./scope.ts";
import { displayName, personColumns } from "./users.ts";
import { INSTANCE_ENDED_STATES } from "../machines/lifecycle.ts";

export type Instance = typeof instances.$inferSelect;
export type NewInstance = typeof instances.$inferInsert;

export async function getInstance(db: Db, id: string): Promise<Instance | undefined> {
	return await db.query.instances.findFirst({ where: eq(instances.id, id) });
}

/** Inserts the instance unless it is already recorded; returns whether it was new. */
export async function insertInstance(db: Db, instance: NewInstance): Promise<boolean> {
	const rows = await db.insert(instances).values(instance).onConflictDoNothing().returning({ id: instances.id });
	return rows.length > 0;
}

/**
 * Records an instance of a launch: inserts it, or links the row the sync adopted when it listed the
 * instance before the launcher recorded it (a row without a launch), keeping what the sync saw and
 * any progress already reported. Returns whether the row was inserted or linked.
 */
export async function recordLaunchedInstance(
	db: Db,
	instance: NewInstance & { launchId: string },
): Promise<boolean> {
	const keep = (column: SQLiteColumn, name: string) => sql`coalesce(${column}, excluded.${sql.identifier(name)})`;
	const rows = await db.insert(instances).values(instance).onConflictDoUpdate({
		target: instances.id,
		set: {
			launchId: instance.launchId,
			stackId: instance.stackId,
			stackName: instance.stackName,
			groupId: instance.groupId,
			configId: instance.configId,
			progressText: keep(instances.progressText, "progress_text"),
			progressPercent: keep(instances.progressPercent, "progress_percent"),
			progressUpdatedAt: keep(instances.progressUpdatedAt, "progress_updated_at"),
			setupState: keep(instances.setupState, "setup_state"),
			setupEndedAt: keep(instances.setupEndedAt, "setup_ended_at"),
			updatedAt: new Date(),
		},
		where: isNull(instances.launchId),
	}).returning({ id: instances.id });
	return rows.length > 0;
}

export async function updateInstance(db: Db, id: string, changes: Partial<NewInstance>): Promise<Instance | undefined> {
	const [row] = await db.update(instances).set({ ...changes, updatedAt: new Date() }).where(eq(instances.id, id))
		.returning();
	return row;
}

const owner = aliasedTable(users, "owner");

/** An instance the sync follows, with whether a billed period is open. */
export interface TrackedInstance extends Instance {
	billed: boolean;
}

/**
 * Instances the sync should follow: not archived and not ended; optionally one owner's. Each comes
 * with whether a period is open, read here in one query instead of one per instance on every run.
 */
export async function trackedInstances(db: Db, ownerId?: number): Promise<TrackedInstance[]> {
	const rows = await db.select({ instance: instances, billed: billedFlag(instances) }).from(instances).where(and(
		eq(instances.archived, false),
		notInArray(instances.state, [...INSTANCE_ENDED_STATES]),
		ownerId === undefined ? undefined : eq(instances.ownerId, ownerId),
	));
	return rows.map((r) => ({ ...r.instance, billed: Boolean(r.billed) }));
}

/** An instance with what the pages show next to it. */
export interface InstanceRow extends Instance {
	ownerUsername: string;
	ownerName: string;
	configName: string | null;
	configOs: string | null;
	hasProgressBar: boolean;
	groupName: string | null;
	/** How to connect: the group's key pair, the configuration's login user and application links. */
	keyName: string | null;
	loginUser: string | null;
	customUrlFormat: string | null;
}

function rowSelect(db: Db) {
	return db.select({
		instance: instances,
		owner: personColumns(owner),
		configName: softwareConfigs.name,
		configOs: softwareConfigs.os,
		hasProgressBar: softwareConfigs.hasProgressBar,
		groupName: groups.name,
		keyName: groups.keyName,
		loginUser: softwareConfigs.loginUser,
		customUrlFormat: softwareConfigs.customUrlFormat,
	}).from(instances)
		.innerJoin(owner, eq(owner.id, instances.ownerId))
		.leftJoin(softwareConfigs, eq(softwareConfigs.id, instances.configId))
		.leftJoin(groups, eq(groups.id, instances.groupId));
}

type RawRow = Awaited<ReturnType<ReturnType<typeof rowSelect>["execute"]>>[number];

function toRow(r: RawRow): InstanceRow {
	return {
		...r.instance,
		ownerUsername: r.owner.username,
		ownerName: displayName(r.owner),
		configName: r.configName,
		configOs: r.configOs,
		hasProgressBar: r.hasProgressBar ?? false,
		groupName: r.groupName,
		keyName: r.keyName,
		loginUser: r.loginUser,
		customUrlFormat: r.customUrlFormat,
	};
}

/** The page reads of one instance and of an owner's, prepared once (they run on every dashboard and instance page). */
const rowStatements = preparedFor((db) => ({
	byId: rowSelect(db).where(eq(instances.id, sql.placeholder("id"))).prepare(),
	byIds: rowSelect(db).where(inArray(instances.id, jsonListOf("ids"))).prepare(),
	owned: rowSelect(db).where(
		and(
			eq(instances.ownerId, sql.placeholder("ownerId")),
			listable(instances, INSTANCE_ENDED_STATES, sql.placeholder("since")),
		),
	).orderBy(desc(instances.createdAt)).prepare(),
}));

export async function getInstanceRow(db: Db, id: string): Promise<InstanceRow | undefined> {
	const [row] = await rowStatements(db).byId.all({ id });
	return row ? toRow(row) : undefined;
}

/** The instances the sync follows (not archived, not ended; all, or one owner's) with their names, oldest first. */
export async function trackedInstanceRows(db: Db, ownerId?: number): Promise<InstanceRow[]> {
	const rows = await rowSelect(db).where(and(
		eq(instances.archived, false),
		notInArray(instances.state, [...INSTANCE_ENDED_STATES]),
		ownerId === undefined ? undefined : eq(instances.ownerId, ownerId),
	)).orderBy(asc(instances.createdAt), asc(instances.id));
	return rows.map(toRow);
}

/** The owner's instances for the dashboard, newest first. */
export async function ownedInstanceRows(db: Db, ownerId: number, endedVisibleSince: Date): Promise<InstanceRow[]> {
	const rows = await rowStatements(db).owned.all({ ownerId, since: endedVisibleSince });
	return rows.map(toRow);
}

/** Filters of the team view. */
export interface TeamFilters {
	state?: string;
	ownerId?: number;
	groupId?: number;
	/** Text matched against the instance id, its name and its owner's username. */
	search?: string;
}

const STATE_GROUPS: Record<string, string[]> = {
	running: ["running"],
	stopped: ["stopped"],
	transitioning: ["pending", "stopping", "shutting-down"],
	ended: [...INSTANCE_ENDED_STATES],
};

/** The columns the team's filters other than the search test: of `instances`, or of its tallies. */
interface FilteredColumns {
	state: SQLiteColumn;
	ownerId: SQLiteColumn;
	groupId: SQLiteColumn;
}

/**
 * The filters' condition for a statement prepared once per shape ({@link filterShape}): the state's
 * values are part of the statement (one per state filter), the owner, group and search text are the
 * placeholders `ownerId`, `groupId` and `pattern` ({@link filterValues}). The search is only
 * asked of `instances` (the tallies cannot answer it: see {@link teamStatements}).
 */
function filterCondition(filters: TeamFilters, columns: FilteredColumns = instances): SQL | undefined {
	return and(
		!filters.state
			? undefined
			: Object.hasOwn(STATE_GROUPS, filters.state)
			? inArray(columns.state, STATE_GROUPS[filters.state]!)
			: eq(columns.state, sql.placeholder("state")),
		filters.ownerId === undefined ? undefined : eq(columns.ownerId, sql.placeholder("ownerId")),
		filters.groupId === undefined ? undefined : eq(columns.groupId, sql.placeholder("groupId")),
		filters.search ? searchCondition(sql.placeholder("pattern")) : undefined,
	);
}

function filterShape(filters: TeamFilters): string {
	const state = !filters.state ? "" : Object.hasOwn(STATE_GROUPS, filters.state) ? filters.state : "?";
	return [state, filters.ownerId !== undefined, filters.groupId !== undefined, !!filters.search].join(",");
}

function filterValues(filters: TeamFilters): Record<string, unknown> {
	return {
		state: filters.state,
		ownerId: filters.ownerId,
		groupId: filters.groupId,
		pattern: filters.search ? `%${filters.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined,
	};
}

function searchCondition(pattern: Placeholder): SQL {
	return or(
		sql`lower(${instances.id}) LIKE ${pattern} ESCAPE '\\'`,
		sql`lower(${instances.name}) LIKE ${pattern} ESCAPE '\\'`,
		inArray(
			instances.ownerId,
			sql`(SELECT ${users.id} FROM ${users} WHERE ${users.username} LIKE ${pattern} ESCAPE '\\')`,
		),
	)!;
}

/** The orders the team's instances can be listed in, each cheap in SQL (see {@link teamOrder}). */
export type TeamOrderColumn = "created" | "name" | "owner" | "type" | "state" | "config" | "uptime";

/** An order of the team's instances. */
export interface TeamOrder {
	column: TeamOrderColumn;
	dir: "asc" | "desc";
}

/**
 * The ORDER BY of an order, ties going by the id in the same direction so pages never overlap
 * (the in-memory lists break ties alike). Newest first, name, type and state walk an index of
 * theirs (schema.ts) and stop at the page; owner, configuration and uptime sort what the filters
 * leave (a top-N sort of keys and ids). The instance's name is its id when it has none; what has
 * no value (no configuration, not running) goes last in either direction. Uptime is the time
 * since it started: the longest uptime is the earliest start.
 */
function teamOrder(order: TeamOrder): SQL[] {
	const by = order.dir === "asc" ? asc : desc;
	const last = (value: SQL | SQLiteColumn) => [sql`(${value}) IS NULL`, by(value)];
	const startedWhenRunning = sql`CASE WHEN ${instances.state} = 'running' THEN ${instances.startedAt} END`;
	const keys: Record<TeamOrderColumn, SQL[]> = {
		created: [by(instances.createdAt)],
		name: [by(sql`coalesce(nullif(${instances.name}, ''), ${instances.id}) COLLATE NOCASE`)],
		// The name the rows show (users.ts displayName): first and last name, else the username.
		owner: [
			by(
				sql`coalesce(nullif(trim(${owner.firstName} || ' ' || ${owner.lastName}), ''), ${owner.username}) COLLATE NOCASE`,
			),
		],
		type: [by(instances.instanceType)],
		state: [by(instances.state)],
		config: [...last(sql`${softwareConfigs.name} COLLATE NOCASE`)],
		uptime: [sql`(${startedWhenRunning}) IS NULL`, (order.dir === "asc" ? desc : asc)(startedWhenRunning)],
	};
	return [...keys[order.column], by(instances.id)];
}

/**
 * One page of the team's instances in the order asked (newest first by default) and the total
 * count, counted in SQL. The page's ids are found first, sorting only the order's key and the id
 * (joining the owner or configuration only when the order is theirs), then those 25 rows are
 * read whole: sorting whole joined rows of 10,000 instances was several times slower.
 */
export async function teamInstanceRows(
	db: Db,
	scope: TeamScope,
	filters: TeamFilters,
	page: { offset: number; limit: number; order?: TeamOrder },
	endedVisibleSince: Date,
): Promise<{ rows: InstanceRow[]; total: number }> {
	const order = page.order ?? { column: "created", dir: "desc" };
	const statements = teamStatements(db, scopeShape(scope), filters, order);
	const values = { ...scopeValues(scope), ...filterValues(filters), since: endedVisibleSince };
	const [found, [count]] = await Promise.all([
		statements.ids.all({ ...values, limit: page.limit, offset: page.offset }),
		statements.count.all(values),
	]);
	const pageIds = found.map((r) => r.id);
	const rows = pageIds.length ? await rowStatements(db).byIds.all({ ids: JSON.stringify(pageIds) }) : [];
	const at = new Map(pageIds.map((id, i) => [id, i]));
	rows.sort((a, b) => at.get(a.instance.id)! - at.get(b.instance.id)!);
	return { rows: rows.map(toRow), total: Number(count?.n ?? 0) };
}

/**
 * The team view's page of ids and its count, prepared once per shape: the scope's kind, which
 * filters are set (and the state filter's name), the order. Bounded: 3 × 5 × 8 × 7 × 2 shapes at most.
 */
const teamCache = preparedFor(() => new Map<string, ReturnType<typeof buildTeamStatements>>());

function teamStatements(db: Db, shape: ScopeShape, filters: TeamFilters, order: TeamOrder) {
	const cache = teamCache(db);
	const key = `${shape}|${filterShape(filters)}|${order.column}|${order.dir}`;
	let statements = cache.get(key);
	if (!statements) {
		statements = buildTeamStatements(db, shape, filters, order);
		cache.set(key, statements);
	}
	return statements;
}

function buildTeamStatements(db: Db, shape: ScopeShape, filters: TeamFilters, order: TeamOrder) {
	const where = and(
		listable(instances, INSTANCE_ENDED_STATES, sql.placeholder("since")),
		inPreparedScope(instances.ownerId, shape),
		filterCondition(filters),
	);
	let ids = db.select({ id: instances.id }).from(instances).$dynamic();
	if (order.column === "owner") ids = ids.innerJoin(owner, eq(owner.id, instances.ownerId));
	if (order.column === "config") ids = ids.leftJoin(softwareConfigs, eq(softwareConfigs.id, instances.configId));
	return {
		ids: ids.where(where).orderBy(...teamOrder(order)).limit(sql.placeholder("limit")).offset(
			sql.placeholder("offset"),
		).prepare(),
		count: filters.search
			? db.select({ n: sql<number>`count(*)` }).from(instances).where(where).prepare()
			: talliedCount(db, shape, filters),
	};
}

/**
 * The count of what the team view lists, without counting every instance: those not ended are
 * summed from the tallies (a few rows per owner), those ended recently enough to be listed are
 * counted through `instances_state_idx` (few: they are archived or drop off the list as they age).
 * A search cannot be tallied, so it counts the instances it matches.
 */
function talliedCount(db: Db, shape: ScopeShape, filters: TeamFilters) {
	const tallied = { state: instanceTallies.state, ownerId: instanceTallies.ownerId, groupId: instanceTallies.groupKey };
	const notEnded = db.select({ n: sql<number>`coalesce(sum(${instanceTallies.n}), 0)` }).from(instanceTallies).where(
		and(
			notInArray(instanceTallies.state, [...INSTANCE_ENDED_STATES]),
			inPreparedScope(instanceTallies.ownerId, shape),
			filterCondition(filters, tallied),
		),
	);
	const endedListed = db.select({ n: sql<number>`count(*)` }).from(instances).where(and(
		eq(instances.archived, false),
		inArray(instances.state, [...INSTANCE_ENDED_STATES]),
		gt(instances.updatedAt, sql.placeholder("since")),
		inPreparedScope(instances.ownerId, shape),
		filterCondition(filters),
	));
	return db.select({ n: sql<number>`(${notEnded}) + (${endedListed})` }).from(sql`(SELECT 1)`).prepare();
}

/** Instance counts by state within the scope (for the team chart). */
export async function stateCounts(db: Db, scope: TeamScope): Promise<Record<string, number>> {
	const rows = await scopedStatements(db, scopeShape(scope)).stateCounts.all(scopeValues(scope));
	return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** The people whose instances the scope covers, for the team view's owner filter. */
export async function usersInScope(db: Db, scope: TeamScope): Promise<{ id: number; username: string }[]> {
	return await scopedStatements(db, scopeShape(scope)).users.all(scopeValues(scope));
}

/** The team view's counts and owners, prepared once per kind of scope. */
const scopedCache = preparedFor((db) => {
	const build = (shape: ScopeShape) => ({
		stateCounts: db.select({ state: instanceTallies.state, n: sql<number>`sum(${instanceTallies.n})` })
			.from(instanceTallies)
			.where(and(
				notInArray(instanceTallies.state, [...INSTANCE_ENDED_STATES]),
				gt(instanceTallies.n, 0),
				inPreparedScope(instanceTallies.ownerId, shape),
			))
			.groupBy(instanceTallies.state).prepare(),
		users: db.select({ id: users.id, username: users.username }).from(users)
			.where(inPreparedScope(users.id, shape)).orderBy(asc(users.username)).prepare(),
	});
	const built = new Map<ScopeShape, ReturnType<typeof build>>();
	return (shape: ScopeShape) => {
		let statements = built.get(shape);
		if (!statements) built.set(shape, statements = build(shape));
		return statements;
	};
});

function scopedStatements(db: Db, shape: ScopeShape) {
	return scopedCache(db)(shape);
}

const progressStatements = preparedFor((db) => ({
	select: db.select({
		privateIp: instances.privateIp,
		publicIp: instances.publicIp,
		tokenHash: launches.progressTokenHash,
		ownerId: instances.ownerId,
		state: instances.state,
		archived: instances.archived,
		setupState: instances.setupState,
		progressText: instances.progressText,
		progressUpdatedAt: instances.progressUpdatedAt,
		launchedAt: instances.launchedAt,
		createdAt: instances.createdAt,
		failureStages: softwareConfigs.failureStages,
		configId: instances.configId,
	}).from(instances)
		.leftJoin(launches, eq(launches.id, instances.launchId))
		.leftJoin(softwareConfigs, eq(softwareConfigs.id, instances.configId))
		.where(eq(instances.id, sql.placeholder("id"))).prepare(),
	update: progressUpdate(db).returning({ id: instances.id }).prepare(),
}));

/**
 * Whether an instance's setup may still report: a report racing the end of the setup or of the
 * instance changes nothing. Shared by the one report's write and a batch's, which must not drift.
 */
function mayReport(t: typeof instances): SQL | undefined {
	return and(
		eq(t.archived, false),
		notInArray(t.state, [...INSTANCE_ENDED_STATES]),
		or(isNull(t.setupState), eq(t.setupState, "running")),
	);
}

/**
 * A progress report's write, with placeholders (text, percent, at, setupState, endedAtMs, id): only
 * a setup that may still report is written.
 */
function progressUpdate(db: Db) {
	return db.update(instances).set({
		progressText: sql.placeholder("text") as unknown as string,
		progressPercent: sql.placeholder("percent") as unknown as number,
		progressUpdatedAt: sql.placeholder("at") as unknown as Date,
		setupState: sql.placeholder("setupState") as unknown as SetupState,
		// Raw, not through the column's Date mapping, which cannot take the null of a setup still running.
		setupEndedAt: sql`${sql.placeholder("endedAtMs")}`,
	}).where(and(eq(instances.id, sql.placeholder("id")), mayReport(instances)));
}

/**
 * The report rows of a JSON array given to placeholder `rows` (lib/db/reports.ts), `report.value`
 * each (its first element the instance's id), to be CROSS JOINed with the instance `target` on
 * {@link reportOfOpenSetup}: the array is read first and each instance found by its key. Left to
 * itself SQLite's planner, which has no statistics here, reads the instances by the guard's
 * `archived = 0` and scans the array for each (≈ 230 ms for 50 reports over 10,000 instances,
 * against 0.2 ms).
 */
export function reportRows(): SQL {
	return sql`json_each(${sql.placeholder("rows")}) AS report`;
}

/** A report row's instance, when its setup may still report. */
export function reportOfOpenSetup(target: typeof instances): SQL | undefined {
	return and(eq(target.id, sql`report.value ->> 0`), mayReport(target));
}

/**
 * A batch's write of the instances' latest progress, the set-based form of {@link progressUpdate}:
 * placeholder `rows` holds a JSON array of `[id, text, percent, atMs, setupState, endedAtMs]`, one
 * per instance. DISTINCT (each instance is there once anyway) keeps SQLite from flattening the
 * rows into the UPDATE's join, where the CROSS JOIN would keep the updated table outermost: a scan
 * of every instance. Read on their own, the rows find their instances by key, written by rowid.
 */
export function progressBatchUpdate(db: Db) {
	const target = aliasedTable(instances, "target");
	const latest = db.selectDistinct({
		row: sql<number>`${target}.rowid`.as("report_row"),
		text: sql<string>`report.value ->> 1`.as("report_text"),
		percent: sql<number>`report.value ->> 2`.as("report_percent"),
		at: sql<number>`report.value ->> 3`.as("report_at"),
		setupState: sql<string>`report.value ->> 4`.as("report_setup_state"),
		endedAt: sql<number | null>`report.value ->> 5`.as("report_ended_at"),
	}).from(reportRows()).crossJoin(target).where(reportOfOpenSetup(target)).as("latest");
	return db.update(instances).set({
		progressText: sql`${latest.text}`,
		progressPercent: sql`${latest.percent}`,
		progressUpdatedAt: sql`${latest.at}`,
		setupState: sql`${latest.setupState}`,
		setupEndedAt: sql`${latest.endedAt}`,
	}).from(latest).where(eq(sql`${instances}.rowid`, latest.row));
}

/** An instance as the progress endpoint checks a report against it. */
export type ProgressTarget =
	& Pick<
		Instance,
		| "privateIp"
		| "publicIp"
		| "ownerId"
		| "state"
		| "archived"
		| "setupState"
		| "progressText"
		| "progressUpdatedAt"
		| "launchedAt"
		| "createdAt"
		| "configId"
	>
	& { tokenHash: string | null; failureStages: string | null };

/** An instance with its launch's progress-token hash and its configuration's failure stages, for the progress endpoint. */
export async function instanceForProgress(db: Db, id: string): Promise<ProgressTarget | undefined> {
	return await progressStatements(db).select.get({ id });
}

/**
 * Records a progress report (the hottest write: a prepared statement) while the setup may still
 * report; returns whether it was written.
 */
export async function setProgress(
	db: Db,
	id: string,
	report: { text: string; percent: number; at: Date; setupState: SetupState; endedAt: Date | null },
): Promise<boolean> {
	const { endedAt, ...rest } = report;
	const rows = await progressStatements(db).update.all({ id, ...rest, endedAtMs: endedAt?.getTime() ?? null });
	return rows.length > 0;
}

/**
 * Instances whose console tail the sync should fetch: alive, their setup failed, stalled or silent
 * since `slowBefore`; never fetched, or last fetched before `staleBefore` while their setup goes on
 * or ended after `endedSince`.
 */
export async function instancesNeedingConsole(
	db: Db,
	query: { slowBefore: Date; staleBefore: Date; endedSince: Date; limit: number },
): Promise<Pick<Instance, "id">[]> {
	return await db.select({ id: instances.id }).from(instances).where(and(
		eq(instances.archived, false),
		notInArray(instances.state, [...INSTANCE_ENDED_STATES]),
		or(
			inArray(instances.setupState, ["failed", "stalled"]),
			and(eq(instances.setupState, "running"), lt(instances.progressUpdatedAt, query.slowBefore)),
		),
		or(
			isNull(instances.consoleTailAt),
			and(
				lt(instances.consoleTailAt, query.staleBefore),
				or(isNull(instances.setupEndedAt), gt(instances.setupEndedAt, query.endedSince)),
			),
		),
	)).orderBy(asc(instances.progressUpdatedAt)).limit(query.limit);
}

/** Instances of one launch. */
export async function instancesOfLaunch(db: Db, launchId: string): Promise<Instance[]> {
	return await db.select().from(instances).where(eq(instances.launchId, launchId));
}
