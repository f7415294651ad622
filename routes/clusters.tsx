/**
 * EMR clusters: the cluster launch form (reached through the launch wizard, which serves its live
 * estimate), GET /clusters/:id (detail with the connection string),
 * GET /clusters/:id/panel (htmx), POST /ajax/cluster/:id/terminate, and the cluster tables of the
 * dashboard and team view.
 */
import { Hono } from "hono";
import type { Viewer } from "../lib/auth/identify.ts";
import { clusterEstimate } from "../lib/billing/rates.ts";
import { controlMachine } from "../lib/control/control.ts";
import { defaultIdle, MAX_CORE_NODES, MIN_CORE_NODES, PURPOSE_MAX } from "../lib/launch/cluster.ts";
import type { Group, SoftwareConfig } from "../lib/db/catalog.ts";
import type { Deps } from "../lib/deps.ts";
import { type AppEnv, pageContext } from "./context.ts";
import type { PageContext } from "./ui/Layout.tsx";
import { clusterPanelView } from "../lib/views/cluster.ts";
import { checkMachineId } from "../lib/views/machines.ts";
import { methodNotAllowed, rerenderRefusal } from "./respond.tsx";
import { ClusterPage, ClusterPanel } from "./ui/ClusterPanel.tsx";
import { CsrfField, describedBy, Field, LiveRegion } from "./ui/components.tsx";
import { formatRate } from "./ui/format.ts";
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

export function clusterRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	const panelFragment = async (viewer: Viewer, id: string, error?: string) =>
		renderFragment(<ClusterPanel panel={await clusterPanelView(deps, viewer, id)} error={error} />);

	app.get("/clusters/:id", async (c) => {
		const panel = await clusterPanelView(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderPage(<ClusterPage ctx={await pageContext(c, deps)} panel={panel} />));
	});
	app.get("/dashboard/:id{j-[0-9A-Za-z]+}", (c) => c.redirect(`/clusters/${c.req.param("id")}`, 301));
	app.get("/clusters/:id/panel", async (c) => c.html(await panelFragment(c.get("viewer"), c.req.param("id"))));
	app.post("/ajax/cluster/:id/terminate", async (c) => {
		const viewer = c.get("viewer");
		const id = c.req.param("id");
		checkMachineId("cluster", id);
		let cluster;
		try {
			cluster = await controlMachine(deps, viewer, { kind: "cluster", id, action: "terminate" });
		} catch (error) {
			return await rerenderRefusal(c, error, (reason) => panelFragment(viewer, id, reason));
		}
		if (!c.req.header("HX-Request")) return c.json({ action: "terminate", status: "ok", state: cluster.state });
		if (cluster.archived) {
			c.header("HX-Redirect", "/");
			return c.html("");
		}
		return c.html(await panelFragment(viewer, id));
	});
	app.on(["GET", "PUT", "DELETE", "PATCH"], "/ajax/cluster/:id/terminate", (c) =>
		methodNotAllowed(
			c,
			"Terminating a cluster changes state, so it must be sent as POST with the page's security token.",
		));
	return app;
}
