/**
 * One instance: GET /instances/:id (detail page), GET /instances/:id/row and /panel (htmx
 * fragments), and the seed's control URL POST /ajax/instance/:id/:action (start, stop, restart,
 * terminate) answering JSON, or for htmx the refreshed row or panel.
 */
import { Hono } from "hono";
import type { Viewer } from "../lib/auth/identify.ts";
import { controlMachine, isAction } from "../lib/control/control.ts";
import { auditFor } from "../lib/db/audit.ts";
import { getInstanceRow, type InstanceRow } from "../lib/db/instances.ts";
import { volumesOf } from "../lib/db/volumes.ts";
import type { Deps } from "../lib/deps.ts";
import { INSTANCE_ID } from "../lib/machines/ids.ts";
import { type AppContext, type AppEnv, pageContext } from "./context.ts";
import { methodNotAllowed, rerenderRefusal, respondError } from "./respond.tsx";
import { unknownResource, visibleResource } from "./resources.ts";
import { StateBadge } from "./ui/components.tsx";
import { formatAgo, formatRate, formatTime } from "./ui/format.ts";
import {
	InstanceActions,
	InstanceState,
	InstanceTableRow,
	isTransitional,
	rowRate,
	type RowView,
	webLink,
} from "./ui/instances.tsx";
import { Layout } from "./ui/Layout.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

/** Loads an instance the viewer may see, or throws 404/403. */
async function visibleInstance(deps: Deps, viewer: Viewer, id: string): Promise<InstanceRow> {
	const row = INSTANCE_ID.test(id) ? await getInstanceRow(deps.db, id) : undefined;
	return await visibleResource(deps, viewer, { noun: "instance", id, row });
}

function rowView(value: string | undefined): RowView {
	return value === "team" ? "team" : "dashboard";
}

