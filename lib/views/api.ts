/**
 * What the JSON API (/api/v1/) answers, read from the database like the pages (never from AWS),
 * with the pages' own scoping and permission checks: the viewer's own machines and launches (as
 * their dashboard lists them), one machine the viewer may see (as its page), a launch the viewer
 * may follow, the configurations the viewer may launch (as the wizard offers them) and the billing
 * report's totals (as the billing page). Times are ISO 8601 strings; a price not known says why.
 */
import type { Viewer } from "../auth/identify.ts";
import { mayFollowLaunch } from "../auth/permissions.ts";
import { launchableConfigs, launchableGroups, usableTypes } from "../db/catalog.ts";
import { type ClusterRow, clustersOfLaunch, getClusterRow, ownedClusterRows } from "../db/clusters.ts";
import { getInstanceRow, type InstanceRow, instancesOfLaunch, ownedInstanceRows } from "../db/instances.ts";
import { getLaunch, type Launch, recentLaunches } from "../db/launches.ts";
import type { ConfigKind } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { availableActions } from "../control/control.ts";
import { defaultInstanceType } from "../launch/forms.ts";
import { type BillingQuery, billingView } from "./billing.ts";
import { clusterRow } from "./cluster.ts";
import { instanceRow } from "./instance.ts";
import { endedVisibleSince, visibleMachine } from "./machines.ts";
import { machineHref } from "./policy.ts";
import type { Rate } from "./machines.ts";

/** An hourly price, or why it is not known (never $0 for an unknown price). */
export type RateJson = { known: true; hourly: number } | { known: false; reason: string };

export interface InstanceJson {
	kind: "instance";
	id: string;
	name: string;
	state: string;
	instanceType: string;
	owner: string;
	group: string | null;
	configuration: string | null;
	address: string | null;
	dnsName: string | null;
	launchId: string | null;
	launchedAt: string | null;
	startedAt: string | null;
	stoppedAt: string | null;
	pendingAction: string | null;
	setup: { state: string | null; percent: number | null; text: string | null };
	/** Null once it has ended. */
	hourlyRate: RateJson | null;
	/** What the viewer may do to it now (POST …/actions/{action}). */
	actions: string[];
	page: string;
}

export interface ClusterJson {
	kind: "cluster";
	id: string;
	name: string;
	state: string;
	instanceType: string;
	coreNodes: number;
	market: string;
	owner: string;
	group: string | null;
	configuration: string | null;
	address: string | null;
	launchId: string | null;
	startedAt: string | null;
	endedAt: string | null;
	pendingAction: string | null;
	hourlyRate: RateJson | null;
	actions: string[];
	page: string;
}

export interface LaunchJson {
	id: string;
	kind: ConfigKind;
	status: string;
	step: string;
	reason: string | null;
	groupId: number;
	configId: number;
	instanceType: string;
	stackName: string;
	createdAt: string;
	finishedAt: string | null;
	/** The machines it made (once the sync has recorded them). */
	machines: { kind: ConfigKind; id: string }[];
	page: string;
}

export interface ConfigurationsJson {
	groups: {
		id: number;
		name: string;
		configurations: {
			id: number;
			name: string;
			kind: ConfigKind;
			instanceTypes: string[];
			defaultInstanceType: string | null;
		}[];
	}[];
}

type TotalsJson = { hours: number; cost: number; unknownPeriods: number };

export interface BillingJson {
	from: string;
	to: string;
	total: TotalsJson;
	byUser: { name: string; totals: TotalsJson }[];
	byGroup: { name: string; totals: TotalsJson }[];
	byCostCenter: { name: string; totals: TotalsJson }[];
	monthToDate: { name: string; totals: TotalsJson }[];
	/** $/hour of what runs now at a known price; `unpricedRunning` counts what runs at an unknown one. */
	burnPerHour: number;
	unpricedRunning: number;
	discount: number;
}

const iso = (at: Date | null | undefined) => at ? at.toISOString() : null;

