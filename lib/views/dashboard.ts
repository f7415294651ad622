/**
 * The dashboard's data: the viewer's instances with their launches still on the way (the fragment
 * polls until none is left) and those that failed lately, so a failure is shown where the user
 * waits for the instance; then the viewer's clusters. Each row carries its policy's next action.
 *
 * Past a screenful of machines ({@link DASHBOARD_SCREENFUL}) the instances and clusters become one
 * list with filters (state, kind, configuration, text in the name or id), an order and pages, read
 * from the query string like every list (lib/views/lists.ts). The viewer's own machines are few
 * enough to load whole (the dashboard always has), so they are filtered and sorted in memory,
 * the hourly cost included.
 */
import type { Viewer } from "../auth/identify.ts";
import type { ClusterRow } from "../db/clusters.ts";
import type { InstanceRow } from "../db/instances.ts";
import type { ConfigKind } from "../db/schema.ts";
import { UserError } from "../errors.ts";
import { CLUSTER_ENDED_STATES, INSTANCE_ENDED_STATES } from "../machines/lifecycle.ts";
import {
	type Choice,
	compareValues,
	listHref,
	type ListSort,
	pagerFor,
	type PagerProps,
	pageWindow,
	parsePage,
	parseSort,
	type SortHeading,
	sortHeadings,
	type SortOptions,
	sortParams,
} from "./lists.ts";
import { launchableGroups } from "../db/catalog.ts";
import { ownedClusterRows } from "../db/clusters.ts";
import { ownedInstanceRows } from "../db/instances.ts";
import { activeLaunches, recentLaunches } from "../db/launches.ts";
import type { Deps } from "../deps.ts";
import { clusterRow, type ClusterRowProps } from "./cluster.ts";
import { instanceRow, type InstanceRowProps } from "./instance.ts";
import { launchHref } from "./layout.ts";
import { endedVisibleSince } from "./machines.ts";
import { nextActions } from "./policy.ts";
import { costsSoFar } from "../billing/so_far.ts";
import { type BudgetBarsProps, myBudgetBars } from "./budgets.ts";

/** A launch shown above the instances: one on the way (its step), or one that failed (its reason). */
export interface LaunchNote {
	id: string;
	stackName: string;
	text: string;
	href: string;
	/** Where the notice of a failed launch is dismissed (POST); null for one on the way. */
	dismiss: string | null;
}

/** How many machines fit a screen: past that the dashboard offers filters, an order and pages. */
export const DASHBOARD_SCREENFUL = 25;

/** The orders of the dashboard's list. */
export type DashboardColumn = "created" | "name" | "type" | "state" | "cost" | "config" | "uptime";

/** Newest first unless asked otherwise, as the dashboard always listed; a value not known (a price, no configuration) last. */
export const DASHBOARD_SORTS: SortOptions<DashboardColumn> = {
	columns: { created: "desc", name: "asc", type: "asc", state: "asc", cost: "desc", config: "asc", uptime: "desc" },
	default: { column: "created", dir: "desc" },
};

const SORT_CHOICES: Choice[] = [
	{ value: "created", label: "Created" },
	{ value: "name", label: "Name" },
	{ value: "type", label: "Type" },
	{ value: "state", label: "State" },
	{ value: "cost", label: "Hourly cost" },
	{ value: "config", label: "Configuration" },
	{ value: "uptime", label: "Uptime" },
];

/** The state filters, each the states it covers of either kind (a cluster never stops). */
const STATE_FILTERS: Record<string, { instance: readonly string[]; cluster: readonly string[] }> = {
	running: { instance: ["running"], cluster: ["RUNNING", "WAITING"] },
	stopped: { instance: ["stopped"], cluster: [] },
	transitioning: {
		instance: ["pending", "stopping", "shutting-down"],
		cluster: ["STARTING", "BOOTSTRAPPING", "TERMINATING"],
	},
	ended: { instance: INSTANCE_ENDED_STATES, cluster: CLUSTER_ENDED_STATES },
};

