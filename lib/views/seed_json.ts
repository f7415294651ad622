/**
 * The seed's JSON views that scripts may still call, answered from the database with the same rows
 * and scope as the pages they fed: /ajax/user-instances (My dashboard's instances),
 * /ajax/instances (the team table, filtered and paged as /team), /ajax/instance-states and
 * /ajax/instance-burn (the team page's two charts). The shapes are ours, documented in the README;
 * the original's Chart.js colours and its 2-significant-digit prices are not kept. The billing
 * view /ajax/user-payroll is not answered: its replacement is the billing CSV (see
 * {@link payrollReplacement}).
 */
import type { Viewer } from "../auth/identify.ts";
import { viewerScope } from "../auth/permissions.ts";
import { burnRate } from "../billing/reports.ts";
import { ownedInstanceRows, stateCounts } from "../db/instances.ts";
import type { Deps } from "../deps.ts";
import { instanceRow, type InstanceRowProps } from "./instance.ts";
import { endedVisibleSince } from "./machines.ts";
import { stateBuckets, type TeamQuery, teamTableView } from "./team.ts";

/** An instance as the JSON views list it. */
export interface InstanceJson {
	id: string;
	name: string;
	type: string;
	state: string;
	/** The action sent and not yet settled (stop, terminate, …); null when none. */
	pendingAction: string | null;
	owner: string;
	config: string | null;
	/** The instance's page on the portal. */
	url: string;
	/** Its https link (DNS name or address); null when it has none. */
	link: string | null;
	/** $/hour; null when it has ended or its price is unknown (then `priceUnknown` says why). */
	hourlyRate: number | null;
	priceUnknown: string | null;
	/** Seconds since it started, while it runs; null otherwise. */
	uptimeSeconds: number | null;
	/** The setup's last progress report while it may still report; null otherwise. */
	progress: { text: string | null; percent: number | null } | null;
	/** The display plugin's extra columns by label, as the last sync stored them (the original's display values). */
	extra: Record<string, string | null>;
	/** Why its controls are locked to Terminate; null when they are not. */
	locked: string | null;
}

function instanceJson(row: InstanceRowProps): InstanceJson {
	const rate = row.rate;
	return {
		id: row.id,
		name: row.name,
		type: row.instanceType,
		state: row.cell.state,
		pendingAction: row.pendingAction,
		owner: row.ownerName,
		config: row.configName,
		url: row.href,
		link: row.link?.href ?? null,
		hourlyRate: rate?.known ? rate.hourly : null,
		priceUnknown: rate && !rate.known ? rate.reason : null,
		uptimeSeconds: row.uptimeMs === null ? null : Math.floor(row.uptimeMs / 1000),
		progress: row.cell.hasProgressBar ? { text: row.cell.progressText, percent: row.cell.progressPercent } : null,
		extra: Object.fromEntries(row.extra.map((e) => [e.label, e.value])),
		locked: row.locked?.message ?? null,
	};
}

/** /ajax/user-instances: the viewer's own instances, as My dashboard lists them. */
export async function myInstancesJson(deps: Deps, viewer: Viewer): Promise<{ instances: InstanceJson[] }> {
	const now = deps.clock();
	const rows = await ownedInstanceRows(deps.db, viewer.id, endedVisibleSince(now));
	return { instances: rows.map((row) => instanceJson(instanceRow(deps, viewer, row, { view: "dashboard", now }))) };
}

/** /ajax/instances: one page of the team table, with the same filters and scope as /team. */
export async function teamInstancesJson(
	deps: Deps,
	viewer: Viewer,
	query: TeamQuery,
): Promise<{ instances: InstanceJson[]; total: number; page: number; pages: number; next: string | null }> {
	const table = await teamTableView(deps, viewer, query);
	const next = table.pager.next ? table.pager.next.replace(/^\/team/, "/ajax/instances") : null;
	return {
		instances: table.rows.map(instanceJson),
		total: table.total,
		page: table.pager.page,
		pages: table.pager.pages,
		next,
	};
}

/** /ajax/instance-states: the team's instances by state, as the team page's chart counts them. */
export async function instanceStatesJson(
	deps: Deps,
	viewer: Viewer,
): Promise<{ running: number; stopped: number; changing: number }> {
	const [running, stopped, changing] = stateBuckets(await stateCounts(deps.db, viewerScope(viewer)));
	return { running, stopped, changing };
}

/** /ajax/instance-burn: the team's hourly burn per owner now, as the team page's chart shows it. */
export async function instanceBurnJson(
	deps: Deps,
	viewer: Viewer,
): Promise<{ total: number; unknown: number; owners: { name: string; hourly: number }[] }> {
	const burn = await burnRate(deps.db, viewerScope(viewer), deps.clock());
	return {
		total: burn.total,
		unknown: burn.unknown,
		owners: [...burn.byUser.values()].sort((a, b) => b.hourly - a.hourly),
	};
}

/**
 * Where /ajax/user-payroll's report now is: /billing.csv, with the seed's start_date and end_date
 * (MM/DD/YYYY) as its from and to (its user and group filters were names; the report's are ids,
 * chosen on /billing). The seed's hours (every period rounded down plus one) are not reproduced.
 */
export function payrollReplacement(query: Record<string, string>): string {
	const params = new URLSearchParams();
	const iso = (value: string | undefined) => {
		const match = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value ?? "");
		return match ? `${match[3]}-${match[1]!.padStart(2, "0")}-${match[2]!.padStart(2, "0")}` : undefined;
	};
	const from = iso(query.start_date);
	const to = iso(query.end_date);
	if (from) params.set("from", from);
	if (to) params.set("to", to);
	const text = params.toString();
	return text ? `/billing.csv?${text}` : "/billing.csv";
}
