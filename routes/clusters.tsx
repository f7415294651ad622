/**
 * EMR clusters: the cluster launch form (reached through the launch wizard, which serves its live
 * estimate), GET /clusters/:id (detail with the connection string),
 * GET /clusters/:id/panel (htmx), POST /ajax/cluster/:id/terminate, and the cluster tables of the
 * dashboard and team view.
 */
import { Hono } from "hono";
import type { Viewer } from "../lib/auth/identify.ts";
import { clusterEstimate } from "../lib/billing/rates.ts";
import { availableActions, controlMachine } from "../lib/control/control.ts";
import { connectionString } from "../lib/control/cluster.ts";
import { defaultIdle, MAX_CORE_NODES, MIN_CORE_NODES, PURPOSE_MAX } from "../lib/launch/cluster.ts";
import { auditFor } from "../lib/db/audit.ts";
import { type ClusterRow, getClusterRow } from "../lib/db/clusters.ts";
import { CLUSTER_ID } from "../lib/machines/ids.ts";
import { CLUSTER_ENDED_STATES } from "../lib/machines/lifecycle.ts";
import type { Group, SoftwareConfig } from "../lib/db/catalog.ts";
import type { Deps } from "../lib/deps.ts";
import { type AppEnv, pageContext } from "./context.ts";
import type { PageContext } from "./ui/Layout.tsx";
import { methodNotAllowed, rerenderRefusal } from "./respond.tsx";
import { unknownResource, visibleResource } from "./resources.ts";
import { CsrfField, describedBy, Field, LiveRegion, StateBadge } from "./ui/components.tsx";
import { formatDuration, formatRate, formatTime } from "./ui/format.ts";
import { Layout } from "./ui/Layout.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";
import { TypeInfo } from "./ui/TypeInfo.tsx";

/** The form's fields as submitted (strings), for re-rendering. */
export type ClusterFormValues = Record<string, string>;

function Estimate(props: { deps: Deps; values: ClusterFormValues }) {
	const nodes = Number(props.values.coreNodes);
	const bid = Number(props.values.bidPrice);
	const valid = props.values.instanceType && Number.isInteger(nodes) && nodes >= MIN_CORE_NODES &&
		nodes <= MAX_CORE_NODES;
	const estimate = valid
		? clusterEstimate(props.deps, {
			instanceType: props.values.instanceType!,
			coreNodes: nodes,
			market: props.values.market ?? "ON_DEMAND",
			bidPrice: props.values.market === "SPOT" && Number.isFinite(bid) && bid > 0 ? bid : undefined,
		})
		: undefined;
	return (
		<div id="cluster-estimate" class="panel">
			<h3>Cost estimate*</h3>
			{!estimate
				? <p class="muted">Choose a type and {MIN_CORE_NODES}–{MAX_CORE_NODES} core nodes.</p>
				: estimate.perHour === null
				? (
					<p>
						<strong>Price unknown</strong>
						<span class="muted small">
							{" "}
							({!estimate.ec2.known ? estimate.ec2.reason : !estimate.emr.known ? estimate.emr.reason : ""})
						</span>
					</p>
				)
				: (
					<p>
						<span class="stat" data-estimate={estimate.perHour.toFixed(4)}>{formatRate(estimate.perHour)}</span>
					</p>
				)}
			<p class="muted small">
				* (EMR price +{" "}
				{props.values.market === "SPOT" ? "spot bid (capped at on demand)" : "on-demand price"}) × (core nodes + 1
				master){props.deps.settings.AWS_DISCOUNT > 0 ? ", less the discount" : ""}. Spot clusters are charged the spot
				price, which is usually below the bid; if the spot price rises above the bid, the nodes are taken away.
			</p>
		</div>
	);
}

