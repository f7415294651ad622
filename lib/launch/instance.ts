/**
 * How an instance is launched: its form, the seed's CloudFormation parameters with `{{{token}}}`
 * substitution and the progress token in the user data, its tags, and what its stack makes (the
 * instance and its volume), recorded as soon as they have physical ids.
 */
import { z } from "zod";
import type { Ec2Instance, StackResource } from "../aws/types.ts";
import { parseTemplate } from "../cfn.ts";
import { type Group, groupSecurityGroupsOf, hasExtraVolume, paramsMap, type SoftwareConfig } from "../db/catalog.ts";
import { type Instance, instancesOfLaunch, type NewInstance, recordLaunchedInstance } from "../db/instances.ts";
import type { Launch } from "../db/launches.ts";
import type { User } from "../db/users.ts";
import { insertVolume } from "../db/volumes.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import type { FollowContext, MachineLaunch } from "../machines/model.ts";
import { instanceNameFor, launchMachineName, stackNameFor, standardTags } from "../machines/tags.ts";
import { publicUrl, type Settings } from "../settings.ts";
import { progressToken, sha256Hex } from "../tokens.ts";
import { listOf } from "../form_values.ts";
import { instanceTypeField, parseLaunchForm } from "./forms.ts";
import { followStack, launchColumns, recordedByLaunch, type StackContext, stackParameters } from "./stacks.ts";

/** AWS's limit on security groups per network interface. */
export const MAX_SECURITY_GROUPS = 5;

/** The instance form, validated on the server. */
const instanceFormSchema = z.object({
	instanceType: instanceTypeField,
	/** The optional security groups chosen (the group's defaults are always added). */
	securityGroups: z.preprocess(
		listOf,
		z.array(z.string()).transform((ids) => [...new Set(ids.map((id) => id.slice(0, 64)).slice(0, 50))]),
	),
});
export type InstanceForm = z.infer<typeof instanceFormSchema>;

/** Where token values come from, in order of precedence. */
type TokenSources = readonly (readonly (readonly [string, string])[])[];

/**
 * Replaces `{{{token}}}` from each source in order; the first source to define a token wins. A
 * source whose value is empty does not define the token, wherever it comes from (the portal's own
 * tokens, the group, params, REPLACEMENT_TOKENS): a later source may, else the token stays literal
 * like an unknown one, so a script tests one thing (`[[ "$X" != *X* ]]`) whatever left it unset.
 */
export function substituteTokens(text: string, sources: TokenSources): string {
	let out = text;
	for (const source of sources) {
		for (const [token, replacement] of source) {
			if (!token || replacement === "") continue;
			out = out.replaceAll(`{{{${token}}}}`, () => replacement);
		}
	}
	return out;
}

/** The value a token gets from the sources, as {@link substituteTokens} would put it in; undefined when unset. */
function tokenValue(sources: TokenSources, token: string): string | undefined {
	for (const source of sources) {
		for (const [name, replacement] of source) if (name === token && replacement !== "") return replacement;
	}
	return undefined;
}

/** Base64 of UTF-8 text (CloudFormation's UserData parameter). */
export function base64Utf8(text: string): string {
	const bytes = new TextEncoder().encode(text);
	let binary = "";
	for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	return btoa(binary);
}

/** Everything an instance stack needs, for one launch. */
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
	/** The tokens the display plugin's `replaceParams` added or changed (see {@link pluginTokens}). */
	pluginTokens?: Readonly<Record<string, string>>;
}

type UserDataInput = Omit<InstanceStackInput, "placement" | "securityGroupIds" | "instanceType">;

/**
 * The user data's token sources, in order of precedence: the portal's own launch tokens, the display
 * plugin's `replaceParams`, then built-in group, config, global and settings tokens.
 */
function tokenSources(input: UserDataInput): TokenSources {
	const base = publicUrl(input.settings);
	const directory = input.group.directoryName ?? "";
	const group: [string, string][] = [["GROUP_NAME", input.group.name], ["GROUP_DIRECTORY_NAME", directory]];
	// The original's parameter plugin: the team's directory group for on-box authorization.
	if (/CN/i.test(directory)) group.push(["LDAP_AUTHZ_GROUP", directory]);
	return [
		[["PROGRESS_TOKEN", input.token], ["LAUNCH_ID", input.launchId]],
		Object.entries(input.pluginTokens ?? {}),
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
			["EBS_DEVICE", hasExtraVolume(input.config) ? input.config.volumeDevice : ""],
		],
	];
}

/** Builds the user data: every `{{{token}}}` the sources define, replaced. */
export function buildUserData(input: UserDataInput): string {
	return substituteTokens(input.config.userDataBody, tokenSources(input));
}

/** EBS snapshot ids (the old 8-digit and today's 17-digit form). */
const SNAPSHOT_ID = /^snap-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/**
 * The volume parameters the configuration's template takes: `VolumeType`, and `SnapshotId` when the
 * configuration names a snapshot (the original's special SNAPSHOT_ID param, from the same sources
 * as the bootstrap's tokens). What the template cannot take is refused (422) rather than dropped, so
 * an admin's choice never silently fails to reach AWS: a type other than gp2 (what the templates
 * before VolumeType hard-coded) or a snapshot for a template without the parameter.
 */
