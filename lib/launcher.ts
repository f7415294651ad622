/**
 * Moves launches forward: submits queued launches to CloudFormation (with the launch id as the
 * idempotency token) and follows creating stacks until they complete, fail or time out, recording
 * instances and volumes as soon as they have physical ids. All state lives in `launches`, so a
 * launch started before a restart finishes after it.
 */
import { recordAudit } from "./db/audit.ts";
import { getConfig, getGroup, type Group, type SoftwareConfig } from "./db/catalog.ts";
import { instancesOfLaunch, recordLaunchedInstance } from "./db/instances.ts";
import { activeLaunches, claimLaunch, type Launch, releaseLaunch, updateLaunch } from "./db/launches.ts";
import { getUser, type User } from "./db/users.ts";
import { insertVolume } from "./db/volumes.ts";
import type { Deps } from "./deps.ts";
import type { Settings } from "./settings.ts";
import { AwsError, UserError } from "./errors.ts";
import { instanceStackParameters, launchedInstanceFields } from "./launch.ts";
import { standardTags } from "./machines/tags.ts";
import type { Placement, Stack, StackEvent, StackResource } from "./aws/types.ts";
import { refreshInstances, refreshVolumes } from "./sync.ts";

/**
 * The most AWS calls one step makes one after another (a cluster's: stack, resources, the cluster,
 * its groups, spot price, DNS, steps, then stack, events and delete when it ended; an instance's fewer).
 */
const AWS_CALLS_PER_STEP = 12;
/** The most the SDK's standard retry waits between two attempts. */
const MAX_RETRY_DELAY_SECONDS = 20;

/**
 * How long one process holds a launch for one step before others assume it crashed: longer than
 * the step's AWS calls can take, each tried AWS_MAX_ATTEMPTS times for up to AWS_TIMEOUT_SECONDS,
 * so a slow step never outlives its claim (and two processes never move one launch at once).
 */
export function claimMs(settings: Pick<Settings, "AWS_MAX_ATTEMPTS" | "AWS_TIMEOUT_SECONDS">): number {
	const perCall = settings.AWS_MAX_ATTEMPTS * (settings.AWS_TIMEOUT_SECONDS + MAX_RETRY_DELAY_SECONDS);
	return Math.max(2 * 60_000, AWS_CALLS_PER_STEP * perCall * 1000);
}

/** How one kind of launch (instance, cluster) is submitted and followed. */
export interface LaunchKindHandler {
	submit(deps: Deps, launch: Launch): Promise<void>;
	follow(deps: Deps, launch: Launch): Promise<void>;
}

/** Moves every active launch of a kind `handlers` knows one step. Errors of one launch do not stop the others. */
export async function advanceLaunches(
	deps: Deps,
	handlers: Readonly<Record<string, LaunchKindHandler>>,
): Promise<number> {
	const launches = (await activeLaunches(deps.db)).filter((launch) => launch.kind in handlers);
	for (const { id } of launches) {
		const now = deps.clock();
		const until = new Date(now.getTime() + claimMs(deps.settings));
		// Another process may be moving the same launch right now (two portals on one database).
		const launch = await claimLaunch(deps.db, id, now, until);
		if (!launch) continue;
		try {
			const handler = handlers[launch.kind]!;
			if (launch.status === "queued") await handler.submit(deps, launch);
			else if (launch.status === "creating") await handler.follow(deps, launch);
		} catch (error) {
			deps.log.launch.error("launch {launchId}: step failed, will retry next run: {message}", {
				launchId: id,
				message: (error as Error).message,
			});
		} finally {
			await releaseLaunch(deps.db, id, until);
		}
	}
	return launches.length;
}

/** Marks a launch failed with a reason the user will read. */
export async function failLaunch(deps: Deps, launch: Launch, reason: string): Promise<void> {
	const now = deps.clock();
	const updated = await updateLaunch(deps.db, launch.id, launch.status, {
		status: "failed",
		reason,
		step: "Failed",
		finishedAt: now,
	});
	if (!updated) return;
	deps.metrics.launches.inc({ outcome: "failed" });
	deps.log.launch.warn("launch {launchId} failed: {reason}", { launchId: launch.id, reason });
	await recordAudit(deps.db, {
		at: now,
		actorId: launch.userId,
		actor: "launcher",
		action: "launch",
		resourceKind: launch.kind,
		resourceId: launch.id,
		outcome: "error",
		detail: reason,
	});
}

