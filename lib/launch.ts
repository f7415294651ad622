/**
 * Launch requests: server-side entitlement checks, the seed's CloudFormation parameters, `{{{token}}}`
 * substitution, the 4096-byte parameter limit, stack names and tags. A launch is recorded in
 * `launches` before AWS is called; the launcher job (lib/launcher.ts) submits and follows it.
 */
import type { Viewer } from "./auth/identify.ts";
import {
	getConfig,
	getGroup,
	type Group,
	groupSecurityGroupsOf,
	paramsMap,
	permittedGroupIds,
	type SoftwareConfig,
	usableTypes,
} from "./db/catalog.ts";
import type { NewInstance } from "./db/instances.ts";
import { insertLaunch, type Launch } from "./db/launches.ts";
import { getUser, type User } from "./db/users.ts";
import type { Deps } from "./deps.ts";
import { UserError } from "./errors.ts";
import { publicUrl, type Settings } from "./settings.ts";
import { progressToken, sha256Hex } from "./tokens.ts";
import { instanceNameFor, stackNameFor } from "./machines/tags.ts";

/** CloudFormation's limit on one parameter value. */
const PARAMETER_LIMIT_BYTES = 4096;
/** AWS's limit on security groups per network interface. */
export const MAX_SECURITY_GROUPS = 5;
/** Replaces `{{{token}}}` from each source in order; the first source to define a token wins, unknown tokens stay. */
export function substituteTokens(text: string, sources: readonly (readonly (readonly [string, string])[])[]): string {
	let out = text;
	for (const source of sources) {
		for (const [token, replacement] of source) {
			if (!token) continue;
			out = out.replaceAll(`{{{${token}}}}`, () => replacement);
		}
	}
	return out;
}

/** Base64 of UTF-8 text (CloudFormation's UserData parameter). */
export function base64Utf8(text: string): string {
	const bytes = new TextEncoder().encode(text);
	let binary = "";
	for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return btoa(binary);
}

/**
 * What an instance row takes from its launch: the launcher records it so, and so does the sync when
 * it lists the instance first (CloudFormation gives the instance the stack's tags, launch id included).
 */
export function launchedInstanceFields(
	launch: Launch,
	group: Group | undefined,
	config: SoftwareConfig | undefined,
	now: Date,
): NewInstance & { launchId: string } {
	return {
		id: "",
		launchId: launch.id,
		stackId: launch.stackId,
		stackName: launch.stackName,
		ownerId: launch.userId,
		groupId: launch.groupId,
		configId: launch.configId,
		name: group && config ? instanceNameFor(group, config) : "",
		instanceType: launch.instanceType,
		amiId: config?.amiId ?? "",
		progressText: config?.hasProgressBar ? "Initializing system" : null,
		progressPercent: config?.hasProgressBar ? 0 : null,
		progressUpdatedAt: config?.hasProgressBar ? now : null,
	};
}

/** Everything a stack needs besides placement, for one launch. */
export interface InstanceStackInput {
	settings: Pick<Settings, "REPLACEMENT_TOKENS" | "AWS_REGION" | "PUBLIC_URL" | "HOST" | "PORT">;
	group: Group;
	config: SoftwareConfig;
	instanceType: string;
	securityGroupIds: string[];
	globalParams: Record<string, string>;
	launchId: string;
	stackName: string;
	token: string;
	placement: { subnetId: string; availabilityZone: string };
}

/** Builds the user data: built-in, config, global and settings tokens, in that order of precedence. */
export function buildUserData(
	input: Omit<InstanceStackInput, "placement" | "securityGroupIds" | "instanceType">,
): string {
	const base = publicUrl(input.settings);
	const group: [string, string][] = [["GROUP_NAME", input.group.name]];
	if (input.group.directoryName) group.push(["GROUP_DIRECTORY_NAME", input.group.directoryName]);
	// The original's parameter plugin: the team's directory group for on-box authorization.
	if (input.group.directoryName && /CN/i.test(input.group.directoryName)) {
		group.push(["LDAP_AUTHZ_GROUP", input.group.directoryName]);
	}
	return substituteTokens(input.config.userDataBody, [
		[["PROGRESS_TOKEN", input.token], ["LAUNCH_ID", input.launchId]],
		group,
		Object.entries(input.config.params),
		Object.entries(input.globalParams),
		input.settings.REPLACEMENT_TOKENS,
		[
			["PROGRESS_URL", `${base}/ajax/progress`],
			["MLIY_URL", base],
			["MANAGER_HOSTNAME", new URL(base).host],
			["STACK_NAME", input.stackName],
			["AWS_REGION", input.settings.AWS_REGION],
			["EBS_DEVICE", input.config.volumeDevice],
		],
	]);
}

/** The seed's CloudFormation parameters, exactly, for an instance launch. */
export function buildInstanceParameters(input: InstanceStackInput): Record<string, string> {
	const { group, config } = input;
	const parameters: Record<string, string> = {
		KeyName: group.keyName,
		ImageId: config.amiId,
		InstanceType: input.instanceType,
		IamInstanceProfile: group.iamInstanceProfile,
		SecurityGroupIds: input.securityGroupIds.join(","),
		SubnetId: input.placement.subnetId,
		AvailabilityZone: input.placement.availabilityZone,
		EBSVolumeDeviceName: config.volumeDevice,
		VolumeSize: String(config.volumeSizeGb),
		UserData: base64Utf8(buildUserData(input)),
	};
	if (config.volumeKmsKey) parameters.KmsKeyId = config.volumeKmsKey;
	return parameters;
}

