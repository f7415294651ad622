/** One cluster's page and its detail panel: facts, connection string, cost, terminate, recent activity. */
import type { ClusterPanelProps } from "../../lib/views/cluster.ts";
import { AuditList } from "./AuditList.tsx";
import { ClusterState } from "./ClusterTable.tsx";
import { ConnectPanel } from "./Connect.tsx";
import { CostSoFarFacts } from "./CostSoFar.tsx";
import { polling } from "./components.tsx";
import { formatDuration, formatRate, formatTime } from "./format.ts";
import { MachinePage, type PageContext } from "./Layout.tsx";
import { PolicyPanel } from "./PolicyPanel.tsx";
import { RenameForm } from "./RenameForm.tsx";

function Terminate(props: { panel: ClusterPanelProps }) {
	const { panel } = props;
	if (!panel.terminate) {
		return (
			<span class="muted small">
				{panel.pendingAction ? `${panel.pendingAction} in progress…` : "Only the owner or an admin may terminate it."}
			</span>
		);
	}
	const { url, ended } = panel.terminate;
	return (
		<button
			type="button"
			class="danger"
			hx-post={url}
			hx-target="#cluster-panel"
			hx-swap="outerHTML"
			hx-disable="this"
			hx-confirm={ended
				? `Remove the record of ${panel.id}? Its stack is deleted if it still exists; its bills stay in the reports.`
				: `Terminate ${panel.id}? The cluster and everything on it is destroyed. This cannot be undone.`}
		>
			{ended ? "Remove this record" : "Terminate this cluster"}
		</button>
	);
}

/** The panel; it refreshes itself while the cluster is changing. `error` is a refused action's reason. */
export function ClusterPanel(props: { panel: ClusterPanelProps; error?: string }) {
	const { panel } = props;
	const tz = panel.timeZone;
	return (
		<section
			id="cluster-panel"
			{...polling(panel.poll, 5)}
		>
			<div class="grid">
				<div class="panel">
					<dl class="facts">
						<dt>Cluster ID</dt>
						<dd class="mono">{panel.id}</dd>
						<dt>Owner</dt>
						<dd>{panel.ownerName} ({panel.ownerUsername})</dd>
						<dt>Group</dt>
						<dd>{panel.groupName ?? "—"}</dd>
						<dt>Purpose</dt>
						<dd>{panel.purpose}</dd>
						<dt>Instance type</dt>
						<dd class="mono">
							{panel.market === "SPOT" ? `SPOT (bid $${panel.bidPrice})` : "ON DEMAND"} | {panel.instanceType}
						</dd>
						<dt>Nodes</dt>
						<dd>{panel.nodesRunning} provisioned out of {panel.nodesRequested}</dd>
						<dt>State</dt>
						<dd>
							<ClusterState state={panel.state} pendingAction={panel.pendingAction} failed={panel.failed} />
							{!panel.failed && panel.stateReason && <div class="small muted">{panel.stateReason}</div>}
						</dd>
						<dt>Host</dt>
						<dd class="mono">{panel.host ?? "not yet known"}</dd>
						<dt>Connection</dt>
						<dd class="mono" data-connection>{panel.connection ?? "—"}</dd>
					</dl>
				</div>
				<div class="panel">
					<dl class="facts">
						<dt>Configuration</dt>
						<dd>{panel.configName ?? "—"}</dd>
						<dt>Estimated cost</dt>
						<dd>{panel.rate === null ? "—" : panel.rate.known ? formatRate(panel.rate.hourly) : "price unknown"}</dd>
						<CostSoFarFacts soFar={panel.soFar} />
						<dt>Auto-terminate</dt>
						<dd>{panel.idleSeconds ? `after ${formatDuration(panel.idleSeconds * 1000)} idle` : "off"}</dd>
						<dt>Started</dt>
						<dd>{formatTime(panel.startedAt, tz)}</dd>
						<dt>Ended</dt>
						<dd>{panel.endedAt ? formatTime(panel.endedAt, tz) : "—"}</dd>
						<dt>Last refreshed</dt>
						<dd>{formatTime(panel.lastSeenAt, tz)}</dd>
						<dt>Stack</dt>
						<dd class="mono small">{panel.stackName ?? "—"}</dd>
					</dl>
					<h3>Actions</h3>
					{panel.result && <p class={`flash ${panel.result.tone}`} role="status" data-result>{panel.result.text}</p>}
					<RenameForm rename={panel.rename} target="#cluster-panel" />
					<Terminate panel={panel} />
					{panel.launchAgain && (
						<div class="actions">
							<a class="btn" href={panel.launchAgain}>Launch again</a>
						</div>
					)}
					{props.error && <p class="inline-error" role="alert">{props.error}</p>}
				</div>
			</div>
			<ConnectPanel connection={panel.connect} />
			{panel.policy && <PolicyPanel policy={panel.policy} target="#cluster-panel" />}
			<AuditList events={panel.events} timeZone={tz} allHref={panel.auditHref} />
		</section>
	);
}

/** GET /clusters/:id: the panel under the cluster's name. */
export function ClusterPage(props: { ctx: PageContext; panel: ClusterPanelProps }) {
	const { panel } = props;
	return (
		<MachinePage ctx={props.ctx} noun="Cluster" id={panel.id} name={panel.name}>
			<ClusterPanel panel={panel} />
		</MachinePage>
	);
}