/** Marks a launch complete. */
export async function completeLaunch(deps: Deps, launch: Launch, step: string): Promise<void> {
	const now = deps.clock();
	const updated = await updateLaunch(deps.db, launch.id, "creating", { status: "complete", step, finishedAt: now });
	if (!updated) return;
	deps.metrics.launches.inc({ outcome: "complete" });
	deps.log.launch.info("launch {launchId} complete", { launchId: launch.id });
	await recordAudit(deps.db, {
		at: now,
		actorId: launch.userId,
		actor: "launcher",
		action: "launch",
		resourceKind: launch.kind,
		resourceId: launch.id,
		outcome: "ok",
		detail: `stack ${launch.stackName} created`,
	});
}

/** Whether the launch has run past LAUNCH_TIMEOUT_MINUTES. */
export function launchTimedOut(deps: Deps, launch: Launch): boolean {
	const since = (launch.submittedAt ?? launch.createdAt).getTime();
	return deps.clock().getTime() - since > deps.settings.LAUNCH_TIMEOUT_MINUTES * 60_000;
}

/** What a launch's stack is built from, loaded once by {@link submitStack} for every kind. */
export interface LaunchContext {
	user: User;
	group: Group;
	config: SoftwareConfig;
	placement: Placement;
}

/** A stack to create. */
export interface StackInput {
	templateBody: string;
	parameters: Record<string, string>;
	tags: Record<string, string>;
}

/**
 * Calls CreateStack for a queued launch with what `build` makes of its {@link LaunchContext}.
 * Transient trouble (AWS, or instance metadata not answering) leaves it queued for the next run
 * until LAUNCH_TIMEOUT_MINUTES; a refusal (bad template, bad parameter) fails it with the reason.
 */
export async function submitStack(
	deps: Deps,
	launch: Launch,
	build: (context: LaunchContext) => Promise<StackInput>,
): Promise<void> {
	const [user, group, config] = await Promise.all([
		getUser(deps.db, launch.userId),
		getGroup(deps.db, launch.groupId),
		getConfig(deps.db, launch.configId),
	]);
	if (!user || !group || !config) {
		return await failLaunch(deps, launch, "The group or software configuration was deleted before the launch started.");
	}
	const placement = await resolvePlacement(deps);
	if (!placement) {
		const advice = "The portal could not read its own subnet from instance metadata. " +
			"If it does not run on EC2, an admin must set LAUNCH_SUBNET_ID and LAUNCH_AVAILABILITY_ZONE.";
		return await retryLater(deps, launch, {
			why: advice,
			reason: `Gave up after ${deps.settings.LAUNCH_TIMEOUT_MINUTES} minutes: ${advice}`,
			detail: "instance metadata did not answer",
		});
	}
	let input;
	try {
		input = await build({ user, group, config, placement });
	} catch (error) {
		if (error instanceof UserError) return await failLaunch(deps, launch, error.message);
		throw error;
	}
	try {
		const { stackId } = await deps.aws.cloudFormation.createStack({
			name: launch.stackName,
			templateBody: input.templateBody,
			parameters: input.parameters,
			tags: input.tags,
			clientRequestToken: launch.id,
		});
		await markSubmitted(deps, launch, stackId);
	} catch (error) {
		if (!(error instanceof AwsError)) throw error;
		if (error.code === "AlreadyExistsException") {
			// An earlier attempt (before a crash or restart) created it: stack names carry the launch id.
			const existing = await deps.aws.cloudFormation.describeStack(launch.stackName);
			if (existing) return await markSubmitted(deps, launch, existing.stackId);
		}
		if (error.transient) {
			return await retryLater(deps, launch, {
				why: `AWS is ${error.kind === "throttled" ? "throttling requests" : "not answering"}`,
				reason: `AWS stayed unavailable for ${deps.settings.LAUNCH_TIMEOUT_MINUTES} minutes (${error.message})`,
				detail: `CreateStack ${error.kind}`,
			});
		}
		await failLaunch(deps, launch, `CloudFormation refused the stack: ${error.message.replace(/^CreateStack: /, "")}`);
	}
}

/**
 * Leaves a queued launch for the next run, showing `why`; after LAUNCH_TIMEOUT_MINUTES it fails
 * with `reason`.
 */
async function retryLater(
	deps: Deps,
	launch: Launch,
	outcome: { why: string; reason: string; detail: string },
): Promise<void> {
	if (launchTimedOut(deps, launch)) return await failLaunch(deps, launch, outcome.reason);
	await updateLaunch(deps.db, launch.id, "queued", {
		attempts: launch.attempts + 1,
		step: `Waiting to retry: ${outcome.why}`,
	});
	deps.log.launch.warn("launch {launchId}: {detail}, will retry", { launchId: launch.id, detail: outcome.detail });
}

