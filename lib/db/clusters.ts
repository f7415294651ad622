/** Queries and writes for `clusters` (EMR), with the joined rows the pages show. */
import { aliasedTable, and, desc, eq, notInArray, sql } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
import { billedFlag, listable } from "./machines.ts";
import { clusters, groups, launches, type LaunchStatus, softwareConfigs, users } from "./schema.ts";
import { inTeamScope, type TeamScope } from "./scope.ts";
import { displayName, personColumns } from "./users.ts";
import { CLUSTER_ENDED_STATES } from "../machines/lifecycle.ts";

export type Cluster = typeof clusters.$inferSelect;
export type NewCluster = typeof clusters.$inferInsert;

export async function insertCluster(db: Db, cluster: NewCluster): Promise<boolean> {
	const rows = await db.insert(clusters).values(cluster).onConflictDoNothing().returning({ id: clusters.id });
	return rows.length > 0;
}

export async function getCluster(db: Db, id: string): Promise<Cluster | undefined> {
	return await db.query.clusters.findFirst({ where: eq(clusters.id, id) });
}

export async function updateCluster(db: Db, id: string, changes: Partial<NewCluster>): Promise<void> {
	await db.update(clusters).set({ ...changes, updatedAt: new Date() }).where(eq(clusters.id, id));
}

/** A cluster the sync follows, with whether its billed period is open. */
export interface TrackedCluster extends Cluster {
	billed: boolean;
}

/** Clusters the sync follows: not archived and not ended; optionally one owner's. */
export async function trackedClusters(db: Db, ownerId?: number): Promise<TrackedCluster[]> {
	const rows = await db.select({ cluster: clusters, billed: billedFlag(clusters) }).from(clusters).where(and(
		eq(clusters.archived, false),
		notInArray(clusters.state, [...CLUSTER_ENDED_STATES]),
		ownerId === undefined ? undefined : eq(clusters.ownerId, ownerId),
	));
	return rows.map((r) => ({ ...r.cluster, billed: Boolean(r.billed) }));
}

export async function clustersOfLaunch(db: Db, launchId: string): Promise<Cluster[]> {
	return await db.select().from(clusters).where(eq(clusters.launchId, launchId));
}

/** A cluster with its owner's, configuration's and group's names, and how its launch ended. */
export interface ClusterRow extends Cluster {
	ownerUsername: string;
	ownerName: string;
	configName: string | null;
	customUrlFormat: string | null;
	loginUser: string | null;
	keyName: string | null;
	groupName: string | null;
	/** The status of the launch that made it; null for a cluster the sync adopted. */
	launchStatus: LaunchStatus | null;
}

const owner = aliasedTable(users, "cluster_owner");

function rowSelect(db: Db) {
	return db.select({
		cluster: clusters,
		owner: personColumns(owner),
		configName: softwareConfigs.name,
		customUrlFormat: softwareConfigs.customUrlFormat,
		loginUser: softwareConfigs.loginUser,
		keyName: groups.keyName,
		groupName: groups.name,
		launchStatus: launches.status,
	}).from(clusters)
		.innerJoin(owner, eq(owner.id, clusters.ownerId))
		.leftJoin(softwareConfigs, eq(softwareConfigs.id, clusters.configId))
		.leftJoin(groups, eq(groups.id, clusters.groupId))
		.leftJoin(launches, eq(launches.id, clusters.launchId));
}

function toRow(r: Awaited<ReturnType<ReturnType<typeof rowSelect>["execute"]>>[number]): ClusterRow {
	return {
		...r.cluster,
		ownerUsername: r.owner.username,
		ownerName: displayName(r.owner),
		configName: r.configName,
		customUrlFormat: r.customUrlFormat,
		loginUser: r.loginUser,
		keyName: r.keyName,
		groupName: r.groupName,
		launchStatus: r.launchStatus,
	};
}

export async function getClusterRow(db: Db, id: string): Promise<ClusterRow | undefined> {
	const [row] = await rowSelect(db).where(eq(clusters.id, id));
	return row ? toRow(row) : undefined;
}

/** The owner's clusters, newest first. */
/** The dashboard's read of an owner's clusters, prepared once. */
const rowStatements = preparedFor((db) => ({
	owned: rowSelect(db).where(
		and(
			eq(clusters.ownerId, sql.placeholder("ownerId")),
			listable(clusters, CLUSTER_ENDED_STATES, sql.placeholder("since")),
		),
	).orderBy(desc(clusters.createdAt)).prepare(),
}));

export async function ownedClusterRows(db: Db, ownerId: number, endedVisibleSince: Date): Promise<ClusterRow[]> {
	const rows = await rowStatements(db).owned.all({ ownerId, since: endedVisibleSince });
	return rows.map(toRow);
}

/** The team's clusters (the same scope as the team's instances), newest first. */
export async function teamClusterRows(
	db: Db,
	scope: TeamScope,
	endedVisibleSince: Date,
	limit = 100,
): Promise<ClusterRow[]> {
	const scoped = inTeamScope(clusters.ownerId, scope);
	const rows = await rowSelect(db).where(and(listable(clusters, CLUSTER_ENDED_STATES, endedVisibleSince), scoped))
		.orderBy(desc(clusters.createdAt))
		.limit(
			limit,
		);
	return rows.map(toRow);
}