/** The cluster launch form (step 3 of the wizard for cluster configurations). */
export function ClusterForm(
	props: {
		deps: Deps;
		ctx: PageContext;
		group: Group;
		config: SoftwareConfig;
		types: { name: string }[];
		values: ClusterFormValues;
		errors: Record<string, string>;
		message?: string;
	},
) {
	const idle = defaultIdle(props.group);
	const v = {
		instanceType: props.types[0]?.name ?? "",
		coreNodes: "2",
		market: "ON_DEMAND",
		bidPrice: "",
		autoTerminateHours: String(idle.hours),
		autoTerminateMinutes: String(idle.minutes),
		purpose: "",
		...props.values,
	};
	const action = `/launch/${props.group.id}/${props.config.id}`;
	const estimateAttrs = {
		"hx-get": `${action}/estimate`,
		"hx-trigger": "change, input delay:300ms",
		"hx-target": "#cluster-estimate",
		"hx-swap": "outerHTML",
		"hx-include": "closest form",
	};
	const e = props.errors;
	return (
		<div class="grid">
			<form method="post" action={action} class="stack panel" novalidate>
				<CsrfField token={props.ctx.csrf} />
				<input type="hidden" name="intent" value="launch" />
				{props.message && <p class="error-box" role="alert">{props.message}</p>}
				<Field label="Instance type (master and core nodes)" name="instanceType" error={e.instanceType}>
					<select
						id="f-instanceType"
						name="instanceType"
						{...estimateAttrs}
						{...describedBy("instanceType", false, e.instanceType)}
					>
						{props.types.map((t) => <option value={t.name} selected={t.name === v.instanceType}>{t.name}</option>)}
					</select>
				</Field>
				<Field
					label="Purpose"
					name="purpose"
					error={e.purpose}
					hint={`What the cluster is for (at most ${PURPOSE_MAX} characters); it becomes a tag.`}
				>
					<textarea
						id="f-purpose"
						name="purpose"
						class="prose"
						rows={2}
						maxLength={PURPOSE_MAX}
						required
						{...describedBy("purpose", true, e.purpose)}
					>
						{v.purpose}
					</textarea>
				</Field>
				<Field
					label="Core nodes"
					name="coreNodes"
					error={e.coreNodes}
					hint={`${MIN_CORE_NODES} to ${MAX_CORE_NODES}, plus one master node`}
				>
					<input
						id="f-coreNodes"
						name="coreNodes"
						type="number"
						min={MIN_CORE_NODES}
						max={MAX_CORE_NODES}
						value={v.coreNodes}
						{...estimateAttrs}
						{...describedBy("coreNodes", true, e.coreNodes)}
					/>
				</Field>
				<fieldset class={`field${e.market ? " invalid" : ""}`}>
					<legend>
						<strong>Pricing</strong>
					</legend>
					{e.market && <div class="error" role="alert">{e.market}</div>}
					<div class="checks">
						<label>
							<input type="radio" name="market" value="ON_DEMAND" checked={v.market !== "SPOT"} {...estimateAttrs} />
							{" "}
							On demand
						</label>
						<label>
							<input type="radio" name="market" value="SPOT" checked={v.market === "SPOT"} {...estimateAttrs} /> Spot
						</label>
					</div>
				</fieldset>
				<Field
					label="Spot bid price ($ per node-hour)"
					name="bidPrice"
					error={e.bidPrice}
					hint="Only for spot clusters"
				>
					<input
						id="f-bidPrice"
						name="bidPrice"
						type="number"
						step="0.001"
						min="0.001"
						max="100"
						value={v.bidPrice}
						{...estimateAttrs}
						{...describedBy("bidPrice", true, e.bidPrice)}
					/>
				</Field>
				<fieldset class={`field${e.autoTerminateHours || e.autoTerminateMinutes ? " invalid" : ""}`}>
					<legend>
						<strong>Auto-terminate when idle</strong>
					</legend>
					<div class="row">
						<label class="small">
							Hours{" "}
							<input
								name="autoTerminateHours"
								type="number"
								min="0"
								max="71"
								value={v.autoTerminateHours}
								style="width:6em"
							/>
						</label>
						<label class="small">
							Minutes{" "}
							<input
								name="autoTerminateMinutes"
								type="number"
								min="0"
								max="59"
								value={v.autoTerminateMinutes}
								style="width:6em"
							/>
						</label>
					</div>
					<small>
						The cluster terminates itself when Livy and JupyterHub have been idle this long; 0:0 disables it.
					</small>
					{(e.autoTerminateHours || e.autoTerminateMinutes) && (
						<div class="error" role="alert">{e.autoTerminateHours ?? e.autoTerminateMinutes}</div>
					)}
				</fieldset>
				<div class="row">
					<button
						type="submit"
						class="primary"
						data-confirm="Launch this cluster? It is billed from now until it terminates."
					>
						Launch cluster
					</button>
					<a href={`/launch/${props.group.id}`}>Back</a>
				</div>
			</form>
			<div>
				<LiveRegion>
					<Estimate deps={props.deps} values={v} />
				</LiveRegion>
				<LiveRegion>
					<TypeInfo deps={props.deps} type={v.instanceType} os="linux" emr />
				</LiveRegion>
			</div>
		</div>
	);
}

/** The estimate fragment for the form's current values. */
export function estimateFragment(deps: Deps, values: ClusterFormValues): string {
	return renderFragment(<Estimate deps={deps} values={values} />);
}

