/**
 * What every kind's launch shares once its row is recorded: the group, configuration and owner it
 * was made for, loaded once per step; CreateStack with the launch id as the idempotency token;
 * following the stack until it completes, fails (with the reason from its events) or times out;
 * the end of a launch; CloudFormation's parameter limit.
 */
import type { Placement, Stack, StackEvent, StackResource } from "../aws/types.ts";
import { cleanAwsText, explainStackRefusal } from "../aws_failures.ts";
import { secretStackParameters } from "../catalog/secrets.ts";
import { parseTemplate } from "../cfn.ts";
import { recordAudit } from "../db/audit.ts";
import { getConfig, getGroup, type Group, type SoftwareConfig } from "../db/catalog.ts";
import { forgetFound } from "../db/found.ts";
import { type Launch, updateLaunch } from "../db/launches.ts";
import type { StoredStackEvent } from "../db/schema.ts";
import { saveStackEvents } from "../db/timeline.ts";
import { getUser, type User } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { AwsError, UserError } from "../errors.ts";
import { LAUNCH_PROOF_TAG } from "../machines/tags.ts";
import { launchProof } from "../tokens.ts";

/** CloudFormation's limit on one parameter value. */
const PARAMETER_LIMIT_BYTES = 4096;

/** What a launch was made for, as it is now: any of them may have been deleted since. */
export interface LaunchContext {
	user?: User;
	group?: Group;
	config?: SoftwareConfig;
}

/** The launch's owner, group and configuration, loaded once for a step of the launcher. */
export async function loadLaunchContext(deps: Pick<Deps, "db">, launch: Launch): Promise<LaunchContext> {
	const [user, group, config] = await Promise.all([
		getUser(deps.db, launch.userId),
		getGroup(deps.db, launch.groupId),
		getConfig(deps.db, launch.configId),
	]);
	return { user, group, config };
}

/** What a stack is built from: the launch's context, all of it present, and where to place it. */
export interface StackContext {
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
 * A stack's parameters as every kind sends them: the kind's own, then the secret params its
 * template declares (NoEcho only; never replacing the kind's), within CloudFormation's size limit.
 */
export async function stackParameters(
	deps: Pick<Deps, "db" | "paramsKey">,
	templateBody: string,
	own: Record<string, string>,
): Promise<Record<string, string>> {
	const parameters = { ...own };
	const template = parseTemplate(templateBody);
	if (template.ok) {
		Object.assign(
			parameters,
			await secretStackParameters(deps.db, deps.paramsKey, template.parameters, Object.keys(parameters)),
		);
	}
	checkParameterSizes(parameters);
	return parameters;
}

/** Refuses parameters over CloudFormation's 4096-byte limit, saying how far over they are. */
export function checkParameterSizes(parameters: Record<string, string>): void {
	for (const [key, value] of Object.entries(parameters)) {
		const bytes = new TextEncoder().encode(value).length;
		if (bytes > PARAMETER_LIMIT_BYTES) {
			const what = key === "UserData"
				? "The bootstrap script, after token replacement and base64 encoding,"
				: `The ${key} parameter`;
			throw new UserError(
				422,
				`${what} is ${bytes} bytes: ${
					bytes - PARAMETER_LIMIT_BYTES
				} bytes over CloudFormation's ${PARAMETER_LIMIT_BYTES}-byte parameter limit. Ask an admin to shorten the script or move parts of it to files the script downloads.`,
			);
		}
	}
}

/** What every machine takes from the launch that made it: the launch, its owner, group, configuration and stack. */
export function launchColumns(launch: Launch) {
	return {
		launchId: launch.id,
		stackId: launch.stackId,
		stackName: launch.stackName,
		ownerId: launch.userId,
		groupId: launch.groupId,
		configId: launch.configId,
	};
}

/**
 * Logs and audits a machine a launch's stack made, once it is recorded; a sync that listed it first
 * and could not prove it the launch's (the stack's tags not yet on it) had kept it as found.
 */
export async function recordedByLaunch(
	deps: Deps,
	launch: Launch,
	machine: { kind: string; id: string },
): Promise<void> {
	deps.log.launch.info("launch {launchId}: {kind} {id} recorded", { launchId: launch.id, ...machine });
	await forgetFound(deps.db, machine.id);
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: launch.userId,
		actor: "launcher",
		action: "launch",
		resourceKind: machine.kind,
		resourceId: machine.id,
		outcome: "ok",
		detail: `created by stack ${launch.stackName}`,
	});
}

