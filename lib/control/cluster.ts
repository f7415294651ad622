/**
 * The action on an EMR cluster: terminate (delete its stack, or terminate it through EMR when the
 * stack is gone). Billing goes on until EMR reports the cluster's end time: terminating takes
 * minutes, and the sync closes the period then. A cluster that has ended is not terminated again:
 * "terminate" then removes its record from the lists (its stack is deleted if it still exists).
 */
import type { Cluster } from "../db/clusters.ts";
import { stackDeletionAsked } from "../machines/actions.ts";
import { reconcileDns } from "../machines/dns.ts";
import { CLUSTER_ENDED_STATES } from "../machines/lifecycle.ts";
import type { ActionRule, MachineControl } from "../machines/model.ts";

/** EMR states of a cluster that still exists. */
const LIVE_STATES = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"];

const TERMINATE: ActionRule<Cluster> = {
	from: LIVE_STATES,
	ownerOnly: true,
	verb: "terminate",
	refusal: (s) => `Cannot terminate: the cluster is already ${s}`,
	async perform(deps, row) {
		if (row.stackId) await deps.aws.cloudFormation.deleteStack(row.stackId);
		else await deps.aws.emr.terminateJobFlows([row.id]);
	},
	async settle(deps, row) {
		return {
			changes: { state: "TERMINATING", ...await reconcileDns(deps, row, { alive: false }) },
			detail: `deleting stack ${row.stackName ?? row.stackId ?? ""}`,
		};
	},
	refresh: false,
	done: (state) => CLUSTER_ENDED_STATES.includes(state),
	async confirm(deps, row) {
		if (row.stackId) return await stackDeletionAsked(deps, row.stackId);
		try {
			const seen = await deps.aws.emr.describeCluster(row.id);
			return !seen || seen.state === "TERMINATING" || CLUSTER_ENDED_STATES.includes(seen.state);
		} catch {
			return undefined;
		}
	},
};

const REMOVE: ActionRule<Cluster> = {
	from: CLUSTER_ENDED_STATES,
	ownerOnly: true,
	verb: "terminate",
	refusal: (s) => `Cannot remove the record: the cluster is ${s}`,
	async perform(deps, row) {
		if (row.stackId) await deps.aws.cloudFormation.deleteStack(row.stackId);
	},
	settle: () =>
		Promise.resolve({ changes: { archived: true, pendingAction: null, pendingSince: null }, detail: "record removed" }),
	refresh: false,
	done: () => true,
};

/** Clusters: terminate, or remove the record of an ended one. */
export const clusterControl: MachineControl<Cluster> = {
	actions: ["terminate"],
	ruleFor: (action, row) =>
		action === "terminate" ? CLUSTER_ENDED_STATES.includes(row.state) ? REMOVE : TERMINATE : undefined,
	locked: () => undefined,
};
