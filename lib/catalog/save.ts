/**
 * Saving what admins define: each input is validated (schemas.ts), the ids it picks are checked
 * to exist, and the row is written with its links. Every refusal is a 422 naming the field, or a
 * 404 when the item being edited is gone.
 */
import type { Db } from "../db/client.ts";
import {
	allExist,
	brokenConstraint,
	getConfig,
	linkedIds,
	listGroups,
	listParams,
	sealedParams,
	upsertById,
	writeConfig,
	writeGroup,
	writeUserAccess,
} from "../db/catalog.ts";
import type { Viewer } from "../auth/identify.ts";
import { recordAudit } from "../db/audit.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { sanitizeDescription } from "../sanitize.ts";
import { seal, unseal } from "../sealed.ts";
import { configsMisusing, SECRET_PLACEHOLDER, secretMisuse } from "./secrets.ts";
import {
	configInput,
	CORRECT_THE_FIELDS,
	groupInput,
	instanceTypeInput,
	paramInput,
	parseOr422,
	securityGroupInput,
	userInput,
} from "./schemas.ts";

/** Makes sure every id names a row of `table`; a 422 on `field` otherwise. */
async function checkIds(db: Db, table: "groups" | "instanceTypes" | "securityGroups", ids: number[], field: string) {
	if (!await allExist(db, table, ids)) {
		throw new UserError(422, CORRECT_THE_FIELDS, { fields: { [field]: "Choose from the list" } });
	}
}

/**
 * Runs a write of one item: a name another item already uses is a 422 on `field`, an edited item
 * that is gone a 404.
 */
async function stored(what: string, field: string, write: () => Promise<number | undefined>): Promise<number> {
	let id: number | undefined;
	try {
		id = await write();
	} catch (error) {
		if (brokenConstraint(error) === "unique") {
			throw new UserError(422, CORRECT_THE_FIELDS, { fields: { [field]: `Another ${what} already uses this` } });
		}
		throw error;
	}
	if (id === undefined) throw new UserError(404, `No such ${what}`);
	return id;
}

/** Creates (id undefined) or updates a group with its security groups and exclusions. */
export async function saveGroup(db: Db, id: number | undefined, raw: unknown): Promise<number> {
	const input = parseOr422(groupInput, raw);
	await checkIds(
		db,
		"securityGroups",
		[...input.defaultSecurityGroups, ...input.optionalSecurityGroups],
		"defaultSecurityGroups",
	);
	await checkIds(db, "instanceTypes", input.excludedTypes, "excludedTypes");
	const { defaultSecurityGroups, optionalSecurityGroups, excludedTypes, ...values } = input;
	const row = {
		...values,
		directoryName: values.directoryName || null,
		managerDirectoryName: values.managerDirectoryName || null,
	};
	return await stored(
		"group",
		"name",
		() => writeGroup(db, id, row, { defaultSecurityGroups, optionalSecurityGroups, excludedTypes }),
	);
}

/**
 * Creates or updates a software configuration; its description is sanitized before it is stored.
 * With `operatingSystems` (the admin form: the platforms of the loaded pricing file), its OS must
 * be one of them, or the one it already has; a catalogue import keeps what the document says.
 */
export async function saveConfig(
	db: Db,
	id: number | undefined,
	raw: unknown,
	options: { operatingSystems?: readonly string[] } = {},
): Promise<number> {
	const input = parseOr422(configInput, raw);
	if (
		options.operatingSystems && !options.operatingSystems.includes(input.os) &&
		(id === undefined || input.os !== (await getConfig(db, id))?.os)
	) {
		throw new UserError(422, CORRECT_THE_FIELDS, {
			fields: { os: `The pricing file has no prices for "${input.os}": choose one of its operating systems` },
		});
	}
	await checkIds(db, "instanceTypes", input.compatibleTypes, "compatibleTypes");
	await checkIds(db, "groups", input.permittedGroups, "permittedGroups");
	const misuse = secretMisuse(input, Object.keys(await sealedParams(db)));
	if (Object.keys(misuse).length) throw new UserError(422, CORRECT_THE_FIELDS, { fields: misuse });
	const { compatibleTypes, permittedGroups, ...values } = input;
	const row = { ...values, descriptionHtml: sanitizeDescription(values.descriptionHtml) };
	return await stored("configuration", "name", () => writeConfig(db, id, row, { compatibleTypes, permittedGroups }));
}

