/**
 * The admin guide (/admin/guide): what an admin writing templates and bootstrap scripts needs to
 * know, read from this portal as it runs — the setup steps with what is already there, the
 * parameters a template receives, the tokens a bootstrap script can use, the params defined, the
 * plugins loaded and the settings in effect. The original sent admins to Django's model docs
 * (/admin/doc/); these are the portal's own contracts, and tests/admin_guide_test.ts holds the
 * lists below to the code that fills them, so the page cannot drift from what launches do.
 */
import { INSTANCE_TEMPLATE_PARAMETERS } from "../catalog/schemas.ts";
import { listParams } from "../db/catalog.ts";
import type { Deps } from "../deps.ts";
import { publicUrl, redactedSettings } from "../settings.ts";
import { type AdminCounts, adminCounts } from "./admin.ts";

/** A name the portal fills, and what it holds. */
export interface Documented {
	name: string;
	meaning: string;
}

/** The `{{{token}}}`s every instance's bootstrap script can use, filled by the portal at launch. */
export const BUILT_IN_TOKENS: readonly Documented[] = [
	{
		name: "PROGRESS_TOKEN",
		meaning: "the launch's secret for its progress and activity reports (send it as the X-MLiy-Progress-Token header)",
	},
	{ name: "LAUNCH_ID", meaning: "the portal's id of this launch" },
	{ name: "GROUP_NAME", meaning: "the group the machine is launched for" },
	{ name: "GROUP_DIRECTORY_NAME", meaning: "that group's directory name (empty when it has none)" },
	{
		name: "PROGRESS_URL",
		meaning: "where the script reports its stages: POST {{{PROGRESS_URL}}}/<instance id>/<stage>(<percent>)",
	},
	{ name: "MLIY_URL", meaning: "the portal's public address (PUBLIC_URL)" },
	{ name: "MANAGER_HOSTNAME", meaning: "the host (and port) of that address" },
	{ name: "STACK_NAME", meaning: "the CloudFormation stack's name" },
	{ name: "AWS_REGION", meaning: "the region the portal launches in" },
	{ name: "EBS_DEVICE", meaning: "the extra volume's device (empty when the configuration has no extra volume)" },
];

/**
 * Tokens filled only in some launches: the directory group for on-box authorisation when the
 * group's directory name is a DN (the original's parameter plugin), and the snapshot to restore.
 */
export const CONDITIONAL_TOKENS: readonly Documented[] = [
	{ name: "LDAP_AUTHZ_GROUP", meaning: "the group's directory name, when it is a DN (contains CN=)" },
	{
		name: "SNAPSHOT_ID",
		meaning: "set it as a param to restore the extra volume from that snapshot (the template must take SnapshotId)",
	},
];

/** What each parameter an instance template must declare receives. */
const INSTANCE_PARAMETER_MEANINGS: Record<(typeof INSTANCE_TEMPLATE_PARAMETERS)[number], string> = {
	KeyName: "the group's key pair",
	ImageId: "the configuration's AMI",
	InstanceType: "the type the user chose",
	IamInstanceProfile: "the group's IAM instance profile",
	SecurityGroupIds: "the group's default security groups and the ones the user chose, comma-separated",
	SubnetId: "the subnet the portal launches into (LAUNCH_SUBNET_ID or the portal's own)",
	AvailabilityZone: "that subnet's zone",
	KmsKeyId: "the KMS key for the extra volume (empty: the account's default)",
	EBSVolumeDeviceName: "the extra volume's device",
	VolumeSize: "the extra volume's size in GiB",
	UserData: "the bootstrap script with its tokens filled, base64-encoded",
};

/** The parameters an instance template must declare, and the optional ones the portal fills when declared. */
export const INSTANCE_PARAMETERS: readonly Documented[] = INSTANCE_TEMPLATE_PARAMETERS.map((name) => ({
	name,
	meaning: INSTANCE_PARAMETER_MEANINGS[name],
}));

export const OPTIONAL_INSTANCE_PARAMETERS: readonly Documented[] = [
	{ name: "VolumeType", meaning: "the extra volume's type (gp3, io2…); without it only gp2 can be used" },
	{ name: "SnapshotId", meaning: "the snapshot named by SNAPSHOT_ID" },
];

/**
 * The parameters a cluster template may declare: the portal sends each one the template declares
 * (and nothing else), then the configuration's params for the rest.
 */
