/** The team view (GET /team) and its filtered, paged table (the same URL with HX-Request). */
import type { TeamProps, TeamTableProps } from "../../lib/views/team.ts";
import { BudgetBars } from "./BudgetBars.tsx";
import { ClusterTable } from "./ClusterTable.tsx";
import { ChartIsland, EmptyState, FilterSelect, LiveRegion, Pager, STATE_COLORS, TextFilter } from "./components.tsx";
import { formatRate } from "./format.ts";
import { InstanceTable } from "./InstanceTable.tsx";
import { Layout, type PageContext } from "./Layout.tsx";
import { NoMatches, SortFields } from "./ListControls.tsx";

/** The table; `swapped` when it answers htmx, which then also updates the form's sort fields. */
export function TeamTable(props: { table: TeamTableProps; swapped?: boolean }) {
	const { table } = props;
	return (
		<section id="team-table">
			{props.swapped && <SortFields id="team-sort" columns={table.sortChoices} sort={table.sort} oob />}
			{table.total === 0
				? table.filtered
					? <NoMatches title="No instances match." clearHref={table.clearHref} />
					: (
						<EmptyState title="No instances match.">
							<p>You and your groups do not have any instances yet.</p>
						</EmptyState>
					)
				: (
					<>
						<InstanceTable
							view="team"
							rows={table.rows}
							caption="Team instances"
							sorting={{ headings: table.headings, target: "#team-table" }}
						/>
						<Pager {...table.pager} target="#team-table" />
					</>
				)}
		</section>
	);
}

/** Instances by state (running, stopped, changing) as a doughnut. */
function StateChart(props: { title: string; values: number[] }) {
	return (
		<ChartIsland
			kind="doughnut"
			title={props.title}
			labels={["Running", "Stopped", "Changing"]}
			values={props.values}
			unit="count"
			colors={STATE_COLORS}
			format={String}
			empty="No instances yet."
		/>
	);
}

/** The three charts: the team's instances by state, the hourly burn per owner, and everyone's instances by state. */
function TeamCharts(props: { team: TeamProps }) {
	const { team } = props;
	return (
		<div class="grid">
			<div class="panel">
				<h2>Instance states</h2>
				<p class="muted small">What your team is running</p>
				<StateChart title="Instances by state" values={team.counts} />
			</div>
			<div class="panel">
				<h2>Hourly burn</h2>
				<p>
					<span class="stat">{formatRate(team.burn.total)}</span>{" "}
					<span class="muted">
						in all{team.burn.unknown ? `, plus ${team.burn.unknown} with an unknown price` : ""}
					</span>
				</p>
				<ChartIsland
					kind="bar"
					title="Hourly burn per owner"
					labels={team.burn.owners.map((o) => o.name)}
					values={team.burn.owners.map((o) => o.hourly)}
					unit="usd-per-hour"
					format={(v) => formatRate(v)}
					empty={team.burn.unknown ? "Nothing with a known price is running." : "Nothing is running."}
				/>
			</div>
			<div class="panel">
				<h2>All instances</h2>
				<p class="muted small">Everything the portal manages</p>
				<StateChart title="All instances by state" values={team.everyoneCounts} />
			</div>
		</div>
	);
}

const STATE_OPTIONS = [
	{ value: "running", label: "Running" },
	{ value: "stopped", label: "Stopped" },
	{ value: "transitioning", label: "Changing" },
	{ value: "ended", label: "Ended (last day)" },
];

/** A filter's change asks for the table again, swaps it in and puts the filters in the address. */
const SWAPS_TABLE = {
	"hx-get": "/team",
	"hx-target": "#team-table",
	"hx-swap": "outerHTML",
	"hx-push-url": "true",
} as const;

function TeamFilters(props: { team: TeamProps }) {
	const { filters, owners, groups, table } = props.team;
	return (
		<form class="filters" method="get" action="/team" hx-trigger="change" {...SWAPS_TABLE}>
			<FilterSelect name="state" label="State" anyLabel="Any" options={STATE_OPTIONS} selected={filters.state} />
			<FilterSelect name="owner" label="Owner" anyLabel="Anyone" options={owners} selected={filters.ownerId} />
			<FilterSelect name="group" label="Group" anyLabel="Any" options={groups} selected={filters.groupId} />
			<TextFilter
				name="q"
				label="Search"
				value={filters.search ?? ""}
				placeholder="id, name or owner"
				live={SWAPS_TABLE}
			/>
			<SortFields id="team-sort" columns={table.sortChoices} sort={table.sort} />
			<noscript>
				<button type="submit">Filter</button>
			</noscript>
		</form>
	);
}

export function TeamPage(props: { ctx: PageContext; team: TeamProps }) {
	const { team } = props;
	return (
		<Layout ctx={props.ctx} title="Team" wide>
			<div class="row">
				<h1>Team view</h1>
				<span class="spacer"></span>
				<a href="/">View just my instances</a>
			</div>
			<p class="lead">
				{team.everyone
					? `As ${team.role === "admin" ? "an admin" : "a manager"} you see every team's instances.`
					: team.managedGroups.length
					? `Instances of everyone who shares a group with you or belongs to a group you manage (${
						team.managedGroups.join(", ")
					}).`
					: "Instances of everyone who shares a group with you."}
			</p>
			<BudgetBars budgets={team.budgets} title="Budgets" />
			<TeamCharts team={team} />
			<h2>Instances</h2>
			<TeamFilters team={team} />
			<LiveRegion>
				<TeamTable table={team.table} />
			</LiveRegion>
			{team.clusters.length > 0 && (
				<>
					<h2>Clusters</h2>
					<ClusterTable rows={team.clusters} view="team" />
				</>
			)}
		</Layout>
	);
}
