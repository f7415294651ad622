/**
 * The team view: GET /team (the page, or with HX-Request just the filtered, paged table).
 * Instances of everyone sharing a group with the viewer (everyone's for managers and admins),
 * counted and paged in SQL, with charts of states and of the hourly burn per owner.
 */
import { Hono } from "hono";
import type { Viewer } from "../lib/auth/identify.ts";
import { burnRate } from "../lib/billing/reports.ts";
import { listGroups } from "../lib/db/catalog.ts";
import { stateCounts, type TeamFilters, teamInstanceRows, usersInScope } from "../lib/db/instances.ts";
import { ENDED_VISIBLE_MS, INSTANCE_ENDED_STATES } from "../lib/machines/lifecycle.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { viewerScope } from "../lib/auth/permissions.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { idFilter } from "./params.ts";
import { ChartIsland, EmptyState, FilterSelect, LiveRegion, Pager, STATE_COLORS } from "./ui/components.tsx";
import { formatRate } from "./ui/format.ts";
import { InstanceTable, InstanceTableRow } from "./ui/instances.tsx";
import { Layout } from "./ui/Layout.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";
import { teamClusterRows } from "../lib/db/clusters.ts";
import { ClusterTable } from "./clusters.tsx";

const TEAM_PAGE_SIZE = 25;
const STATE_FILTERS = ["", "running", "stopped", "transitioning", "ended"] as const;

/** The team filters from the query string; anything malformed is a 400 with what is wrong. */
function parseTeamQuery(query: Record<string, string>): { filters: TeamFilters; page: number } {
	const state = query.state ?? "";
	if (!(STATE_FILTERS as readonly string[]).includes(state)) {
		throw new UserError(
			400,
			`Unknown state filter "${state.slice(0, 30)}": use running, stopped, transitioning or ended`,
		);
	}
	const search = (query.q ?? "").trim();
	if (search.length > 100) throw new UserError(400, "The search text is too long (at most 100 characters)");
	const pageText = query.page ?? "1";
	if (!/^\d{1,6}$/.test(pageText) || Number(pageText) < 1) {
		throw new UserError(400, "The page must be a positive number");
	}
	return {
		filters: {
			state: state || undefined,
			ownerId: idFilter(query, "owner"),
			groupId: idFilter(query, "group"),
			search: search || undefined,
		},
		page: Number(pageText),
	};
}

function queryString(filters: TeamFilters, page: number): string {
	const params = new URLSearchParams();
	if (filters.state) params.set("state", filters.state);
	if (filters.ownerId !== undefined) params.set("owner", String(filters.ownerId));
	if (filters.groupId !== undefined) params.set("group", String(filters.groupId));
	if (filters.search) params.set("q", filters.search);
	if (page > 1) params.set("page", String(page));
	const text = params.toString();
	return text ? `?${text}` : "";
}

async function TeamTable(props: { deps: Deps; viewer: Viewer; filters: TeamFilters; page: number }) {
	const { deps, viewer } = props;
	const now = deps.clock();
	const { rows, total } = await teamInstanceRows(
		deps.db,
		viewerScope(viewer),
		props.filters,
		{ offset: (props.page - 1) * TEAM_PAGE_SIZE, limit: TEAM_PAGE_SIZE },
		new Date(now.getTime() - ENDED_VISIBLE_MS),
	);
	return (
		<section id="team-table">
			{total === 0
				? (
					<EmptyState title="No instances match.">
						<p>
							{props.filters.state || props.filters.ownerId || props.filters.groupId || props.filters.search
								? "Try other filters."
								: "You and your groups do not have any instances yet."}
						</p>
					</EmptyState>
				)
				: (
					<>
						<InstanceTable view="team" caption="Team instances">
							{/* Rows are scoped to the viewer's teammates in SQL, so each one may be controlled. */}
							{rows.map((row) => (
								<InstanceTableRow
									viewer={viewer}
									row={row}
									view="team"
									deps={deps}
									now={now}
								/>
							))}
						</InstanceTable>
						<Pager
							page={props.page}
							pageSize={TEAM_PAGE_SIZE}
							total={total}
							href={(page) => `/team${queryString(props.filters, page)}`}
							target="#team-table"
						/>
					</>
				)}
		</section>
	);
}