function volumeParameters(input: UserDataInput): Record<string, string> {
	const { config } = input;
	const template = parseTemplate(config.templateBody);
	if (!template.ok) throw new UserError(422, `The configuration's template cannot be read: ${template.error}`);
	const declared = template.parameters;
	const parameters: Record<string, string> = {};
	if ("VolumeType" in declared) parameters.VolumeType = config.volumeType;
	else if (hasExtraVolume(config) && config.volumeType !== "gp2") {
		throw new UserError(
			422,
			`The configuration's extra volume is ${config.volumeType}, but its template takes no VolumeType parameter, so that type would not reach AWS. Ask an admin to add a VolumeType parameter to the template (the shipped template has one).`,
		);
	}
	const snapshot = tokenValue(tokenSources(input), "SNAPSHOT_ID");
	if (snapshot !== undefined) {
		if (!SNAPSHOT_ID.test(snapshot)) {
			throw new UserError(422, `The configuration's SNAPSHOT_ID "${snapshot.slice(0, 40)}" is not an EBS snapshot id.`);
		}
		if (!("SnapshotId" in declared)) {
			throw new UserError(
				422,
				"The configuration names a snapshot (SNAPSHOT_ID), but its template takes no SnapshotId parameter, so the volume would not be restored from it.",
			);
		}
		parameters.SnapshotId = snapshot;
	}
	return parameters;
}

/** The seed's CloudFormation parameters for an instance launch, with the volume's type and snapshot. */
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
		...volumeParameters(input),
		UserData: base64Utf8(buildUserData(input)),
	};
	if (config.volumeKmsKey) parameters.KmsKeyId = config.volumeKmsKey;
	return parameters;
}

/** Every token's value as {@link substituteTokens} would put it in: the first source defining it wins. */
function tokenValues(sources: TokenSources): Record<string, string> {
	const values: Record<string, string> = {};
	for (const source of sources) {
		for (const [token, replacement] of source) {
			if (token && replacement !== "" && !Object.hasOwn(values, token)) values[token] = replacement;
		}
	}
	return values;
}

/** The portal's own launch tokens, which no plugin may change (the progress endpoint trusts them). */
const OWN_TOKENS = new Set(["PROGRESS_TOKEN", "LAUNCH_ID"]);

/**
 * The tokens the display plugin's `replaceParams` (the original's parameter plugin) adds or changes
 * for this launch: it is shown every token's value but the portal's own launch tokens, and what it
 * returns wins over the group's, the params' and the settings' values. A plugin keeping the default
 * is not called. A failing plugin fails the launch (its bootstrap would get the wrong values),
 * saying so; the log has the plugin's message.
 */
async function pluginTokens(
	deps: Pick<Deps, "plugins" | "log">,
	input: Omit<InstanceStackInput, "pluginTokens">,
	user: User,
): Promise<Record<string, string>> {
	const display = deps.plugins.display;
	if (display.sources.replaceParams === "default") return {};
	const current = tokenValues(tokenSources(input));
	for (const token of OWN_TOKENS) delete current[token];
	let given: unknown;
	try {
		given = await display.functions.replaceParams(Object.freeze(current), {
			...deps.plugins.context,
			user: { username: user.username, firstName: user.firstName, lastName: user.lastName, email: user.email },
			group: { name: input.group.name, directoryName: input.group.directoryName },
			config: { name: input.config.name, amiId: input.config.amiId },
			instanceType: input.instanceType,
			launchId: input.launchId,
		});
	} catch (error) {
		deps.log.launch.warn("launch {launchId}: the display plugin's replaceParams failed: {message}", {
			launchId: input.launchId,
			message: (error as Error).message,
		});
		throw new UserError(
			409,
			"The portal's parameter plugin failed, so the bootstrap script's values are not known; the portal's log has the details.",
		);
	}
	const tokens: Record<string, string> = {};
	for (const [token, value] of Object.entries(given && typeof given === "object" ? given : {})) {
		if (/^[A-Za-z0-9_.-]{1,100}$/.test(token) && !OWN_TOKENS.has(token) && typeof value === "string") {
			tokens[token] = value;
		}
	}
	return tokens;
}

/**
 * An instance stack's parameters (with the launch's progress token, the global params and the
 * display plugin's tokens), within the size limit. The secret params go only to NoEcho parameters
 * of their names (never into the user data: {@link paramsMap} leaves them out), after every
 * parameter the portal sets itself.
 */
