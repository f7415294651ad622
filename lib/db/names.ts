/** Machine names as their owner sees them: which live machine (or launch on its way) already has one. */
import { and, eq, inArray, ne, notInArray, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { clusters, type ConfigKind, instances, launches } from "./schema.ts";
import { CLUSTER_ENDED_STATES, INSTANCE_ENDED_STATES } from "../machines/lifecycle.ts";

/** What holds a name: a live machine, or a launch that will make one. */
export type NameHolder = { kind: ConfigKind; id: string } | { kind: "launch"; id: string };

/**
 * The owner's live machine (not ended, not archived) or open launch (queued or creating) named
 * `name`, compared without case, other than the machine `except.id` and its launch; undefined
 * when the name is free.
 */
export async function holderOfName(
	db: Db,
	ownerId: number,
	name: string,
	except: { id?: string; launchId?: string | null } = {},
): Promise<NameHolder | undefined> {
	const lower = name.toLowerCase();
	for (
		const [kind, table, ended] of [["instance", instances, INSTANCE_ENDED_STATES], [
			"cluster",
			clusters,
			CLUSTER_ENDED_STATES,
		]] as const
	) {
		const t = table as typeof instances;
		const [row] = await db.select({ id: t.id }).from(t).where(and(
			eq(t.ownerId, ownerId),
			eq(t.archived, false),
			notInArray(t.state, [...ended]),
			eq(sql`lower(${t.name})`, lower),
			except.id ? ne(t.id, except.id) : undefined,
		)).limit(1);
		if (row) return { kind, id: row.id };
	}
	const [launch] = await db.select({ id: launches.id }).from(launches).where(and(
		eq(launches.userId, ownerId),
		inArray(launches.status, ["queued", "creating"]),
		eq(sql`lower(json_extract(${launches.options}, '$.machineName'))`, lower),
		except.launchId ? ne(launches.id, except.launchId) : undefined,
	)).limit(1);
	return launch ? { kind: "launch", id: launch.id } : undefined;
}
