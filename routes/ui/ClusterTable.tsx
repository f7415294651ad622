/** The clusters table of the dashboard and the team view, and the state cell the cluster's page shares. */
import type { ClusterRowProps } from "../../lib/views/cluster.ts";
import { MachineName, StateBadge } from "./components.tsx";
import { ConnectCompact } from "./Connect.tsx";
import { CostSoFarCell } from "./CostSoFar.tsx";
import { formatDuration, formatRate } from "./format.ts";
import { PlannedAction } from "./PlannedAction.tsx";

/** A cluster's state, and when it failed, that it did with EMR's reason. */
export function ClusterState(
	props: { state: string; pendingAction: string | null; failed: { reason: string } | null },
) {
	return (
		<>
			<StateBadge state={props.state} pendingAction={props.pendingAction} />
			{props.failed && (
				<div class="small" data-cluster-failed>
					<span class="badge bad">failed</span> {props.failed.reason}
				</div>
			)}
		</>
	);
}

export function ClusterTable(props: { rows: ClusterRowProps[]; view: "dashboard" | "team" }) {
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
						<th scope="col" class="num">Hourly cost</th>
						<th scope="col" class="num">Cost so far</th>
						<th scope="col">Configuration</th>
						<th scope="col" class="num">Uptime</th>
					</tr>
				</thead>
				<tbody>
					{props.rows.map((row) => (
						<tr data-cluster={row.id}>
							<td data-label="Cluster">
								<MachineName href={row.href} name={row.name} id={row.id} />
							</td>
							{props.view === "team" && <td data-label="Owner">{row.ownerName}</td>}
							<td data-label="Web link">
								<div class="web-link">
									{row.link
										? <a href={row.link.href} target="_blank" rel="noopener noreferrer">{row.link.label}</a>
										: "—"}
									<ConnectCompact connection={row.connect} />
								</div>
							</td>
							<td data-label="Purpose">{row.purpose}</td>
							<td data-label="State">
								<ClusterState state={row.state} pendingAction={row.pendingAction} failed={row.failed} />
								<PlannedAction next={row.next} />
							</td>
							<td data-label="Type" class="mono small">
								{row.market === "SPOT" ? "SPOT" : "ON DEMAND"} | {row.instanceType}
							</td>
							<td data-label="Nodes" class="num">{row.nodesRunning}/{row.nodesRequested}</td>
							<td data-label="Hourly cost" class="num">
								{row.rate === null ? "—" : row.rate.known ? formatRate(row.rate.hourly) : "price unknown"}
							</td>
							<CostSoFarCell soFar={row.soFar} />
							<td data-label="Configuration">{row.configName ?? "—"}</td>
							<td data-label="Uptime" class="num">{row.uptimeMs === null ? "—" : formatDuration(row.uptimeMs)}</td>
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}
