/** My dashboard (GET /) and its instances fragment (GET /dashboard/instances). */
import type { DashboardProps, MyInstancesProps } from "../../lib/views/dashboard.ts";
import { ClusterTable } from "./ClusterTable.tsx";
import { BudgetBars } from "./BudgetBars.tsx";
import { EmptyState, LiveRegion, polling } from "./components.tsx";
import { sentence } from "./format.ts";
import { InstanceTable } from "./InstanceTable.tsx";
import { Layout, type PageContext } from "./Layout.tsx";

/** The viewer's instances, the launches on the way (polled until none is left) and those that failed lately. */
export function MyInstances(props: { instances: MyInstancesProps }) {
	const { rows, waiting, failed, launchHref, poll } = props.instances;
	return (
		<section
			id="my-instances"
			{...polling(poll, 5)}
		>
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
			{rows.length === 0 && waiting.length === 0 && failed.length === 0
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
			<h2>My instances</h2>
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