export const CLUSTER_PARAMETERS: readonly Documented[] = [
	{ name: "paramClusterName", meaning: "the stack's name" },
	{ name: "paramEnvironment", meaning: "the group's SDLC" },
	{ name: "paramTimeZone", meaning: "the portal's TIME_ZONE" },
	{ name: "paramAGS", meaning: "the group's AGS" },
	{ name: "paramInstanceType", meaning: "the node type the user chose" },
	{ name: "paramCoreInstanceCount", meaning: "the number of core nodes" },
	{ name: "paramTaskInstanceCount", meaning: "always 0" },
	{ name: "paramMarketType", meaning: "ON_DEMAND or SPOT" },
	{ name: "paramBidPrice", meaning: "the spot bid in $/h (spot clusters only)" },
	{ name: "paramSubnetID", meaning: "the subnet the portal launches into" },
	{ name: "paramEc2KeyName", meaning: "the group's key pair" },
	{ name: "paramJobFlowRole", meaning: "the group's IAM instance profile (when it has one)" },
	{ name: "paramLdapGroup", meaning: "the group's directory name (when it has one)" },
	{ name: "paramEMRManagedMasterSecurityGroup", meaning: "the configuration's EMR master security group" },
	{ name: "paramEMRManagedSlaveSecurityGroup", meaning: "the configuration's EMR core security group" },
	{ name: "paramAdditionalMasterSecurityGroups", meaning: "the configuration's additional master security groups" },
	{ name: "paramAdditionalSlaveSecurityGroups", meaning: "the configuration's additional core security groups" },
	{ name: "paramIdleTimeoutSeconds", meaning: "idle seconds for EMR's AutoTerminationPolicy (0: none)" },
	{
		name: "paramIdleSeconds",
		meaning: "idle seconds for an on-cluster check, when the template has no paramIdleTimeoutSeconds",
	},
];

/** A setup step, with how many items it already has. */
export interface SetupStep {
	label: string;
	href: string;
	count: number;
	why: string;
}

/** A loaded plugin kind: where it comes from and which of its functions are the folder's own. */
export interface PluginSummary {
	kind: string;
	folder: string;
	embedded: boolean;
	functions: { name: string; source: string }[];
}

export interface AdminGuide {
	steps: SetupStep[];
	progressUrl: string;
	params: { token: string; secret: boolean; description: string }[];
	plugins: PluginSummary[];
	/** The settings in effect, secrets redacted as in the startup line. */
	settings: [string, string][];
}

const STEPS: readonly { label: string; href: string; counts: keyof AdminCounts; why: string }[] = [
	{
		label: "Instance types",
		href: "/admin/instance-types",
		counts: "instanceTypes",
		why: "the types configurations may offer",
	},
	{
		label: "Security groups",
		href: "/admin/security-groups",
		counts: "securityGroups",
		why: "the groups' defaults and the users' choices",
	},
	{
		label: "Groups",
		href: "/admin/groups",
		counts: "groups",
		why: "teams with their key pair, IAM profile, tags and directory group",
	},
	{
		label: "Params",
		href: "/admin/params",
		counts: "params",
		why: "tokens for bootstrap scripts and parameters for templates",
	},
	{
		label: "Configurations",
		href: "/admin/configs",
		counts: "configs",
		why: "a template, a bootstrap script and the groups it is permitted to",
	},
	{
		label: "Users",
		href: "/admin/users",
		counts: "users",
		why: "roles and manual memberships (the directory adds the rest)",
	},
];

/** A setting's value as one line of text. */
function shown(value: unknown): string {
	if (typeof value === "string") return value === "" ? "(empty)" : value;
	return JSON.stringify(value);
}

export async function adminGuide(deps: Pick<Deps, "db" | "settings" | "plugins">): Promise<AdminGuide> {
	const [counts, params] = await Promise.all([adminCounts(deps.db), listParams(deps.db)]);
	const plugins: PluginSummary[] = (["auth", "dns", "display"] as const).map((kind) => {
		const loaded = deps.plugins[kind];
		return {
			kind,
			folder: loaded.folder,
			embedded: loaded.embedded,
			functions: Object.entries(loaded.sources as Record<string, string>).map(([name, source]) => ({ name, source }))
				.sort((a, b) => a.name.localeCompare(b.name)),
		};
	});
	return {
		steps: STEPS.map((s) => ({ label: s.label, href: s.href, count: counts[s.counts], why: s.why })),
		progressUrl: `${publicUrl(deps.settings)}/ajax/progress`,
		params: params.map((p) => ({ token: p.token, secret: p.secret, description: p.description }))
			.sort((a, b) => a.token.localeCompare(b.token)),
		plugins,
		settings: Object.entries(redactedSettings(deps.settings)).map(([key, value]) =>
			[key, shown(value)] as [string, string]
		)
			.sort(([a], [b]) => a.localeCompare(b)),
	};
}
