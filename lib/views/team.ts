/**
 * The team view's data: instances of everyone sharing a group with the viewer (everyone's for
 * managers and admins), filtered, counted and paged in SQL, with the counts by state and the
 * hourly burn per owner for its charts, and the team's clusters.
 */
import type { Viewer } from "../auth/identify.ts";
import { viewerScope } from "../auth/permissions.ts";
import { burnRate } from "../billing/reports.ts";
import { listGroups } from "../db/catalog.ts";
import { teamClusterRows } from "../db/clusters.ts";
import {
	stateCounts,
	type TeamFilters,
	teamInstanceRows,
	type TeamOrderColumn,
	usersInScope,
} from "../db/instances.ts";
import type { Deps } from "../deps.ts";
import { INSTANCE_ENDED_STATES } from "../machines/lifecycle.ts";
import { clusterRow, type ClusterRowProps } from "./cluster.ts";
import { instanceRow, type InstanceRowProps } from "./instance.ts";
import {
	type Choice,
	listHref,
	type ListSort,
	pagerFor,
	type PagerProps,
	pageWindow,
	type SortHeading,
	sortHeadings,
	type SortOptions,
	sortParams,
} from "./lists.ts";
import { endedVisibleSince } from "./machines.ts";
import { costsSoFar } from "../billing/so_far.ts";
import { nextActions } from "./policy.ts";
import { type BudgetBarsProps, teamBudgetBars } from "./budgets.ts";

export type { TeamFilters };

/** Rows per page of the team table. */
const TEAM_PAGE_SIZE = 25;

/**
 * The team table's orders: each is cheap in SQL over 10,000 instances (lib/db/instances.ts
 * teamOrder). The hourly cost is not among them: it comes from the pricing file, row by row.
 */
export const TEAM_SORTS: SortOptions<TeamOrderColumn> = {
	columns: { created: "desc", name: "asc", owner: "asc", type: "asc", state: "asc", config: "asc", uptime: "desc" },
	default: { column: "created", dir: "desc" },
};

/** The orders as the form's "Sort by" offers them. */
const SORT_CHOICES: Choice[] = [
	{ value: "created", label: "Created" },
	{ value: "name", label: "Name" },
	{ value: "owner", label: "Owner" },
	{ value: "type", label: "Type" },
	{ value: "state", label: "State" },
	{ value: "config", label: "Configuration" },
	{ value: "uptime", label: "Uptime" },
];

/** The columns whose headings sort (all but the hourly cost, the web link and the actions). */
const HEADED: TeamOrderColumn[] = ["name", "owner", "type", "state", "config", "uptime"];

/** A query of the team view, as its route reads it from the query string. */
export interface TeamQuery {
	filters: TeamFilters;
	sort: ListSort<TeamOrderColumn>;
	page: number;
}

/** The team table fragment. */
export interface TeamTableProps {
	rows: InstanceRowProps[];
	total: number;
	/** Whether any filter is set (the empty state says so and offers to clear them). */
	filtered: boolean;
	pager: PagerProps;
	sort: ListSort<TeamOrderColumn>;
	sortChoices: Choice[];
	/** The headings of the sortable columns. */
	headings: Partial<Record<TeamOrderColumn, SortHeading>>;
	/** The team view with the same order and no filters. */
	clearHref: string;
}

/** The team page. */
export interface TeamProps {
	/** Whether the viewer sees every team (a manager or an admin). */
	everyone: boolean;
	role: Viewer["role"];
	/** The names of the groups the viewer manages by assignment (a scoped manager), whose members' instances they see too. */
	managedGroups: string[];
	counts: StateBuckets;
	everyoneCounts: StateBuckets;
	burn: { total: number; unknown: number; owners: { name: string; hourly: number }[] };
	filters: TeamFilters;
	owners: Choice[];
	groups: Choice[];
	table: TeamTableProps;
	clusters: ClusterRowProps[];
	/** The budgets of the groups (and their cost centers) the viewer sees. */
	budgets: BudgetBarsProps;
}

