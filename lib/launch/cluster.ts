/**
 * How an EMR cluster is launched: its form (the original's, with its range bug fixed), the
 * parameters its template declares, its tags, then the stack until its cluster exists and the
 * cluster until EMR says it is ready, with a timeout.
 */
import { z } from "zod";
import type { EmrCluster, EmrInstanceGroup, Stack } from "../aws/types.ts";
import { cleanAwsText } from "../aws_failures.ts";
import { autoTerminateMinutes } from "../catalog/group_settings.ts";
import { parseTemplate } from "../cfn.ts";
import type { Group, SoftwareConfig } from "../db/catalog.ts";
import { type Cluster, clustersOfLaunch, getCluster, insertCluster, type NewCluster } from "../db/clusters.ts";
import { type Launch, updateLaunch } from "../db/launches.ts";
import type { User } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { CLUSTER_ENDED_STATES, VANISHED } from "../machines/lifecycle.ts";
import type { FollowContext, MachineLaunch } from "../machines/model.ts";
import { clusterStackName, instanceNameFor, launchMachineName, stackTags, standardTags } from "../machines/tags.ts";
import type { Settings } from "../settings.ts";
import { instanceTypeField, parseLaunchForm } from "./forms.ts";
import {
	completeLaunch,
	failLaunch,
	followStack,
	launchColumns,
	launchTimedOut,
	recordedByLaunch,
	stackParameters,
} from "./stacks.ts";

export const MIN_CORE_NODES = 2;
export const MAX_CORE_NODES = 240;
export const PURPOSE_MAX = 100;
/** States in which a cluster is up and usable. */
const READY_STATES = ["RUNNING", "WAITING"];

/** What EMR shows of a cluster: the cluster, and (when asked in full) its master's address and node counts. */
export interface SeenCluster extends EmrCluster {
	masterIp?: string;
	nodesRunning?: number;
	nodesRequested?: number;
	groups?: EmrInstanceGroup[];
}

/** The cluster form, validated on the server. */
const clusterFormSchema = z.object({
	instanceType: instanceTypeField,
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
		.optional(),
	autoTerminateMinutes: z.coerce.number({ error: "A number of minutes" })
		.int("A whole number of minutes")
		.min(0, "0 to 59 minutes")
		.max(59, "0 to 59 minutes")
		.optional(),
}).superRefine((form, ctx) => {
	if (form.market === "SPOT" && form.bidPrice === undefined) {
		ctx.addIssue({ code: "custom", path: ["bidPrice"], message: "A spot cluster needs a bid price" });
	}
});
export type ClusterForm = z.infer<typeof clusterFormSchema>;

/** The launch options of a cluster launch, as stored on the launch row. */
export interface ClusterOptions {
	purpose: string;
	coreNodes: number;
	market: "ON_DEMAND" | "SPOT";
	bidPrice: number | null;
	idleSeconds: number;
}

/** The default idle time for the form, from the group's `cluster_auto_termination_minutes`. */
export function defaultIdle(group: Pick<Group, "settings">): { hours: number; minutes: number } {
	const total = autoTerminateMinutes(group.settings);
	return { hours: Math.min(71, Math.floor(total / 60)), minutes: total % 60 };
}

/**
 * The idle time of a launch: the form's hours and minutes, or the group's default
 * (`cluster_auto_termination_minutes`, as the form is prefilled) when a client sends neither.
 */
export function idleSecondsOf(
	group: Pick<Group, "settings">,
	form: Pick<ClusterForm, "autoTerminateHours" | "autoTerminateMinutes">,
): number {
	if (form.autoTerminateHours === undefined && form.autoTerminateMinutes === undefined) {
		const idle = defaultIdle(group);
		return idle.hours * 3600 + idle.minutes * 60;
	}
	return (form.autoTerminateHours ?? 0) * 3600 + (form.autoTerminateMinutes ?? 0) * 60;
}

/**
 * The template parameter that feeds the cluster's AutoTerminationPolicy IdleTimeout (seconds; 0
 * for none), as the shipped template declares it.
 */
export const IDLE_TIMEOUT_PARAMETER = "paramIdleTimeoutSeconds";

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
	};
	// Idle auto-termination by EMR itself (AutoTerminationPolicy) when the template takes it; else
	// the original's parameter for the on-cluster check, which is then the only one to get the time.
	if (IDLE_TIMEOUT_PARAMETER in template.parameters) {
		portal[IDLE_TIMEOUT_PARAMETER] = String(options.idleSeconds);
		portal.paramIdleSeconds = "0";
	} else {
		portal.paramIdleSeconds = String(options.idleSeconds);
	}
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

