/**
 * "Launch again": the wizard's form of the same group and configuration, pre-filled with what a
 * machine or a launch was made with (type, options, a name with a suffix), so the user only
 * confirms. It is a link to the wizard's GET with those values in its query string; the launch
 * itself goes through the usual confirmation, entitlement checks and one-time launch key.
 */
import type { ConfigKind } from "../db/schema.ts";

/** The form fields the wizard takes from its query string (each kind's, and the machine's name). */
export const PREFILLED_FIELDS: readonly string[] = [
	"instanceType",
	"securityGroups",
	"name",
	"purpose",
	"coreNodes",
	"market",
	"bidPrice",
	"autoTerminateHours",
	"autoTerminateMinutes",
];

/** How many values a repeated field may bring (security groups: AWS allows five per instance). */
const VALUES_MAX = 10;

/** What a machine or a launch was made with. */
export interface LaunchedWith {
	groupId: number;
	configId: number;
	kind: ConfigKind;
	instanceType: string;
	/** The launch's options (security groups; a cluster's form values); {} when unknown. */
	options: Record<string, unknown>;
	/** The machine's name, if it has one. */
	name?: string | null;
}

/** `analysis` → `analysis-2`, `analysis-2` → `analysis-3`: the name of the next one. */
export function nextName(name: string): string {
	const match = /^(.*)-(\d{1,6})$/.exec(name);
	return match ? `${match[1]}-${Number(match[2]) + 1}` : `${name}-2`;
}

/** The form values a launch's options stand for, by kind. */
function formValuesOf(from: LaunchedWith): [string, string][] {
	const o = from.options;
	if (from.kind === "instance") {
		const groups = Array.isArray(o.securityGroupIds) ? o.securityGroupIds.map(String) : [];
		return groups.slice(0, VALUES_MAX).map((sg) => ["securityGroups", sg]);
	}
	const values: [string, string][] = [];
	if (typeof o.purpose === "string" && o.purpose) values.push(["purpose", o.purpose]);
	if (typeof o.coreNodes === "number") values.push(["coreNodes", String(o.coreNodes)]);
	if (o.market === "SPOT" || o.market === "ON_DEMAND") values.push(["market", o.market]);
	if (typeof o.bidPrice === "number") values.push(["bidPrice", String(o.bidPrice)]);
	if (typeof o.idleSeconds === "number" && o.idleSeconds > 0) {
		values.push(["autoTerminateHours", String(Math.floor(o.idleSeconds / 3600))]);
		values.push(["autoTerminateMinutes", String(Math.floor((o.idleSeconds % 3600) / 60))]);
	}
	return values;
}

/** The wizard's URL, pre-filled with what `from` was made with and the next name. */
export function launchAgainHref(from: LaunchedWith): string {
	const query = new URLSearchParams([["instanceType", from.instanceType], ...formValuesOf(from)]);
	const name = from.name?.trim();
	if (name) query.set("name", nextName(name).slice(0, 64));
	return `/launch/${from.groupId}/${from.configId}?${query}`;
}

/** The pre-filled values of a wizard URL's query (known fields only, bounded), as the form shows them. */
export function prefilledValues(query: Record<string, string[]>): Record<string, string | string[]> {
	const values: Record<string, string | string[]> = {};
	for (const field of PREFILLED_FIELDS) {
		const given = (query[field] ?? []).slice(0, VALUES_MAX).map((v) => v.slice(0, 300));
		if (given.length === 0) continue;
		values[field] = field === "securityGroups" ? given : given[0]!;
	}
	return values;
}
