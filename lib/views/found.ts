/**
 * The data of the admin page of machines found in AWS with the portal's tags but not launched by
 * it: plain rows for its components, with what AWS showed, why the sync did not adopt them and
 * what they would cost.
 */
import { listGroups } from "../db/catalog.ts";
import { type FoundMachine, getFound, listFound } from "../db/found.ts";
import type { Deps } from "../deps.ts";
import { formatRate } from "../format.ts";
import { machineKind } from "../machines/kinds.ts";

/** A found machine as the admin page shows it. */
export interface FoundRow {
	id: string;
	/** "instance" or "cluster". */
	noun: string;
	name: string;
	instanceType: string;
	state: string;
	/** Its tags, sorted by key. */
	tags: [string, string][];
	reason: string;
	/** The portal launch its tags name, with the launch's page. */
	claimedLaunch: { id: string; href: string } | null;
	launchedAt: Date | null;
	firstSeenAt: Date;
	lastSeenAt: Date;
	/** What it would be billed as, and at what estimated rate. */
	cost: string;
	/** The adopt page. */
	href: string;
}

function toRow(found: FoundMachine): FoundRow {
	return {
		id: found.id,
		noun: machineKind(found.kind).noun,
		name: found.name,
		instanceType: found.instanceType,
		state: found.state,
		tags: Object.entries(found.tags).sort(([a], [b]) => a.localeCompare(b)),
		reason: found.reason,
		claimedLaunch: found.claimedLaunchId
			? { id: found.claimedLaunchId, href: `/launches/${encodeURIComponent(found.claimedLaunchId)}` }
			: null,
		launchedAt: found.launchedAt,
		firstSeenAt: found.firstSeenAt,
		lastSeenAt: found.lastSeenAt,
		cost: `${found.costDescription}${found.costDescription ? ", " : ""}${formatRate(found.hourlyRate)}`,
		href: `/admin/found/${found.id}`,
	};
}

/** Every found machine, the most recently seen first. */
export async function foundRows(deps: Pick<Deps, "db">): Promise<FoundRow[]> {
	return (await listFound(deps.db)).map(toRow);
}

/** One found machine with the groups it may be billed to, or undefined when there is none with the id. */
export async function foundAdoption(
	deps: Pick<Deps, "db">,
	id: string,
): Promise<{ machine: FoundRow; groups: { id: number; name: string }[] } | undefined> {
	const found = await getFound(deps.db, id);
	if (!found) return undefined;
	const groups = (await listGroups(deps.db)).map((g) => ({ id: g.id, name: g.name }));
	return { machine: toRow(found), groups };
}