/**
 * {@link clusterParameters} with the secret params: each goes to the NoEcho parameter of its name
 * that neither the portal nor the configuration's params fill.
 */
async function clusterStackParameters(
	deps: Pick<Deps, "db" | "paramsKey">,
	input: Parameters<typeof clusterParameters>[0],
): Promise<Record<string, string>> {
	const parameters = clusterParameters(input);
	return await stackParameters(deps, input.config.templateBody, parameters);
}

/** The standard tags (named after the stack, `UserGroup` among them), plus the original's cluster tags for parity. */
export function clusterTags(
	input: {
		user: User;
		group: Group;
		config: SoftwareConfig;
		options: ClusterOptions;
		stackName: string;
		launchId: string;
		defaultChargeCode: string;
		/** The machine's name (its `Name` tag); the stack's name when none was chosen. */
		name?: string;
	},
): Record<string, string> {
	return stackTags({
		...standardTags({ ...input, name: input.name || input.stackName }),
		Purpose: input.options.purpose,
		Creator: input.user.username,
		"Launched By": "MLiy",
	});
}

/** A cluster launch's options as stored on its row. */
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

/**
 * What a cluster row takes from its launch: the launcher records it so, and so does the sync when
 * it sees the cluster first (CloudFormation gives the cluster the stack's tags, launch id included).
 */
export function launchedClusterFields(
	launch: Launch,
	group: Group | undefined,
	config: SoftwareConfig | undefined,
	now: Date,
): Omit<NewCluster, "id"> {
	const options = clusterOptions(launch);
	return {
		...launchColumns(launch),
		name: launchMachineName(launch, group, config),
		purpose: options.purpose,
		instanceType: launch.instanceType,
		coreNodes: options.coreNodes,
		market: options.market,
		bidPrice: options.bidPrice,
		idleSeconds: options.idleSeconds,
		nodesRequested: options.coreNodes + 1,
		state: "STARTING",
		createdAt: now,
	};
}

/** Records the stack's cluster (the sync may have recorded it first); returns its row. */
async function recordCluster(
	deps: Deps,
	launch: Launch,
	context: FollowContext<Cluster, SeenCluster>,
	found: { clusterId: string; stack: Stack },
): Promise<Cluster> {
	const now = deps.clock();
	const inserted = await insertCluster(deps.db, {
		...launchedClusterFields(launch, context.group, context.config, now),
		id: found.clusterId,
		stackId: found.stack.stackId,
		masterDns: found.stack.outputs.MasterDNS ?? null,
	});
	if (inserted) await recordedByLaunch(deps, launch, { kind: "cluster", id: found.clusterId });
	return (await getCluster(deps.db, found.clusterId))!;
}

/**
 * Follows the stack until its cluster exists, then the cluster until it is ready: complete when EMR
 * says it became ready; failed when the stack fails, the cluster ends before it was ready, or a step
 * fails; failed with a reason after LAUNCH_TIMEOUT_MINUTES.
 */
