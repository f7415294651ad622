/**
 * My dashboard: GET / (and /dashboard) and its fragment GET /dashboard/instances. Renders from the
 * database only; opening it asks for a rate-limited background refresh of the viewer's resources.
 */
import { type Handler, Hono } from "hono";
import type { Viewer } from "../lib/auth/identify.ts";
import { activeLaunches, recentLaunches } from "../lib/db/launches.ts";
import { ownedInstanceRows } from "../lib/db/instances.ts";
import { ENDED_VISIBLE_MS } from "../lib/machines/lifecycle.ts";
import { ownedClusterRows } from "../lib/db/clusters.ts";
import { ClusterTable } from "./clusters.tsx";
import type { Deps } from "../lib/deps.ts";
import { requestUserRefresh } from "../lib/sync/user_refresh.ts";
import { launchHref } from "../lib/views/layout.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { EmptyState, LiveRegion } from "./ui/components.tsx";
import { InstanceTable, InstanceTableRow } from "./ui/instances.tsx";
import { Layout } from "./ui/Layout.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

/**
 * The viewer's instances, with their launches still on the way (polled until none is left) and
 * those that failed lately, so a failure is shown where the user waits for the instance.
 */
async function MyInstances(props: { deps: Deps; viewer: Viewer; launchHref: string | null }) {
	const { deps, viewer } = props;
	const now = deps.clock();
	const endedVisibleSince = new Date(now.getTime() - ENDED_VISIBLE_MS);
	const [rows, active, recent] = await Promise.all([
		ownedInstanceRows(deps.db, viewer.id, endedVisibleSince),
		activeLaunches(deps.db, { userId: viewer.id, kind: "instance" }),
		recentLaunches(deps.db, viewer.id),
	]);
	const waiting = active.filter((l) => !rows.some((r) => r.launchId === l.id));
	const failed = recent.filter((l) =>
		l.kind === "instance" && l.status === "failed" && (l.finishedAt ?? l.createdAt) > endedVisibleSince
	);
	return (
		<section
			id="my-instances"
			{...(waiting.length
				? { "hx-get": "/dashboard/instances", "hx-trigger": "every 5s", "hx-swap": "outerHTML" }
				: {})}
		>
			{waiting.map((launch) => (
				<p class="panel">
					<span class="badge busy">launching</span> {launch.stackName}: {launch.step}.{" "}
					<a href={`/launches/${launch.id}`}>Follow the launch</a>
				</p>
			))}
			{failed.map((launch) => (
				<p class="panel" data-failed-launch={launch.id}>
					<span class="badge bad">launch failed</span> {launch.stackName}: {launch.reason ?? "the stack failed"}.{" "}
					<a href={`/launches/${launch.id}`}>See the launch</a>
				</p>
			))}
			{rows.length === 0 && waiting.length === 0 && failed.length === 0
				? (
					<EmptyState title="You do not have any instances.">
						{props.launchHref
							? (
								<>
									<p>Launch one from a software configuration your team offers.</p>
									<a class="btn primary" href={props.launchHref}>Launch an instance</a>
								</>
							)
							: <p>You are not in a group that can launch instances yet; ask an admin to add you to one.</p>}
					</EmptyState>
				)
				: rows.length > 0 && (
					<InstanceTable view="dashboard" caption="My instances">
						{rows.map((row) => (
							<InstanceTableRow
								viewer={viewer}
								row={row}
								view="dashboard"
								deps={deps}
								now={now}
							/>
						))}
					</InstanceTable>
				)}
		</section>
	);
}

async function MyClusters(props: { deps: Deps; viewer: Viewer }) {
	const now = props.deps.clock();
	const rows = await ownedClusterRows(props.deps.db, props.viewer.id, new Date(now.getTime() - ENDED_VISIBLE_MS));
	if (rows.length === 0) return null;
	return (
		<section id="my-clusters">
			<h2>My clusters</h2>
			<ClusterTable rows={rows} view="dashboard" now={now} />
			<p class="muted small">Use a cluster's page to terminate it.</p>
		</section>
	);
}

export function dashboardRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const page: Handler<AppEnv> = async (c) => {
		const viewer = c.get("viewer");
		requestUserRefresh(deps, viewer);
		const ctx = await pageContext(c, deps);
		return c.html(renderPage(
			<Layout ctx={ctx} title="My dashboard" wide>
				<div class="row">
					<h1>My dashboard</h1>
					<span class="spacer"></span>
					{ctx.launchHref && <a class="btn primary" href={ctx.launchHref}>Launch</a>}
				</div>
				<h2>My instances</h2>
				<LiveRegion>{await MyInstances({ deps, viewer, launchHref: ctx.launchHref })}</LiveRegion>
				{await MyClusters({ deps, viewer })}
				<p class="muted small">
					Costs are estimates from on-demand prices{deps.settings.AWS_DISCOUNT > 0 ? " after your discount" : ""}.
				</p>
			</Layout>,
		));
	};
	app.get("/", page);
	app.get("/dashboard", page);
	app.get("/dashboard/instances", async (c) => {
		const viewer = c.get("viewer");
		return c.html(renderFragment(await MyInstances({ deps, viewer, launchHref: await launchHref(deps, viewer) })));
	});
	return app;
}