export function teamRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.get("/team", async (c) => {
		const viewer = c.get("viewer");
		const { filters, page } = parseTeamQuery(c.req.query());
		c.header("Vary", "HX-Request");
		if (c.req.header("HX-Request")) {
			return c.html(renderFragment(await TeamTable({ deps, viewer, filters, page })));
		}
		const scope = viewerScope(viewer);
		const [ctx, counts, everyoneCounts, burn, owners, groups] = await Promise.all([
			pageContext(c, deps),
			stateCounts(deps.db, scope),
			// A manager's scope is already everything; count once.
			scope.everyone ? undefined : stateCounts(deps.db, { everyone: true, viewerId: viewer.id, groupIds: [] }),
			burnRate(deps.db, scope),
			usersInScope(deps.db, scope),
			listGroups(deps.db),
		]);
		const everyone = everyoneCounts ?? counts;
		const clusters = await teamClusterRows(deps.db, scope, new Date(deps.clock().getTime() - ENDED_VISIBLE_MS));
		const visibleGroups = scope.everyone ? groups : groups.filter((g) => viewer.groupIds.includes(g.id));
		const bucket = (c: Record<string, number>) => {
			const running = c.running ?? 0;
			const stopped = c.stopped ?? 0;
			const other = Object.entries(c).filter(([s]) =>
				s !== "running" && s !== "stopped" && !INSTANCE_ENDED_STATES.includes(s)
			)
				.reduce((n, [, v]) => n + v, 0);
			return [running, stopped, other];
		};
		const owners_ = [...burn.byUser.values()].sort((a, b) => b.hourly - a.hourly);
		return c.html(renderPage(
			<Layout ctx={ctx} title="Team" wide>
				<div class="row">
					<h1>Team view</h1>
					<span class="spacer"></span>
					<a href="/">View just my instances</a>
				</div>
				<p class="lead">
					{scope.everyone
						? "As a " + viewer.role + " you see every team's instances."
						: "Instances of everyone who shares a group with you."}
				</p>
				<div class="grid">
					<div class="panel">
						<h2>Instance states</h2>
						<p class="muted small">What your team is running</p>
						<ChartIsland
							kind="doughnut"
							title="Instances by state"
							labels={["Running", "Stopped", "Changing"]}
							values={bucket(counts)}
							unit="count"
							colors={STATE_COLORS}
							format={String}
							empty="No instances yet."
						/>
					</div>
					<div class="panel">
						<h2>Hourly burn</h2>
						<p>
							<span class="stat">{formatRate(burn.total)}</span>{" "}
							<span class="muted">in all{burn.unknown ? `, plus ${burn.unknown} with an unknown price` : ""}</span>
						</p>
						<ChartIsland
							kind="bar"
							title="Hourly burn per owner"
							labels={owners_.map((o) => o.name)}
							values={owners_.map((o) => o.hourly)}
							unit="usd-per-hour"
							format={(v) => formatRate(v)}
							empty="Nothing is running."
						/>
					</div>
					<div class="panel">
						<h2>All instances</h2>
						<p class="muted small">Everything the portal manages</p>
						<ChartIsland
							kind="doughnut"
							title="All instances by state"
							labels={["Running", "Stopped", "Changing"]}
							values={bucket(everyone)}
							unit="count"
							colors={STATE_COLORS}
							format={String}
							empty="No instances yet."
						/>
					</div>
				</div>
				<h2>Instances</h2>
				<form
					class="filters"
					method="get"
					action="/team"
					hx-get="/team"
					hx-trigger="change"
					hx-target="#team-table"
					hx-swap="outerHTML"
					hx-push-url="true"
				>
					<FilterSelect
						name="state"
						label="State"
						anyLabel="Any"
						options={[
							{ value: "running", label: "Running" },
							{ value: "stopped", label: "Stopped" },
							{ value: "transitioning", label: "Changing" },
							{ value: "ended", label: "Ended (last day)" },
						]}
						selected={filters.state}
					/>
					<FilterSelect
						name="owner"
						label="Owner"
						anyLabel="Anyone"
						options={owners.map((o) => ({ value: o.id, label: o.username }))}
						selected={filters.ownerId}
					/>
					<FilterSelect
						name="group"
						label="Group"
						anyLabel="Any"
						options={visibleGroups.map((g) => ({ value: g.id, label: g.name }))}
						selected={filters.groupId}
					/>
					<div class="field">
						<label for="f-q">Search</label>
						<input
							id="f-q"
							type="search"
							name="q"
							value={filters.search ?? ""}
							maxLength={100}
							placeholder="id, name or owner"
							hx-get="/team"
							hx-trigger="input changed delay:400ms, search"
							hx-target="#team-table"
							hx-swap="outerHTML"
							hx-push-url="true"
							hx-include="closest form"
						/>
					</div>
					<noscript>
						<button type="submit">Filter</button>
					</noscript>
				</form>
				<LiveRegion>{await TeamTable({ deps, viewer, filters, page })}</LiveRegion>
				{clusters.length > 0 && (
					<>
						<h2>Clusters</h2>
						<ClusterTable rows={clusters} view="team" now={deps.clock()} />
					</>
				)}
			</Layout>,
		));
	});
	return app;
}
