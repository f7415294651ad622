/**
 * The registry of machine kinds: each entry assembles a kind from its phase modules (launch, sync,
 * control), its table and its price. The launcher, the sync and the control path iterate this
 * registry; it is the one module of lib/machines/ above the phases, since it joins them.
 */
import { clusterCharge, instanceCharge } from "../billing/charges.ts";
import { clusterControl } from "../control/cluster.ts";
import { instanceControl } from "../control/instance.ts";
import type { Ec2Instance } from "../aws/types.ts";
import {
	type Cluster,
	clustersOfLaunch,
	getCluster,
	insertCluster,
	type NewCluster,
	trackedClusters,
	updateCluster,
} from "../db/clusters.ts";
import {
	getInstance,
	insertInstance,
	type Instance,
	instancesOfLaunch,
	type NewInstance,
	trackedInstances,
	updateInstance,
} from "../db/instances.ts";
import { claimAction, machinesByIds, type MachineTable, markMachinesSeen } from "../db/machines.ts";
import { clusters, type ConfigKind, instances } from "../db/schema.ts";
import { clusterLaunch, type SeenCluster } from "../launch/cluster.ts";
import { instanceLaunch } from "../launch/instance.ts";
import { clusterSync } from "../sync/clusters.ts";
import { instanceSync } from "../sync/instances.ts";
import { CLUSTER_ENDED_STATES, INSTANCE_ENDED_STATES } from "./lifecycle.ts";
import type { MachineKind, MachineRow, MachineRows } from "./model.ts";

/** A kind's table: its own reads and writes, plus the statements every machine table shares. */
function machineRows<Row extends MachineRow>(
	table: MachineTable,
	own: Pick<MachineRows<Row>, "get" | "tracked" | "insert" | "update" | "ofLaunch">,
): MachineRows<Row> {
	return {
		...own,
		byIds: (deps, ids) => machinesByIds<Row>(deps.db, table, ids),
		markSeen: (deps, ids, at) => markMachinesSeen(deps.db, table, ids, at),
		claim: (deps, claim) => claimAction(deps.db, table, claim),
	};
}

/** EC2 instances launched from instance configurations. */
const instanceKind: MachineKind<Instance, Ec2Instance> = {
	name: "instance",
	noun: "instance",
	endedStates: INSTANCE_ENDED_STATES,
	rows: machineRows<Instance>(instances, {
		get: (deps, id) => getInstance(deps.db, id),
		tracked: (deps, ownerId) => trackedInstances(deps.db, ownerId),
		insert: (deps, row) => insertInstance(deps.db, row as NewInstance),
		update: async (deps, id, changes) => void await updateInstance(deps.db, id, changes),
		ofLaunch: (deps, launchId) => instancesOfLaunch(deps.db, launchId),
	}),
	launch: instanceLaunch,
	sync: instanceSync,
	control: instanceControl,
	policy: {
		running: ["running"],
		stopped: ["stopped"],
		stop: "stop",
		start: "start",
		live: ["pending", "running", "stopping", "stopped"],
	},
	tag: (deps, id, tags) => deps.aws.ec2.createTags([id], tags),
	price: instanceCharge,
};

/** EMR clusters launched from cluster configurations. */
const clusterKind: MachineKind<Cluster, SeenCluster> = {
	name: "cluster",
	noun: "cluster",
	endedStates: CLUSTER_ENDED_STATES,
	rows: machineRows<Cluster>(clusters, {
		get: (deps, id) => getCluster(deps.db, id),
		tracked: (deps, ownerId) => trackedClusters(deps.db, ownerId),
		insert: (deps, row) => insertCluster(deps.db, row as NewCluster),
		update: (deps, id, changes) => updateCluster(deps.db, id, changes),
		ofLaunch: (deps, launchId) => clustersOfLaunch(deps.db, launchId),
	}),
	launch: clusterLaunch,
	sync: clusterSync,
	control: clusterControl,
	// A cluster cannot be stopped: what stops its spending is terminating it.
	policy: {
		running: ["RUNNING", "WAITING"],
		stopped: [],
		stop: "terminate",
		live: ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"],
	},
	tag: (deps, id, tags) => deps.aws.emr.addTags(id, tags),
	price: clusterCharge,
};

/** Every kind, by the name launches, bills and configurations use. */
export const MACHINE_KINDS = { instance: instanceKind, cluster: clusterKind } as const;

/** The kind of that name, as the shared steps see every kind. */
export function machineKind(name: ConfigKind): MachineKind {
	return MACHINE_KINDS[name];
}
