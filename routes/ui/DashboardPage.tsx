/**
 * My dashboard (GET /) and its instances fragment (GET /dashboard/instances, or GET / with
 * HX-Request); past a screenful of machines, with filters, an order and pages over them.
 */
import type { DashboardProps, MachineListProps, MyInstancesProps } from "../../lib/views/dashboard.ts";
import { ClusterTable } from "./ClusterTable.tsx";
import { BudgetBars } from "./BudgetBars.tsx";
import { EmptyState, FilterSelect, LiveRegion, Pager, polling, TextFilter } from "./components.tsx";
import { NoMatches, SortFields } from "./ListControls.tsx";
import { sentence } from "./format.ts";
import { InstanceTable } from "./InstanceTable.tsx";
import { Layout, type PageContext } from "./Layout.tsx";

/** The page of the viewer's machines a filtered, sorted list shows: its instances, then its clusters, then the pager. */
function MachinePage(props: { list: MachineListProps; rows: MyInstancesProps["rows"] }) {
	const { list, rows } = props;
	if (list.total === 0) return <NoMatches title="No machines match." clearHref={list.clearHref} />;
	return (
		<>
			<p class="muted small" data-list-count>
				{list.filtered ? `${list.total} of your ${list.all} machines match.` : `${list.all} machines.`}
			</p>
			{rows.length > 0 && (
				<InstanceTable
					view="dashboard"
					rows={rows}
					caption="My instances"
					sorting={{ headings: list.headings, target: "#my-instances" }}
				/>
			)}
			{list.clusters.length > 0 && (
				<>
					<h3>Clusters</h3>
					<ClusterTable rows={list.clusters} view="dashboard" />
				</>
			)}
			<Pager {...list.pager} target="#my-instances" />
		</>
	);
}

/**
 * The viewer's instances, the launches on the way (polled until none is left) and those that failed
 * lately; `swapped` when it answers htmx, which then also updates the form's sort fields.
 */
export function MyInstances(props: { instances: MyInstancesProps; swapped?: boolean }) {
	const { rows, waiting, failed, launchHref, poll, list } = props.instances;
	return (
		<section
			id="my-instances"
			{...polling(poll, 5)}
		>
			{list && props.swapped && <SortFields id="dash-sort" columns={list.sortChoices} sort={list.sort} oob />}
			{waiting.map((launch) => (
				<p class="panel">
					<span class="badge busy">launching</span> {launch.stackName}: {sentence(launch.text)}{" "}
					<a href={launch.href}>Follow the launch</a>
				</p>
			))}
			{failed.map((launch) => (
				<div class="panel notice-line" data-failed-launch={launch.id}>
					<p>
						<span class="badge bad">launch failed</span> {launch.stackName}: {sentence(launch.text)}{" "}
						<a href={launch.href}>See the launch</a>
					</p>
					{launch.dismiss && (
						<div class="actions">
							<button
								type="button"
								hx-post={launch.dismiss}
								hx-target="#my-instances"
								hx-swap="outerHTML"
								hx-disable="this"
								aria-label={`Dismiss the notice of ${launch.stackName}`}
							>
								Dismiss
							</button>
						</div>
					)}
				</div>
			))}
			{list
				? <MachinePage list={list} rows={rows} />
				: rows.length === 0 && waiting.length === 0 && failed.length === 0
				? (
					<EmptyState title="You do not have any instances.">
						{launchHref
							? (
								<>
									<p>Launch one from a software configuration your team offers.</p>
									<a class="btn primary" href={launchHref}>Launch an instance</a>
								</>
							)
							: <p>You are not in a group that can launch instances yet; ask an admin to add you to one.</p>}
					</EmptyState>
				)
				: rows.length > 0 && <InstanceTable view="dashboard" rows={rows} caption="My instances" />}
		</section>
	);
}

const STATE_OPTIONS = [
	{ value: "running", label: "Running" },
	{ value: "stopped", label: "Stopped" },
	{ value: "transitioning", label: "Changing" },
	{ value: "ended", label: "Ended (last day)" },
];

const KIND_OPTIONS = [{ value: "instance", label: "Instances" }, { value: "cluster", label: "Clusters" }];

/** A filter's change asks for the list again (GET / with HX-Request), swaps it in and puts the filters in the address. */
const SWAPS_LIST = {
	"hx-get": "/",
	"hx-target": "#my-instances",
	"hx-swap": "outerHTML",
	"hx-push-url": "true",
} as const;

/** The filters and order of a dashboard past a screenful of machines. */
function MachineFilters(props: { list: MachineListProps }) {
	const { filters, configs } = props.list;
	return (
		<form class="filters" method="get" action="/" hx-trigger="change" {...SWAPS_LIST} data-machine-filters>
			<FilterSelect name="state" label="State" anyLabel="Any" options={STATE_OPTIONS} selected={filters.state} />
			<FilterSelect name="kind" label="Kind" anyLabel="Any" options={KIND_OPTIONS} selected={filters.kind} />
			<FilterSelect
				name="config"
				label="Configuration"
				anyLabel="Any"
				options={configs}
				selected={filters.configId}
			/>
			<TextFilter name="q" label="Search" value={filters.search ?? ""} placeholder="name or id" live={SWAPS_LIST} />
			<SortFields id="dash-sort" columns={props.list.sortChoices} sort={props.list.sort} />
			<noscript>
				<button type="submit">Filter</button>
			</noscript>
		</form>
	);
}

export function DashboardPage(props: { ctx: PageContext; dashboard: DashboardProps }) {
	const { ctx, dashboard } = props;
	return (
		<Layout ctx={ctx} title="My dashboard" wide>
			<div class="row">
				<h1>My dashboard</h1>
				<span class="spacer"></span>
				{ctx.launchHref && <a class="btn primary" href={ctx.launchHref}>Launch</a>}
			</div>
			<BudgetBars budgets={dashboard.budgets} title="My budgets" />
			<h2>{dashboard.instances.list ? "My machines" : "My instances"}</h2>
			{dashboard.instances.list && <MachineFilters list={dashboard.instances.list} />}
			<LiveRegion>
				<MyInstances instances={dashboard.instances} />
			</LiveRegion>
			{dashboard.clusters && (
				<section id="my-clusters">
					<h2>My clusters</h2>
					{dashboard.clusters.rows.length > 0
						? (
							<>
								<ClusterTable rows={dashboard.clusters.rows} view="dashboard" />
								<p class="muted small">Use a cluster's page to terminate it.</p>
							</>
						)
						: (
							<EmptyState title="You do not have any clusters.">
								{dashboard.clusters.launchHref && (
									<>
										<p>Launch a Spark cluster from a cluster configuration your team offers.</p>
										<a class="btn" href={dashboard.clusters.launchHref}>Launch a cluster</a>
									</>
								)}
							</EmptyState>
						)}
				</section>
			)}
			<p class="muted small">
				Costs are estimates from on-demand prices{dashboard.discounted ? " after your discount" : ""}.
			</p>
		</Layout>
	);
}
