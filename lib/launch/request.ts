/**
 * A launch request, for every kind: the entitlement check, the kind's form and its own checks, what
 * it needs an approval for (refused unless an approved request covers it), then the `launches`
 * row, recorded before any AWS call, and a wake-up of the launcher that submits it.
 *
 * One confirmation makes one launch: the confirmation carries a launch key (the launch's id, signed
 * for the viewer), so a second POST of it (a double click, a retry, Back and "Launch now" again)
 * answers with the launch it made, even when the two arrive at once. A confirmation with a new key
 * shortly after a launch of the same configuration asks first.
 */
import { ApprovalRequired, launchNeeds, type Need } from "../approvals/needs.ts";
import type { Viewer } from "../auth/identify.ts";
import { mayDismissLaunch, mayFollowLaunch } from "../auth/permissions.ts";
import type { Approval } from "../db/approvals.ts";
import { dismissLaunch, getLaunch, insertLaunchOnce, latestLaunchOf, type Launch } from "../db/launches.ts";
import { getUser } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { machineKind } from "../machines/kinds.ts";
import { checkNameFree, freeDefaultName, parseMachineName } from "../machines/names.ts";
import { instanceNameFor } from "../machines/tags.ts";
import type { PlannedLaunch } from "../machines/model.ts";
import { type EffectivePolicy, effectivePolicy, parseChoices, type PolicyChoices } from "../policy/spec.ts";
import { hmacToken, sha256Hex, timingSafeEqual } from "../tokens.ts";
import { checkInstanceType, type LaunchTarget, launchTarget } from "./entitlement.ts";

/** How long after a launch another launch of the same configuration asks first. */
export const REPEAT_WINDOW_MS = 10 * 60_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function keySignature(deps: Pick<Deps, "secret">, viewerId: number, launchId: string): Promise<string> {
	return await hmacToken(deps.secret, `launch-key:${viewerId}:${launchId}`);
}

/** A new launch key for the viewer's confirmation: the id the launch will have, signed for the viewer. */
export async function newLaunchKey(deps: Pick<Deps, "secret">, viewer: Viewer): Promise<string> {
	const launchId = crypto.randomUUID();
	return `${launchId}.${await keySignature(deps, viewer.id, launchId)}`;
}

/**
 * The launch key of an API call's idempotency key: the launch id is derived from the viewer and the
 * caller's key (an HMAC with the portal's secret, shaped as a UUID), so the same key sent again
 * names the same launch, and {@link requestLaunch} answers with that launch instead of making another.
 */
export async function idempotentLaunchKey(
	deps: Pick<Deps, "secret">,
	viewer: Viewer,
	idempotencyKey: string,
): Promise<string> {
	const hex = await sha256Hex(await hmacToken(deps.secret, `idempotency:${viewer.id}:${idempotencyKey}`));
	const launchId = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20, 32)].join(
		"-",
	);
	return `${launchId}.${await keySignature(deps, viewer.id, launchId)}`;
}

/**
 * The launch id a key stands for; undefined when none was sent. A key the portal did not give this
 * viewer is refused (400), so nobody can choose a launch id, or claim another user's.
 */
export async function launchIdOfKey(
	deps: Pick<Deps, "secret">,
	viewer: Viewer,
	key: unknown,
): Promise<string | undefined> {
	if (key === undefined || key === "") return undefined;
	const [launchId, signature] = typeof key === "string" ? key.split(".") : [];
	if (
		!launchId || !signature || !UUID.test(launchId) ||
		!timingSafeEqual(signature, await keySignature(deps, viewer.id, launchId))
	) {
		throw new UserError(400, "This confirmation is not valid here; review the launch again.");
	}
	return launchId;
}

