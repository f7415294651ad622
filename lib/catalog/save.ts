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
	upsertById,
	writeConfig,
	writeGroup,
	writeUserAccess,
} from "../db/catalog.ts";
import { UserError } from "../errors.ts";
import { sanitizeDescription } from "../sanitize.ts";
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
	const row = { ...values, directoryName: values.directoryName || null };
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

export async function saveParam(db: Db, id: number | undefined, raw: unknown): Promise<number> {
	const row = parseOr422(paramInput, raw);
	return await stored("param", "token", () => upsertById(db, "params", id, row));
}

/** Sets a user's portal role and manual group memberships (directory memberships are the directory's). */
export async function saveUser(db: Db, id: number, raw: unknown): Promise<void> {
	const input = parseOr422(userInput, raw);
	await checkIds(db, "groups", input.groups, "groups");
	if (!await writeUserAccess(db, id, input)) throw new UserError(404, "No such user");
}
