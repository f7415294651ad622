/**
 * The one tag vocabulary of what the portal launches, and the stack names that carry the launch
 * id. Every portal stack (and so everything CloudFormation creates from it) carries the original's
 * `LaunchedBy: MLIY`, the owner, group (under the portal's and the original's tag names) and
 * configuration, the launch id and the portal's signature of it. Tags describe, they never grant:
 * the sync finds every kind by `LaunchedBy`, and a machine belongs to someone only when a portal
 * launch is proven to have made it (lib/sync/observe.ts).
 */
import type { Group, SoftwareConfig } from "../db/catalog.ts";
import type { Launch } from "../db/launches.ts";
import { displayName, type User } from "../db/users.ts";
import { costCenterOf } from "../billing/rates.ts";

/** The tag every portal-launched resource carries (the original's name and value). */
export const LAUNCHED_BY_TAG = "LaunchedBy";
export const LAUNCHED_BY_VALUE = "MLIY";

/** The tag that ties a stack (and its resources) to its launch row. */
export const LAUNCH_TAG = "mliy:launch-id";

/** The portal's signature of the launch id (lib/tokens.ts launchProof), added to every stack it submits. */
export const LAUNCH_PROOF_TAG = "mliy:launch-proof";

/** The owner's username (the original's name for it): a description for people and cost reports, never the owner. */
export const OWNER_TAG = "userid";
/**
 * The group's name: the portal's `Group`, and the original's `GroupConfig` (its group
 * configuration) and `UserGroup` (the team it belongs to), which are one thing here.
 */
export const GROUP_TAGS = ["Group", "GroupConfig", "UserGroup"] as const;
/** The software configuration's name. */
export const CONFIG_TAG = "Software Config";

/** CloudFormation's own tags on what a stack creates: the `aws:` prefix is reserved, so they cannot be copied by hand. */
export const STACK_NAME_TAG = "aws:cloudformation:stack-name";
export const STACK_ID_TAG = "aws:cloudformation:stack-id";

/** EMR's tag on the EC2 instances of a cluster: they are part of that cluster, not instances of their own. */
export const EMR_CLUSTER_TAG = "aws:elasticmapreduce:job-flow-id";

/** The EC2 filter that lists what the portal launched. */
export function portalFilter(): Record<string, string[]> {
	return { [`tag:${LAUNCHED_BY_TAG}`]: [LAUNCHED_BY_VALUE] };
}

/** Whether tags are the portal's (for listings that cannot filter by tag, such as EMR's). */
export function isPortalTagged(tags: Readonly<Record<string, string>>): boolean {
	return tags[LAUNCHED_BY_TAG] === LAUNCHED_BY_VALUE;
}

/** The instance name: the group's override, else the configuration's name for instances. */
export function instanceNameFor(
	group: Pick<Group, "nameOverride">,
	config: Pick<SoftwareConfig, "instanceName" | "name">,
): string {
	return group.nameOverride || config.instanceName || config.name;
}

/** The longest machine name (the pages show 100 characters of a name, lib/views/machines.ts NAME_SHOWN). */
export const NAME_MAX = 100;

/** A launch's machine name: the one chosen in the wizard, else the configuration's (as before names were chosen). */
export function launchMachineName(
	launch: Pick<Launch, "options" | "stackName">,
	group: Pick<Group, "nameOverride"> | undefined,
	config: Pick<SoftwareConfig, "instanceName" | "name"> | undefined,
): string {
	const chosen = launch.options.machineName;
	if (typeof chosen === "string" && chosen) return chosen;
	return group && config ? instanceNameFor(group, config) : launch.stackName;
}

/** The standard tags every launched resource carries; `name` defaults to {@link instanceNameFor}. */
export function standardTags(
	input: {
		user: User;
		group: Group;
		config: SoftwareConfig;
		launchId: string;
		defaultChargeCode: string;
		name?: string;
	},
): Record<string, string> {
	const { user, group, config } = input;
	const tags: Record<string, string> = {
		Name: input.name ?? instanceNameFor(group, config),
		Owner: displayName(user),
		[OWNER_TAG]: user.username,
		[LAUNCHED_BY_TAG]: LAUNCHED_BY_VALUE,
		[CONFIG_TAG]: config.name,
		...Object.fromEntries(GROUP_TAGS.map((tag) => [tag, group.name])),
		"Cost Center": costCenterOf(group, input.defaultChargeCode),
		AGS: group.ags,
		SDLC: group.sdlc,
		[LAUNCH_TAG]: input.launchId,
	};
	return stackTags(tags);
}

/** The most tags of a machine the portal keeps (AWS allows 50 per resource), and their lengths (AWS's limits). */
const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

/** Control and format characters (bidirectional overrides among them), which can make a tag read as something else. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}]/gu;

/**
 * Tags of a machine found in AWS as the portal keeps them: anyone who may tag a machine writes
 * them, so at most {@link MAX_TAGS}, each cut to AWS's own limits, without unprintable characters.
 */
export function boundedTags(tags: Readonly<Record<string, string>>): Record<string, string> {
	const kept: Record<string, string> = {};
	for (const [key, value] of Object.entries(tags).slice(0, MAX_TAGS)) {
		kept[key.replace(UNPRINTABLE, "").slice(0, MAX_TAG_KEY)] = value.replace(UNPRINTABLE, "").slice(0, MAX_TAG_VALUE);
	}
	return kept;
}

/**
 * Tags as a machine's row keeps them (what the admin pages show): {@link boundedTags}, sorted by
 * key, as JSON, so that the sync's compare of the stored text sees no change when nothing changed.
 */
export function storedTags(tags: Readonly<Record<string, string>>): string {
	return JSON.stringify(
		Object.fromEntries(Object.entries(boundedTags(tags)).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)),
	);
}

/** Tags as CloudFormation accepts them: empty values (which it rejects) left off, values cut to 256 characters. */
export function stackTags(tags: Record<string, string>): Record<string, string> {
	return Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== "").map(([k, v]) => [k, v.slice(0, 256)]));
}

/** Text reduced to what a stack name allows: letters, digits and single hyphens, none at the ends. */
export function stackNamePart(text: string): string {
	return text.replace(/[^A-Za-z0-9-]+/g, "-").replace(/-{2,}/g, "-").replace(/^-+|-+$/g, "");
}

/** An instance stack's name, CloudFormation-valid: `[A-Za-z][A-Za-z0-9-]*`, at most 128 characters. */
export function stackNameFor(prefix: string, ags: string, launchId: string): string {
	const suffix = launchId.replace(/[^A-Za-z0-9]/g, "").slice(0, 12);
	let head = [stackNamePart(prefix), stackNamePart(ags)].filter(Boolean).join("-");
	if (!/^[A-Za-z]/.test(head)) head = `mliy${head ? `-${head}` : ""}`;
	return `${head.slice(0, 128 - suffix.length - 1).replace(/-+$/, "")}-${suffix}`;
}

/** A cluster stack's (and cluster's) name: 40 characters at most of `[A-Za-z0-9-]`, as the original's template requires. */
export function clusterStackName(prefix: string, market: string, launchId: string): string {
	const suffix = `${market === "SPOT" ? "SPOT" : "OD"}-${launchId.replace(/[^A-Za-z0-9]/g, "").slice(0, 12)}`;
	let head = stackNamePart(prefix) || "mliy";
	if (!/^[A-Za-z]/.test(head)) head = `mliy-${head}`;
	return `${head.slice(0, 40 - suffix.length - 1).replace(/-+$/, "")}-${suffix}`;
}