function isLive(row: ClusterRow): boolean {
	return !CLUSTER_ENDED_STATES.includes(row.state) && row.state !== "WAITING" && row.state !== "RUNNING" ||
		!!row.pendingAction;
}

function host(row: ClusterRow): string | null {
	return row.dnsName || row.masterDns || row.masterIp;
}

/** The clusters table of the dashboard and the team view. */
export function ClusterTable(props: { rows: ClusterRow[]; view: "dashboard" | "team"; now: Date }) {
	return (
		<div class="table-wrap">
			<table class="responsive">
				<caption class="sr-only">Clusters</caption>
				<thead>
					<tr>
						<th scope="col">Cluster</th>
						{props.view === "team" && <th scope="col">Owner</th>}
						<th scope="col">Web link</th>
						<th scope="col">Purpose</th>
						<th scope="col">State</th>
						<th scope="col">Type</th>
						<th scope="col" class="num">Nodes</th>
						<th scope="col">Configuration</th>
						<th scope="col" class="num">Uptime</th>
					</tr>
				</thead>
				<tbody>
					{props.rows.map((row) => {
						const link = host(row);
						const ended = CLUSTER_ENDED_STATES.includes(row.state);
						return (
							<tr data-cluster={row.id}>
								<td data-label="Cluster">
									<a href={`/clusters/${row.id}`}>{row.name || row.id}</a>
									<div class="small muted mono">{row.id}</div>
								</td>
								{props.view === "team" && <td data-label="Owner">{row.ownerName}</td>}
								<td data-label="Web link">
									{link && !ended
										? <a href={`https://${link}/`} target="_blank" rel="noopener noreferrer">{link}</a>
										: "—"}
								</td>
								<td data-label="Purpose">{row.purpose}</td>
								<td data-label="State">
									<StateBadge state={row.state} pendingAction={row.pendingAction} />
								</td>
								<td data-label="Type" class="mono small">
									{row.market === "SPOT" ? "SPOT" : "ON DEMAND"} | {row.instanceType}
								</td>
								<td data-label="Nodes" class="num">{row.nodesRunning}/{row.nodesRequested}</td>
								<td data-label="Configuration">{row.configName ?? "—"}</td>
								<td data-label="Uptime" class="num">
									{row.startedAt && !ended ? formatDuration(props.now.getTime() - row.startedAt.getTime()) : "—"}
								</td>
							</tr>
						);
					})}
				</tbody>
			</table>
		</div>
	);
}

/** Loads a cluster the viewer may see, or throws 404/403. */
async function visibleCluster(deps: Deps, viewer: Viewer, id: string): Promise<ClusterRow> {
	const row = CLUSTER_ID.test(id) ? await getClusterRow(deps.db, id) : undefined;
	return await visibleResource(deps, viewer, { noun: "cluster", id, row });
}

