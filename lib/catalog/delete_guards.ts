/**
 * Deleting what admins define, only when nothing depends on it: a refusal is a 409 that names what
 * still refers to the item, so the admin knows what to remove first.
 */
import type { Db } from "../db/client.ts";
import {
	brokenConstraint,
	type CatalogTable,
	configsOfferingType,
	deleteById,
	groupsExcludingType,
	groupsUsingSecurityGroup,
	referenceCounts,
} from "../db/catalog.ts";
import { UserError } from "../errors.ts";

function refuse(what: string, reasons: string[]): never {
	throw new UserError(409, `Cannot delete ${what}: ${reasons.join("; ")}. Remove those first.`);
}

const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(", ");

/** How a count of referring rows reads: "1 instance", "2 billed periods". */
const NOUNS = {
	instances: ["instance", "instances"],
	clusters: ["cluster", "clusters"],
	volumes: ["volume", "volumes"],
	launches: ["launch", "launches"],
	bills: ["billed period", "billed periods"],
} as const;

/** Why a group or configuration cannot be deleted: one reason per kind of row still referring to it. */
async function referenceReasons(db: Db, kind: "group" | "config", id: number): Promise<string[]> {
	const reasons: string[] = [];
	for (const [table, n] of await referenceCounts(db, kind, id)) {
		if (n === 0) continue;
		const [one, many] = NOUNS[table];
		const launchedFrom = kind === "config" && (table === "instances" || table === "clusters");
		reasons.push(`${n} ${n === 1 ? one : many} ${launchedFrom ? "were launched from it" : "refer to it"}`);
	}
	return reasons;
}

/**
 * Deletes the row, turning the database's foreign-key refusal into the same 409 as the counted
 * refusals: a row referring to the thing may be written between the count and the delete.
 */
async function remove(db: Db, table: CatalogTable, id: number, noun: string) {
	let deleted: boolean;
	try {
		deleted = await deleteById(db, table, id);
	} catch (error) {
		if (brokenConstraint(error) === "foreign key") refuse(`this ${noun}`, ["other records refer to it"]);
		throw error;
	}
	if (!deleted) throw new UserError(404, `No such ${noun}`);
}

/** Deletes a group unless instances, clusters, volumes, launches or bills refer to it. */
export async function deleteGroup(db: Db, id: number): Promise<void> {
	const reasons = await referenceReasons(db, "group", id);
	if (reasons.length) refuse("this group", reasons);
	await remove(db, "groups", id, "group");
}

/** Deletes a configuration unless instances, clusters or launches refer to it. */
export async function deleteConfig(db: Db, id: number): Promise<void> {
	const reasons = await referenceReasons(db, "config", id);
	if (reasons.length) refuse("this configuration", reasons);
	await remove(db, "softwareConfigs", id, "configuration");
}

/** Deletes an instance type unless configurations offer it or groups exclude it. */
export async function deleteInstanceType(db: Db, id: number): Promise<void> {
	const [offeredBy, excludedBy] = await Promise.all([configsOfferingType(db, id), groupsExcludingType(db, id)]);
	const reasons: string[] = [];
	if (offeredBy.length) reasons.push(`offered by ${quoted(offeredBy)}`);
	if (excludedBy.length) reasons.push(`excluded by ${quoted(excludedBy)}`);
	if (reasons.length) refuse("this instance type", reasons);
	await remove(db, "instanceTypes", id, "instance type");
}

/** Deletes a security group unless groups use it. */
export async function deleteSecurityGroup(db: Db, id: number): Promise<void> {
	const usedBy = await groupsUsingSecurityGroup(db, id);
	if (usedBy.length) refuse("this security group", [`used by ${quoted(usedBy)}`]);
	await remove(db, "securityGroups", id, "security group");
}

export async function deleteParam(db: Db, id: number): Promise<void> {
	await remove(db, "params", id, "param");
}
