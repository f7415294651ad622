/**
 * What admins define — groups, software configurations, instance types, security groups, params,
 * users' roles and manual memberships — validated on the server, saved, deleted only when nothing
 * depends on them, and exported/imported as one document (configuration as code).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { USERNAME } from "./auth/identify.ts";
import { parseTemplate } from "./cfn.ts";
import type { Db } from "./db/client.ts";
import { ensureUser } from "./db/users.ts";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import {
	bills,
	clusters,
	configGroups,
	configInstanceTypes,
	groupExcludedTypes,
	groups,
	groupSecurityGroups,
	instances,
	instanceTypes,
	launches,
	memberships,
	params,
	ROLES,
	securityGroups,
	softwareConfigs,
	users,
	volumes,
} from "./db/schema.ts";
import { UserError } from "./errors.ts";
import { sanitizeDescription } from "./sanitize.ts";
import { DEFAULT_EBS_PRICE_PER_GB_MONTH, type VolumeType } from "./settings.ts";

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

export const OPERATING_SYSTEMS = [
	"linux",
	"rhel",
	"sles",
	"mswin",
	"mswinSQL",
	"mswinSQLWeb",
	"mswinSQLEnterprise",
] as const;
/** The volume types a configuration may use: those the portal has a default EBS price for. */
export const VOLUME_TYPES = Object.keys(DEFAULT_EBS_PRICE_PER_GB_MONTH) as [VolumeType, ...VolumeType[]];

/** Turns zod issues into a field → message map and throws a 422. */
function invalid(error: z.ZodError, message = "Please correct the marked fields."): never {
	const fields: Record<string, string> = {};
	for (const issue of error.issues) {
		const key = String(issue.path[0] ?? "form");
		fields[key] ??= issue.message;
	}
	throw new UserError(422, message, { fields });
}

function parseOr422<T>(schema: z.ZodType<T>, input: unknown): T {
	const result = schema.safeParse(input);
	if (!result.success) invalid(result.error);
	return result.data;
}

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

/** Parses `key=value` lines; the portal reads `cluster_auto_termination_minutes`. */
export function parseKeyValueLines(text: string): { values: Record<string, string>; error?: string } {
	const values: Record<string, string> = {};
	for (const [i, raw] of text.split(/\r?\n/).entries()) {
		const line = raw.trim();
		if (!line || line.startsWith("#")) continue;
		const at = line.indexOf("=");
		if (at <= 0) return { values, error: `Line ${i + 1} is not key=value` };
		const key = line.slice(0, at).trim();
		if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) {
			return { values, error: `Line ${i + 1}: "${key.slice(0, 40)}" is not a valid key` };
		}
		values[key] = line.slice(at + 1).trim();
	}
	return { values };
}

/** The group setting: default idle minutes before a cluster terminates itself (0: never). */
export function autoTerminateMinutes(settings: string): number {
	const value = parseKeyValueLines(settings).values.cluster_auto_termination_minutes;
	const n = Number(value);
	return value !== undefined && Number.isInteger(n) && n >= 0 ? n : 0;
}

