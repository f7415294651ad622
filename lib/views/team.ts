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
import { stateCounts, type TeamFilters, teamInstanceRows, usersInScope } from "../db/instances.ts";
import type { Deps } from "../deps.ts";
import { INSTANCE_ENDED_STATES } from "../machines/lifecycle.ts";
import { clusterRow, type ClusterRowProps } from "./cluster.ts";
import { instanceRow, type InstanceRowProps } from "./instance.ts";
import type { Choice, PagerProps } from "./lists.ts";
import { endedVisibleSince } from "./machines.ts";
import { costsSoFar } from "../billing/so_far.ts";
import { nextActions } from "./policy.ts";
import { type BudgetBarsProps, teamBudgetBars } from "./budgets.ts";

export type { TeamFilters };

/** Rows per page of the team table. */
const TEAM_PAGE_SIZE = 25;

/** A query of the team view, as its route reads it from the query string. */
export interface TeamQuery {
	filters: TeamFilters;
	page: number;
}

/** The team table fragment. */
export interface TeamTableProps {
	rows: InstanceRowProps[];
	total: number;
	/** Whether any filter is set (the empty state says to try others). */
	filtered: boolean;
	pager: PagerProps;
}

/** Instances by state for a chart: running, stopped, and changing (any other state that is not ended). */
export type StateBuckets = [running: number, stopped: number, changing: number];

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

/** The team view's URL for the filters and page. */
function teamHref(filters: TeamFilters, page: number): string {
	const params = new URLSearchParams();
	if (filters.state) params.set("state", filters.state);
	if (filters.ownerId !== undefined) params.set("owner", String(filters.ownerId));
	if (filters.groupId !== undefined) params.set("group", String(filters.groupId));
	if (filters.search) params.set("q", filters.search);
	if (page > 1) params.set("page", String(page));
	const text = params.toString();
	return text ? `/team?${text}` : "/team";
}

/** One page of the team's instances. */
export async function teamTableView(deps: Deps, viewer: Viewer, query: TeamQuery): Promise<TeamTableProps> {
	const { filters, page } = query;
	const now = deps.clock();
	const { rows, total } = await teamInstanceRows(
		deps.db,
		viewerScope(viewer),
		filters,
		{ offset: (page - 1) * TEAM_PAGE_SIZE, limit: TEAM_PAGE_SIZE },
		endedVisibleSince(now),
	);
	const pages = Math.max(1, Math.ceil(total / TEAM_PAGE_SIZE));
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
		pager: {
			page,
			pages,
			total,
			previous: page > 1 ? teamHref(filters, page - 1) : null,
			next: page < pages ? teamHref(filters, page + 1) : null,
		},
	};
}

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