/** The viewer's launch of the configuration within {@link REPEAT_WINDOW_MS}, other than `except`. */
export async function recentLaunchOf(
	deps: Pick<Deps, "db" | "clock">,
	viewer: Viewer,
	configId: number,
	except?: string,
): Promise<Launch | undefined> {
	const since = new Date(deps.clock().getTime() - REPEAT_WINDOW_MS);
	const latest = await latestLaunchOf(deps.db, { userId: viewer.id, configId, since });
	return latest && latest.id !== except ? latest : undefined;
}

/**
 * A confirmation with a new key shortly after a launch of the same configuration, not yet
 * confirmed as a repeat (`repeat=yes`): the route asks the question on the confirmation.
 */
export class RepeatLaunch extends Error {
	readonly previous: Launch;
	constructor(previous: Launch) {
		super(`A launch of the same configuration was made at ${previous.createdAt.toISOString()}`);
		this.name = "RepeatLaunch";
		this.previous = previous;
	}
}

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
	/** What it needs an approval for (empty: nothing). */
	needs: Need[];
}

/** A lifetime asked for beyond the policy's maximum (a request, not a typo), or undefined. */
function lifetimeBeyondMax(policy: EffectivePolicy, raw: Record<string, unknown>): number | undefined {
	const asked = typeof raw.lifetimeHours === "string" && /^\d{1,6}$/.test(raw.lifetimeHours.trim())
		? Number(raw.lifetimeHours)
		: undefined;
	return policy.lifetime && asked !== undefined && asked > policy.lifetime.maxHours ? asked : undefined;
}

/**
 * Every check of a launch request, in order: entitlement, the kind's form, the type, the kind's
 * own; then what it needs an approval for. An approved request's launch carries its grant.
 */
async function checkLaunch(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	raw: Record<string, unknown>,
	launchId: string,
	approved?: Approval,
): Promise<CheckedLaunch> {
	const target = await launchTarget(deps, viewer, ids);
	const kind = machineKind(target.config.kind);
	const policy = effectivePolicy(target.group.policy, target.config.policy);
	const parse = (fields: Record<string, unknown>) =>
		parsedTogether(
			() => kind.launch.parseForm(fields),
			() => parseChoices(policy, fields),
			() => parseMachineName(fields.name),
		);
	// A lifetime beyond the policy's maximum in a form that is right otherwise is asked for, not a typo.
	let lifetime: number | undefined;
	let parsed: ReturnType<typeof parse>;
	try {
		parsed = parse(raw);
	} catch (error) {
		lifetime = lifetimeBeyondMax(policy, raw);
		const only = error instanceof UserError && Object.keys(error.fields).join() === "lifetimeHours";
		if (lifetime === undefined || !only) throw error;
		parsed = parse({ ...raw, lifetimeHours: String(policy.lifetime!.maxHours) });
	}
	const [form, choices, chosenName] = parsed;
	await checkInstanceType(deps, target, form.instanceType);
	// A name the user chose must be free; one left to the portal is the configuration's, made free.
	if (chosenName) await checkNameFree(deps, viewer.id, chosenName);
	const machineName = chosenName ??
		await freeDefaultName(deps, viewer.id, instanceNameFor(target.group, target.config));
	const user = await getUser(deps.db, viewer.id);
	if (!user) throw new UserError(401, "Your user record is missing; sign in again.");
	const { needs } = await launchNeeds(deps, { ...target, instanceType: form.instanceType, userId: viewer.id });
	if (lifetime !== undefined) {
		needs.push({
			code: "lifetime",
			text: `A lifetime of ${lifetime} hours is beyond the policy's maximum of ${policy.lifetime!.maxHours} hours.`,
		});
	}
	const planned = await kind.launch.plan(deps, { ...target, user, form, launchId });
	const grant = approved
		? {
			approval: approved.id,
			...(lifetime !== undefined && approved.grantUntil ? { lifetimeUntil: approved.grantUntil.getTime() } : {}),
		}
		: {};
	return {
		...target,
		launchId,
		needs,
		planned: { ...planned, options: { ...planned.options, machineName, ...policyOption(choices), ...grant } },
	};
}