export const groupInput = z.object({
	name: name(60),
	directoryName: optionalText(500),
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
	defaultSecurityGroups: idList,
	optionalSecurityGroups: idList,
	excludedTypes: idList,
}).superRefine((g, ctx) => {
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
export type GroupInput = z.infer<typeof groupInput>;

export const configInput = z.object({
	name: name(60),
	kind: z.enum(["instance", "cluster"], { error: "Choose instance or cluster" }),
	amiId: z.string().trim().max(30).default("").refine(
		(v) => v === "" || /^ami-[0-9a-f]{8,17}$/.test(v),
		"Looks like ami-0123456789abcdef0",
	),
	templateBody: z.string().min(1, "Required").max(51_200, "CloudFormation accepts at most 51,200 bytes inline"),
	userDataBody: z.string().max(16_384, "At most 16 KiB (and 4 KiB after base64 at launch)").default(""),
	instanceName: optionalText(30),
	descriptionHtml: z.string().max(10_000).default(""),
	hasProgressBar: checkbox.default(false),
	os: z.enum(OPERATING_SYSTEMS, { error: "Choose an operating system from the pricing file" }).default("linux"),
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
	customUrlFormat: optionalText(500),
	emrMasterSecurityGroup: optionalText(30),
	emrSlaveSecurityGroup: optionalText(30),
	emrAdditionalMasterSecurityGroups: optionalText(200),
	emrAdditionalSlaveSecurityGroups: optionalText(200),
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
		if (c[field] && !/^sg-[0-9a-f]{8,17}$/.test(c[field])) {
			ctx.addIssue({ code: "custom", path: [field], message: "Like sg-0123456789abcdef0" });
		}
	}
	for (const field of ["emrAdditionalMasterSecurityGroups", "emrAdditionalSlaveSecurityGroups"] as const) {
		if (c[field] && !c[field].split(",").every((s) => /^sg-[0-9a-f]{8,17}$/.test(s.trim()))) {
			ctx.addIssue({ code: "custom", path: [field], message: "Comma-separated sg-… ids" });
		}
	}
	for (const token of Object.keys(c.params)) {
		if (!/^[A-Za-z0-9_.-]{1,50}$/.test(token)) {
			ctx.addIssue({ code: "custom", path: ["params"], message: `"${token.slice(0, 30)}" is not a valid token` });
		}
	}
});
export type ConfigInput = z.infer<typeof configInput>;

export const instanceTypeInput = z.object({
	name: z.string().trim().regex(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, "An AWS instance type, like r4.4xlarge").max(25),
	description: optionalText(125),
});
export const securityGroupInput = z.object({
	sgId: z.string().trim().regex(/^sg-[0-9a-f]{8,17}$/, "Like sg-0123456789abcdef0"),
	name: optionalText(60),
});
export const paramInput = z.object({
	token: z.string().trim().regex(/^[A-Za-z0-9_.-]{1,50}$/, "Letters, digits, _ . - (at most 50)"),
	value: z.string().max(4000, "At most 4000 characters").default(""),
	description: optionalText(300),
});
export const userInput = z.object({
	role: z.enum(ROLES, { error: "Choose user, manager or admin" }),
	groups: idList,
});

/** Makes sure every id exists in `table`; a 422 naming the field otherwise. */
async function checkIds(
	db: Db,
	table: typeof groups | typeof securityGroups | typeof instanceTypes,
	ids: number[],
	field: string,
) {
	if (ids.length === 0) return;
	const found = await db.select({ id: table.id }).from(table).where(inArray(table.id, ids));
	if (found.length !== new Set(ids).size) {
		throw new UserError(422, "Please correct the marked fields.", { fields: { [field]: "Choose from the list" } });
	}
}

async function uniqueOr422<T>(field: string, what: string, fn: () => Promise<T>): Promise<T> {
	try {
		return await fn();
	} catch (error) {
		if (/UNIQUE constraint failed/.test(errorChain(error))) {
			throw new UserError(422, "Please correct the marked fields.", {
				fields: { [field]: `Another ${what} already uses this` },
			});
		}
		throw error;
	}
}

function errorChain(error: unknown): string {
	let text = "";
	for (let e = error; e instanceof Error; e = e.cause) text += ` ${e.message}`;
	return text;
}

/** Creates (id undefined) or updates a group with its security groups and exclusions. */
export async function saveGroup(db: Db, id: number | undefined, raw: unknown): Promise<number> {
	const input = parseOr422(groupInput, raw);
	await checkIds(
		db,
		securityGroups,
		[...input.defaultSecurityGroups, ...input.optionalSecurityGroups],
		"defaultSecurityGroups",
	);
	await checkIds(db, instanceTypes, input.excludedTypes, "excludedTypes");
	const { defaultSecurityGroups, optionalSecurityGroups, excludedTypes, ...values } = input;
	const row = { ...values, directoryName: values.directoryName || null, updatedAt: new Date() };
	return await uniqueOr422("name", "group", () =>
		db.transaction(async (tx) => {
			let groupId = id;
			if (groupId === undefined) {
				groupId = (await tx.insert(groups).values(row).returning({ id: groups.id }))[0]!.id;
			} else {
				const updated = await tx.update(groups).set(row).where(eq(groups.id, groupId)).returning({ id: groups.id });
				if (updated.length === 0) throw new UserError(404, "No such group");
			}
			await tx.delete(groupSecurityGroups).where(eq(groupSecurityGroups.groupId, groupId));
			const sgRows = [
				...defaultSecurityGroups.map((securityGroupId) => ({
					groupId: groupId!,
					securityGroupId,
					kind: "default" as const,
				})),
				...optionalSecurityGroups.map((securityGroupId) => ({
					groupId: groupId!,
					securityGroupId,
					kind: "optional" as const,
				})),
			];
			if (sgRows.length) await tx.insert(groupSecurityGroups).values(sgRows).onConflictDoNothing();
			await tx.delete(groupExcludedTypes).where(eq(groupExcludedTypes.groupId, groupId));
			if (excludedTypes.length) {
				await tx.insert(groupExcludedTypes).values(
					[...new Set(excludedTypes)].map((instanceTypeId) => ({ groupId: groupId!, instanceTypeId })),
				);
			}
			return groupId;
		}));
}

/** Creates or updates a software configuration; its description is sanitized before it is stored. */
export async function saveConfig(db: Db, id: number | undefined, raw: unknown): Promise<number> {
	const input = parseOr422(configInput, raw);
	await checkIds(db, instanceTypes, input.compatibleTypes, "compatibleTypes");
	await checkIds(db, groups, input.permittedGroups, "permittedGroups");
	const { compatibleTypes, permittedGroups, ...values } = input;
	const row = { ...values, descriptionHtml: sanitizeDescription(values.descriptionHtml), updatedAt: new Date() };
	return await uniqueOr422("name", "configuration", () =>
		db.transaction(async (tx) => {
			let configId = id;
			if (configId === undefined) {
				configId = (await tx.insert(softwareConfigs).values(row).returning({ id: softwareConfigs.id }))[0]!.id;
			} else {
				const updated = await tx.update(softwareConfigs).set(row).where(eq(softwareConfigs.id, configId)).returning({
					id: softwareConfigs.id,
				});
				if (updated.length === 0) throw new UserError(404, "No such configuration");
			}
			await tx.delete(configInstanceTypes).where(eq(configInstanceTypes.configId, configId));
			await tx.insert(configInstanceTypes).values(
				[...new Set(compatibleTypes)].map((instanceTypeId) => ({ configId: configId!, instanceTypeId })),
			);
			await tx.delete(configGroups).where(eq(configGroups.configId, configId));
			if (permittedGroups.length) {
				await tx.insert(configGroups).values(
					[...new Set(permittedGroups)].map((groupId) => ({ configId: configId!, groupId })),
				);
			}
			return configId;
		}));
}

export async function saveInstanceType(db: Db, id: number | undefined, raw: unknown): Promise<number> {
	const input = parseOr422(instanceTypeInput, raw);
	return await uniqueOr422("name", "instance type", async () => {
		if (id === undefined) {
			return (await db.insert(instanceTypes).values(input).returning({ id: instanceTypes.id }))[0]!.id;
		}
		const updated = await db.update(instanceTypes).set(input).where(eq(instanceTypes.id, id)).returning({
			id: instanceTypes.id,
		});
		if (!updated[0]) throw new UserError(404, "No such instance type");
		return id;
	});
}

export async function saveSecurityGroup(db: Db, id: number | undefined, raw: unknown): Promise<number> {
	const input = parseOr422(securityGroupInput, raw);
	return await uniqueOr422("sgId", "security group", async () => {
		if (id === undefined) {
			return (await db.insert(securityGroups).values(input).returning({ id: securityGroups.id }))[0]!.id;
		}
		const updated = await db.update(securityGroups).set(input).where(eq(securityGroups.id, id)).returning({
			id: securityGroups.id,
		});
		if (!updated[0]) throw new UserError(404, "No such security group");
		return id;
	});
}

export async function saveParam(db: Db, id: number | undefined, raw: unknown): Promise<number> {
	const input = parseOr422(paramInput, raw);
	return await uniqueOr422("token", "param", async () => {
		if (id === undefined) return (await db.insert(params).values(input).returning({ id: params.id }))[0]!.id;
		const updated = await db.update(params).set(input).where(eq(params.id, id)).returning({ id: params.id });
		if (!updated[0]) throw new UserError(404, "No such param");
		return id;
	});
}

/** Sets a user's portal role and manual group memberships (directory memberships are the directory's). */
export async function saveUser(db: Db, id: number, raw: unknown): Promise<void> {
	const input = parseOr422(userInput, raw);
	await checkIds(db, groups, input.groups, "groups");
	await db.transaction(async (tx) => {
		const updated = await tx.update(users).set({ role: input.role, updatedAt: new Date() }).where(eq(users.id, id))
			.returning({
				id: users.id,
			});
		if (!updated[0]) throw new UserError(404, "No such user");
		await tx.delete(memberships).where(and(eq(memberships.userId, id), eq(memberships.source, "manual")));
		if (input.groups.length) {
			await tx.insert(memberships).values(
				[...new Set(input.groups)].map((groupId) => ({ userId: id, groupId, source: "manual" as const })),
			);
		}
	});
}

function refuse(what: string, reasons: string[]): never {
	throw new UserError(409, `Cannot delete ${what}: ${reasons.join("; ")}. Remove those first.`);
}

/** A kind of row that refers to a group or configuration, and how to say so ("2 clusters refer to it"). */
type Referrer = readonly [table: SQLiteTable, column: SQLiteColumn, noun: string, plural: string, verb: string];

/** Why a row cannot be deleted: one reason per kind of row still referring to it. */
async function referenceReasons(db: Db, id: number, referrers: readonly Referrer[]): Promise<string[]> {
	const reasons: string[] = [];
	for (const [table, column, noun, plural, verb] of referrers) {
		const [row] = await db.select({ n: sql<number>`count(*)` }).from(table).where(eq(column, id));
		const n = Number(row?.n ?? 0);
		if (n > 0) reasons.push(`${n} ${n === 1 ? noun : plural} ${verb}`);
	}
	return reasons;
}

/**
 * Runs a delete, turning the database's foreign-key refusal into the same 409 as the counted
 * refusals: a row referring to the thing may be written between the count and the delete.
 */
async function deleteOr409<T>(what: string, remove: () => Promise<T>): Promise<T> {
	try {
		return await remove();
	} catch (error) {
		if (/FOREIGN KEY constraint failed/.test(errorChain(error))) {
			refuse(what, ["other records refer to it"]);
		}
		throw error;
	}
}

const GROUP_REFERRERS: readonly Referrer[] = [
	[instances, instances.groupId, "instance", "instances", "refer to it"],
	[clusters, clusters.groupId, "cluster", "clusters", "refer to it"],
	[volumes, volumes.groupId, "volume", "volumes", "refer to it"],
	[launches, launches.groupId, "launch", "launches", "refer to it"],
	[bills, bills.groupId, "billed period", "billed periods", "refer to it"],
];

const CONFIG_REFERRERS: readonly Referrer[] = [
	[instances, instances.configId, "instance", "instances", "were launched from it"],
	[clusters, clusters.configId, "cluster", "clusters", "were launched from it"],
	[launches, launches.configId, "launch", "launches", "refer to it"],
];

/** Deletes a group unless instances, clusters, volumes, launches or bills refer to it. */
export async function deleteGroup(db: Db, id: number): Promise<void> {
	const reasons = await referenceReasons(db, id, GROUP_REFERRERS);
	if (reasons.length) refuse("this group", reasons);
	const deleted = await deleteOr409(
		"this group",
		() => db.delete(groups).where(eq(groups.id, id)).returning({ id: groups.id }),
	);
	if (!deleted[0]) throw new UserError(404, "No such group");
}

/** Deletes a configuration unless instances, clusters or launches refer to it. */
export async function deleteConfig(db: Db, id: number): Promise<void> {
	const reasons = await referenceReasons(db, id, CONFIG_REFERRERS);
	if (reasons.length) refuse("this configuration", reasons);
	const deleted = await deleteOr409(
		"this configuration",
		() => db.delete(softwareConfigs).where(eq(softwareConfigs.id, id)).returning({ id: softwareConfigs.id }),
	);
	if (!deleted[0]) throw new UserError(404, "No such configuration");
}

/** Deletes an instance type unless configurations offer it or groups exclude it. */
export async function deleteInstanceType(db: Db, id: number): Promise<void> {
	const usedBy = await db.select({ name: softwareConfigs.name }).from(configInstanceTypes)
		.innerJoin(softwareConfigs, eq(softwareConfigs.id, configInstanceTypes.configId)).where(
			eq(configInstanceTypes.instanceTypeId, id),
		);
	const excludedBy = await db.select({ name: groups.name }).from(groupExcludedTypes)
		.innerJoin(groups, eq(groups.id, groupExcludedTypes.groupId)).where(eq(groupExcludedTypes.instanceTypeId, id));
	const reasons: string[] = [];
	if (usedBy.length) reasons.push(`offered by ${usedBy.map((c) => `"${c.name}"`).join(", ")}`);
	if (excludedBy.length) reasons.push(`excluded by ${excludedBy.map((g) => `"${g.name}"`).join(", ")}`);
	if (reasons.length) refuse("this instance type", reasons);
	const deleted = await deleteOr409(
		"this instance type",
		() => db.delete(instanceTypes).where(eq(instanceTypes.id, id)).returning({ id: instanceTypes.id }),
	);
	if (!deleted[0]) throw new UserError(404, "No such instance type");
}

/** Deletes a security group unless groups use it. */
export async function deleteSecurityGroup(db: Db, id: number): Promise<void> {
	const usedBy = await db.select({ name: groups.name }).from(groupSecurityGroups)
		.innerJoin(groups, eq(groups.id, groupSecurityGroups.groupId)).where(eq(groupSecurityGroups.securityGroupId, id));
	if (usedBy.length) {
		refuse("this security group", [`used by ${[...new Set(usedBy.map((g) => `"${g.name}"`))].join(", ")}`]);
	}
	const deleted = await deleteOr409(
		"this security group",
		() => db.delete(securityGroups).where(eq(securityGroups.id, id)).returning({ id: securityGroups.id }),
	);
	if (!deleted[0]) throw new UserError(404, "No such security group");
}

export async function deleteParam(db: Db, id: number): Promise<void> {
	const deleted = await db.delete(params).where(eq(params.id, id)).returning({ id: params.id });
	if (!deleted[0]) throw new UserError(404, "No such param");
}

// ---------------------------------------------------------------------------------------------
// Configuration as code

const documentSchema = z.object({
	version: z.literal(1, { error: "version must be 1" }),
	instanceTypes: z.array(instanceTypeInput).default([]),
	securityGroups: z.array(securityGroupInput).default([]),
	params: z.array(paramInput).default([]),
	groups: z.array(z.object({
		name: z.string(),
		directoryName: z.string().optional(),
		keyName: z.string().optional(),
		iamInstanceProfile: z.string().optional(),
		nameOverride: z.string().optional(),
		ags: z.string().optional(),
		costCenter: z.string().optional(),
		sdlc: z.string().optional(),
		emrAccess: z.boolean().optional(),
		settings: z.string().optional(),
		defaultSecurityGroups: z.array(z.string()).default([]),
		optionalSecurityGroups: z.array(z.string()).default([]),
		excludedTypes: z.array(z.string()).default([]),
	})).default([]),
	configs: z.array(
		z.object({
			name: z.string(),
			kind: z.string().default("instance"),
			compatibleTypes: z.array(z.string()).default([]),
			permittedGroups: z.array(z.string()).default([]),
		}).passthrough(),
	).default([]),
	users: z.array(z.object({
		username: z.string().trim().toLowerCase().regex(USERNAME, "not a valid username"),
		role: z.enum(ROLES).default("user"),
		groups: z.array(z.string()).default([]),
	})).default([]),
});
export type CatalogDocument = z.input<typeof documentSchema>;

/** Everything admins define, as one document. */
export async function exportCatalog(db: Db): Promise<CatalogDocument> {
	const [types, sgs, paramRows, groupRows, configRows, userRows] = await Promise.all([
		db.select().from(instanceTypes).orderBy(instanceTypes.name),
		db.select().from(securityGroups).orderBy(securityGroups.sgId),
		db.select().from(params).orderBy(params.token),
		db.select().from(groups).orderBy(groups.name),
		db.select().from(softwareConfigs).orderBy(softwareConfigs.name),
		db.select().from(users).orderBy(users.username),
	]);
	const typeName = new Map(types.map((t) => [t.id, t.name]));
	const sgName = new Map(sgs.map((s) => [s.id, s.sgId]));
	const groupName = new Map(groupRows.map((g) => [g.id, g.name]));
	const [gsg, gex, cit, cg, mem] = await Promise.all([
		db.select().from(groupSecurityGroups),
		db.select().from(groupExcludedTypes),
		db.select().from(configInstanceTypes),
		db.select().from(configGroups),
		db.select().from(memberships).where(eq(memberships.source, "manual")),
	]);
	return {
		version: 1,
		instanceTypes: types.map(({ name, description }) => ({ name, description })),
		securityGroups: sgs.map(({ sgId, name }) => ({ sgId, name })),
		params: paramRows.map(({ token, value, description }) => ({ token, value, description })),
		groups: groupRows.map((g) => ({
			name: g.name,
			directoryName: g.directoryName ?? "",
			keyName: g.keyName,
			iamInstanceProfile: g.iamInstanceProfile,
			nameOverride: g.nameOverride,
			ags: g.ags,
			costCenter: g.costCenter,
			sdlc: g.sdlc,
			emrAccess: g.emrAccess,
			settings: g.settings,
			defaultSecurityGroups: gsg.filter((r) => r.groupId === g.id && r.kind === "default").map((r) =>
				sgName.get(r.securityGroupId)!
			),
			optionalSecurityGroups: gsg.filter((r) => r.groupId === g.id && r.kind === "optional").map((r) =>
				sgName.get(r.securityGroupId)!
			),
			excludedTypes: gex.filter((r) => r.groupId === g.id).map((r) => typeName.get(r.instanceTypeId)!),
		})),
		configs: configRows.map((c) => {
			const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = c;
			return {
				...rest,
				compatibleTypes: cit.filter((r) => r.configId === c.id).map((r) => typeName.get(r.instanceTypeId)!),
				permittedGroups: cg.filter((r) => r.configId === c.id).map((r) => groupName.get(r.groupId)!),
			};
		}),
		users: userRows.map((u) => ({
			username: u.username,
			role: u.role,
			groups: mem.filter((m) => m.userId === u.id).map((m) => groupName.get(m.groupId)!),
		})),
	};
}

/** Serialises the document as JSON or YAML. */
export function formatCatalog(doc: CatalogDocument, format: "json" | "yaml"): string {
	return format === "json" ? JSON.stringify(doc, null, 2) + "\n" : toYaml(doc, { lineWidth: 0 });
}

/** Parses an uploaded document (JSON or YAML); a 422 when it is neither. */
export function parseCatalog(text: string): unknown {
	const trimmed = text.trim();
	if (!trimmed) throw new UserError(422, "The document is empty");
	try {
		return trimmed.startsWith("{")
			? JSON.parse(trimmed)
			: parseYaml(trimmed, { maxAliasCount: 100, logLevel: "error" });
	} catch (error) {
		throw new UserError(422, `The document is neither valid JSON nor YAML: ${(error as Error).message.split("\n")[0]}`);
	}
}

/** What an import did. */
export interface ImportSummary {
	created: number;
	updated: number;
}

/**
 * Imports a document: everything is validated first (the same rules as the forms), then applied in
 * one transaction, matching existing rows by name, sg id, token or username. Nothing is deleted.
 */
export async function importCatalog(db: Db, raw: unknown): Promise<ImportSummary> {
	const parsed = documentSchema.safeParse(raw);
	if (!parsed.success) {
		const issue = parsed.error.issues[0]!;
		throw new UserError(422, `The document is not valid at ${issue.path.join(".") || "the top"}: ${issue.message}`);
	}
	const doc = parsed.data;
	const summary: ImportSummary = { created: 0, updated: 0 };
	const where = (path: string, error: unknown): never => {
		if (error instanceof UserError) {
			const fields = Object.entries(error.fields).map(([k, v]) => `${k}: ${v}`).join("; ");
			throw new UserError(422, `The document is not valid at ${path}: ${fields || error.message}`);
		}
		throw error;
	};
	await db.transaction(async (tx) => {
		const tdb = tx as unknown as Db;
		const upsert = async <T extends { id: number }>(
			path: string,
			existing: T | undefined,
			save: (id: number | undefined) => Promise<unknown>,
		) => {
			try {
				await save(existing?.id);
			} catch (error) {
				where(path, error);
			}
			if (existing) summary.updated += 1;
			else summary.created += 1;
		};
		for (const [i, t] of doc.instanceTypes.entries()) {
			const existing = await tdb.query.instanceTypes.findFirst({ where: eq(instanceTypes.name, t.name) });
			await upsert(`instanceTypes.${i}`, existing, (id) => saveInstanceType(tdb, id, t));
		}
		for (const [i, s] of doc.securityGroups.entries()) {
			const existing = await tdb.query.securityGroups.findFirst({ where: eq(securityGroups.sgId, s.sgId) });
			await upsert(`securityGroups.${i}`, existing, (id) => saveSecurityGroup(tdb, id, s));
		}
		for (const [i, p] of doc.params.entries()) {
			const existing = await tdb.query.params.findFirst({ where: eq(params.token, p.token) });
			await upsert(`params.${i}`, existing, (id) => saveParam(tdb, id, p));
		}
		const typeIds = new Map((await tdb.select().from(instanceTypes)).map((t) => [t.name, t.id]));
		const sgIds = new Map((await tdb.select().from(securityGroups)).map((s) => [s.sgId, s.id]));
		const resolve = (map: Map<string, number>, names: string[], path: string, what: string) =>
			names.map((n) => map.get(n) ?? where(path, new UserError(422, `unknown ${what} "${n}"`)));
		for (const [i, g] of doc.groups.entries()) {
			const path = `groups.${i}`;
			const existing = await tdb.query.groups.findFirst({ where: eq(groups.name, g.name) });
			await upsert(path, existing, (id) =>
				saveGroup(tdb, id, {
					...g,
					defaultSecurityGroups: resolve(sgIds, g.defaultSecurityGroups, path, "security group"),
					optionalSecurityGroups: resolve(sgIds, g.optionalSecurityGroups, path, "security group"),
					excludedTypes: resolve(typeIds, g.excludedTypes, path, "instance type"),
				}));
		}
		const groupIds = new Map((await tdb.select().from(groups)).map((g) => [g.name, g.id]));
		for (const [i, c] of doc.configs.entries()) {
			const path = `configs.${i}`;
			const existing = await tdb.query.softwareConfigs.findFirst({ where: eq(softwareConfigs.name, c.name) });
			await upsert(path, existing, (id) =>
				saveConfig(tdb, id, {
					...c,
					compatibleTypes: resolve(typeIds, c.compatibleTypes, path, "instance type"),
					permittedGroups: resolve(groupIds, c.permittedGroups, path, "group"),
				}));
		}
		for (const [i, u] of doc.users.entries()) {
			const path = `users.${i}`;
			const { user, created } = await ensureUser(tdb, { username: u.username });
			if (created) summary.created += 1;
			else summary.updated += 1;
			try {
				await saveUser(tdb, user.id, { role: u.role, groups: resolve(groupIds, u.groups, path, "group") });
			} catch (error) {
				where(path, error);
			}
		}
	});
	return summary;
}
