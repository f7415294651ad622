/**
 * A launch request, for every kind: the entitlement check, the kind's form and its own checks, then
 * the `launches` row, recorded before any AWS call, and a wake-up of the launcher that submits it.
 */
import type { Viewer } from "../auth/identify.ts";
import { insertLaunch, type Launch } from "../db/launches.ts";
import { getUser } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { machineKind } from "../machines/kinds.ts";
import type { PlannedLaunch } from "../machines/model.ts";
import { effectivePolicy, parseChoices, type PolicyChoices } from "../policy/spec.ts";
import { checkInstanceType, type LaunchTarget, launchTarget } from "./entitlement.ts";

/** The group and configuration of a launch, as the wizard's URL names them. */
export interface LaunchIds {
	groupId: number | undefined;
	configId: number | undefined;
}

/** A launch as it would be recorded, with the group and configuration it was checked against. */
export interface ReviewedLaunch extends LaunchTarget {
	planned: PlannedLaunch;
}

interface CheckedLaunch extends ReviewedLaunch {
	launchId: string;
}

/** Every check of a launch request, in order: entitlement, the kind's form, the type, the kind's own. */
async function checkLaunch(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	raw: Record<string, unknown>,
): Promise<CheckedLaunch> {
	const target = await launchTarget(deps, viewer, ids);
	const kind = machineKind(target.config.kind);
	const [form, choices] = parsedTogether(
		() => kind.launch.parseForm(raw),
		() => parseChoices(effectivePolicy(target.group.policy, target.config.policy), raw),
	);
	await checkInstanceType(deps, target, form.instanceType);
	const user = await getUser(deps.db, viewer.id);
	if (!user) throw new UserError(401, "Your user record is missing; sign in again.");
	const launchId = crypto.randomUUID();
	const planned = await kind.launch.plan(deps, { ...target, user, form, launchId });
	return { ...target, launchId, planned: { ...planned, options: { ...planned.options, ...policyOption(choices) } } };
}

/** Runs both parses of a form, so one 422 marks the fields both refused. */
function parsedTogether<A, B>(a: () => A, b: () => B): [A, B] {
	const outcomes = [a, b].map((parse) => {
		try {
			return { value: parse() };
		} catch (error) {
			if (error instanceof UserError && error.status === 422) return { error };
			throw error;
		}
	});
	const refused = outcomes.filter((o) => o.error).map((o) => o.error!);
	if (refused.length) {
		throw new UserError(422, refused[0]!.message, { fields: Object.assign({}, ...refused.map((e) => e.fields)) });
	}
	return [outcomes[0]!.value as A, outcomes[1]!.value as B];
}

/**
 * The machine policy choices of the form, stored with the launch (its machines read them until
 * their owner changes them); nothing when the form made none, as the wizard's does today.
 */
function policyOption(choices: PolicyChoices): Record<string, unknown> {
	const made = Object.fromEntries(Object.entries(choices).filter(([, value]) => value !== null));
	return Object.keys(made).length ? { policy: made } : {};
}

/**
 * Checks a launch as it would be recorded, without recording it (the review step): throws
 * {@link UserError} (403, 404, 422 with field messages) when it would be refused.
 */
export async function reviewLaunch(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	raw: Record<string, unknown>,
): Promise<ReviewedLaunch> {
	const { group, config, planned } = await checkLaunch(deps, viewer, ids, raw);
	return { group, config, planned };
}

/** Records a launch after its checks and wakes the launcher to submit it; returns the launch. */
export async function requestLaunch(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	raw: Record<string, unknown>,
): Promise<Launch> {
	const { group, config, launchId, planned } = await checkLaunch(deps, viewer, ids, raw);
	const launch = await insertLaunch(deps.db, {
		id: launchId,
		userId: viewer.id,
		groupId: group.id,
		configId: config.id,
		kind: config.kind,
		instanceType: planned.instanceType,
		options: planned.options,
		stackName: planned.stackName,
		status: "queued",
		step: "Queued: sending the request to CloudFormation",
		progressTokenHash: planned.progressTokenHash,
	});
	deps.metrics.launches.inc({ outcome: "requested" });
	deps.log.launch.info("{kind} launch {launchId} requested by {user}: {config} ({type}) in {group}", {
		kind: launch.kind,
		launchId: launch.id,
		user: viewer.username,
		config: config.name,
		type: launch.instanceType,
		group: group.name,
	});
	deps.wakeLauncher();
	return launch;
}