/** The dashboard list's filters. */
export interface DashboardFilters {
	state?: string;
	kind?: ConfigKind;
	configId?: number;
	/** Text in the machine's name or id. */
	search?: string;
}

/** A query of the dashboard, as its routes read it from the query string. */
export interface DashboardQuery {
	filters: DashboardFilters;
	sort: ListSort<DashboardColumn>;
	page: number;
}

/** The dashboard as it first shows: no filter, newest first, page 1. */
export const PLAIN_DASHBOARD: DashboardQuery = { filters: {}, sort: DASHBOARD_SORTS.default, page: 1 };

/**
 * The dashboard query of a query string (`?state=&kind=&config=&q=&sort=&dir=&page=`); anything
 * malformed is a 400 saying what is wrong.
 */
export function parseDashboardQuery(query: Record<string, string | undefined>): DashboardQuery {
	const state = query.state ?? "";
	if (state !== "" && !Object.hasOwn(STATE_FILTERS, state)) {
		throw new UserError(
			400,
			`Unknown state filter "${state.slice(0, 30)}": use running, stopped, transitioning or ended`,
		);
	}
	const kind = query.kind ?? "";
	if (kind !== "" && kind !== "instance" && kind !== "cluster") {
		throw new UserError(400, `Unknown kind "${kind.slice(0, 30)}": use instance or cluster`);
	}
	const config = query.config ?? "";
	if (config !== "" && !/^\d{1,9}$/.test(config)) throw new UserError(400, "The config filter must be an id number");
	const search = (query.q ?? "").trim();
	if (search.length > 100) throw new UserError(400, "The search text is too long (at most 100 characters)");
	return {
		filters: {
			state: state || undefined,
			kind: kind || undefined,
			configId: config ? Number(config) : undefined,
			search: search || undefined,
		},
		sort: parseSort(query, DASHBOARD_SORTS),
		page: parsePage(query),
	};
}

/**
 * The query of the dashboard an htmx request came from (its HX-Current-URL), so an action answered
 * with the list (a notice dismissed, an instance removed) draws it as the viewer left it; the plain
 * dashboard when the request came from elsewhere or that address does not parse.
 */
export function dashboardQueryOf(currentUrl: string | undefined): DashboardQuery {
	if (!currentUrl) return PLAIN_DASHBOARD;
	try {
		const url = new URL(currentUrl);
		if (url.pathname !== "/" && url.pathname !== "/dashboard") return PLAIN_DASHBOARD;
		return parseDashboardQuery(Object.fromEntries(url.searchParams));
	} catch {
		return PLAIN_DASHBOARD;
	}
}

/** The dashboard's address for a query (`path` "/dashboard/instances" for its fragment). */
export function dashboardHref(query: DashboardQuery, path = "/"): string {
	const { filters } = query;
	return listHref(path, {
		state: filters.state,
		kind: filters.kind,
		config: filters.configId,
		q: filters.search,
		...sortParams(query.sort, DASHBOARD_SORTS),
		page: query.page,
	});
}

/** The filters, order and pages of a dashboard with more than a screenful of machines. */
export interface MachineListProps {
	filters: DashboardFilters;
	/** The configurations of the viewer's machines, for the configuration filter. */
	configs: Choice[];
	sort: ListSort<DashboardColumn>;
	sortChoices: Choice[];
	headings: Partial<Record<DashboardColumn, SortHeading>>;
	pager: PagerProps;
	/** The machines matching the filters, and the viewer's machines in all. */
	total: number;
	all: number;
	filtered: boolean;
	/** The dashboard with the same order and no filters. */
	clearHref: string;
	/** The clusters of the page (the list's instances are the fragment's rows). */
	clusters: ClusterRowProps[];
}

/** The dashboard's instances fragment. */
export interface MyInstancesProps {
	/** The filters, order and pages, past a screenful of machines; null below, where the page is a plain list. */
	list?: MachineListProps | null;
	rows: InstanceRowProps[];
	waiting: LaunchNote[];
	failed: LaunchNote[];
	/** Where the empty state's "Launch" goes; null when the viewer may launch nothing. */
	launchHref: string | null;
	/** The fragment URL polled while a launch is on the way; null when none is. */
	poll: string | null;
}