/** The team view's URL for the filters, order and page. */
function teamHref(filters: TeamFilters, sort: ListSort<TeamOrderColumn>, page: number): string {
	return listHref("/team", {
		state: filters.state,
		owner: filters.ownerId,
		group: filters.groupId,
		q: filters.search,
		...sortParams(sort, TEAM_SORTS),
		page,
	});
}

/** One page of the team's instances; a page past the end shows the last one. */
export async function teamTableView(deps: Deps, viewer: Viewer, query: TeamQuery): Promise<TeamTableProps> {
	const { filters, sort } = query;
	const now = deps.clock();
	const load = (page: number) =>
		teamInstanceRows(
			deps.db,
			viewerScope(viewer),
			filters,
			{ offset: (page - 1) * TEAM_PAGE_SIZE, limit: TEAM_PAGE_SIZE, order: sort },
			endedVisibleSince(now),
		);
	let { rows, total } = await load(query.page);
	const window = pageWindow(query.page, total, TEAM_PAGE_SIZE);
	if (window.page !== query.page) ({ rows, total } = await load(window.page));
	const [next, soFar] = await Promise.all([
		nextActions(deps, rows.map((r) => r.id)),
		costsSoFar(deps, rows.map((r) => r.id), now),
	]);
	return {
		rows: rows.map((row) =>
			instanceRow(deps, viewer, row, { view: "team", now, next: next.get(row.id), soFar: soFar.get(row.id) })
		),
		total,
		filtered: !!(filters.state || filters.ownerId || filters.groupId || filters.search),
		pager: pagerFor(window, total, (page) => teamHref(filters, sort, page)),
		sort,
		sortChoices: SORT_CHOICES,
		headings: sortHeadings(HEADED, sort, TEAM_SORTS, (s) => teamHref(filters, s, 1)),
		clearHref: teamHref({}, sort, 1),
	};
}

/** Instances by state for a chart: running, stopped, and changing (any other state that is not ended). */
export type StateBuckets = [running: number, stopped: number, changing: number];

/** Counts by state as the team chart buckets them. */
export function stateBuckets(counts: Record<string, number>): StateBuckets {
	const running = counts.running ?? 0;
	const stopped = counts.stopped ?? 0;
	const changing = Object.entries(counts)
		.filter(([state]) => state !== "running" && state !== "stopped" && !INSTANCE_ENDED_STATES.includes(state))
		.reduce((n, [, count]) => n + count, 0);
	return [running, stopped, changing];
}

/** The team page. */
export async function teamView(deps: Deps, viewer: Viewer, query: TeamQuery): Promise<TeamProps> {
	const scope = viewerScope(viewer);
	const now = deps.clock();
	const budgets = teamBudgetBars(deps, viewer);
	const [table, counts, everyoneCounts, burn, owners, groups, clusters] = await Promise.all([
		teamTableView(deps, viewer, query),
		stateCounts(deps.db, scope),
		// A manager's scope is already everything; count once.
		scope.everyone ? undefined : stateCounts(deps.db, { everyone: true, viewerId: viewer.id, groupIds: [] }),
		burnRate(deps.db, scope, now),
		usersInScope(deps.db, scope),
		listGroups(deps.db),
		teamClusterRows(deps.db, scope, endedVisibleSince(now)),
	]);
	const [next, soFar] = await Promise.all([
		nextActions(deps, clusters.map((c) => c.id)),
		costsSoFar(deps, clusters.map((c) => c.id), now),
	]);
	return {
		everyone: scope.everyone,
		role: viewer.role,
		managedGroups: groups.filter((g) => viewer.managedGroupIds.includes(g.id)).map((g) => g.name),
		counts: stateBuckets(counts),
		everyoneCounts: stateBuckets(everyoneCounts ?? counts),
		burn: {
			total: burn.total,
			unknown: burn.unknown,
			owners: [...burn.byUser.values()].sort((a, b) => b.hourly - a.hourly),
		},
		filters: query.filters,
		owners: owners.map((o) => ({ value: o.id, label: o.username })),
		groups: (scope.everyone ? groups : groups.filter((g) => scope.groupIds.includes(g.id)))
			.map((g) => ({ value: g.id, label: g.name })),
		table,
		clusters: clusters.map((row) => clusterRow(deps, row, now, next.get(row.id), soFar.get(row.id))),
		budgets: await budgets,
	};
}
