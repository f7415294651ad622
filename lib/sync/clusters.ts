/**
 * How an EMR cluster is observed: one ListClusters of the live states per run; the details EMR's
 * listing leaves out (master address, availability zone, node counts, tags) are asked only for the
 * clusters that need them: a changed state, an incomplete row, an unknown cluster. A cluster is
 * billed for its whole life, from EMR's creation time to its end time (also when it ends on its
 * own), and has a DNS record for its master while it lives.
 */
import type { EmrCluster } from "../aws/types.ts";
import { clusterEstimate } from "../billing/rates.ts";
import type { Cluster, NewCluster } from "../db/clusters.ts";
import type { Deps } from "../deps.ts";
import { launchedClusterFields, type SeenCluster } from "../launch/cluster.ts";
import { CLUSTER_ENDED_STATES, VANISHED } from "../machines/lifecycle.ts";
import type { MachineSync, Observation, Tracked } from "../machines/model.ts";
import { isPortalTagged, storedTags } from "../machines/tags.ts";

/** EMR states of a cluster that still exists: what the listing asks for. */
const LIVE_STATES = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"];

/** Clusters a process has described and found not to be the portal's, so it does not describe them again. */
const foreign = new WeakMap<Deps, Set<string>>();

/** Asks EMR about a cluster in full (describe, instance groups, master IP); undefined when EMR does not know it. */
async function describeInFull(deps: Deps, id: string): Promise<SeenCluster | undefined> {
	const cluster = await deps.aws.emr.describeCluster(id);
	if (!cluster) return undefined;
	if (CLUSTER_ENDED_STATES.includes(cluster.state)) return cluster;
	const [groups, masterIp] = await Promise.all([deps.aws.emr.listInstanceGroups(id), deps.aws.emr.masterPrivateIp(id)]);
	return {
		...cluster,
		masterIp,
		groups,
		nodesRunning: groups.reduce((n, g) => n + g.running, 0),
		nodesRequested: groups.length ? groups.reduce((n, g) => n + g.requested, 0) : undefined,
	};
}

/** Whether what the listing says of a followed cluster is not enough to keep its row true. */
function needsDetail(row: Tracked<Cluster>, listed: EmrCluster): boolean {
	if (CLUSTER_ENDED_STATES.includes(listed.state)) return false;
	return listed.state !== row.state || !row.masterIp || !row.masterDns || !row.availabilityZone ||
		row.nodesRequested === 0 || row.nodesRunning < row.nodesRequested || row.billed !== true;
}

/** What EMR shows about a cluster, as its row should hold it. */
function observeCluster(row: Cluster, seen: SeenCluster | undefined, now: Date): Observation<Cluster> {
	const state = seen?.state ?? VANISHED;
	const fields: Partial<NewCluster> = {};
	if (seen) {
		if (seen.stateReason) fields.stateReason = seen.stateReason.slice(0, 500);
		if (seen.masterDns) fields.masterDns = seen.masterDns;
		if (seen.masterIp) fields.masterIp = seen.masterIp;
		if (seen.nodesRunning !== undefined) fields.nodesRunning = seen.nodesRunning;
		if (seen.nodesRequested !== undefined) fields.nodesRequested = seen.nodesRequested;
		if (seen.availabilityZone) fields.availabilityZone = seen.availabilityZone;
		if (seen.createdAt && !row.startedAt) fields.startedAt = seen.createdAt;
		if (seen.endedAt && !row.endedAt) fields.endedAt = seen.endedAt;
		// EMR's listing carries no tags: only a described cluster's tags replace what was kept.
		if (Object.keys(seen.tags).length > 0) fields.tags = storedTags(seen.tags);
	}
	const ended = CLUSTER_ENDED_STATES.includes(state);
	// A vanished cluster is billed until it was last seen, not until the sync noticed.
	if (ended && !row.endedAt && !fields.endedAt) fields.endedAt = seen ? now : row.lastSeenAt ?? now;
	if (ended) fields.nodesRunning = 0;
	const merged = { ...row, ...fields };
	return {
		state,
		fields,
		// One period for the cluster's whole life: a cluster cannot be stopped, so it never reopens.
		bill: {
			open: seen && !row.endedAt ? merged.startedAt ?? now : undefined,
			close: ended ? merged.endedAt ?? now : undefined,
		},
		dns: ended ? { alive: false } : { alive: true, address: merged.masterIp },
	};
}

/** Clusters: listed by state, detailed where needed. */
export const clusterSync: MachineSync<Cluster, SeenCluster> = {
	async list(deps, scope, tracked) {
		// The listing cannot be narrowed to one owner: an owner's refresh follows that owner's clusters only.
		if (scope.ownerId !== undefined && tracked.length === 0) return [];
		const followed = new Set(tracked.map((row) => row.id));
		const skipped = foreign.get(deps);
		return (await deps.aws.emr.listClusters({ states: LIVE_STATES })).filter((cluster) =>
			scope.ownerId === undefined ? !skipped?.has(cluster.id) : followed.has(cluster.id)
		);
	},

	async lookup(deps, ids) {
		const found = await Promise.all(ids.map((id) => describeInFull(deps, id)));
		return found.filter((cluster) => cluster !== undefined);
	},

	async detail(deps, row, listed) {
		if (row && !needsDetail(row, listed)) return listed;
		const full = await describeInFull(deps, listed.id);
		if (!full) return listed;
		if (!row && !isPortalTagged(full.tags)) {
			const skipped = foreign.get(deps) ?? new Set<string>();
			foreign.set(deps, skipped.add(full.id));
		}
		return full;
	},

	observe: (_deps, row, seen, now) => Promise.resolve(observeCluster(row, seen, now)),

	owns: () => true,

	adopted(seen, from, now) {
		const fields = from.launch ? launchedClusterFields(from.launch, from.group, from.config, now) : {
			...shownShape(seen),
			name: seen.tags.Name ?? seen.name,
			purpose: seen.tags.Purpose ?? "",
		};
		return { ...fields, ...from.row, id: seen.id, state: "STARTING", masterDns: seen.masterDns ?? null };
	},

	found(deps, seen) {
		const shape = shownShape(seen);
		const { perHour } = clusterEstimate(deps, { ...shape, bidPrice: shape.bidPrice ?? undefined });
		return {
			name: seen.tags.Name ?? seen.name,
			instanceType: shape.instanceType,
			launchedAt: seen.createdAt,
			charge: {
				description: `${shape.market === "SPOT" ? "SPOT" : "ON DEMAND"} ${shape.instanceType} × ${shape.coreNodes + 1}`,
				rate: perHour === null
					? { known: false, reason: `no price for ${shape.instanceType || "its instance type"}` }
					: { known: true, hourly: perHour },
			},
		};
	},
};

/** A cluster's type, size and market as its instance groups show them (a cluster described in full). */
function shownShape(seen: SeenCluster): Pick<Cluster, "instanceType" | "coreNodes" | "market" | "bidPrice"> {
	const core = seen.groups?.find((g) => g.role === "CORE");
	const master = seen.groups?.find((g) => g.role === "MASTER");
	return {
		instanceType: core?.instanceType ?? master?.instanceType ?? "",
		coreNodes: core?.requested ?? 0,
		market: core?.market === "SPOT" ? "SPOT" : "ON_DEMAND",
		bidPrice: core?.bidPrice ? Number(core.bidPrice) : null,
	};
}
