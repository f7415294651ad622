/**
 * What the admin forms and the catalogue import accept, as zod schemas: the limits are AWS's and
 * the portal's (CloudFormation's inline template size, IAM's name alphabet, …), with messages an
 * admin can act on. A failed parse is a 422 naming each field.
 */
import { z } from "zod";
import { parseTemplate } from "../cfn.ts";
import { CONFIG_KINDS, ROLES } from "../db/schema.ts";
import { UserError } from "../errors.ts";
import { policySpecSchema, storedPolicy } from "../policy/spec.ts";
import { VOLUME_TYPES } from "../billing/ebs.ts";
import { parseKeyValueLines } from "./group_settings.ts";
import { normaliseDirectoryName } from "../plugins/contract.ts";

/** The CloudFormation parameters every instance template must declare (the seed's list, less the optional KmsKeyId). */
export const INSTANCE_TEMPLATE_PARAMETERS = [
	"KeyName",
	"ImageId",
	"InstanceType",
	"IamInstanceProfile",
	"SecurityGroupIds",
	"SubnetId",
	"AvailabilityZone",
	"KmsKeyId",
	"EBSVolumeDeviceName",
	"VolumeSize",
	"UserData",
] as const;

/** The volume types a configuration may use: those the EBS price table covers. */
export { VOLUME_TYPES };

/** The message above a form whose fields are marked. */
export const CORRECT_THE_FIELDS = "Please correct the marked fields.";

/** Parses `input`, or throws a 422 whose fields map each bad field to its first message. */
export function parseOr422<T>(schema: z.ZodType<T>, input: unknown): T {
	const result = schema.safeParse(input);
	if (result.success) return result.data;
	const fields: Record<string, string> = {};
	for (const issue of result.error.issues) {
		// A policy's fields are named policy.<rule> in the forms.
		const key = issue.path[0] === "policy" && issue.path.length > 1 ? `policy.${String(issue.path[1])}` : issue.path[0];
		fields[String(key ?? "form")] ??= issue.message;
	}
	throw new UserError(422, CORRECT_THE_FIELDS, { fields });
}

/** A machine policy (lib/policy/spec.ts), stored as what differs from the defaults: every rule off when not given. */
const policy = z.preprocess((v) => v ?? {}, policySpecSchema).transform(storedPolicy);

const name = (max: number) =>
	z.string().trim().min(1, "Required").max(max, `At most ${max} characters`).regex(
		/^[\p{L}\p{N} ._()/-]+$/u,
		"Letters, digits, spaces and . _ - ( ) / only",
	);
const optionalText = (max: number) => z.string().trim().max(max, `At most ${max} characters`).default("");
/** Checkbox lists post ids; anything else means a tampered form, not a typo. */
const pickFromList = "Choose from the list";
const idList = z.array(
	z.coerce.number({ error: pickFromList }).int(pickFromList).positive(pickFromList),
).default([]);
const checkbox = z.preprocess((v) => v === true || v === "on" || v === "true" || v === "1", z.boolean());
const SG_ID = /^sg-[0-9a-f]{8,17}$/;

/** A directory group as a group's form names it: one DN or name (the directory header separates them by ";"). */
const directoryGroupName = optionalText(500).refine(
	(v) => !/[;\p{Cc}]/u.test(v),
	"One directory group only: no ; (it separates groups in the directory's header) and no control characters",
);