/** Ends a launch as failed (with a reason the user will read) or complete (with its last step). */
async function finishLaunch(
	deps: Deps,
	launch: Launch,
	outcome: { failed: string } | { complete: string },
): Promise<void> {
	const now = deps.clock();
	const failed = "failed" in outcome;
	const updated = await updateLaunch(
		deps.db,
		launch.id,
		failed ? launch.status : "creating",
		failed
			? { status: "failed", reason: outcome.failed, step: "Failed", finishedAt: now }
			: { status: "complete", step: outcome.complete, finishedAt: now },
	);
	if (!updated) return;
	deps.metrics.launches.inc({ outcome: failed ? "failed" : "complete" });
	if (failed) {
		deps.log.launch.warn("launch {launchId} failed: {reason}", { launchId: launch.id, reason: outcome.failed });
	} else deps.log.launch.info("launch {launchId} complete", { launchId: launch.id });
	await recordAudit(deps.db, {
		at: now,
		actorId: launch.userId,
		actor: "launcher",
		action: "launch",
		resourceKind: launch.kind,
		resourceId: launch.id,
		outcome: failed ? "error" : "ok",
		detail: failed ? outcome.failed : `stack ${launch.stackName} created`,
	});
}

/** Marks a launch failed with a reason the user will read. */
export async function failLaunch(deps: Deps, launch: Launch, reason: string): Promise<void> {
	await finishLaunch(deps, launch, { failed: reason });
}

/** Marks a launch complete. */
export async function completeLaunch(deps: Deps, launch: Launch, step: string): Promise<void> {
	await finishLaunch(deps, launch, { complete: step });
}

/** Whether the launch has run past LAUNCH_TIMEOUT_MINUTES. */
export function launchTimedOut(deps: Pick<Deps, "clock" | "settings">, launch: Launch): boolean {
	const since = (launch.submittedAt ?? launch.createdAt).getTime();
	return deps.clock().getTime() - since > deps.settings.LAUNCH_TIMEOUT_MINUTES * 60_000;
}

/**
 * Calls CreateStack for a queued launch with what `build` makes of its context. Transient trouble
 * (AWS, or instance metadata not answering) leaves it queued for the next run until
 * LAUNCH_TIMEOUT_MINUTES; a refusal (bad template, bad parameter) fails it with the reason.
 */
export async function submitStack(
	deps: Deps,
	launch: Launch,
	context: LaunchContext,
	build: (context: StackContext) => Promise<StackInput>,
): Promise<void> {
	const { user, group, config } = context;
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
			// Signed here, for every kind: the proof the sync's adoption rule accepts besides the stack's own tags.
			tags: { ...input.tags, [LAUNCH_PROOF_TAG]: await launchProof(deps.secret, launch.id) },
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
			const why = error.kind === "throttled" ? "AWS is throttling requests" : "AWS is not answering";
			return await retryLater(deps, launch, {
				why,
				reason: `Gave up after ${deps.settings.LAUNCH_TIMEOUT_MINUTES} minutes: ${why}.`,
				detail: `CreateStack ${error.kind}`,
				cause: error.message,
			});
		}
		deps.log.launch.warn("launch {launchId}: CreateStack refused: {message}", {
			launchId: launch.id,
			message: error.message,
		});
		await failLaunch(deps, launch, explainStackRefusal(error));
	}
}

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

/**
 * Leaves a queued launch for the next run, showing `why`; after LAUNCH_TIMEOUT_MINUTES it fails
 * with `reason`.
 */
