/**
 * Queries and writes for what admins define: groups, software configurations, instance types,
 * security groups, params, users' roles and manual memberships, and what refers to them.
 */
import { and, asc, count, eq, inArray, notInArray, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { type Db, jsonListOf, preparedFor } from "./client.ts";
import {
	bills,
	clusters,
	configGroups,
	configInstanceTypes,
	groupExcludedTypes,
	groupManagers,
	groups,
	groupSecurityGroups,
	instances,
	instanceTypes,
	launches,
	memberships,
	params,
	type Role,
	securityGroups,
	softwareConfigs,
	users,
	volumes,
} from "./schema.ts";
import { groupIdsOf, listUsers } from "./users.ts";

export type Group = typeof groups.$inferSelect;
export type SoftwareConfig = typeof softwareConfigs.$inferSelect;
export type InstanceType = typeof instanceTypes.$inferSelect;
export type SecurityGroup = typeof securityGroups.$inferSelect;
export type Param = typeof params.$inferSelect;

/** Whether launches of the configuration get an extra volume; "No Volume" (the seed's word) or nothing means none. */
export function hasExtraVolume(config: Pick<SoftwareConfig, "volumeDevice">): boolean {
	return config.volumeDevice !== "" && config.volumeDevice !== "No Volume";
}

export async function getGroup(db: Db, id: number): Promise<Group | undefined> {
	return await db.query.groups.findFirst({ where: eq(groups.id, id) });
}

export async function getGroupByName(db: Db, name: string): Promise<Group | undefined> {
	return await db.query.groups.findFirst({ where: eq(groups.name, name) });
}

/** The groups a user belongs to, by name. */
export async function groupsOf(db: Db, userId: number): Promise<Group[]> {
	const ids = await groupIdsOf(db, userId);
	if (ids.length === 0) return [];
	return await db.select().from(groups).where(inArray(groups.id, ids)).orderBy(asc(groups.name));
}

/** Prepared once: the dashboard's budgets and the team view read every group. */
const groupStatements = preparedFor((db) => ({
	all: db.select().from(groups).orderBy(asc(groups.name)).prepare(),
}));

export async function listGroups(db: Db): Promise<Group[]> {
	return await groupStatements(db).all.all();
}

export async function getConfig(db: Db, id: number): Promise<SoftwareConfig | undefined> {
	return await db.query.softwareConfigs.findFirst({ where: eq(softwareConfigs.id, id) });
}

export async function getConfigByName(db: Db, name: string): Promise<SoftwareConfig | undefined> {
	return await db.query.softwareConfigs.findFirst({ where: eq(softwareConfigs.name, name) });
}

export async function listConfigs(db: Db): Promise<SoftwareConfig[]> {
	return await db.select().from(softwareConfigs).orderBy(asc(softwareConfigs.name));
}

export async function listInstanceTypes(db: Db): Promise<InstanceType[]> {
	return await db.select().from(instanceTypes).orderBy(asc(instanceTypes.name));
}

export async function listSecurityGroups(db: Db): Promise<SecurityGroup[]> {
	return await db.select().from(securityGroups).orderBy(asc(securityGroups.name), asc(securityGroups.sgId));
}

export async function listParams(db: Db): Promise<Param[]> {
	return await db.select().from(params).orderBy(asc(params.token));
}

/** The group's security groups of one kind. */
export async function groupSecurityGroupsOf(
	db: Db,
	groupId: number,
	kind: "default" | "optional",
): Promise<SecurityGroup[]> {
	return await db.select({
		id: securityGroups.id,
		sgId: securityGroups.sgId,
		name: securityGroups.name,
	}).from(groupSecurityGroups)
		.innerJoin(securityGroups, eq(securityGroups.id, groupSecurityGroups.securityGroupId))
		.where(and(eq(groupSecurityGroups.groupId, groupId), eq(groupSecurityGroups.kind, kind)))
		.orderBy(asc(securityGroups.name));
}

/** Ids of the instance types a group may not use. */
async function excludedTypeIds(db: Db, groupId: number): Promise<number[]> {
	return await linkedIds(db, "excludedTypes", groupId);
}

/** The config's compatible instance types minus the group's exclusions, by name. */
export async function usableTypes(db: Db, configId: number, groupId: number): Promise<InstanceType[]> {
	const excluded = await excludedTypeIds(db, groupId);
	return await db.select({ id: instanceTypes.id, name: instanceTypes.name, description: instanceTypes.description })
		.from(configInstanceTypes)
		.innerJoin(instanceTypes, eq(instanceTypes.id, configInstanceTypes.instanceTypeId))
		.where(and(
			eq(configInstanceTypes.configId, configId),
			excluded.length ? notInArray(instanceTypes.id, excluded) : undefined,
		))
		.orderBy(asc(instanceTypes.name));
}

/** Ids of the groups permitted to launch a config. */
export async function permittedGroupIds(db: Db, configId: number): Promise<number[]> {
	return await linkedIds(db, "permittedGroups", configId);
}

/** Configs a group may launch that have at least one usable instance type, by name. */
export async function launchableConfigs(db: Db, groupId: number): Promise<SoftwareConfig[]> {
	const excluded = await excludedTypeIds(db, groupId);
	const usable = db.select({ configId: configInstanceTypes.configId }).from(configInstanceTypes).where(
		excluded.length ? notInArray(configInstanceTypes.instanceTypeId, excluded) : undefined,
	);
	return await db.select().from(softwareConfigs)
		.where(and(
			inArray(
				softwareConfigs.id,
				db.select({ id: configGroups.configId }).from(configGroups).where(eq(configGroups.groupId, groupId)),
			),
			inArray(softwareConfigs.id, usable),
		))
		.orderBy(asc(softwareConfigs.name));
}

/** Values of the global params table that are not secret, as token → replacement. */
export async function paramsMap(db: Db): Promise<Record<string, string>> {
	const rows = await db.select({ token: params.token, value: params.value }).from(params).where(
		eq(params.secret, false),
	);
	return Object.fromEntries(rows.map((r) => [r.token, r.value]));
}

/** The secret params, as token → sealed value. */
export async function sealedParams(db: Db): Promise<Record<string, string>> {
	const rows = await db.select({ token: params.token, value: params.value }).from(params).where(
		eq(params.secret, true),
	);
	return Object.fromEntries(rows.map((r) => [r.token, r.value]));
}

/** The param with that token, or undefined. */
export async function paramByToken(db: Db, token: string): Promise<Param | undefined> {
	return (await db.select().from(params).where(eq(params.token, token)))[0];
}

/**
 * Prepared once: every page's shell asks it. The viewer's group ids come as one JSON array
 * (`json_each`), so one statement serves any number of groups.
 */
const launchableStatements = preparedFor((db) => ({
	// The outer id is written out whole: drizzle leaves a one-table select's columns unqualified.
	groups: db.select().from(groups).where(and(
		inArray(groups.id, jsonListOf("ids")),
		sql`EXISTS (SELECT 1 FROM config_groups cg
			JOIN config_instance_types cit ON cit.config_id = cg.config_id
			JOIN software_configs sc ON sc.id = cg.config_id
			WHERE cg.group_id = "groups"."id"
			AND (sc.kind <> 'cluster' OR "groups"."emr_access" = 1)
			AND cit.instance_type_id NOT IN (
				SELECT instance_type_id FROM group_excluded_types WHERE group_id = cg.group_id
			))`,
	)).orderBy(asc(groups.name)).prepare(),
}));

/**
 * The groups among `groupIds` that have at least one configuration they may launch: one with a
 * usable instance type, and a cluster configuration only for a group with EMR access; by name, in
 * one query.
 */
export async function launchableGroups(db: Db, groupIds: readonly number[]): Promise<Group[]> {
	if (groupIds.length === 0) return [];
	return await launchableStatements(db).groups.all({ ids: JSON.stringify(groupIds) });
}

// ---- Writes --------------------------------------------------------------------------------------

/**
 * The catalogue's tables whose rows have an integer `id`, by their names in the schema, each with
 * the unique column an import matches its rows by.
 */
const ID_TABLES = {
	groups: { table: groups, key: groups.name },
	softwareConfigs: { table: softwareConfigs, key: softwareConfigs.name },
	instanceTypes: { table: instanceTypes, key: instanceTypes.name },
	securityGroups: { table: securityGroups, key: securityGroups.sgId },
	params: { table: params, key: params.token },
} as const;
export type CatalogTable = keyof typeof ID_TABLES;
/** The columns a write may set on a row of each catalogue table. */
export type CatalogRow<T extends CatalogTable> = (typeof ID_TABLES)[T]["table"]["$inferInsert"];

/** The table; every catalogue table has the same integer `id`, so params stands for any of them to the type checker. */
const idTable = (table: CatalogTable) => ID_TABLES[table].table as typeof params;

/**
 * Runs `write` in one transaction: everything it writes is committed together or not at all. The
 * transaction is handed on as a `Db`, since it has every query method the catalogue functions use.
 */
export async function inTransaction<T>(db: Db, write: (tx: Db) => Promise<T>): Promise<T> {
	return await db.transaction((tx) => write(tx as unknown as Db));
}

/**
 * Inserts a row (`id` undefined) or updates the row with that id. Returns the row's id, or undefined
 * when no row has the id.
 */
export async function upsertById<T extends CatalogTable>(
	db: Db,
	table: T,
	id: number | undefined,
	values: CatalogRow<T>,
): Promise<number | undefined> {
	const t = idTable(table);
	const row = values as typeof params.$inferInsert;
	if (id === undefined) return (await db.insert(t).values(row).returning({ id: t.id }))[0]!.id;
	const [updated] = await db.update(t).set(row).where(eq(t.id, id)).returning({ id: t.id });
	return updated?.id;
}

/** Deletes the row with that id; returns whether there was one. */
export async function deleteById(db: Db, table: CatalogTable, id: number): Promise<boolean> {
	const t = idTable(table);
	return (await db.delete(t).where(eq(t.id, id)).returning({ id: t.id })).length > 0;
}

/** Whether every id names a row of the table (repeated ids count once). */
export async function allExist(db: Db, table: CatalogTable, ids: number[]): Promise<boolean> {
	if (ids.length === 0) return true;
	const t = idTable(table);
	const found = await db.select({ id: t.id }).from(t).where(inArray(t.id, ids));
	return found.length === new Set(ids).size;
}

/** Every row's id by the key an import matches the table's rows by (name, sg id or token). */
export async function idsByKey(db: Db, table: CatalogTable): Promise<Map<string, number>> {
	const t = idTable(table);
	const rows = await db.select({ key: ID_TABLES[table].key, id: t.id }).from(t);
	return new Map(rows.map((r) => [r.key, r.id]));
}

/**
 * The catalogue's many-to-many links, each a link table read from one side: the owner's id
 * column, the linked id column, and the fixed columns that tell one link from another in a shared
 * table (a group's default and optional security groups, a user's manual and directory memberships).
 */
const LINKS = {
	defaultSecurityGroups: {
		table: groupSecurityGroups,
		owner: "groupId",
		target: "securityGroupId",
		fixed: { kind: "default" },
	},
	optionalSecurityGroups: {
		table: groupSecurityGroups,
		owner: "groupId",
		target: "securityGroupId",
		fixed: { kind: "optional" },
	},
	excludedTypes: { table: groupExcludedTypes, owner: "groupId", target: "instanceTypeId", fixed: {} },
	compatibleTypes: { table: configInstanceTypes, owner: "configId", target: "instanceTypeId", fixed: {} },
	permittedGroups: { table: configGroups, owner: "configId", target: "groupId", fixed: {} },
	manualMemberships: { table: memberships, owner: "userId", target: "groupId", fixed: { source: "manual" } },
	directoryMemberships: { table: memberships, owner: "userId", target: "groupId", fixed: { source: "directory" } },
	manualManagement: { table: groupManagers, owner: "userId", target: "groupId", fixed: { source: "manual" } },
	directoryManagement: { table: groupManagers, owner: "userId", target: "groupId", fixed: { source: "directory" } },
} as const satisfies Record<string, { table: SQLiteTable; owner: string; target: string; fixed: object }>;
export type CatalogLink = keyof typeof LINKS;

/** The columns of one link's rows, and the condition that selects the rows of `ownerId`. */
function linkOf(link: CatalogLink, ownerId: number) {
	const { table, owner, target, fixed } = LINKS[link];
	const column = (key: string) => (table as unknown as Record<string, SQLiteColumn>)[key]!;
	const mine = and(
		eq(column(owner), ownerId),
		...Object.entries(fixed).map(([key, value]) => eq(column(key), value)),
	);
	return { table, owner, target, fixed, mine, targetColumn: column(target) };
}

/** The ids linked to the owner (the group, configuration or user `ownerId`). */
export async function linkedIds(db: Db, link: CatalogLink, ownerId: number): Promise<number[]> {
	const { table, mine, targetColumn } = linkOf(link, ownerId);
	const rows = await db.select({ id: targetColumn }).from(table).where(mine);
	return rows.map((r) => r.id as number);
}

/** Makes the ids linked to the owner exactly `ids` (each once). */
export async function setLinks(db: Db, link: CatalogLink, ownerId: number, ids: readonly number[]): Promise<void> {
	const { table, owner, target, fixed, mine } = linkOf(link, ownerId);
	await db.delete(table).where(mine);
	const rows = [...new Set(ids)].map((id) => ({ [owner]: ownerId, [target]: id, ...fixed }));
	// The keys are the table's own (LINKS says which), which the type checker cannot follow.
	if (rows.length) await db.insert(table).values(rows as never);
}

const GROUP_LINKS = ["defaultSecurityGroups", "optionalSecurityGroups", "excludedTypes"] as const;
/** What a group's form sets besides its own columns: its links. */
export type GroupLinks = Record<(typeof GROUP_LINKS)[number], readonly number[]>;

/** Creates (`id` undefined) or updates a group with its links in one transaction; undefined when no group has the id. */
export function writeGroup(
	db: Db,
	id: number | undefined,
	values: CatalogRow<"groups">,
	links: GroupLinks,
): Promise<number | undefined> {
	return writeWithLinks(db, "groups", id, values, links);
}

const CONFIG_LINKS = ["compatibleTypes", "permittedGroups"] as const;
/** What a configuration's form sets besides its own columns: its links. */
export type ConfigLinks = Record<(typeof CONFIG_LINKS)[number], readonly number[]>;

/** Creates or updates a configuration with its links in one transaction; undefined when no configuration has the id. */
export function writeConfig(
	db: Db,
	id: number | undefined,
	values: CatalogRow<"softwareConfigs">,
	links: ConfigLinks,
): Promise<number | undefined> {
	return writeWithLinks(db, "softwareConfigs", id, values, links);
}

/** An item's own columns and every one of its links, written together or not at all. */
async function writeWithLinks<T extends CatalogTable>(
	db: Db,
	table: T,
	id: number | undefined,
	values: CatalogRow<T>,
	links: Partial<Record<CatalogLink, readonly number[]>>,
): Promise<number | undefined> {
	return await inTransaction(db, async (tx) => {
		const itemId = await upsertById(tx, table, id, { ...values, updatedAt: new Date() });
		if (itemId === undefined) return undefined;
		for (const [link, ids] of Object.entries(links) as [CatalogLink, readonly number[]][]) {
			await setLinks(tx, link, itemId, ids);
		}
		return itemId;
	});
}

/**
 * Sets a user's portal role, manual memberships and (when given) the groups an admin has them manage, in
 * one transaction; false when no user has the id.
 */
export async function writeUserAccess(
	db: Db,
	id: number,
	access: { role: Role; groups: readonly number[]; managedGroups?: readonly number[] },
): Promise<boolean> {
	return await inTransaction(db, async (tx) => {
		const updated = await tx.update(users).set({ role: access.role, updatedAt: new Date() }).where(eq(users.id, id))
			.returning({ id: users.id });
		if (!updated[0]) return false;
		await setLinks(tx, "manualMemberships", id, access.groups);
		if (access.managedGroups) await setLinks(tx, "manualManagement", id, access.managedGroups);
		return true;
	});
}

/** Which constraint a failed write broke, from the driver's message (drizzle wraps the driver's error). */
export function brokenConstraint(error: unknown): "unique" | "foreign key" | undefined {
	for (let e = error; e instanceof Error; e = e.cause) {
		if (/UNIQUE constraint failed/.test(e.message)) return "unique";
		if (/FOREIGN KEY constraint failed/.test(e.message)) return "foreign key";
	}
	return undefined;
}

// ---- What refers to a catalogue item (the delete guards) -----------------------------------------

/** The rows that may refer to a group or a configuration, per table. */
const REFERRING = {
	group: {
		instances: instances.groupId,
		clusters: clusters.groupId,
		volumes: volumes.groupId,
		launches: launches.groupId,
		bills: bills.groupId,
	},
	config: { instances: instances.configId, clusters: clusters.configId, launches: launches.configId },
} as const;

/** How many rows of each table refer to the group or configuration, in a fixed order of tables. */
export async function referenceCounts<K extends keyof typeof REFERRING>(
	db: Db,
	kind: K,
	id: number,
): Promise<[table: keyof (typeof REFERRING)[K], count: number][]> {
	const counts: [keyof (typeof REFERRING)[K], number][] = [];
	for (const [table, column] of Object.entries(REFERRING[kind]) as [keyof (typeof REFERRING)[K], SQLiteColumn][]) {
		const [row] = await db.select({ n: count() }).from(column.table).where(eq(column, id));
		counts.push([table, row?.n ?? 0]);
	}
	return counts;
}

/** Names of the configurations offering an instance type. */
export async function configsOfferingType(db: Db, typeId: number): Promise<string[]> {
	const rows = await db.select({ name: softwareConfigs.name }).from(configInstanceTypes)
		.innerJoin(softwareConfigs, eq(softwareConfigs.id, configInstanceTypes.configId))
		.where(eq(configInstanceTypes.instanceTypeId, typeId));
	return rows.map((r) => r.name);
}

/** Names of the groups excluding an instance type. */
export async function groupsExcludingType(db: Db, typeId: number): Promise<string[]> {
	const rows = await db.select({ name: groups.name }).from(groupExcludedTypes)
		.innerJoin(groups, eq(groups.id, groupExcludedTypes.groupId)).where(eq(groupExcludedTypes.instanceTypeId, typeId));
	return rows.map((r) => r.name);
}

/** Names of the groups using a security group (default or optional), each once. */
export async function groupsUsingSecurityGroup(db: Db, securityGroupId: number): Promise<string[]> {
	const rows = await db.selectDistinct({ name: groups.name }).from(groupSecurityGroups)
		.innerJoin(groups, eq(groups.id, groupSecurityGroups.groupId))
		.where(eq(groupSecurityGroups.securityGroupId, securityGroupId));
	return rows.map((r) => r.name);
}

// ---- The whole catalogue, for its export ---------------------------------------------------------

/** Every row an export writes, each table in the document's order. */
export async function catalogSnapshot(db: Db) {
	const [types, sgs, paramRows, groupRows, configRows, userRows, gsg, gex, cit, cg, manual] = await Promise.all([
		listInstanceTypes(db),
		db.select().from(securityGroups).orderBy(asc(securityGroups.sgId)),
		listParams(db),
		listGroups(db),
		listConfigs(db),
		listUsers(db),
		db.select().from(groupSecurityGroups),
		db.select().from(groupExcludedTypes),
		db.select().from(configInstanceTypes),
		db.select().from(configGroups),
		db.select().from(memberships).where(eq(memberships.source, "manual")),
	]);
	return {
		instanceTypes: types,
		securityGroups: sgs,
		params: paramRows,
		groups: groupRows,
		configs: configRows,
		users: userRows,
		groupSecurityGroups: gsg,
		groupExcludedTypes: gex,
		configInstanceTypes: cit,
		configGroups: cg,
		manualMemberships: manual,
	};
}