export const groupInput = z.object({
	name: name(60),
	directoryName: directoryGroupName,
	managerDirectoryName: directoryGroupName,
	keyName: optionalText(255).refine((v) => /^[\x20-\x7e]*$/.test(v), "Printable ASCII only"),
	iamInstanceProfile: optionalText(128).refine((v) => /^[\w+=,.@-]*$/.test(v), "Letters, digits and +=,.@_- only"),
	nameOverride: optionalText(45),
	ags: optionalText(30),
	costCenter: optionalText(60),
	sdlc: optionalText(30),
	emrAccess: checkbox.default(false),
	settings: optionalText(2000).superRefine((text, ctx) => {
		const { values, error } = parseKeyValueLines(text);
		if (error) ctx.addIssue({ code: "custom", message: error });
		const minutes = values.cluster_auto_termination_minutes;
		if (minutes !== undefined && !/^\d{1,4}$/.test(minutes)) {
			ctx.addIssue({ code: "custom", message: "cluster_auto_termination_minutes must be a whole number of minutes" });
		}
	}),
	policy,
	noticeWebhook: optionalText(500).refine(
		(v) => v === "" || (/^https?:\/\/\S+$/.test(v) && URL.canParse(v)),
		"An http(s) URL, like https://hooks.slack.com/services/…",
	),
	defaultSecurityGroups: idList,
	optionalSecurityGroups: idList,
	excludedTypes: idList,
}).superRefine((g, ctx) => {
	if (
		g.managerDirectoryName && normaliseDirectoryName(g.managerDirectoryName) === normaliseDirectoryName(g.directoryName)
	) {
		ctx.addIssue({
			code: "custom",
			path: ["managerDirectoryName"],
			message: "This is the group's own directory group: every member would manage it. Name the managers' group",
		});
	}
	if (g.defaultSecurityGroups.length > 5) {
		ctx.addIssue({ code: "custom", path: ["defaultSecurityGroups"], message: "AWS allows at most 5 security groups" });
	}
	if (g.defaultSecurityGroups.some((id) => g.optionalSecurityGroups.includes(id))) {
		ctx.addIssue({
			code: "custom",
			path: ["optionalSecurityGroups"],
			message: "A group cannot be both default and optional",
		});
	}
});