function rateJson(rate: Rate | null): RateJson | null {
	if (!rate) return null;
	return rate.known ? { known: true, hourly: rate.hourly } : { known: false, reason: rate.reason || "unknown" };
}

/** An instance as the API shows it: the dashboard row's rate and actions, the row's facts. */
function instanceJson(deps: Deps, viewer: Viewer, row: InstanceRow): InstanceJson {
	const shown = instanceRow(deps, viewer, row, { view: "dashboard", now: deps.clock() });
	return {
		kind: "instance",
		id: row.id,
		name: shown.name,
		state: row.state,
		instanceType: row.instanceType,
		owner: row.ownerUsername,
		group: row.groupName,
		configuration: row.configName,
		address: (deps.settings.DISPLAY_PUBLIC_IP ? row.publicIp : row.privateIp) ?? null,
		dnsName: row.dnsName,
		launchId: row.launchId,
		launchedAt: iso(row.launchedAt),
		startedAt: iso(row.startedAt),
		stoppedAt: iso(row.stoppedAt),
		pendingAction: row.pendingAction,
		setup: { state: row.setupState, percent: row.progressPercent, text: row.progressText },
		hourlyRate: rateJson(shown.rate),
		actions: shown.actions.map((a) => a.action),
		page: machineHref("instance", row.id),
	};
}

/** A cluster as the API shows it: the dashboard row's rate and name, the actions the viewer may take. */
function clusterJson(deps: Deps, viewer: Viewer, row: ClusterRow): ClusterJson {
	const shown = clusterRow(deps, row, deps.clock());
	return {
		kind: "cluster",
		id: row.id,
		name: shown.name,
		state: row.state,
		instanceType: row.instanceType,
		coreNodes: row.coreNodes,
		market: row.market,
		owner: row.ownerUsername,
		group: row.groupName,
		configuration: row.configName,
		address: row.dnsName ?? row.masterDns ?? row.masterIp,
		launchId: row.launchId,
		startedAt: iso(row.startedAt),
		endedAt: iso(row.endedAt),
		pendingAction: row.pendingAction,
		hourlyRate: rateJson(shown.rate),
		actions: availableActions("cluster", viewer, row, true),
		page: machineHref("cluster", row.id),
	};
}

/** The viewer's own instances, as their dashboard lists them (ended ones for a while), newest first. */
export async function apiInstances(deps: Deps, viewer: Viewer): Promise<{ instances: InstanceJson[] }> {
	const rows = await ownedInstanceRows(deps.db, viewer.id, endedVisibleSince(deps.clock()));
	return { instances: rows.map((row) => instanceJson(deps, viewer, row)) };
}

/** One instance the viewer may see (404 unknown or archived, 403 outside the viewer's groups). */
export async function apiInstance(deps: Deps, viewer: Viewer, id: string): Promise<InstanceJson> {
	const row = await visibleMachine(deps, viewer, { kind: "instance", id, load: (id) => getInstanceRow(deps.db, id) });
	return instanceJson(deps, viewer, row);
}

/** The viewer's own clusters, newest first. */
export async function apiClusters(deps: Deps, viewer: Viewer): Promise<{ clusters: ClusterJson[] }> {
	const rows = await ownedClusterRows(deps.db, viewer.id, endedVisibleSince(deps.clock()));
	return { clusters: rows.map((row) => clusterJson(deps, viewer, row)) };
}

/** One cluster the viewer may see. */
export async function apiCluster(deps: Deps, viewer: Viewer, id: string): Promise<ClusterJson> {
	const row = await visibleMachine(deps, viewer, { kind: "cluster", id, load: (id) => getClusterRow(deps.db, id) });
	return clusterJson(deps, viewer, row);
}

/**
 * A machine as the API shows it after an action the control path allowed the viewer (so no check
 * again here: an archived one is shown as the action left it).
 */
