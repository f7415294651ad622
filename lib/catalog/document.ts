/**
 * The catalogue as code: everything admins define — instance types, security groups, params,
 * groups, configurations, users' roles and manual memberships — as one JSON or YAML document,
 * exported whole and imported by matching names. The demo's data is such a document too.
 */
import { z } from "zod";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { USERNAME } from "../auth/identify.ts";
import type { Db } from "../db/client.ts";
import { catalogSnapshot, type CatalogTable, idsByKey, inTransaction } from "../db/catalog.ts";
import { ROLES } from "../db/schema.ts";
import { ensureUser } from "../db/users.ts";
import { UserError } from "../errors.ts";
import { saveConfig, saveGroup, saveInstanceType, saveParam, saveSecurityGroup, saveUser } from "./save.ts";
import { configInput, instanceTypeInput, paramInput, securityGroupInput } from "./schemas.ts";
import { SECRET_PLACEHOLDER } from "./secrets.ts";

/**
 * The document's shape. Items refer to each other by name (sg id for security groups); their
 * fields are checked by the same rules as the forms when they are saved.
 */
const documentSchema = z.object({
	version: z.literal(1, { error: "version must be 1" }),
	instanceTypes: z.array(instanceTypeInput).default([]),
	securityGroups: z.array(securityGroupInput).default([]),
	params: z.array(paramInput).default([]),
	groups: z.array(z.object({
		name: z.string(),
		directoryName: z.string().optional(),
		managerDirectoryName: z.string().optional(),
		keyName: z.string().optional(),
		iamInstanceProfile: z.string().optional(),
		nameOverride: z.string().optional(),
		ags: z.string().optional(),
		costCenter: z.string().optional(),
		sdlc: z.string().optional(),
		emrAccess: z.boolean().optional(),
		settings: z.string().optional(),
		policy: z.record(z.string(), z.unknown()).optional(),
		noticeWebhook: z.string().optional(),
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

/**
 * The fields an item of each section may have: what the import reads (it ignores anything else,
 * so the catalogue folder refuses other fields as the typos they are).
 */
export const DOCUMENT_FIELDS: Readonly<
	Record<Exclude<keyof typeof documentSchema.shape, "version">, readonly string[]>
> = {
	instanceTypes: Object.keys(instanceTypeInput.shape),
	securityGroups: Object.keys(securityGroupInput.shape),
	params: Object.keys(paramInput.shape),
	groups: Object.keys(documentSchema.shape.groups.unwrap().element.shape),
	configs: Object.keys(configInput.shape),
	users: Object.keys(documentSchema.shape.users.unwrap().element.shape),
};

/** Everything admins define, as one document. */
export async function exportCatalog(db: Db): Promise<CatalogDocument> {
	const all = await catalogSnapshot(db);
	const typeName = new Map(all.instanceTypes.map((t) => [t.id, t.name]));
	const sgName = new Map(all.securityGroups.map((s) => [s.id, s.sgId]));
	const groupName = new Map(all.groups.map((g) => [g.id, g.name]));
	const sgsOf = (groupId: number, kind: "default" | "optional") =>
		all.groupSecurityGroups.filter((r) => r.groupId === groupId && r.kind === kind).map((r) =>
			sgName.get(r.securityGroupId)!
		);
	return {
		version: 1,
		instanceTypes: all.instanceTypes.map(({ name, description }) => ({ name, description })),
		securityGroups: all.securityGroups.map(({ sgId, name }) => ({ sgId, name })),
		// A secret's value never leaves the portal: the placeholder stands for it, and importing it keeps the stored value.
		params: all.params.map(({ token, value, description, secret }) =>
			secret ? { token, value: SECRET_PLACEHOLDER, description, secret } : { token, value, description }
		),
		groups: all.groups.map((g) => ({
			name: g.name,
			directoryName: g.directoryName ?? "",
			managerDirectoryName: g.managerDirectoryName ?? "",
			keyName: g.keyName,
			iamInstanceProfile: g.iamInstanceProfile,
			nameOverride: g.nameOverride,
			ags: g.ags,
			costCenter: g.costCenter,
			sdlc: g.sdlc,
			emrAccess: g.emrAccess,
			settings: g.settings,
			policy: g.policy,
			noticeWebhook: g.noticeWebhook,
			defaultSecurityGroups: sgsOf(g.id, "default"),
			optionalSecurityGroups: sgsOf(g.id, "optional"),
			excludedTypes: all.groupExcludedTypes.filter((r) => r.groupId === g.id).map((r) =>
				typeName.get(r.instanceTypeId)!
			),
		})),
		configs: all.configs.map((c) => {
			const { id: _id, createdAt: _c, updatedAt: _u, ...rest } = c;
			return {
				...rest,
				compatibleTypes: all.configInstanceTypes.filter((r) => r.configId === c.id).map((r) =>
					typeName.get(r.instanceTypeId)!
				),
				permittedGroups: all.configGroups.filter((r) => r.configId === c.id).map((r) => groupName.get(r.groupId)!),
			};
		}),
		users: all.users.map((u) => ({
			username: u.username,
			role: u.role,
			groups: all.manualMemberships.filter((m) => m.userId === u.id).map((m) => groupName.get(m.groupId)!),
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

/** A refusal of one item, as a 422 saying where in the document it is. */
function invalidAt(path: string, error: unknown): never {
	// A reference resolved while saving the item was placed already: not placed twice.
	if (error instanceof UserError && error.message.startsWith("The document is not valid at ")) throw error;
	if (error instanceof UserError) {
		const fields = Object.entries(error.fields).map(([k, v]) => `${k}: ${v}`).join("; ");
		throw new UserError(422, `The document is not valid at ${path}: ${fields || error.message}`);
	}
	throw error;
}

/**
 * Imports a document: everything is validated first (the same rules as the forms), then applied in
 * one transaction, matching existing rows by name, sg id, token or username. Nothing is deleted.
 * `secret` is the portal's (Deps.secret): secret params are sealed with it, and a document with a
 * secret param is refused without it.
 */
export async function importCatalog(db: Db, raw: unknown, options: { secret?: string } = {}): Promise<ImportSummary> {
	const parsed = documentSchema.safeParse(raw);
	if (!parsed.success) {
		const issue = parsed.error.issues[0]!;
		throw new UserError(422, `The document is not valid at ${issue.path.join(".") || "the top"}: ${issue.message}`);
	}
	const doc = parsed.data;
	const summary: ImportSummary = { created: 0, updated: 0 };
	await inTransaction(db, async (tx) => {
		const ids = {} as Record<CatalogTable, Map<string, number>>;
		/** Saves each item, as a new row or over the row with its key; later sections refer to it by that key. */
		const upsert = async <T>(
			table: CatalogTable,
			section: string,
			items: T[],
			key: (item: T) => string,
			save: (id: number | undefined, item: T, path: string) => Promise<number>,
		) => {
			const known = ids[table] = await idsByKey(tx, table);
			for (const [i, item] of items.entries()) {
				const path = `${section}.${i}`;
				const existing = known.get(key(item));
				try {
					known.set(key(item), await save(existing, item, path));
				} catch (error) {
					invalidAt(path, error);
				}
				summary[existing === undefined ? "created" : "updated"] += 1;
			}
		};
		const resolve = (table: CatalogTable, names: string[], path: string, what: string) =>
			names.map((n) => ids[table].get(n) ?? invalidAt(path, new UserError(422, `unknown ${what} "${n}"`)));

		await upsert(
			"instanceTypes",
			"instanceTypes",
			doc.instanceTypes,
			(t) => t.name,
			(id, t) => saveInstanceType(tx, id, t),
		);
		await upsert(
			"securityGroups",
			"securityGroups",
			doc.securityGroups,
			(s) => s.sgId,
			(id, s) => saveSecurityGroup(tx, id, s),
		);
		await upsert("params", "params", doc.params, (p) => p.token, (id, p) => {
			if (p.secret && options.secret === undefined) {
				throw new UserError(422, "a secret param needs the portal's key: import it through the admin page");
			}
			return saveParam(tx, options.secret ?? "", id, p);
		});
		await upsert("groups", "groups", doc.groups, (g) => g.name, (id, g, path) =>
			saveGroup(tx, id, {
				...g,
				defaultSecurityGroups: resolve("securityGroups", g.defaultSecurityGroups, path, "security group"),
				optionalSecurityGroups: resolve("securityGroups", g.optionalSecurityGroups, path, "security group"),
				excludedTypes: resolve("instanceTypes", g.excludedTypes, path, "instance type"),
			}));
		await upsert("softwareConfigs", "configs", doc.configs, (c) => c.name, (id, c, path) =>
			saveConfig(tx, id, {
				...c,
				compatibleTypes: resolve("instanceTypes", c.compatibleTypes, path, "instance type"),
				permittedGroups: resolve("groups", c.permittedGroups, path, "group"),
			}));
		for (const [i, u] of doc.users.entries()) {
			const path = `users.${i}`;
			const { user, created } = await ensureUser(tx, { username: u.username });
			summary[created ? "created" : "updated"] += 1;
			try {
				await saveUser(tx, user.id, { role: u.role, groups: resolve("groups", u.groups, path, "group") });
			} catch (error) {
				invalidAt(path, error);
			}
		}
	});
	return summary;
}
