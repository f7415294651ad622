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
import { claimAction, machinesByIds, markMachinesSeen } from "../db/machines.ts";
import { clusters, type ConfigKind, instances } from "../db/schema.ts";
import { clusterLaunch, type SeenCluster } from "../launch/cluster.ts";
import { instanceLaunch } from "../launch/instance.ts";
import { clusterSync } from "../sync/clusters.ts";
import { instanceSync } from "../sync/instances.ts";
import { CLUSTER_ENDED_STATES, INSTANCE_ENDED_STATES } from "./lifecycle.ts";
import type { MachineKind } from "./model.ts";

/** EC2 instances launched from instance configurations. */
const instanceKind: MachineKind<Instance, Ec2Instance> = {
	name: "instance",
	noun: "instance",
	endedStates: INSTANCE_ENDED_STATES,
	rows: {
		get: (deps, id) => getInstance(deps.db, id),
		byIds: (deps, ids) => machinesByIds<Instance>(deps.db, instances, ids),
		ofLaunch: (deps, launchId) => instancesOfLaunch(deps.db, launchId),
		tracked: (deps, ownerId) => trackedInstances(deps.db, ownerId),
		insert: (deps, row) => insertInstance(deps.db, row as NewInstance),
		update: async (deps, id, changes) => void await updateInstance(deps.db, id, changes),
		markSeen: (deps, ids, at) => markMachinesSeen(deps.db, instances, ids, at),
		claim: (deps, claim) => claimAction(deps.db, instances, claim),
	},
	launch: instanceLaunch,
	sync: instanceSync,
	control: instanceControl,
	price: instanceCharge,
};

/** EMR clusters launched from cluster configurations. */
const clusterKind: MachineKind<Cluster, SeenCluster> = {
	name: "cluster",
	noun: "cluster",
	endedStates: CLUSTER_ENDED_STATES,
	rows: {
		get: (deps, id) => getCluster(deps.db, id),
		byIds: (deps, ids) => machinesByIds<Cluster>(deps.db, clusters, ids),
		ofLaunch: (deps, launchId) => clustersOfLaunch(deps.db, launchId),
		tracked: (deps, ownerId) => trackedClusters(deps.db, ownerId),
		insert: (deps, row) => insertCluster(deps.db, row as NewCluster),
		update: (deps, id, changes) => updateCluster(deps.db, id, changes),
		markSeen: (deps, ids, at) => markMachinesSeen(deps.db, clusters, ids, at),
		claim: (deps, claim) => claimAction(deps.db, clusters, claim),
	},
	launch: clusterLaunch,
	sync: clusterSync,
	control: clusterControl,
	price: clusterCharge,
};

/** Every kind, by the name launches, bills and configurations use. */
export const MACHINE_KINDS = { instance: instanceKind, cluster: clusterKind } as const;

/** The kind of that name, as the shared steps see every kind. */
export function machineKind(name: ConfigKind): MachineKind {
	return MACHINE_KINDS[name];
}