async function markSubmitted(deps: Deps, launch: Launch, stackId: string): Promise<void> {
	await updateLaunch(deps.db, launch.id, "queued", {
		status: "creating",
		stackId,
		submittedAt: deps.clock(),
		attempts: launch.attempts + 1,
		step: "CloudFormation is creating the stack",
	});
	deps.log.launch.info("launch {launchId}: stack {stackName} submitted", {
		launchId: launch.id,
		stackName: launch.stackName,
		stackId,
	});
}

/** The first failure CloudFormation reported, in the user's words. */
export function failureReason(stack: Stack, events: readonly StackEvent[]): string {
	const failures = [...events].reverse().filter((e) =>
		/_FAILED$/.test(e.status) && e.reason &&
		!/Resource creation cancelled|following resource\(s\) failed/i.test(e.reason)
	);
	const first = failures[0];
	if (first) return `${first.logicalId} (${first.type}): ${first.reason}`;
	if (stack.statusReason) return stack.statusReason;
	return `CloudFormation reported ${stack.status}`;
}

/** Stack statuses that end a launch as failed. */
function isFailedStatus(status: string): boolean {
	return status === "CREATE_FAILED" || status.startsWith("ROLLBACK_") || status.startsWith("DELETE_");
}

/**
 * Follows a creating launch's stack one step. `record` (when given) is given the stack's resources
 * and returns the step to show. The launch completes on CREATE_COMPLETE (unless `completeOnStack`
 * is false), fails on a failed status with the reason from the stack events, or after the timeout.
 * A stack rolling back keeps its launch creating, showing the reason, until the rollback completes:
 * only then can the stack be deleted, and a failed launch is not followed again. Returns the stack
 * when the launch goes on: still being created, or created when `completeOnStack` is false.
 */
export async function followStack(
	deps: Deps,
	launch: Launch,
	record?: (resources: StackResource[], stack: Stack) => Promise<string | undefined>,
	options: { completeOnStack?: boolean } = {},
): Promise<Stack | undefined> {
	const stack = await deps.aws.cloudFormation.describeStack(launch.stackId ?? launch.stackName);
	if (!stack) {
		await failLaunch(deps, launch, "The stack no longer exists in CloudFormation.");
		return undefined;
	}
	if (record && !stack.status.startsWith("DELETE_")) {
		const step = await record(await deps.aws.cloudFormation.listStackResources(stack.stackId), stack);
		if (step && step !== launch.step && stack.status.endsWith("_IN_PROGRESS") && !isFailedStatus(stack.status)) {
			await updateLaunch(deps.db, launch.id, "creating", { step });
		}
	}
	if (stack.status === "CREATE_COMPLETE" || stack.status.startsWith("UPDATE_")) {
		// Clusters complete when EMR says the cluster is ready, not when the stack is.
		if (!(options.completeOnStack ?? true)) return stack;
		await completeLaunch(deps, launch, "Ready");
		return undefined;
	}
	if (isFailedStatus(stack.status)) {
		const reason = failureReason(stack, await deps.aws.cloudFormation.describeStackEvents(stack.stackId));
		if (stack.status === "ROLLBACK_IN_PROGRESS") {
			if (launchTimedOut(deps, launch)) {
				await failLaunch(
					deps,
					launch,
					`${reason} (CloudFormation was still rolling the stack back after ${deps.settings.LAUNCH_TIMEOUT_MINUTES} minutes)`,
				);
			} else {
				const step = `Failed; CloudFormation is rolling the stack back: ${reason}`;
				if (step !== launch.step) await updateLaunch(deps.db, launch.id, "creating", { step });
			}
			return undefined;
		}
		await failLaunch(deps, launch, reason);
		if (stack.status === "ROLLBACK_COMPLETE") {
			// A rolled-back stack holds nothing but its name; remove it as the original never did.
			await deps.aws.cloudFormation.deleteStack(stack.stackId).catch((error) =>
				deps.log.launch.warn("could not delete rolled-back stack {stack}: {message}", {
					stack: stack.stackId,
					message: (error as Error).message,
				})
			);
		}
		return undefined;
	}
	if (launchTimedOut(deps, launch)) {
		await failLaunch(
			deps,
			launch,
			`Gave up after ${deps.settings.LAUNCH_TIMEOUT_MINUTES} minutes: the stack was still ${stack.status}. ` +
				"Anything it created is on your dashboard; terminate it there if you do not need it.",
		);
		return undefined;
	}
	return stack;
}