async function retryLater(
	deps: Deps,
	launch: Launch,
	outcome: { why: string; reason: string; detail: string; cause?: string },
): Promise<void> {
	// The user reads `why` and `reason`; what AWS or the network said goes to the log only.
	const logged = { launchId: launch.id, detail: outcome.detail, cause: outcome.cause ? `: ${outcome.cause}` : "" };
	if (launchTimedOut(deps, launch)) {
		deps.log.launch.warn("launch {launchId}: {detail}, giving up{cause}", logged);
		return await failLaunch(deps, launch, outcome.reason);
	}
	await updateLaunch(deps.db, launch.id, "queued", {
		attempts: launch.attempts + 1,
		step: `Waiting to retry: ${outcome.why}`,
	});
	deps.log.launch.warn("launch {launchId}: {detail}, will retry{cause}", logged);
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

/** The first resource that failed and why, as CloudFormation's events (newest first) say. */
export interface FailureDiagnosis {
	logicalId: string;
	type: string;
	reason: string;
}

/**
 * The first resource whose creation failed, with its reason, from a stack's events (newest first):
 * not the ones cancelled because of it, nor the stack's own "following resource(s) failed".
 */
export function firstFailure(
	events: readonly { logicalId: string; type: string; status: string; reason?: string | null }[],
): FailureDiagnosis | undefined {
	const first = [...events].reverse().find((e) =>
		/_FAILED$/.test(e.status) && e.reason &&
		!/Resource creation cancelled|following resource\(s\) failed/i.test(e.reason)
	);
	return first ? { logicalId: first.logicalId, type: first.type, reason: cleanAwsText(first.reason!) } : undefined;
}

/** The first failure CloudFormation reported, in the user's words. */
export function failureReason(stack: Stack, events: readonly StackEvent[]): string {
	const first = firstFailure(events);
	if (first) return `${first.logicalId} (${first.type}): ${first.reason}`;
	if (stack.statusReason) return cleanAwsText(stack.statusReason);
	return `CloudFormation reported ${stack.status}`;
}

/** How many of a stack's events are stored (the newest): a stack of the portal has a few dozen. */
const STORED_EVENTS_MAX = 200;

/**
 * Stores the stack's events for the pages, which never ask AWS: `events` when the caller read them
 * already. Failing to read them is only logged: the launch's outcome does not depend on it.
 */
async function storeStackEvents(
	deps: Deps,
	launch: Launch,
	stackId: string,
	events?: readonly StackEvent[],
): Promise<void> {
	try {
		const listed = events ?? await deps.aws.cloudFormation.describeStackEvents(stackId);
		const stored: StoredStackEvent[] = listed.slice(0, STORED_EVENTS_MAX).map((e) => ({
			logicalId: e.logicalId.slice(0, 255),
			type: e.type.slice(0, 255),
			status: e.status.slice(0, 64),
			reason: e.reason ? cleanAwsText(e.reason) : null,
			at: e.timestamp.getTime(),
		}));
		await saveStackEvents(deps.db, { launchId: launch.id, stackId, events: stored, storedAt: deps.clock() });
	} catch (error) {
		deps.log.launch.warn("launch {launchId}: could not store the stack's events: {message}", {
			launchId: launch.id,
			message: (error as Error).message,
		});
	}
}

/** Stack statuses that end a launch as failed. */
function isFailedStatus(status: string): boolean {
	return status === "CREATE_FAILED" || status.startsWith("ROLLBACK_") || status.startsWith("DELETE_");
}

/** How {@link followStack} treats a kind's stack. */
export interface FollowOptions {
	/** Given the stack's resources, records what it made and returns the step to show. */
	record?: (resources: StackResource[], stack: Stack) => Promise<string | undefined>;
	/** Whether the launch completes with its stack (clusters complete when EMR says they are ready). */
	completeOnStack?: boolean;
}

/**
 * Follows a creating launch's stack one step. The launch completes on CREATE_COMPLETE (unless
 * `completeOnStack` is false), fails on a failed status with the reason from the stack events, or
 * after the timeout. A stack rolling back keeps its launch creating, showing the reason, until the
 * rollback completes: only then can the stack be deleted, and a failed launch is not followed
 * again. Returns the stack when the launch goes on: still being created, or created when
 * `completeOnStack` is false.
 */
export async function followStack(
	deps: Deps,
	launch: Launch,
	options: FollowOptions = {},
): Promise<Stack | undefined> {
	const stack = await deps.aws.cloudFormation.describeStack(launch.stackId ?? launch.stackName);
	if (!stack) {
		await failLaunch(deps, launch, "The stack no longer exists in CloudFormation.");
		return undefined;
	}
	if (options.record && !stack.status.startsWith("DELETE_")) {
		const step = await options.record(await deps.aws.cloudFormation.listStackResources(stack.stackId), stack);
		if (step && step !== launch.step && stack.status.endsWith("_IN_PROGRESS") && !isFailedStatus(stack.status)) {
			await updateLaunch(deps.db, launch.id, "creating", { step });
		}
	}
	if (stack.status === "CREATE_COMPLETE" || stack.status.startsWith("UPDATE_")) {
		if (!(options.completeOnStack ?? true)) return stack;
		await completeLaunch(deps, launch, "Ready");
		await storeStackEvents(deps, launch, stack.stackId);
		return undefined;
	}
	if (isFailedStatus(stack.status)) {
		const events = await deps.aws.cloudFormation.describeStackEvents(stack.stackId);
		const reason = failureReason(stack, events);
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
		await storeStackEvents(deps, launch, stack.stackId, events);
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