/** The dashboard's clusters: the viewer's, and where a cluster is launched (its empty state). */
export interface MyClustersProps {
	rows: ClusterRowProps[];
	/** The wizard of a group that may launch clusters; null when the viewer may launch none. */
	launchHref: string | null;
}

/** The dashboard. */
export interface DashboardProps {
	instances: MyInstancesProps;
	/**
	 * Null when the viewer has no clusters and may launch none, or when the instances' list has
	 * its controls (it lists the clusters too): the section is left out.
	 */
	clusters: MyClustersProps | null;
	/** The budgets over the viewer: their own, their groups' and their cost centers'. */
	budgets: BudgetBarsProps;
	/** Whether costs are shown after the configured discount. */
	discounted: boolean;
}

/** A machine of the list with what it sorts and filters on. */
type ListedMachine =
	| { kind: "instance"; row: InstanceRow; shown: InstanceRowProps }
	| { kind: "cluster"; row: ClusterRow; shown: ClusterRowProps };

/** What each order sorts by, the same for either kind. */
const SORT_KEYS: Record<DashboardColumn, (m: ListedMachine) => string | number | Date | null> = {
	created: (m) => m.row.createdAt,
	name: (m) => m.row.name || m.row.id,
	type: (m) => m.row.instanceType,
	state: (m) => m.row.state,
	cost: (m) => m.shown.rate?.known ? m.shown.rate.hourly : null,
	config: (m) => m.row.configName,
	uptime: (m) => m.shown.uptimeMs,
};

function matches(m: ListedMachine, filters: DashboardFilters): boolean {
	if (filters.kind && m.kind !== filters.kind) return false;
	if (filters.state && !STATE_FILTERS[filters.state]![m.kind].includes(m.row.state)) return false;
	if (filters.configId !== undefined && m.row.configId !== filters.configId) return false;
	if (filters.search) {
		const text = filters.search.toLowerCase();
		if (!m.row.id.toLowerCase().includes(text) && !m.row.name.toLowerCase().includes(text)) return false;
	}
	return true;
}

/** The page of the viewer's machines the query asks for, and its controls. */
function machineList(machines: ListedMachine[], query: DashboardQuery): {
	list: MachineListProps;
	instances: InstanceRowProps[];
} {
	const { filters, sort } = query;
	const key = SORT_KEYS[sort.column];
	const found = machines.filter((m) => matches(m, filters))
		.sort((a, b) => compareValues(key(a), key(b), sort.dir) || compareValues(a.row.id, b.row.id, sort.dir));
	const window = pageWindow(query.page, found.length, DASHBOARD_SCREENFUL);
	const page = found.slice(window.offset, window.offset + window.limit);
	const configs = new Map<number, string>();
	for (const m of machines) {
		if (m.row.configId !== null && m.row.configName) configs.set(m.row.configId, m.row.configName);
	}
	return {
		instances: page.flatMap((m) => m.kind === "instance" ? [m.shown] : []),
		list: {
			filters,
			configs: [...configs].sort((a, b) => a[1].localeCompare(b[1])).map(([value, label]) => ({ value, label })),
			sort,
			sortChoices: SORT_CHOICES,
			headings: sortHeadings(
				["name", "type", "state", "cost", "config", "uptime"],
				sort,
				DASHBOARD_SORTS,
				(s) => dashboardHref({ filters, sort: s, page: 1 }),
			),
			pager: pagerFor(window, found.length, (n) => dashboardHref({ ...query, page: n })),
			total: found.length,
			all: machines.length,
			filtered: !!(filters.state || filters.kind || filters.configId !== undefined || filters.search),
			clearHref: dashboardHref({ ...PLAIN_DASHBOARD, sort }),
			clusters: page.flatMap((m) => m.kind === "cluster" ? [m.shown] : []),
		},
	};
}

/**
 * The viewer's instances and launches, and past a screenful of machines the page of them `query`
 * asks for (the plain dashboard's when absent); `launchHref` when the caller knows it already.
 */