export async function saveInstanceType(db: Db, id: number | undefined, raw: unknown): Promise<number> {
	const row = parseOr422(instanceTypeInput, raw);
	return await stored("instance type", "name", () => upsertById(db, "instanceTypes", id, row));
}

export async function saveSecurityGroup(db: Db, id: number | undefined, raw: unknown): Promise<number> {
	const row = parseOr422(securityGroupInput, raw);
	return await stored("security group", "sgId", () => upsertById(db, "securityGroups", id, row));
}

/**
 * Creates or updates a param. A secret one is stored sealed with a key derived from `secret` (the
 * portal's); an empty value (the form) or the export's placeholder (an import) keeps the value
 * stored, re-sealed when the token changes. A param cannot become secret while a configuration
 * would use it in clear (a `{{{token}}}` of its script, a template parameter without NoEcho).
 */
export async function saveParam(db: Db, secret: string, id: number | undefined, raw: unknown): Promise<number> {
	const input = parseOr422(paramInput, raw);
	if (!input.secret) return await stored("param", "token", () => upsertById(db, "params", id, input));
	const misusedBy = await configsMisusing(db, input.token);
	if (misusedBy.length) {
		throw new UserError(422, CORRECT_THE_FIELDS, {
			fields: {
				secret: `${input.token} cannot be secret while ${
					misusedBy.map((n) => `"${n}"`).join(", ")
				} would use it in clear (a {{{${input.token}}}} in the bootstrap script, or a template parameter without NoEcho)`,
			},
		});
	}
	const existing = id === undefined ? undefined : (await listParams(db)).find((p) => p.id === id);
	let plain = input.value;
	if (plain === "" || plain === SECRET_PLACEHOLDER) {
		if (existing?.secret) {
			try {
				plain = await unseal(secret, existing.value, existing.token);
			} catch {
				throw new UserError(422, CORRECT_THE_FIELDS, {
					fields: { value: "The saved value cannot be decrypted with this portal's key: enter the value again" },
				});
			}
		} else if (existing?.value && plain === "") plain = existing.value;
		else {
			throw new UserError(422, CORRECT_THE_FIELDS, {
				fields: {
					value: plain === ""
						? "Enter the secret's value"
						: "The document has the placeholder, but this portal holds no value for it: give the value",
				},
			});
		}
	}
	const row = { ...input, value: await seal(secret, plain, input.token) };
	return await stored("param", "token", () => upsertById(db, "params", id, row));
}

/**
 * Sets a user's portal role, manual group memberships and the groups an admin has them manage
 * (directory memberships and management are the directory's).
 */
export async function saveUser(db: Db, id: number, raw: unknown): Promise<void> {
	const input = parseOr422(userInput, raw);
	await checkIds(db, "groups", input.groups, "groups");
	if (input.managedGroups) await checkIds(db, "groups", input.managedGroups, "managedGroups");
	if (!await writeUserAccess(db, id, input)) throw new UserError(404, "No such user");
}

/**
 * The admin user form's save: {@link saveUser}, with a change to the groups the user manages
 * recorded in the audit trail (who gave whom which groups), as it widens what they see and control.
 */
export async function saveUserAccess(
	deps: Pick<Deps, "db" | "clock">,
	actor: Viewer,
	user: { id: number; username: string },
	raw: unknown,
): Promise<void> {
	const before = new Set(await linkedIds(deps.db, "manualManagement", user.id));
	await saveUser(deps.db, user.id, raw);
	const after = new Set(await linkedIds(deps.db, "manualManagement", user.id));
	const added = [...after].filter((id) => !before.has(id));
	const removed = [...before].filter((id) => !after.has(id));
	if (added.length === 0 && removed.length === 0) return;
	const names = new Map((await listGroups(deps.db)).map((g) => [g.id, g.name]));
	const named = (ids: number[]) => ids.map((id) => names.get(id) ?? `#${id}`).join(", ");
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: actor.id,
		actor: actor.username,
		action: "manage-groups",
		resourceKind: "user",
		resourceId: user.username,
		outcome: "ok",
		detail: [
			added.length ? `now manages ${named(added)}` : "",
			removed.length ? `no longer manages ${named(removed)}` : "",
		]
			.filter(Boolean).join("; "),
	});
}