export async function apiMachineAfterAction(
	deps: Deps,
	viewer: Viewer,
	kind: ConfigKind,
	id: string,
): Promise<InstanceJson | ClusterJson> {
	if (kind === "instance") return instanceJson(deps, viewer, (await getInstanceRow(deps.db, id))!);
	return clusterJson(deps, viewer, (await getClusterRow(deps.db, id))!);
}

async function launchJson(deps: Deps, launch: Launch): Promise<LaunchJson> {
	const made = launch.kind === "cluster"
		? (await clustersOfLaunch(deps.db, launch.id)).map((c) => ({ kind: "cluster" as const, id: c.id }))
		: (await instancesOfLaunch(deps.db, launch.id)).map((i) => ({ kind: "instance" as const, id: i.id }));
	return {
		id: launch.id,
		kind: launch.kind,
		status: launch.status,
		step: launch.step,
		reason: launch.reason,
		groupId: launch.groupId,
		configId: launch.configId,
		instanceType: launch.instanceType,
		stackName: launch.stackName,
		createdAt: launch.createdAt.toISOString(),
		finishedAt: iso(launch.finishedAt),
		machines: made,
		page: `/launches/${launch.id}`,
	};
}

/** How many launches the list answers. */
const LAUNCHES_LISTED = 50;

/** The viewer's own recent launches, newest first. */
export async function apiLaunches(deps: Deps, viewer: Viewer): Promise<{ launches: LaunchJson[] }> {
	const launches = await recentLaunches(deps.db, viewer.id, LAUNCHES_LISTED);
	return { launches: await Promise.all(launches.map((l) => launchJson(deps, l))) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A launch the viewer may follow: the launcher, a manager of its group or an admin (404 otherwise, as its page). */
export async function apiLaunch(deps: Deps, viewer: Viewer, id: string): Promise<LaunchJson> {
	const launch = UUID.test(id) ? await getLaunch(deps.db, id) : undefined;
	if (!launch || !mayFollowLaunch(viewer, launch)) throw new UserError(404, "No such launch");
	return await launchJson(deps, launch);
}

/** A launch the API just recorded. */
export function apiLaunchOf(deps: Deps, launch: Launch): Promise<LaunchJson> {
	return launchJson(deps, launch);
}

/** What the viewer may launch: the wizard's groups, each with its configurations and their instance types. */
export async function apiConfigurations(deps: Deps, viewer: Viewer): Promise<ConfigurationsJson> {
	const groups = await launchableGroups(deps.db, viewer.groupIds);
	return {
		groups: await Promise.all(groups.map(async (group) => {
			const configs = (await launchableConfigs(deps.db, group.id)).filter((c) =>
				c.kind === "instance" || group.emrAccess
			);
			return {
				id: group.id,
				name: group.name,
				configurations: await Promise.all(configs.map(async (config) => ({
					id: config.id,
					name: config.name,
					kind: config.kind,
					instanceTypes: (await usableTypes(deps.db, config.id, group.id)).map((t) => t.name),
					defaultInstanceType: defaultInstanceType(config) ?? null,
				}))),
			};
		})),
	};
}

const totalsJson = (t: { hours: number; cost: number; unknown: number }): TotalsJson => ({
	hours: t.hours,
	cost: t.cost,
	unknownPeriods: t.unknown,
});
const named = (list: [string, { hours: number; cost: number; unknown: number }][]) =>
	list.map(([name, totals]) => ({ name, totals: totalsJson(totals) }));

/** The billing report's totals over the range, for whom the viewer's billing page covers. */
export async function apiBilling(deps: Deps, viewer: Viewer, query: BillingQuery): Promise<BillingJson> {
	const billing = await billingView(deps, viewer, query);
	return {
		from: billing.from,
		to: billing.to,
		total: totalsJson(billing.total),
		byUser: named(billing.byUser),
		byGroup: named(billing.byGroup),
		byCostCenter: named(billing.byCostCenter),
		monthToDate: named(billing.monthToDate),
		burnPerHour: billing.burn.total,
		unpricedRunning: billing.burn.unpriced.length,
		discount: billing.discount,
	};
}