/** Instances: the stack's instance and volume are recorded; complete with the stack. */
export const instanceLaunchHandler: LaunchKindHandler = {
	async submit(deps, launch) {
		await submitStack(deps, launch, async ({ user, group, config, placement }) => ({
			templateBody: config.templateBody,
			parameters: await instanceStackParameters(deps, {
				group,
				config,
				instanceType: launch.instanceType,
				// The request stored the group's defaults with the chosen ones, checked against the limit.
				securityGroupIds: Array.isArray(launch.options.securityGroupIds)
					? launch.options.securityGroupIds.map(String)
					: [],
				launchId: launch.id,
				stackName: launch.stackName,
				placement,
			}),
			tags: standardTags({
				user,
				group,
				config,
				launchId: launch.id,
				defaultChargeCode: deps.settings.DEFAULT_CHARGE_CODE,
			}),
		}));
	},
	async follow(deps, launch) {
		await followStack(deps, launch, (resources) => recordInstanceResources(deps, launch, resources));
	},
};

/** Subnet and AZ: from settings, else the portal server's own (instance metadata); undefined when neither answers. */
async function resolvePlacement(deps: Deps): Promise<Placement | undefined> {
	const { LAUNCH_SUBNET_ID, LAUNCH_AVAILABILITY_ZONE } = deps.settings;
	if (LAUNCH_SUBNET_ID && LAUNCH_AVAILABILITY_ZONE) {
		return { subnetId: LAUNCH_SUBNET_ID, availabilityZone: LAUNCH_AVAILABILITY_ZONE };
	}
	const own = await deps.aws.placement();
	if (!own) return undefined;
	return {
		subnetId: LAUNCH_SUBNET_ID ?? own.subnetId,
		availabilityZone: LAUNCH_AVAILABILITY_ZONE ?? own.availabilityZone,
	};
}

/** Records the stack's instance and volume once they have physical ids; returns the step text. */
async function recordInstanceResources(deps: Deps, launch: Launch, resources: StackResource[]): Promise<string> {
	const now = deps.clock();
	const config = await getConfig(deps.db, launch.configId);
	const group = await getGroup(deps.db, launch.groupId);
	const instanceResource = resources.find((r) => r.type === "AWS::EC2::Instance" && r.physicalId);
	const newInstances: string[] = [];
	const newVolumes: string[] = [];
	if (instanceResource?.physicalId) {
		// The sync may have listed (and adopted) the instance first: then its row is linked to the launch.
		const inserted = await recordLaunchedInstance(deps.db, {
			...launchedInstanceFields(launch, group, config, now),
			id: instanceResource.physicalId,
			state: "pending",
			launchedAt: now,
			createdAt: now,
		});
		if (inserted) {
			newInstances.push(instanceResource.physicalId);
			deps.log.launch.info("launch {launchId}: instance {instanceId} recorded", {
				launchId: launch.id,
				instanceId: instanceResource.physicalId,
			});
			await recordAudit(deps.db, {
				at: now,
				actorId: launch.userId,
				actor: "launcher",
				action: "launch",
				resourceKind: "instance",
				resourceId: instanceResource.physicalId,
				outcome: "ok",
				detail: `created by stack ${launch.stackName}`,
			});
		}
	}
	for (const volume of resources.filter((r) => r.type === "AWS::EC2::Volume" && r.physicalId)) {
		const inserted = await insertVolume(deps.db, {
			id: volume.physicalId!,
			instanceId: instanceResource?.physicalId ?? null,
			launchId: launch.id,
			ownerId: launch.userId,
			groupId: launch.groupId,
			sizeGb: config?.volumeSizeGb ?? 0,
			device: config?.volumeDevice ?? "",
			volumeType: config?.volumeType ?? "gp2",
			state: "creating",
			createdAt: now,
		});
		if (inserted) {
			newVolumes.push(volume.physicalId!);
			deps.log.launch.info("launch {launchId}: volume {volumeId} recorded", {
				launchId: launch.id,
				volumeId: volume.physicalId,
			});
		}
	}
	if (newInstances.length) await refreshInstances(deps, newInstances);
	if (newVolumes.length) await refreshVolumes(deps, newVolumes);
	const recorded = await instancesOfLaunch(deps.db, launch.id);
	const waiting = resources.filter((r) => r.status.endsWith("_IN_PROGRESS")).map((r) => r.logicalId);
	if (recorded.length === 0) return "CloudFormation is creating the instance";
	return waiting.length
		? `Instance ${recorded[0]!.id} is ${recorded[0]!.state}; waiting for ${waiting.join(", ")}`
		: `Instance ${recorded[0]!.id} is ${recorded[0]!.state}`;
}