/**
 * An instance stack's parameters for a launch (with its progress token and the global params),
 * checked against CloudFormation's size limit: the request checks them with a placeholder
 * placement, so a size problem is a 4xx before anything is recorded; the launcher sends them.
 */
export async function instanceStackParameters(
	deps: Pick<Deps, "db" | "settings" | "secret">,
	input: Omit<InstanceStackInput, "settings" | "globalParams" | "token">,
): Promise<Record<string, string>> {
	const parameters = buildInstanceParameters({
		...input,
		settings: deps.settings,
		globalParams: await paramsMap(deps.db),
		token: await progressToken(deps.secret, input.launchId),
	});
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

/** The validated launch form. */
export interface InstanceLaunchRequest {
	groupId: number;
	configId: number;
	instanceType: string;
	optionalSecurityGroupIds: string[];
}

/** What the checks resolved, ready to be recorded. */
export interface CheckedLaunch {
	user: User;
	group: Group;
	config: SoftwareConfig;
	instanceType: string;
	securityGroupIds: string[];
}

/**
 * Checks on the server that the viewer may launch this: member of the group, configuration
 * permitted to it and of the right kind, type compatible and not excluded, security groups the
 * group offers and at most five in all. Throws {@link UserError} with field messages.
 */
export async function checkInstanceLaunch(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	request: InstanceLaunchRequest,
): Promise<CheckedLaunch> {
	const group = await getGroup(deps.db, request.groupId);
	if (!group || !viewer.groupIds.includes(group.id)) {
		throw new UserError(403, "You are not a member of that group, so you cannot launch with its settings.");
	}
	const config = await getConfig(deps.db, request.configId);
	if (!config || !(await permittedGroupIds(deps.db, config.id)).includes(group.id)) {
		throw new UserError(403, `That software configuration is not available to the group "${group.name}".`);
	}
	if (config.kind !== "instance") {
		throw new UserError(422, `"${config.name}" launches EMR clusters; use the cluster form.`);
	}
	const types = await usableTypes(deps.db, config.id, group.id);
	if (!types.some((t) => t.name === request.instanceType)) {
		throw new UserError(422, "Choose one of the instance types offered for this configuration.", {
			fields: { instanceType: `${request.instanceType || "(none)"} is not allowed for this configuration and group` },
		});
	}
	const defaults = await groupSecurityGroupsOf(deps.db, group.id, "default");
	const optional = await groupSecurityGroupsOf(deps.db, group.id, "optional");
	const chosen = [...new Set(request.optionalSecurityGroupIds)];
	const unknown = chosen.filter((id) => !optional.some((sg) => sg.sgId === id));
	if (unknown.length > 0) {
		throw new UserError(422, "Choose only security groups your group offers.", {
			fields: { securityGroups: `not offered by ${group.name}: ${unknown.join(", ")}` },
		});
	}
	const securityGroupIds = [...new Set([...defaults.map((sg) => sg.sgId), ...chosen])];
	if (securityGroupIds.length > MAX_SECURITY_GROUPS) {
		throw new UserError(422, "Too many security groups.", {
			fields: {
				securityGroups:
					`${chosen.length} optional plus ${defaults.length} default security groups is ${securityGroupIds.length}; AWS allows at most ${MAX_SECURITY_GROUPS}`,
			},
		});
	}
	const user = await getUser(deps.db, viewer.id);
	if (!user) throw new UserError(401, "Your user record is missing; sign in again.");
	return { user, group, config, instanceType: request.instanceType, securityGroupIds };
}

/**
 * Records an instance launch after its checks, including the parameter-size check with the real
 * token and a placeholder placement, then asks the launcher to submit it. Returns the launch.
 */
export async function requestInstanceLaunch(
	deps: Deps,
	viewer: Viewer,
	request: InstanceLaunchRequest,
): Promise<Launch> {
	const checked = await checkInstanceLaunch(deps, viewer, request);
	const launchId = crypto.randomUUID();
	const stackName = stackNameFor(instanceNameFor(checked.group, checked.config), checked.group.ags, launchId);
	await instanceStackParameters(deps, {
		group: checked.group,
		config: checked.config,
		instanceType: checked.instanceType,
		securityGroupIds: checked.securityGroupIds,
		launchId,
		stackName,
		placement: { subnetId: "subnet-00000000000000000", availabilityZone: "xx-xxxx-0x" },
	});
	const launch = await insertLaunch(deps.db, {
		id: launchId,
		userId: checked.user.id,
		groupId: checked.group.id,
		configId: checked.config.id,
		kind: "instance",
		instanceType: checked.instanceType,
		options: { securityGroupIds: checked.securityGroupIds },
		stackName,
		status: "queued",
		step: "Queued: sending the request to CloudFormation",
		progressTokenHash: await sha256Hex(await progressToken(deps.secret, launchId)),
	});
	deps.metrics.launches.inc({ outcome: "requested" });
	deps.log.launch.info("launch {launchId} requested by {user}: {config} ({type}) in {group}", {
		launchId,
		user: viewer.username,
		config: checked.config.name,
		type: checked.instanceType,
		group: checked.group.name,
	});
	return launch;
}