async function InstancePanel(props: { deps: Deps; viewer: Viewer; row: InstanceRow; error?: string }) {
	const { deps, viewer, row } = props;
	const now = deps.clock();
	const tz = deps.settings.TIME_ZONE;
	const [volumes, events] = await Promise.all([volumesOf(deps.db, row.id), auditFor(deps.db, row.id, 15)]);
	const link = webLink(row, deps.settings.DISPLAY_PUBLIC_IP);
	const rate = rowRate(deps, row);
	return (
		<section
			id="instance-panel"
			{...(isTransitional(row)
				? { "hx-get": `/instances/${row.id}/panel`, "hx-trigger": "every 3s", "hx-swap": "outerHTML" }
				: {})}
		>
			<div class="grid">
				<div class="panel">
					<dl class="facts">
						<dt>Instance ID</dt>
						<dd class="mono">{row.id}</dd>
						<dt>Owner</dt>
						<dd>{row.ownerName} ({row.ownerUsername})</dd>
						<dt>Group</dt>
						<dd>{row.groupName ?? "—"}</dd>
						<dt>Configuration</dt>
						<dd>
							{row.configName ?? "unknown"} <span class="mono muted">({row.amiId || "no AMI"})</span>
						</dd>
						<dt>Type</dt>
						<dd class="mono">{row.instanceType}</dd>
						<dt>State</dt>
						<dd>
							<InstanceState row={row} />
						</dd>
						<dt>Address</dt>
						<dd>
							{link ? <a href={link.href} target="_blank" rel="noopener noreferrer">{link.label}</a> : "—"}
							{row.privateIp && (
								<div class="small muted">private {row.privateIp}{row.publicIp ? ` · public ${row.publicIp}` : ""}</div>
							)}
						</dd>
						<dt>Hourly cost</dt>
						<dd>{rate.known ? formatRate(rate.hourly) : `price unknown (${rate.reason})`}</dd>
					</dl>
				</div>
				<div class="panel">
					<dl class="facts">
						<dt>Launched</dt>
						<dd>{formatTime(row.launchedAt, tz)}</dd>
						<dt>Start time</dt>
						<dd>{row.startedAt ? formatTime(row.startedAt, tz) : "Not set"}</dd>
						<dt>Stop time</dt>
						<dd>{row.stoppedAt ? formatTime(row.stoppedAt, tz) : "Not set"}</dd>
						<dt>Last synced</dt>
						<dd>
							{row.lastSeenAt ? `${formatTime(row.lastSeenAt, tz)} (${formatAgo(row.lastSeenAt, now)})` : "not yet"}
						</dd>
						<dt>Stack</dt>
						<dd class="mono small">{row.stackName ?? "none"}</dd>
						{row.launchId && (
							<>
								<dt>Launch</dt>
								<dd>
									<a href={`/launches/${row.launchId}`}>launch record</a>
								</dd>
							</>
						)}
					</dl>
					<h3>Actions</h3>
					<InstanceActions viewer={viewer} row={row} mayControl view="detail" target="#instance-panel" />
					{props.error && <p class="inline-error" role="alert">{props.error}</p>}
				</div>
			</div>
			<h2>Volumes</h2>
			{volumes.length === 0
				? <p class="muted">No extra volumes are recorded for this instance.</p>
				: (
					<div class="table-wrap">
						<table>
							<thead>
								<tr>
									<th scope="col">Volume</th>
									<th scope="col">Mounted at</th>
									<th scope="col" class="num">Size</th>
									<th scope="col">Type</th>
									<th scope="col">State</th>
								</tr>
							</thead>
							<tbody>
								{volumes.map((v) => (
									<tr>
										<td class="mono">{v.id}</td>
										<td class="mono">{v.device || "—"}</td>
										<td class="num">{v.sizeGb} GiB</td>
										<td>{v.volumeType}</td>
										<td>
											<StateBadge state={v.state} />
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			<h2>Recent activity</h2>
			{events.length === 0 ? <p class="muted">Nothing recorded yet.</p> : (
				<div class="table-wrap">
					<table>
						<thead>
							<tr>
								<th scope="col">When</th>
								<th scope="col">Who</th>
								<th scope="col">What</th>
								<th scope="col">Outcome</th>
							</tr>
						</thead>
						<tbody>
							{events.map((e) => (
								<tr>
									<td>{formatTime(e.at, tz)}</td>
									<td>{e.actor}</td>
									<td>{e.action}</td>
									<td>
										<span class={`badge ${e.outcome === "ok" ? "ok" : e.outcome === "refused" ? "busy" : "bad"}`}>
											{e.outcome}
										</span>
										{e.detail && <span class="small muted">{e.detail}</span>}
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
		</section>
	);
}

export function instanceRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	const renderRow = (c: AppContext, row: InstanceRow, error?: string) =>
		renderFragment(
			<InstanceTableRow
				viewer={c.get("viewer")}
				row={row}
				view={rowView(c.req.query("view"))}
				deps={deps}
				now={deps.clock()}
				error={error}
			/>,
		);

	app.get("/instances/:id", async (c) => {
		const viewer = c.get("viewer");
		const row = await visibleInstance(deps, viewer, c.req.param("id"));
		const ctx = await pageContext(c, deps);
		return c.html(renderPage(
			<Layout ctx={ctx} title={`Instance ${row.id}`}>
				<p class="small">
					<a href="/">← My dashboard</a>
				</p>
				<h1>
					{row.name || "Instance"} <span class="mono muted">{row.id}</span>
				</h1>
				{await InstancePanel({ deps, viewer, row })}
			</Layout>,
		));
	});
	app.get("/dashboard/:id{i-[0-9a-zA-Z]+}", (c) => c.redirect(`/instances/${c.req.param("id")}`, 301));
	app.get("/instances/:id/row", async (c) => {
		const row = await visibleInstance(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderRow(c, row));
	});
	app.get("/instances/:id/panel", async (c) => {
		const viewer = c.get("viewer");
		const row = await visibleInstance(deps, viewer, c.req.param("id"));
		return c.html(renderFragment(await InstancePanel({ deps, viewer, row })));
	});

	app.post("/ajax/instance/:id/:action", async (c) => {
		const viewer = c.get("viewer");
		const id = c.req.param("id");
		const action = c.req.param("action");
		if (!INSTANCE_ID.test(id)) throw unknownResource("instance", id);
		if (!isAction("instance", action)) {
			return respondError(
				c,
				400,
				`Unknown action "${action.slice(0, 40)}": use start, stop, restart, terminate or archive`,
			);
		}
		const htmx = !!c.req.header("HX-Request");
		const view = c.req.query("view");
		try {
			await controlMachine(deps, viewer, { kind: "instance", id, action });
		} catch (error) {
			return await rerenderRefusal(c, error, async (reason) => {
				const row = await visibleInstance(deps, viewer, id);
				return view === "detail"
					? renderFragment(await InstancePanel({ deps, viewer, row, error: reason }))
					: renderRow(c, row, reason);
			});
		}
		if (!htmx) {
			const row = await getInstanceRow(deps.db, id);
			return c.json({ action, status: "ok", state: row?.state, pendingAction: row?.pendingAction });
		}
		if (action === "archive") {
			// The record is gone from the lists: the row disappears, the detail page goes to the dashboard.
			if (view === "detail") c.header("HX-Redirect", "/");
			return c.html("");
		}
		const row = await visibleInstance(deps, viewer, id);
		if (view === "detail") return c.html(renderFragment(await InstancePanel({ deps, viewer, row })));
		return c.html(renderRow(c, row));
	});
	app.on(["GET", "PUT", "DELETE", "PATCH"], "/ajax/instance/:id/:action", (c) =>
		methodNotAllowed(
			c,
			"Instance actions change state, so they must be sent as POST with the page's security token.",
		));
	return app;
}
