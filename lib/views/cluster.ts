/**
 * The data of an EMR cluster as the pages show it: a row of the dashboard and team tables, and the
 * detail panel with its connection string, its estimated rate (or why it is unknown) and whether
 * the viewer may terminate it (or remove the record of an ended one).
 */
import { launchAgainHref } from "../launch/again.ts";
import type { Viewer } from "../auth/identify.ts";
import { cleanAwsText } from "../aws_failures.ts";
import { type ClusterEstimate, clusterEstimate } from "../billing/rates.ts";
import { availableActions } from "../control/control.ts";
import { type ClusterRow, getClusterRow } from "../db/clusters.ts";
import type { Deps } from "../deps.ts";
import { type Connection, CONNECTION_LABEL, connectionOf } from "../machines/connect.ts";
import { CLUSTER_ENDED_STATES, VANISHED } from "../machines/lifecycle.ts";
import { type CostSoFar, costsSoFar } from "../billing/so_far.ts";
import {
	activityOf,
	type AuditEntry,
	NAME_SHOWN,
	type Rate,
	type RenameForm,
	renameForm,
	uptimeMs,
	visibleMachine,
	type WebLink,
} from "./machines.ts";
import { AWS_TEXT, plainText } from "../text.ts";
import { type NextAction, type PolicyPanelProps, policyPanelView, type PolicySubmission } from "./policy.ts";

/** What a row and the panel both show. */
interface ClusterFacts {
	id: string;
	/** The cluster's name, empty when it has none. */
	name: string;
	href: string;
	ownerName: string;
	purpose: string;
	state: string;
	pendingAction: string | null;
	market: "ON_DEMAND" | "SPOT";
	instanceType: string;
	nodesRunning: number;
	nodesRequested: number;
	configName: string | null;
	/**
	 * A cluster that failed: ended with errors, or ended during its launch (which then failed); with
	 * EMR's state-change reason. Null otherwise.
	 */
	failed: { reason: string } | null;
}

/** A cluster as a row of the dashboard or team table. */
export interface ClusterRowProps extends ClusterFacts {
	/** The master's web address; null when unknown or ended. */
	link: WebLink | null;
	/** How long it has been up; null when it has not started or has ended. */
	uptimeMs: number | null;
	/** What its policy will do next ("idle for 12 min; terminated after 30"); none when nothing is planned. */
	next?: NextAction;
	/** The estimated hourly cost (or why it is unknown); null once the cluster has ended. */
	rate: Rate | null;
	/** How to reach it; null once it has ended. */
	connect: Connection | null;
	/** What it has cost this month and since launch (every node), from its billed periods. */
	soFar?: CostSoFar;
}

/** A cluster's detail panel. */
export interface ClusterPanelProps extends ClusterFacts {
	ownerUsername: string;
	groupName: string | null;
	bidPrice: number | null;
	stateReason: string | null;
	/** The master's address as EMR reports it. */
	host: string | null;
	/** The "Connection" string (the configuration's unlabelled format around the host); null when unknown or ended. */
	connection: string | null;
	/** How to reach it (address, SSH command, application links); null once it has ended. */
	connect: Connection | null;
	/** The estimated hourly cost (or why it is unknown); null once the cluster has ended. */
	rate: Rate | null;
	idleSeconds: number;
	startedAt: Date | null;
	endedAt: Date | null;
	lastSeenAt: Date | null;
	stackName: string | null;
	/** The viewer's terminate button; null when the viewer may not, or an action is in flight. */
	terminate: { url: string; ended: boolean } | null;
	/** The wizard pre-filled as this cluster was launched, for a viewer in its group, live or ended. */
	launchAgain: string | null;
	events: AuditEntry[];
	/** Its machine policy; none once it has ended. */
	policy?: PolicyPanelProps | null;
	/** The machine's whole part of the audit trail (admins only: the audit view is theirs). */
	auditHref?: string;
	/** The fragment URL polled while the cluster is changing; null when it is steady. */
	poll: string | null;
	/** Its rename form; null once it has ended. */
	rename: RenameForm | null;
	/** What it has cost this month and since launch (every node). */
	soFar: CostSoFar;
	/** What the last form of the panel did (a rename), shown above its actions. */
	result?: { tone: "ok"; text: string };
	timeZone: string;
}

/** How many events the panel shows. */
const PANEL_EVENTS = 10;

function ended(row: Pick<ClusterRow, "state">): boolean {
	return CLUSTER_ENDED_STATES.includes(row.state);
}

/** Whether the cluster is on its way somewhere (starting, terminating, an action in flight). */
function isLive(row: ClusterRow): boolean {
	return !ended(row) && row.state !== "WAITING" && row.state !== "RUNNING" || !!row.pendingAction;
}

/** The cluster's address: its DNS name, else the master's. */
function host(row: ClusterRow): string | null {
	return row.dnsName || row.masterDns || row.masterIp;
}

/** How long an EMR cluster usually takes from launch until its master has an address. */
export const CLUSTER_ADDRESS_MINUTES = 10;

/** How to reach a cluster (its master), from the configuration's formats. */
function connectOf(row: ClusterRow): Connection | null {
	return connectionOf({
		host: host(row),
		ended: ended(row),
		keyName: row.keyName,
		loginUser: row.loginUser,
		formats: row.customUrlFormat,
		waiting:
			`The address appears when EMR has started the master node — usually within ${CLUSTER_ADDRESS_MINUTES} minutes of launch.`,
	});
}