async function instanceStackParameters(
	deps: Pick<Deps, "db" | "settings" | "paramsKey" | "plugins" | "log">,
	input: Omit<InstanceStackInput, "settings" | "globalParams" | "pluginTokens">,
	user: User,
): Promise<Record<string, string>> {
	const sources = { ...input, settings: deps.settings, globalParams: await paramsMap(deps.db) };
	const parameters = buildInstanceParameters({ ...sources, pluginTokens: await pluginTokens(deps, sources, user) });
	return await stackParameters(deps, input.config.templateBody, parameters);
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
		...launchColumns(launch),
		id: "",
		name: launchMachineName(launch, group, config),
		instanceType: launch.instanceType,
		amiId: config?.amiId ?? "",
		progressText: config?.hasProgressBar ? "Initializing system" : null,
		progressPercent: config?.hasProgressBar ? 0 : null,
		progressUpdatedAt: config?.hasProgressBar ? now : null,
		setupState: config?.hasProgressBar ? "running" : null,
	};
}

/** The security groups a launch gets: the group's defaults plus the optional ones chosen, at most five in all. */
async function securityGroupsFor(deps: Pick<Deps, "db">, group: Group, chosen: readonly string[]): Promise<string[]> {
	const [defaults, optional] = await Promise.all([
		groupSecurityGroupsOf(deps.db, group.id, "default"),
		groupSecurityGroupsOf(deps.db, group.id, "optional"),
	]);
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
	return securityGroupIds;
}

/** The security groups stored with a launch (the group's defaults with the chosen ones, as checked then). */
function storedSecurityGroups(launch: Launch): string[] {
	return Array.isArray(launch.options.securityGroupIds) ? launch.options.securityGroupIds.map(String) : [];
}

/**
 * Records the stack's instance and volume once they have physical ids and refreshes them; returns
 * the step text. The sync may have listed (and adopted) the instance first: then its row is linked
 * to the launch.
 */
async function recordInstanceResources(
	deps: Deps,
	launch: Launch,
	context: FollowContext<Instance, Ec2Instance>,
	resources: StackResource[],
): Promise<string> {
	const now = deps.clock();
	const { group, config } = context;
	const instanceResource = resources.find((r) => r.type === "AWS::EC2::Instance" && r.physicalId);
	const newInstances: string[] = [];
	const newVolumes: string[] = [];
	if (instanceResource?.physicalId) {
		const inserted = await recordLaunchedInstance(deps.db, {
			...launchedInstanceFields(launch, group, config, now),
			id: instanceResource.physicalId,
			state: "pending",
			launchedAt: now,
			createdAt: now,
		});
		if (inserted) {
			newInstances.push(instanceResource.physicalId);
			await recordedByLaunch(deps, launch, { kind: "instance", id: instanceResource.physicalId });
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
	await context.refresh(newInstances);
	await context.refreshVolumes(newVolumes);
	const recorded = await instancesOfLaunch(deps.db, launch.id);
	const waiting = resources.filter((r) => r.status.endsWith("_IN_PROGRESS")).map((r) => r.logicalId);
	if (recorded.length === 0) return "CloudFormation is creating the instance";
	return waiting.length
		? `Instance ${recorded[0]!.id} is ${recorded[0]!.state}; waiting for ${waiting.join(", ")}`
		: `Instance ${recorded[0]!.id} is ${recorded[0]!.state}`;
}

/** Instances: the stack's instance and volume are recorded; the launch completes with the stack. */
export const instanceLaunch: MachineLaunch<Instance, Ec2Instance, InstanceForm> = {
	refusal: () => undefined,

	parseForm: (raw) => parseLaunchForm(instanceFormSchema, raw),

	async plan(deps, { user, group, config, form, launchId }) {
		const securityGroupIds = await securityGroupsFor(deps, group, form.securityGroups);
		const stackName = stackNameFor(instanceNameFor(group, config), group.ags, launchId);
		const token = await progressToken(deps.secret, launchId);
		// Built now with a placeholder placement, so a size problem is a 4xx before anything is recorded.
		await instanceStackParameters(deps, {
			group,
			config,
			instanceType: form.instanceType,
			securityGroupIds,
			launchId,
			stackName,
			token,
			placement: { subnetId: "subnet-00000000000000000", availabilityZone: "xx-xxxx-0x" },
		}, user);
		return {
			instanceType: form.instanceType,
			options: { securityGroupIds },
			stackName,
			progressTokenHash: await sha256Hex(token),
		};
	},

	async stack(deps, launch, { user, group, config, placement }: StackContext) {
		return {
			templateBody: config.templateBody,
			parameters: await instanceStackParameters(deps, {
				group,
				config,
				instanceType: launch.instanceType,
				securityGroupIds: storedSecurityGroups(launch),
				launchId: launch.id,
				stackName: launch.stackName,
				token: await progressToken(deps.secret, launch.id),
				placement,
			}, user),
			tags: standardTags({
				user,
				group,
				config,
				launchId: launch.id,
				defaultChargeCode: deps.settings.DEFAULT_CHARGE_CODE,
				name: launchMachineName(launch, group, config),
			}),
		};
	},

	async follow(deps, launch, context) {
		await followStack(deps, launch, {
			record: (resources) => recordInstanceResources(deps, launch, context, resources),
		});
	},
};