async function ClusterPanel(props: { deps: Deps; viewer: Viewer; row: ClusterRow; error?: string }) {
	const { deps, viewer, row } = props;
	const tz = deps.settings.TIME_ZONE;
	const ended = CLUSTER_ENDED_STATES.includes(row.state);
	const events = await auditFor(deps.db, row.id, 10);
	const connection = connectionString(row.customUrlFormat, host(row));
	const estimate = clusterEstimate(deps, {
		instanceType: row.instanceType,
		coreNodes: row.coreNodes,
		market: row.market,
		bidPrice: row.bidPrice ?? undefined,
	});
	return (
		<section
			id="cluster-panel"
			{...(isLive(row)
				? { "hx-get": `/clusters/${row.id}/panel`, "hx-trigger": "every 5s", "hx-swap": "outerHTML" }
				: {})}
		>
			<div class="grid">
				<div class="panel">
					<dl class="facts">
						<dt>Cluster ID</dt>
						<dd class="mono">{row.id}</dd>
						<dt>Owner</dt>
						<dd>{row.ownerName} ({row.ownerUsername})</dd>
						<dt>Group</dt>
						<dd>{row.groupName ?? "—"}</dd>
						<dt>Purpose</dt>
						<dd>{row.purpose}</dd>
						<dt>Instance type</dt>
						<dd class="mono">
							{row.market === "SPOT" ? `SPOT (bid $${row.bidPrice})` : "ON DEMAND"} | {row.instanceType}
						</dd>
						<dt>Nodes</dt>
						<dd>{row.nodesRunning} provisioned out of {row.nodesRequested}</dd>
						<dt>State</dt>
						<dd>
							<StateBadge state={row.state} pendingAction={row.pendingAction} />
							{row.stateReason && <div class="small muted">{row.stateReason}</div>}
						</dd>
						<dt>Host</dt>
						<dd class="mono">{row.masterIp ?? row.masterDns ?? "not yet known"}</dd>
						<dt>Connection</dt>
						<dd class="mono" data-connection>{connection && !ended ? connection : "—"}</dd>
					</dl>
				</div>
				<div class="panel">
					<dl class="facts">
						<dt>Configuration</dt>
						<dd>{row.configName ?? "—"}</dd>
						<dt>Estimated cost</dt>
						<dd>{estimate.perHour === null ? "price unknown" : formatRate(estimate.perHour)}</dd>
						<dt>Auto-terminate</dt>
						<dd>{row.idleSeconds ? `after ${formatDuration(row.idleSeconds * 1000)} idle` : "off"}</dd>
						<dt>Started</dt>
						<dd>{formatTime(row.startedAt, tz)}</dd>
						<dt>Ended</dt>
						<dd>{row.endedAt ? formatTime(row.endedAt, tz) : "—"}</dd>
						<dt>Last refreshed</dt>
						<dd>{formatTime(row.lastSeenAt, tz)}</dd>
						<dt>Stack</dt>
						<dd class="mono small">{row.stackName ?? "—"}</dd>
					</dl>
					<h3>Actions</h3>
					{availableActions("cluster", viewer, row, true).includes("terminate") && !row.pendingAction
						? (
							<button
								type="button"
								class="danger"
								hx-post={`/ajax/cluster/${row.id}/terminate`}
								hx-target="#cluster-panel"
								hx-swap="outerHTML"
								hx-disable="this"
								hx-confirm={ended
									? `Remove the record of ${row.id}? Its stack is deleted if it still exists; its bills stay in the reports.`
									: `Terminate ${row.id}? The cluster and everything on it is destroyed. This cannot be undone.`}
							>
								{ended ? "Remove this record" : "Terminate this cluster"}
							</button>
						)
						: (
							<span class="muted small">
								{row.pendingAction
									? `${row.pendingAction} in progress…`
									: "Only the owner or an admin may terminate it."}
							</span>
						)}
					{props.error && <p class="inline-error" role="alert">{props.error}</p>}
				</div>
			</div>
			<h2>Recent activity</h2>
			{events.length === 0 ? <p class="muted">Nothing recorded yet.</p> : (
				<ul>
					{events.map((ev) => <li>{formatTime(ev.at, tz)} — {ev.actor}: {ev.action} ({ev.outcome}) {ev.detail}</li>)}
				</ul>
			)}
		</section>
	);
}

export function clusterRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.get("/clusters/:id", async (c) => {
		const viewer = c.get("viewer");
		const row = await visibleCluster(deps, viewer, c.req.param("id"));
		const ctx = await pageContext(c, deps);
		return c.html(renderPage(
			<Layout ctx={ctx} title={`Cluster ${row.id}`}>
				<p class="small">
					<a href="/">← My dashboard</a>
				</p>
				<h1>
					{row.name || "Cluster"} <span class="mono muted">{row.id}</span>
				</h1>
				{await ClusterPanel({ deps, viewer, row })}
			</Layout>,
		));
	});
	app.get("/dashboard/:id{j-[0-9A-Za-z]+}", (c) => c.redirect(`/clusters/${c.req.param("id")}`, 301));
	app.get("/clusters/:id/panel", async (c) => {
		const viewer = c.get("viewer");
		const row = await visibleCluster(deps, viewer, c.req.param("id"));
		return c.html(renderFragment(await ClusterPanel({ deps, viewer, row })));
	});
	app.post("/ajax/cluster/:id/terminate", async (c) => {
		const viewer = c.get("viewer");
		const id = c.req.param("id");
		if (!CLUSTER_ID.test(id)) throw unknownResource("cluster", id);
		let cluster;
		try {
			cluster = await controlMachine(deps, viewer, { kind: "cluster", id, action: "terminate" });
		} catch (error) {
			return await rerenderRefusal(c, error, async (reason) =>
				renderFragment(
					await ClusterPanel({ deps, viewer, row: await visibleCluster(deps, viewer, id), error: reason }),
				));
		}
		if (!c.req.header("HX-Request")) return c.json({ action: "terminate", status: "ok", state: cluster.state });
		if (cluster.archived) {
			c.header("HX-Redirect", "/");
			return c.html("");
		}
		return c.html(renderFragment(await ClusterPanel({ deps, viewer, row: await visibleCluster(deps, viewer, id) })));
	});
	app.on(["GET", "PUT", "DELETE", "PATCH"], "/ajax/cluster/:id/terminate", (c) =>
		methodNotAllowed(
			c,
			"Terminating a cluster changes state, so it must be sent as POST with the page's security token.",
		));
	return app;
}
