/**
 * EMR clusters from cluster configurations, on the same machinery as instances: a `launches` row,
 * the launcher job (stack, then the cluster through the EMR API, with a timeout), the sync job
 * (clusters that end on their own), billed periods, the DNS plugin, audit and permissions.
 */
import { z } from "zod";
import type { Viewer } from "./auth/identify.ts";
import type { EmrCluster, Stack } from "./aws/types.ts";
import { autoTerminateMinutes } from "./admin.ts";
import { costCenterOf, discounted, startBilling, stopBilling } from "./billing.ts";
import { parseTemplate } from "./cfn.ts";
import { recordAudit } from "./db/audit.ts";
import { getConfig, getGroup, type Group, permittedGroupIds, type SoftwareConfig, usableTypes } from "./db/catalog.ts";
import {
	claimClusterAction,
	type Cluster,
	clustersOfLaunch,
	getCluster,
	insertCluster,
	type NewCluster,
	trackedClusters,
	updateCluster,
} from "./db/clusters.ts";
import { billsOf } from "./db/bills.ts";
import { insertLaunch, type Launch, updateLaunch } from "./db/launches.ts";
import { displayName, getUser, type User } from "./db/users.ts";
import type { Deps } from "./deps.ts";
import { publishDns, unpublishDns } from "./dns.ts";
import { AwsError, UserError } from "./errors.ts";
import {
	completeLaunch,
	failLaunch,
	followStack,
	type LaunchKindHandler,
	launchTimedOut,
	submitStack,
} from "./launcher.ts";
import { checkParameterSizes } from "./launch.ts";
import { clusterStackName, instanceNameFor, LAUNCH_TAG, stackTags } from "./machines/tags.ts";
import type { Price } from "./pricing.ts";
import type { Settings } from "./settings.ts";
import { ACTION_STALE_MS, CLUSTER_ENDED_STATES, withinVanishGrace } from "./machines/lifecycle.ts";
import { authorizeAction, explainAwsError } from "./control.ts";

export const MIN_CORE_NODES = 2;
export const MAX_CORE_NODES = 240;
export const PURPOSE_MAX = 100;
/** States in which a cluster is up and usable. */
const READY_STATES = ["RUNNING", "WAITING"];