/** Refuses a launch that needs an approval the approved request (if any) does not give. */
function refuseUnapproved(needs: readonly Need[], approved?: Approval): void {
	const open = needs.filter((need) => !approved?.needs.includes(need.code));
	if (open.length) throw new ApprovalRequired(open);
}

/** Runs every parse of a form, so one 422 marks the fields any refused. */
function parsedTogether<A, B, C>(a: () => A, b: () => B, c: () => C): [A, B, C] {
	const outcomes = [a, b, c].map((parse) => {
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
	return [outcomes[0]!.value as A, outcomes[1]!.value as B, outcomes[2]!.value as C];
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
	const { group, config, planned, needs } = await checkLaunch(deps, viewer, ids, raw, crypto.randomUUID());
	refuseUnapproved(needs);
	return { group, config, planned };
}

/**
 * What a launch request needs an approval for, after all its other checks (which throw as the
 * launch would): the reasons a request for an exception names.
 */
export async function launchApprovalNeeds(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	raw: Record<string, unknown>,
): Promise<LaunchTarget & { needs: Need[]; instanceType: string }> {
	const { group, config, planned, needs } = await checkLaunch(deps, viewer, ids, raw, crypto.randomUUID());
	return { group, config, needs, instanceType: planned.instanceType };
}

/**
 * Records a launch after its checks and wakes the launcher to submit it; returns the launch. With
 * a launch key (`raw.launchKey`) it is idempotent: the key's launch, once made, is returned again
 * (`existing`), and a new key shortly after a launch of the same configuration throws
 * {@link RepeatLaunch} unless `raw.repeat` is "yes". Without one (API clients), every call launches.
 * A launch needing an approval is refused (403) unless `approved`, the request approved for it,
 * covers every reason.
 */
export async function requestLaunch(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	raw: Record<string, unknown>,
	approved?: Approval,
): Promise<Launch & { existing?: true }> {
	const keyed = await launchIdOfKey(deps, viewer, raw.launchKey);
	if (keyed) {
		const made = await getLaunch(deps.db, keyed);
		if (made) return { ...made, existing: true };
	}
	const { group, config, launchId, planned, needs } = await checkLaunch(
		deps,
		viewer,
		ids,
		raw,
		keyed ?? crypto.randomUUID(),
		approved,
	);
	refuseUnapproved(needs, approved);
	if (keyed && raw.repeat !== "yes") {
		const previous = await recentLaunchOf(deps, viewer, config.id, keyed);
		if (previous) throw new RepeatLaunch(previous);
	}
	const launch = await insertLaunchOnce(deps.db, {
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
		createdAt: deps.clock(),
	});
	if (!launch) {
		// The same confirmation, submitted again while this one was being checked: one launch.
		return { ...(await getLaunch(deps.db, launchId))!, existing: true };
	}
	deps.metrics.launches.inc({ outcome: "requested" });
	deps.log.launch.info("{kind} launch {launchId} requested by {user}: {config} ({type}) in {group}", {
		approval: approved?.id,
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

/**
 * Dismisses the notice of a failed launch on its launcher's dashboard, for the launcher or an
 * admin: 404 for a launch the viewer may not follow, 403 for one they may follow but not dismiss
 * (a manager), 409 for one that has not failed (its notice is the launch's progress).
 */
export async function dismissLaunchNotice(deps: Pick<Deps, "db" | "clock">, viewer: Viewer, id: string): Promise<void> {
	const launch = UUID.test(id) ? await getLaunch(deps.db, id) : undefined;
	if (!launch || !mayFollowLaunch(viewer, launch)) throw new UserError(404, "No such launch");
	if (!mayDismissLaunch(viewer, launch)) {
		throw new UserError(403, "Only the user who launched it or an admin may dismiss this notice");
	}
	if (launch.status !== "failed") throw new UserError(409, "Only the notice of a failed launch can be dismissed");
	await dismissLaunch(deps.db, launch.id, deps.clock());
}