/** Whether a cluster failed: EMR ended it with errors, or it ended while the portal was launching it. */
function failure(row: ClusterRow): { reason: string } | null {
	if (!ended(row) || row.state === VANISHED) return null;
	if (row.state !== "TERMINATED_WITH_ERRORS" && row.launchStatus !== "failed") return null;
	return { reason: row.stateReason ? cleanAwsText(row.stateReason) : "EMR gave no reason" };
}

function facts(row: ClusterRow): ClusterFacts {
	return {
		id: row.id,
		name: plainText(row.name, NAME_SHOWN),
		href: `/clusters/${row.id}`,
		ownerName: row.ownerName,
		purpose: plainText(row.purpose, AWS_TEXT.tagValue),
		state: row.state,
		pendingAction: row.pendingAction,
		market: row.market,
		instanceType: row.instanceType,
		nodesRunning: row.nodesRunning,
		nodesRequested: row.nodesRequested,
		configName: row.configName,
		failed: failure(row),
	};
}

/** What a cluster is estimated to cost an hour, from its type, nodes and market. */
function estimatedRate(deps: Pick<Deps, "pricing" | "settings">, row: ClusterRow): Rate {
	return estimateRate(clusterEstimate(deps, {
		instanceType: row.instanceType,
		coreNodes: row.coreNodes,
		market: row.market,
		bidPrice: row.bidPrice ?? undefined,
	}));
}

/** A cluster estimate's hourly rate, or which price (EC2 or the EMR surcharge) is unknown. */
export function estimateRate(estimate: ClusterEstimate): Rate {
	if (estimate.perHour !== null) return { known: true, hourly: estimate.perHour };
	return {
		known: false,
		reason: !estimate.ec2.known ? estimate.ec2.reason : !estimate.emr.known ? estimate.emr.reason : "",
	};
}

/** A cluster row of a table, with its next planned action (from `nextActions`). */
export function clusterRow(
	deps: Pick<Deps, "pricing" | "settings">,
	row: ClusterRow,
	now: Date,
	next?: NextAction,
	soFar?: CostSoFar,
): ClusterRowProps {
	const address = host(row);
	return {
		...facts(row),
		link: address && !ended(row) ? { href: `https://${address}/`, label: address } : null,
		uptimeMs: uptimeMs(row.startedAt, !ended(row), now),
		next,
		rate: ended(row) ? null : estimatedRate(deps, row),
		connect: connectOf(row),
		soFar,
	};
}

/**
 * The detail panel of a cluster the viewer may see, with its recent activity and policy;
 * `submitted` is a policy form's submission to show again.
 */
export async function clusterPanelView(
	deps: Deps,
	viewer: Viewer,
	id: string,
	submitted?: PolicySubmission,
): Promise<ClusterPanelProps> {
	const row = await visibleMachine(deps, viewer, { kind: "cluster", id, load: (id) => getClusterRow(deps.db, id) });
	const [events, policy, soFar] = await Promise.all([
		activityOf(deps, row.id, PANEL_EVENTS),
		policyPanelView(deps, viewer, { kind: "cluster", id: row.id, state: row.state }, submitted),
		costsSoFar(deps, [row.id], deps.clock()),
	]);
	const connect = connectOf(row);
	const connection = connect?.host
		? connect.links.find((link) => link.label === CONNECTION_LABEL)?.text ?? connect.host
		: null;
	const mayTerminate = availableActions("cluster", viewer, row, true).includes("terminate");
	return {
		...facts(row),
		ownerUsername: row.ownerUsername,
		groupName: row.groupName,
		bidPrice: row.bidPrice,
		stateReason: row.stateReason && plainText(row.stateReason, AWS_TEXT.reason),
		host: row.masterIp ?? row.masterDns,
		connection,
		connect,
		rate: ended(row) ? null : estimatedRate(deps, row),
		idleSeconds: row.idleSeconds,
		startedAt: row.startedAt,
		endedAt: row.endedAt,
		lastSeenAt: row.lastSeenAt,
		stackName: row.stackName,
		terminate: mayTerminate && !row.pendingAction
			? { url: `/ajax/cluster/${row.id}/terminate`, ended: ended(row) }
			: null,
		launchAgain: row.groupId !== null && row.configId !== null && viewer.groupIds.includes(row.groupId)
			? launchAgainHref({
				groupId: row.groupId,
				configId: row.configId,
				kind: "cluster",
				instanceType: row.instanceType,
				options: {
					purpose: row.purpose,
					coreNodes: row.coreNodes,
					market: row.market,
					bidPrice: row.bidPrice,
					idleSeconds: row.idleSeconds,
				},
				name: row.name,
			})
			: null,
		events,
		policy,
		auditHref: viewer.role === "admin" ? `/admin/audit?machine=${encodeURIComponent(row.id)}` : undefined,
		poll: isLive(row) ? `/clusters/${row.id}/panel` : null,
		rename: renameForm("cluster", row.id, plainText(row.name, NAME_SHOWN), ended(row)),
		soFar: soFar.get(row.id)!,
		timeZone: deps.settings.TIME_ZONE,
	};
}
