/** Queries for what admins define: groups, software configurations, instance types, security groups, params. */
import { and, asc, eq, inArray, notInArray, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import {
	configGroups,
	configInstanceTypes,
	groupExcludedTypes,
	groups,
	groupSecurityGroups,
	instanceTypes,
	params,
	securityGroups,
	softwareConfigs,
} from "./schema.ts";

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

export async function listGroups(db: Db): Promise<Group[]> {
	return await db.select().from(groups).orderBy(asc(groups.name));
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
export async function excludedTypeIds(db: Db, groupId: number): Promise<number[]> {
	const rows = await db.select({ id: groupExcludedTypes.instanceTypeId }).from(groupExcludedTypes).where(
		eq(groupExcludedTypes.groupId, groupId),
	);
	return rows.map((r) => r.id);
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
	const rows = await db.select({ id: configGroups.groupId }).from(configGroups).where(
		eq(configGroups.configId, configId),
	);
	return rows.map((r) => r.id);
}

/** Ids of a config's compatible instance types. */
export async function compatibleTypeIds(db: Db, configId: number): Promise<number[]> {
	const rows = await db.select({ id: configInstanceTypes.instanceTypeId }).from(configInstanceTypes).where(
		eq(configInstanceTypes.configId, configId),
	);
	return rows.map((r) => r.id);
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

/** Values of the global params table, as token → replacement. */
export async function paramsMap(db: Db): Promise<Record<string, string>> {
	const rows = await db.select({ token: params.token, value: params.value }).from(params);
	return Object.fromEntries(rows.map((r) => [r.token, r.value]));
}

/** Which of the groups have at least one configuration with a usable instance type, in one query. */
export async function launchableGroupIds(db: Db, groupIds: readonly number[]): Promise<number[]> {
	if (groupIds.length === 0) return [];
	const rows = await db.all<{ group_id: number }>(sql`
		SELECT DISTINCT cg.group_id FROM config_groups cg
		JOIN config_instance_types cit ON cit.config_id = cg.config_id
		WHERE cg.group_id IN (${sql.join(groupIds.map((id) => sql`${id}`), sql`, `)})
		AND cit.instance_type_id NOT IN (
			SELECT instance_type_id FROM group_excluded_types WHERE group_id = cg.group_id
		)
		ORDER BY cg.group_id`);
	return rows.map((r) => Number(r.group_id));
}