/** The cluster form, validated on the server (the original's form, with its range bug fixed). */
const clusterFormSchema = z.object({
	instanceType: z.string({ error: "Choose an instance type" }).trim()
		.min(1, "Choose an instance type")
		.max(64, "An instance type name is at most 64 characters"),
	purpose: z.string({ error: "Say what the cluster is for" }).trim()
		.min(1, "Say what the cluster is for")
		.max(PURPOSE_MAX, `At most ${PURPOSE_MAX} characters`)
		.regex(/^[\p{L}\p{N} .,:;()'\/_-]+$/u, "Letters, digits, spaces and . , : ; ( ) ' / _ - only"),
	coreNodes: z.coerce.number({ error: "A number of nodes" })
		.int("A whole number of nodes")
		.min(MIN_CORE_NODES, `At least ${MIN_CORE_NODES} core nodes`)
		.max(MAX_CORE_NODES, `At most ${MAX_CORE_NODES} core nodes`),
	market: z.enum(["ON_DEMAND", "SPOT"], { error: "Choose on demand or spot" }),
	bidPrice: z.preprocess(
		(v) => v === "" || v === undefined ? undefined : v,
		z.coerce.number({ error: "A price in dollars" }).min(0.001, "At least $0.001").max(100, "At most $100").optional(),
	),
	autoTerminateHours: z.coerce.number({ error: "A number of hours" })
		.int("A whole number of hours")
		.min(0, "0 to 71 hours")
		.max(71, "0 to 71 hours")
		.default(0),
	autoTerminateMinutes: z.coerce.number({ error: "A number of minutes" })
		.int("A whole number of minutes")
		.min(0, "0 to 59 minutes")
		.max(59, "0 to 59 minutes")
		.default(0),
}).superRefine((form, ctx) => {
	if (form.market === "SPOT" && form.bidPrice === undefined) {
		ctx.addIssue({ code: "custom", path: ["bidPrice"], message: "A spot cluster needs a bid price" });
	}
});
type ClusterForm = z.infer<typeof clusterFormSchema>;

/** What a cluster costs per hour for a type, size and market, from the pricing file. */
export interface ClusterEstimate {
	/** $/hour for the whole cluster, or null when a price is unknown. */
	perHour: number | null;
	ec2: Price;
	emr: Price;
	nodes: number;
	/** The per-node EC2 rate used: on demand, or the bid capped at on demand for spot. */
	ec2PerNode: number | null;
}

/**
 * (EC2 + EMR surcharge) × (core + 1 master) per hour, less the discount; spot uses the bid capped
 * at the on-demand price (the most the cluster can be charged).
 */
export function clusterEstimate(
	deps: Pick<Deps, "pricing" | "settings">,
	input: { instanceType: string; coreNodes: number; market: string; bidPrice?: number },
): ClusterEstimate {
	const ec2 = deps.pricing.onDemand(input.instanceType, deps.settings.AWS_REGION, "linux");
	const emr = deps.pricing.emrSurcharge(input.instanceType, deps.settings.AWS_REGION);
	const nodes = input.coreNodes + 1;
	const ec2PerNode = !ec2.known
		? null
		: input.market === "SPOT" && input.bidPrice !== undefined
		? Math.min(input.bidPrice, ec2.hourly)
		: ec2.hourly;
	const perHour = clusterHourly(ec2PerNode, emr, nodes, deps.settings);
	return { perHour, ec2, emr, nodes, ec2PerNode };
}

/** (EC2 per node + EMR surcharge) × nodes, less the discount; null when a price is unknown. */
function clusterHourly(
	ec2PerNode: number | null,
	emr: Price,
	nodes: number,
	settings: Pick<Settings, "AWS_DISCOUNT">,
): number | null {
	return ec2PerNode === null || !emr.known ? null : discounted((ec2PerNode + emr.hourly) * nodes, settings);
}

/** The launch options of a cluster launch, as stored on the launch row. */
export interface ClusterOptions {
	purpose: string;
	coreNodes: number;
	market: "ON_DEMAND" | "SPOT";
	bidPrice: number | null;
	idleSeconds: number;
}

/** The checked request: the viewer's group and configuration, and the validated form. */
interface CheckedCluster {
	user: User;
	group: Group;
	config: SoftwareConfig;
	form: ClusterForm;
}

/**
 * Checks a cluster launch on the server: member of the group, the group has EMR access, the
 * configuration is a cluster configuration permitted to the group, the type is usable, and the form
 * is valid. Throws {@link UserError} with field messages.
 */
async function checkClusterLaunch(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	target: { groupId: number; configId: number },
	raw: Record<string, unknown>,
): Promise<CheckedCluster> {
	const group = await getGroup(deps.db, target.groupId);
	if (!group || !viewer.groupIds.includes(group.id)) {
		throw new UserError(403, "You are not a member of that group, so you cannot launch with its settings.");
	}
	if (!group.emrAccess) throw new UserError(403, `"${group.name}" has no access to EMR clusters.`);
	const config = await getConfig(deps.db, target.configId);
	if (!config || !(await permittedGroupIds(deps.db, config.id)).includes(group.id)) {
		throw new UserError(403, `That software configuration is not available to "${group.name}".`);
	}
	if (config.kind !== "cluster") throw new UserError(422, `"${config.name}" launches instances, not clusters.`);
	const parsed = clusterFormSchema.safeParse(raw);
	if (!parsed.success) {
		const fields: Record<string, string> = {};
		for (const issue of parsed.error.issues) fields[String(issue.path[0])] ??= issue.message;
		throw new UserError(422, "Please correct the marked fields.", { fields });
	}
	const types = await usableTypes(deps.db, config.id, group.id);
	if (!types.some((t) => t.name === parsed.data.instanceType)) {
		throw new UserError(422, "Please correct the marked fields.", {
			fields: { instanceType: `${parsed.data.instanceType} is not allowed for this configuration and group` },
		});
	}
	const user = await getUser(deps.db, viewer.id);
	if (!user) throw new UserError(401, "Your user record is missing; sign in again.");
	return { user, group, config, form: parsed.data };
}

/** The default idle time for the form, from the group's `cluster_auto_termination_minutes`. */
export function defaultIdle(group: Pick<Group, "settings">): { hours: number; minutes: number } {
	const total = autoTerminateMinutes(group.settings);
	return { hours: Math.min(71, Math.floor(total / 60)), minutes: total % 60 };
}

/** Records a cluster launch (before any AWS call) and returns it; the launcher submits it. */
export async function requestClusterLaunch(
	deps: Deps,
	viewer: Viewer,
	target: { groupId: number; configId: number },
	raw: Record<string, unknown>,
): Promise<Launch> {
	const checked = await checkClusterLaunch(deps, viewer, target, raw);
	const { form, group, config } = checked;
	const launchId = crypto.randomUUID();
	const options: ClusterOptions = {
		purpose: form.purpose,
		coreNodes: form.coreNodes,
		market: form.market,
		bidPrice: form.market === "SPOT" ? form.bidPrice ?? null : null,
		idleSeconds: form.autoTerminateHours * 3600 + form.autoTerminateMinutes * 60,
	};
	const stackName = clusterStackName(instanceNameFor(group, config), form.market, launchId);
	// The parameters are built now too, so a template or size problem is a 4xx before anything is recorded.
	const parameters = clusterParameters({
		settings: deps.settings,
		group,
		config,
		instanceType: form.instanceType,
		options,
		stackName,
		subnetId: "subnet-00000000000000000",
	});
	checkParameterSizes(parameters);
	const launch = await insertLaunch(deps.db, {
		id: launchId,
		userId: checked.user.id,
		groupId: group.id,
		configId: config.id,
		kind: "cluster",
		instanceType: form.instanceType,
		options: { ...options },
		stackName,
		status: "queued",
		step: "Queued: sending the request to CloudFormation",
		// A cluster's nodes report no progress: no token is made, so none can be accepted.
		progressTokenHash: "",
	});
	deps.metrics.launches.inc({ outcome: "requested" });
	deps.log.launch.info("cluster launch {launchId} requested by {user}: {config} ({type} × {nodes})", {
		launchId,
		user: viewer.username,
		config: config.name,
		type: form.instanceType,
		nodes: form.coreNodes + 1,
	});
	return launch;
}

/**
 * The stack parameters: the portal's values for the parameters the template declares (the
 * original's rule: nothing undeclared is sent), then the configuration's params for the rest.
 */
export function clusterParameters(
	input: {
		settings: Pick<Settings, "TIME_ZONE">;
		group: Group;
		config: SoftwareConfig;
		instanceType: string;
		options: ClusterOptions;
		stackName: string;
		subnetId: string;
	},
): Record<string, string> {
	const template = parseTemplate(input.config.templateBody);
	if (!template.ok) throw new UserError(422, `The configuration's template cannot be read: ${template.error}`);
	const { group, config, options } = input;
	const portal: Record<string, string> = {
		paramClusterName: input.stackName,
		paramEnvironment: group.sdlc,
		paramTimeZone: input.settings.TIME_ZONE,
		paramAGS: group.ags,
		paramInstanceType: input.instanceType,
		paramCoreInstanceCount: String(options.coreNodes),
		paramTaskInstanceCount: "0",
		paramMarketType: options.market,
		paramSubnetID: input.subnetId,
		paramEc2KeyName: group.keyName,
		paramEMRManagedMasterSecurityGroup: config.emrMasterSecurityGroup,
		paramEMRManagedSlaveSecurityGroup: config.emrSlaveSecurityGroup,
		paramAdditionalMasterSecurityGroups: config.emrAdditionalMasterSecurityGroups,
		paramAdditionalSlaveSecurityGroups: config.emrAdditionalSlaveSecurityGroups,
		paramIdleSeconds: String(options.idleSeconds),
	};
	// Only spot clusters bid (the original sent a second, conflicting paramBidPrice for on-demand).
	if (options.market === "SPOT" && options.bidPrice !== null) portal.paramBidPrice = options.bidPrice.toFixed(3);
	if (group.iamInstanceProfile) portal.paramJobFlowRole = group.iamInstanceProfile;
	if (group.directoryName) portal.paramLdapGroup = group.directoryName;
	const declared = template.parameters;
	const parameters: Record<string, string> = {};
	for (const [key, value] of Object.entries(portal)) {
		// Empty optional values are left to the template's defaults.
		if (key in declared && (value !== "" || declared[key]!.default === undefined)) parameters[key] = value;
	}
	for (const [key, value] of Object.entries(config.params)) {
		if (key in declared && !(key in parameters)) parameters[key] = value;
	}
	return parameters;
}

/** The original's cluster tags (with "Launched By"), plus the portal's own. */
export function clusterTags(
	input: {
		user: User;
		group: Group;
		options: ClusterOptions;
		stackName: string;
		launchId: string;
		defaultChargeCode: string;
	},
): Record<string, string> {
	const tags: Record<string, string> = {
		"Cost Center": costCenterOf(input.group, input.defaultChargeCode),
		AGS: input.group.ags,
		SDLC: input.group.sdlc,
		Purpose: input.options.purpose,
		Owner: displayName(input.user),
		Name: input.stackName,
		UserGroup: input.group.name,
		Creator: input.user.username,
		"Launched By": "MLiy",
		[LAUNCH_TAG]: input.launchId,
	};
	return stackTags(tags);
}

function clusterOptions(launch: Launch): ClusterOptions {
	const o = launch.options as Partial<ClusterOptions>;
	return {
		purpose: String(o.purpose ?? ""),
		coreNodes: Number(o.coreNodes ?? MIN_CORE_NODES),
		market: o.market === "SPOT" ? "SPOT" : "ON_DEMAND",
		bidPrice: typeof o.bidPrice === "number" ? o.bidPrice : null,
		idleSeconds: Number(o.idleSeconds ?? 0),
	};
}

/** The cluster's rate: (EC2 or observed spot + EMR surcharge) × nodes × (1 − discount). */
async function clusterRate(deps: Deps, cluster: Cluster): Promise<{ rate: Price; spotPrice: number | null }> {
	const region = deps.settings.AWS_REGION;
	const ec2 = deps.pricing.onDemand(cluster.instanceType, region, "linux");
	const emr = deps.pricing.emrSurcharge(cluster.instanceType, region);
	let perNode: number | null = ec2.known ? ec2.hourly : null;
	let spotPrice: number | null = null;
	if (cluster.market === "SPOT") {
		if (cluster.availabilityZone) {
			spotPrice = await deps.aws.ec2.latestSpotPrice(cluster.instanceType, cluster.availabilityZone).catch(() =>
				undefined
			) ??
				null;
		}
		// Without an observed spot price, the bid capped at on demand is the most the cluster pays.
		perNode = spotPrice ??
			(cluster.bidPrice !== null && perNode !== null ? Math.min(cluster.bidPrice, perNode) : perNode);
	}
	const hourly = clusterHourly(
		perNode,
		emr,
		cluster.nodesRequested || cluster.coreNodes + 1,
		deps.settings,
	);
	// An unknown price says which one is unknown.
	return { rate: hourly !== null ? { known: true, hourly } : ec2.known ? emr : ec2, spotPrice };
}

/** What EMR shows about a cluster, gathered in one place for {@link observeCluster}. */
interface SeenCluster {
	cluster: EmrCluster;
	masterIp?: string;
	nodesRunning?: number;
	nodesRequested?: number;
}

/** Asks EMR about a cluster (describe, instance groups, master IP); undefined when EMR does not know it. */
async function describeCluster(deps: Deps, id: string, full: boolean): Promise<SeenCluster | undefined> {
	const cluster = await deps.aws.emr.describeCluster(id);
	if (!cluster) return undefined;
	if (!full || CLUSTER_ENDED_STATES.includes(cluster.state)) return { cluster };
	const [groups, masterIp] = await Promise.all([deps.aws.emr.listInstanceGroups(id), deps.aws.emr.masterPrivateIp(id)]);
	return {
		cluster,
		masterIp,
		nodesRunning: groups.reduce((n, g) => n + g.running, 0),
		nodesRequested: groups.length ? groups.reduce((n, g) => n + g.requested, 0) : undefined,
	};
}

/**
 * Applies what EMR shows to the cluster's row: state and reason, master address, node counts,
 * billed period (from EMR's creation time to its end time, also when it ended on its own) and DNS.
 */
async function observeCluster(
	deps: Deps,
	row: Cluster,
	seen: SeenCluster | undefined,
	now: Date,
): Promise<Partial<NewCluster>> {
	const changes: Partial<NewCluster> = {};
	const state = seen?.cluster.state ?? "vanished";
	if (state !== row.state) changes.state = state;
	if (seen) {
		const c = seen.cluster;
		changes.lastSeenAt = now;
		if (c.stateReason && c.stateReason !== row.stateReason) changes.stateReason = c.stateReason.slice(0, 500);
		if (c.masterDns && c.masterDns !== row.masterDns) changes.masterDns = c.masterDns;
		if (seen.masterIp && seen.masterIp !== row.masterIp) changes.masterIp = seen.masterIp;
		if (seen.nodesRunning !== undefined && seen.nodesRunning !== row.nodesRunning) {
			changes.nodesRunning = seen.nodesRunning;
		}
		if (seen.nodesRequested !== undefined && seen.nodesRequested !== row.nodesRequested) {
			changes.nodesRequested = seen.nodesRequested;
		}
		if (c.availabilityZone && c.availabilityZone !== row.availabilityZone) {
			changes.availabilityZone = c.availabilityZone;
		}
		if (c.createdAt && !row.startedAt) changes.startedAt = c.createdAt;
		if (c.endedAt && !row.endedAt) changes.endedAt = c.endedAt;
	}
	const ended = CLUSTER_ENDED_STATES.includes(state);
	// A vanished cluster is billed until it was last seen, not until the sync noticed.
	if (ended && !row.endedAt && !changes.endedAt) changes.endedAt = seen ? now : row.lastSeenAt ?? now;
	if (ended) changes.nodesRunning = 0;

	// Billing: one period for the cluster's whole life, from EMR's creation time to its end time
	// (a cluster cannot be stopped, so a closed period is never reopened).
	const merged = { ...row, ...changes } as Cluster;
	if (seen && !row.endedAt && (await billsOf(deps.db, row.id)).length === 0) {
		const opened = await openClusterBill(deps, merged, merged.startedAt ?? now);
		if (opened.spotPrice !== null) changes.spotPrice = opened.spotPrice;
	}
	if (ended) {
		if (await stopBilling(deps.db, row.id, merged.endedAt ?? now)) {
			deps.log.web.info("billing for cluster {id} stopped ({state})", { id: row.id, state });
		}
	}

	// DNS: a record for the master while the cluster lives; removed when it ends.
	const ip = merged.masterIp;
	if (!ended && ip && ip !== row.dnsIp) {
		const published = await publishDns(deps, row.id, ip);
		if (published.ok) {
			changes.dnsIp = ip;
			changes.dnsName = published.name;
		}
	} else if (ended && row.dnsIp) {
		if (await unpublishDns(deps, row.id, row.dnsIp)) changes.dnsIp = null;
	}
	if (
		row.pendingAction && (ended || (row.pendingSince && now.getTime() - row.pendingSince.getTime() > ACTION_STALE_MS))
	) {
		changes.pendingAction = null;
		changes.pendingSince = null;
	}
	if (Object.keys(changes).length) await updateCluster(deps.db, row.id, changes);
	if (changes.state) deps.log.web.info("cluster {id}: {from} -> {to}", { id: row.id, from: row.state, to: state });
	return changes;
}

async function openClusterBill(deps: Deps, cluster: Cluster, at: Date): Promise<{ spotPrice: number | null }> {
	const group = cluster.groupId ? await getGroup(deps.db, cluster.groupId) : undefined;
	const { rate, spotPrice } = await clusterRate(deps, cluster);
	const nodes = cluster.nodesRequested || cluster.coreNodes + 1;
	await startBilling(deps.db, {
		resourceKind: "cluster",
		resourceId: cluster.id,
		userId: cluster.ownerId,
		groupId: cluster.groupId,
		costCenter: costCenterOf(group, deps.settings.DEFAULT_CHARGE_CODE),
		description: `${cluster.market === "SPOT" ? "SPOT" : "ON DEMAND"} ${cluster.instanceType} × ${nodes}`,
		rate,
		at,
	});
	return { spotPrice };
}

/** Follows every tracked cluster (or one owner's): clusters that end on their own are closed out. */
export async function syncClusters(deps: Deps, scope: { ownerId?: number } = {}): Promise<number> {
	const now = deps.clock();
	const tracked = await trackedClusters(deps.db, scope.ownerId);
	for (const row of tracked) {
		const seen = await describeCluster(deps, row.id, true);
		if (!seen && withinVanishGrace(row, now)) continue;
		await observeCluster(deps, row, seen, now);
	}
	return tracked.length;
}

// ---------------------------------------------------------------------------------------------
// The launcher: the stack, then the cluster.

async function recordCluster(deps: Deps, launch: Launch, clusterId: string, stack: Stack): Promise<Cluster> {
	const options = clusterOptions(launch);
	const [group, config] = await Promise.all([getGroup(deps.db, launch.groupId), getConfig(deps.db, launch.configId)]);
	const inserted = await insertCluster(deps.db, {
		id: clusterId,
		launchId: launch.id,
		stackId: stack.stackId,
		stackName: launch.stackName,
		ownerId: launch.userId,
		groupId: launch.groupId,
		configId: launch.configId,
		name: group && config ? instanceNameFor(group, config) : launch.stackName,
		purpose: options.purpose,
		instanceType: launch.instanceType,
		coreNodes: options.coreNodes,
		market: options.market,
		bidPrice: options.bidPrice,
		idleSeconds: options.idleSeconds,
		nodesRequested: options.coreNodes + 1,
		state: "STARTING",
		masterDns: stack.outputs.MasterDNS ?? null,
		createdAt: deps.clock(),
	});
	if (inserted) {
		deps.log.launch.info("launch {launchId}: cluster {clusterId} recorded", { launchId: launch.id, clusterId });
		await recordAudit(deps.db, {
			at: deps.clock(),
			actorId: launch.userId,
			actor: "launcher",
			action: "launch",
			resourceKind: "cluster",
			resourceId: clusterId,
			outcome: "ok",
			detail: `created by stack ${launch.stackName}`,
		});
	}
	return (await getCluster(deps.db, clusterId))!;
}

/** Clusters: the stack, then the cluster through EMR. */
export const clusterLaunchHandler: LaunchKindHandler = {
	async submit(deps: Deps, launch: Launch) {
		await submitStack(deps, launch, ({ user, group, config, placement }) => {
			const options = clusterOptions(launch);
			const parameters = clusterParameters({
				settings: deps.settings,
				group,
				config,
				instanceType: launch.instanceType,
				options,
				stackName: launch.stackName,
				subnetId: placement.subnetId,
			});
			checkParameterSizes(parameters);
			const tags = clusterTags({
				user,
				group,
				options,
				stackName: launch.stackName,
				launchId: launch.id,
				defaultChargeCode: deps.settings.DEFAULT_CHARGE_CODE,
			});
			return Promise.resolve({ templateBody: config.templateBody, parameters, tags });
		});
	},

	/**
	 * Follows the stack until its cluster exists, then the cluster until it is ready: complete when
	 * EMR says it became ready; failed when the stack fails, the cluster ends before it was ready, or
	 * a step fails; failed with a reason after LAUNCH_TIMEOUT_MINUTES.
	 */
	async follow(deps: Deps, launch: Launch) {
		let [row] = await clustersOfLaunch(deps.db, launch.id);
		if (!row) {
			const recorded: { cluster?: Cluster } = {};
			const stack = await followStack(deps, launch, async (resources, stack) => {
				// Read outputs by name, never by position; fall back to the stack's cluster resource.
				const clusterId = stack.outputs.ClusterID ??
					resources.find((r) => r.type === "AWS::EMR::Cluster" && r.physicalId)?.physicalId;
				if (!clusterId) return "CloudFormation is creating the cluster";
				recorded.cluster = await recordCluster(deps, launch, clusterId, stack);
				return `Cluster ${clusterId} created; waiting for EMR to start it`;
			}, { completeOnStack: false });
			// Without a stack the launch has failed (or its stack is rolling back).
			if (!stack || !recorded.cluster) return;
			row = recorded.cluster;
		}
		const now = deps.clock();
		const seen = await describeCluster(deps, row.id, true);
		if (!seen) {
			// EMR may not list a cluster CloudFormation just created: wait out the grace before giving up.
			if (withinVanishGrace(row, now)) return;
			await observeCluster(deps, row, undefined, now);
			return await failLaunch(deps, launch, `EMR does not know cluster ${row.id}`);
		}
		const current = { ...row, ...await observeCluster(deps, row, seen, now) } as Cluster;
		const steps = await deps.aws.emr.listSteps(row.id).catch(() => []);
		const failedStep = steps.find((s) => s.state === "FAILED" || s.state === "CANCELLED");
		if (failedStep) {
			return await failLaunch(
				deps,
				launch,
				`Step "${failedStep.name}" ${failedStep.state.toLowerCase()}${
					failedStep.failureReason ? `: ${failedStep.failureReason}` : ""
				}. The cluster is still running; terminate it from its page if you do not need it.`,
			);
		}
		const ready = !!seen.cluster.readyAt || READY_STATES.includes(seen.cluster.state);
		if (ready) return await completeLaunch(deps, launch, "Ready");
		if (CLUSTER_ENDED_STATES.includes(seen.cluster.state)) {
			// A cluster that ends while its stack is being created takes the stack into a rollback: the
			// stack decides, so that the rolled-back stack is deleted and its reason shown.
			const stack = await followStack(deps, launch, undefined, { completeOnStack: false });
			if (!stack || stack.status.endsWith("_IN_PROGRESS")) return;
			return await failLaunch(
				deps,
				launch,
				`The cluster ended before it was ready (${seen.cluster.state}${
					seen.cluster.stateReason ? `: ${seen.cluster.stateReason}` : ""
				}).`,
			);
		}
		if (launchTimedOut(deps, launch)) {
			return await failLaunch(
				deps,
				launch,
				`Gave up after ${deps.settings.LAUNCH_TIMEOUT_MINUTES} minutes: the cluster was still ${seen.cluster.state}` +
					(current.masterIp ? "" : " without a master address") +
					` (${current.nodesRunning} of ${current.nodesRequested} nodes running). Terminate it from its page if you do not need it.`,
			);
		}
		const step =
			`Cluster ${row.id} is ${seen.cluster.state}: ${current.nodesRunning} of ${current.nodesRequested} nodes running` +
			(current.masterIp ? `, master ${current.masterIp}` : "");
		if (step !== launch.step) await updateLaunch(deps.db, launch.id, "creating", { step });
	},
};

// ---------------------------------------------------------------------------------------------
// Terminate (and remove the record of an ended cluster).

/** Terminates a cluster (deletes its stack) or removes an ended one from the lists; owner or admin. */
export async function terminateCluster(deps: Deps, viewer: Viewer, clusterId: string): Promise<Cluster> {
	const now = deps.clock();
	const cluster = await getCluster(deps.db, clusterId);
	if (!cluster || cluster.archived) throw new UserError(404, `No cluster ${clusterId} is known to the portal`);
	const audit = await authorizeAction(deps, viewer, { kind: "cluster", id: clusterId, ownerId: cluster.ownerId }, {
		name: "terminate",
		ownerOnly: true,
		verb: "terminate",
	});
	const ended = CLUSTER_ENDED_STATES.includes(cluster.state);
	if (
		!ended && !await claimClusterAction(deps.db, clusterId, "terminate", now, new Date(now.getTime() - ACTION_STALE_MS))
	) {
		await audit("refused", "a terminate is already in progress");
		throw new UserError(409, "A terminate is already in progress for this cluster");
	}
	try {
		if (cluster.stackId) await deps.aws.cloudFormation.deleteStack(cluster.stackId);
		else if (!ended) await deps.aws.emr.terminateJobFlows([clusterId]);
	} catch (error) {
		if (!ended) await updateCluster(deps.db, clusterId, { pendingAction: null, pendingSince: null });
		await audit("error", (error as Error).message);
		if (error instanceof AwsError) {
			throw new UserError(error.transient ? 503 : 409, explainAwsError(error), { cause: error });
		}
		throw error;
	}
	// Billing goes on until EMR reports the cluster's end time: terminating takes minutes, and the
	// sync closes the period at that time.
	const changes: Partial<NewCluster> = ended ? { archived: true } : { state: "TERMINATING" };
	if (!ended && cluster.dnsIp && await unpublishDns(deps, clusterId, cluster.dnsIp)) changes.dnsIp = null;
	await updateCluster(deps.db, clusterId, changes);
	await audit("ok", ended ? "record removed" : `deleting stack ${cluster.stackName ?? cluster.stackId ?? ""}`);
	deps.log.web.info("{what} cluster {clusterId} by {user}", {
		what: ended ? "removed" : "terminate",
		clusterId,
		user: viewer.username,
	});
	return (await getCluster(deps.db, clusterId))!;
}

/** The cluster's "Connection" string: the configuration's format with `{{{ URL }}}` as DNS name or master IP. */
export function connectionString(format: string | null, host: string | null): string | null {
	if (!host) return null;
	if (!format || !format.includes("{{{ URL }}}")) return host;
	return format.replaceAll("{{{ URL }}}", host);
}