export const configInput = z.object({
	name: name(60),
	kind: z.enum(CONFIG_KINDS, { error: "Choose instance or cluster" }),
	amiId: z.string().trim().max(30).default("").refine(
		(v) => v === "" || /^ami-[0-9a-f]{8,17}$/.test(v),
		"Looks like ami-0123456789abcdef0",
	),
	templateBody: z.string().min(1, "Required").max(51_200, "CloudFormation accepts at most 51,200 bytes inline"),
	userDataBody: z.string().max(16_384, "At most 16 KiB (and 4 KiB after base64 at launch)").default(""),
	instanceName: optionalText(30),
	descriptionHtml: z.string().max(10_000).default(""),
	hasProgressBar: checkbox.default(false),
	failureStages: optionalText(300).refine(
		(v) => v.split(/[\s,]+/).filter(Boolean).every((stage) => /^\w{1,64}$/.test(stage)),
		"Stage names as the script sends them (letters, digits, _), separated by commas",
	),
	// Which names the pricing file has is saveConfig's to check (the file can change while the portal runs).
	os: z.string().trim().regex(/^[A-Za-z0-9]{1,40}$/, "Choose an operating system from the pricing file").default(
		"linux",
	),
	volumeDevice: optionalText(32).refine(
		(v) => v === "" || v === "No Volume" || /^\/dev\/[a-z0-9]{3,12}$/.test(v),
		"Like /dev/xvdz, or No Volume",
	),
	volumeSizeGb: z.coerce.number({ error: "A number of GiB" }).int("Whole GiB").min(1, "At least 1 GiB").max(
		16_384,
		"At most 16,384 GiB",
	).default(10),
	volumeType: z.enum(VOLUME_TYPES).default("gp2"),
	volumeKmsKey: optionalText(200),
	params: z.union([z.record(z.string(), z.string()), z.string()]).default({}).transform((value, ctx) => {
		if (typeof value !== "string") return value;
		const { values, error } = parseKeyValueLines(value);
		if (error) ctx.addIssue({ code: "custom", message: error });
		return values;
	}),
	customUrlFormat: optionalText(2000).refine(
		(v) => v.split("\n").every((line) => !line.includes("|") || line.split("|")[0]!.trim() !== ""),
		"One link a line: Label | https://{{{ URL }}}:8888/ (a line without a label is the connection)",
	),
	// What a form leaves empty is the default, as a new configuration starts with.
	loginUser: z.preprocess(
		(v) => typeof v === "string" && v.trim() === "" ? undefined : v,
		z.string().trim().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, "A Linux user name, like ec2-user or ubuntu").default(
			"ec2-user",
		),
	),
	emrMasterSecurityGroup: optionalText(30),
	emrSlaveSecurityGroup: optionalText(30),
	emrAdditionalMasterSecurityGroups: optionalText(200),
	emrAdditionalSlaveSecurityGroups: optionalText(200),
	policy,
	compatibleTypes: idList.refine((l) => l.length > 0, "Choose at least one instance type"),
	permittedGroups: idList,
}).superRefine((c, ctx) => {
	const parsed = parseTemplate(c.templateBody);
	if (!parsed.ok) {
		ctx.addIssue({ code: "custom", path: ["templateBody"], message: parsed.error });
		return;
	}
	if (c.kind === "instance") {
		if (!c.amiId) ctx.addIssue({ code: "custom", path: ["amiId"], message: "An instance configuration needs an AMI" });
		// What the template cannot take would never reach AWS: refused here, as the launch refuses it.
		const volume = c.volumeDevice !== "" && c.volumeDevice !== "No Volume";
		if (volume && c.volumeType !== "gp2" && !("VolumeType" in parsed.parameters)) {
			ctx.addIssue({
				code: "custom",
				path: ["volumeType"],
				message: "The template takes no VolumeType parameter, so this type would not reach AWS",
			});
		}
		const snapshot = c.params.SNAPSHOT_ID;
		if (snapshot && !/^snap-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(snapshot)) {
			ctx.addIssue({
				code: "custom",
				path: ["params"],
				message: "SNAPSHOT_ID must be a snapshot id like snap-0123456789abcdef0",
			});
		} else if (snapshot && !("SnapshotId" in parsed.parameters)) {
			ctx.addIssue({
				code: "custom",
				path: ["params"],
				message: "SNAPSHOT_ID names a snapshot, but the template takes no SnapshotId parameter",
			});
		}
		const missing = INSTANCE_TEMPLATE_PARAMETERS.filter((p) => !(p in parsed.parameters));
		if (missing.length) {
			ctx.addIssue({
				code: "custom",
				path: ["templateBody"],
				message: `The template must declare the parameters the portal sends; missing: ${missing.join(", ")}`,
			});
		}
	}
	for (const field of ["emrMasterSecurityGroup", "emrSlaveSecurityGroup"] as const) {
		if (c[field] && !SG_ID.test(c[field])) {
			ctx.addIssue({ code: "custom", path: [field], message: "Like sg-0123456789abcdef0" });
		}
	}
	for (const field of ["emrAdditionalMasterSecurityGroups", "emrAdditionalSlaveSecurityGroups"] as const) {
		if (c[field] && !c[field].split(",").every((s) => SG_ID.test(s.trim()))) {
			ctx.addIssue({ code: "custom", path: [field], message: "Comma-separated sg-… ids" });
		}
	}
	for (const token of Object.keys(c.params)) {
		if (!/^[A-Za-z0-9_.-]{1,50}$/.test(token)) {
			ctx.addIssue({ code: "custom", path: ["params"], message: `"${token.slice(0, 30)}" is not a valid token` });
		}
	}
});

export const instanceTypeInput = z.object({
	name: z.string().trim().regex(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, "An AWS instance type, like r4.4xlarge").max(25),
	description: optionalText(125),
});
export const securityGroupInput = z.object({
	sgId: z.string().trim().regex(SG_ID, "Like sg-0123456789abcdef0"),
	name: optionalText(60),
});
export const paramInput = z.object({
	token: z.string().trim().regex(/^[A-Za-z0-9_.-]{1,50}$/, "Letters, digits, _ . - (at most 50)"),
	value: z.string().max(4000, "At most 4000 characters").default(""),
	description: optionalText(300),
	/** Kept encrypted, never shown again, passed only to NoEcho template parameters (lib/catalog/secrets.ts). */
	secret: checkbox.default(false),
});
export const userInput = z.object({
	role: z.enum(ROLES, { error: "Choose user, manager or admin" }),
	groups: idList,
	/** The groups an admin has the user manage; absent (a catalogue import): left as they are. */
	managedGroups: z.array(z.coerce.number({ error: pickFromList }).int(pickFromList).positive(pickFromList)).optional(),
});