async function followCluster(
	deps: Deps,
	launch: Launch,
	context: FollowContext<Cluster, SeenCluster>,
): Promise<void> {
	let [row] = await clustersOfLaunch(deps.db, launch.id);
	if (!row) {
		const recorded: { cluster?: Cluster } = {};
		const stack = await followStack(deps, launch, {
			completeOnStack: false,
			record: async (resources, stack) => {
				// Read outputs by name, never by position; fall back to the stack's cluster resource.
				const clusterId = stack.outputs.ClusterID ??
					resources.find((r) => r.type === "AWS::EMR::Cluster" && r.physicalId)?.physicalId;
				if (!clusterId) return "CloudFormation is creating the cluster";
				recorded.cluster = await recordCluster(deps, launch, context, { clusterId, stack });
				return `Cluster ${clusterId} created; waiting for EMR to start it`;
			},
		});
		// Without a stack the launch has failed (or its stack is rolling back).
		if (!stack || !recorded.cluster) return;
		row = recorded.cluster;
	}
	const [refreshed] = await context.refresh([row.id]);
	const seen = refreshed?.seen;
	if (!seen) {
		// EMR may not list a cluster CloudFormation just created: it is waited for within its grace.
		if (refreshed?.row.state === VANISHED) return await failLaunch(deps, launch, `EMR does not know cluster ${row.id}`);
		if (launchTimedOut(deps, launch)) {
			return await failLaunch(
				deps,
				launch,
				`Gave up after ${deps.settings.LAUNCH_TIMEOUT_MINUTES} minutes: EMR does not know cluster ${row.id}`,
			);
		}
		return;
	}
	const current = refreshed.row;
	const steps = await deps.aws.emr.listSteps(row.id).catch(() => []);
	const failedStep = steps.find((s) => s.state === "FAILED" || s.state === "CANCELLED");
	if (failedStep) {
		return await failLaunch(
			deps,
			launch,
			`Step "${failedStep.name}" ${failedStep.state.toLowerCase()}${
				failedStep.failureReason ? `: ${cleanAwsText(failedStep.failureReason)}` : ""
			}. The cluster is still running; terminate it from its page if you do not need it.`,
		);
	}
	// Ended first: EMR may say a cluster was ready once when it has ended since (moto ends one at once).
	if (CLUSTER_ENDED_STATES.includes(seen.state)) {
		// A cluster that ends while its stack is being created takes the stack into a rollback: the
		// stack decides, so that the rolled-back stack is deleted and its reason shown.
		const stack = await followStack(deps, launch, { completeOnStack: false });
		if (!stack || stack.status.endsWith("_IN_PROGRESS")) return;
		const when = seen.readyAt ? "right after it was ready" : "before it was ready";
		return await failLaunch(
			deps,
			launch,
			`The cluster ended ${when} (${seen.state}: ${
				seen.stateReason ? cleanAwsText(seen.stateReason) : "EMR gave no reason"
			}). Its record stays on your dashboard until you remove it.`,
		);
	}
	if (READY_STATES.includes(seen.state)) return await completeLaunch(deps, launch, "Ready");
	if (launchTimedOut(deps, launch)) {
		return await failLaunch(
			deps,
			launch,
			`Gave up after ${deps.settings.LAUNCH_TIMEOUT_MINUTES} minutes: the cluster was still ${seen.state}` +
				(current.masterIp ? "" : " without a master address") +
				` (${current.nodesRunning} of ${current.nodesRequested} nodes running). Terminate it from its page if you do not need it.`,
		);
	}
	const step =
		`Cluster ${row.id} is ${seen.state}: ${current.nodesRunning} of ${current.nodesRequested} nodes running` +
		(current.masterIp ? `, master ${current.masterIp}` : "");
	if (step !== launch.step) await updateLaunch(deps.db, launch.id, "creating", { step });
}

/** Clusters: the stack, then the cluster through EMR. */
export const clusterLaunch: MachineLaunch<Cluster, SeenCluster, ClusterForm> = {
	refusal: (group) => group.emrAccess ? undefined : `"${group.name}" has no access to EMR clusters.`,

	parseForm: (raw) => parseLaunchForm(clusterFormSchema, raw),

	async plan(deps, { group, config, form, launchId }) {
		const options: ClusterOptions = {
			purpose: form.purpose,
			coreNodes: form.coreNodes,
			market: form.market,
			bidPrice: form.market === "SPOT" ? form.bidPrice ?? null : null,
			idleSeconds: idleSecondsOf(group, form),
		};
		const stackName = clusterStackName(instanceNameFor(group, config), form.market, launchId);
		// Built now with a placeholder subnet, so a template or size problem is a 4xx before anything is recorded.
		await clusterStackParameters(deps, {
			settings: deps.settings,
			group,
			config,
			instanceType: form.instanceType,
			options,
			stackName,
			subnetId: "subnet-00000000000000000",
		});
		// A cluster's nodes report no progress: no token is made, so none can be accepted.
		return {
			instanceType: form.instanceType,
			options: { ...options },
			stackName,
			progressTokenHash: "",
		};
	},

	async stack(deps, launch, { user, group, config, placement }) {
		const options = clusterOptions(launch);
		const parameters = await clusterStackParameters(deps, {
			settings: deps.settings,
			group,
			config,
			instanceType: launch.instanceType,
			options,
			stackName: launch.stackName,
			subnetId: placement.subnetId,
		});
		const tags = clusterTags({
			user,
			group,
			config,
			options,
			stackName: launch.stackName,
			launchId: launch.id,
			defaultChargeCode: deps.settings.DEFAULT_CHARGE_CODE,
			name: typeof launch.options.machineName === "string" ? launch.options.machineName : undefined,
		});
		return { templateBody: config.templateBody, parameters, tags };
	},

	follow: followCluster,
};