export async function myInstancesView(
	deps: Deps,
	viewer: Viewer,
	known: { launchHref?: string | null; query?: DashboardQuery } = {},
): Promise<MyInstancesProps> {
	const now = deps.clock();
	const since = endedVisibleSince(now);
	const query = known.query ?? PLAIN_DASHBOARD;
	const [rows, clusters, active, recent, href] = await Promise.all([
		ownedInstanceRows(deps.db, viewer.id, since),
		ownedClusterRows(deps.db, viewer.id, since),
		activeLaunches(deps.db, { userId: viewer.id, kind: "instance" }),
		recentLaunches(deps.db, viewer.id),
		known.launchHref !== undefined ? known.launchHref : launchHref(deps, viewer),
	]);
	const waiting = active.filter((l) => !rows.some((r) => r.launchId === l.id));
	const failed = recent.filter((l) =>
		l.kind === "instance" && l.status === "failed" && !l.dismissedAt && (l.finishedAt ?? l.createdAt) > since
	);
	const listed = rows.length + clusters.length > DASHBOARD_SCREENFUL;
	const ids = [...rows.map((r) => r.id), ...listed ? clusters.map((c) => c.id) : []];
	const [next, soFar] = await Promise.all([nextActions(deps, ids), costsSoFar(deps, ids, now)]);
	const note = (l: (typeof recent)[number], text: string, dismiss: boolean): LaunchNote => ({
		id: l.id,
		stackName: l.stackName,
		text,
		href: `/launches/${l.id}`,
		dismiss: dismiss ? `/launches/${l.id}/dismiss` : null,
	});
	const shown = rows.map((row) =>
		instanceRow(deps, viewer, row, { view: "dashboard", now, next: next.get(row.id), soFar: soFar.get(row.id) })
	);
	const page = listed
		? machineList([
			...rows.map((row, i): ListedMachine => ({ kind: "instance", row, shown: shown[i]! })),
			...clusters.map((row): ListedMachine => ({
				kind: "cluster",
				row,
				shown: clusterRow(deps, row, now, next.get(row.id), soFar.get(row.id)),
			})),
		], query)
		: null;
	return {
		list: page?.list ?? null,
		rows: page?.instances ?? shown,
		waiting: waiting.map((l) => note(l, l.step, false)),
		failed: failed.map((l) => note(l, l.reason ?? "the stack failed", true)),
		launchHref: href,
		// The refresh asks for the same view: the filters, order and page stay as the viewer left them.
		poll: waiting.length ? dashboardHref(page ? query : PLAIN_DASHBOARD, "/dashboard/instances") : null,
	};
}

/** The viewer's dashboard as `query` asks; `launchHref` is the page's (its layout has loaded it). */
export async function dashboardView(
	deps: Deps,
	viewer: Viewer,
	launchHref: string | null,
	query: DashboardQuery = PLAIN_DASHBOARD,
): Promise<DashboardProps> {
	const now = deps.clock();
	const [instances, clusters, groups, budgets] = await Promise.all([
		myInstancesView(deps, viewer, { launchHref, query }),
		ownedClusterRows(deps.db, viewer.id, endedVisibleSince(now)),
		launchableGroups(deps.db, viewer.groupIds),
		myBudgetBars(deps, viewer),
	]);
	// Past a screenful the list shows the clusters (with their next actions); the section is left out.
	const ids = instances.list ? [] : clusters.map((c) => c.id);
	const [next, soFar] = await Promise.all([nextActions(deps, ids), costsSoFar(deps, ids, now)]);
	const emr = groups.find((g) => g.emrAccess);
	return {
		instances,
		clusters: !instances.list && (clusters.length > 0 || emr)
			? {
				rows: clusters.map((row) => clusterRow(deps, row, now, next.get(row.id), soFar.get(row.id))),
				launchHref: emr ? `/launch/${emr.id}` : null,
			}
			: null,
		budgets,
		discounted: deps.settings.AWS_DISCOUNT > 0,
	};
}
