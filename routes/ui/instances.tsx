/** Instance rows and action buttons, shared by the dashboard, the team view and the detail page. */
import type { Viewer } from "../../lib/auth/identify.ts";
import { instanceRate } from "../../lib/billing/rates.ts";
import type { Deps } from "../../lib/deps.ts";
import type { Price } from "../../lib/pricing.ts";
import type { InstanceRow } from "../../lib/db/instances.ts";
import { availableActions } from "../../lib/control/control.ts";
import type { InstanceAction } from "../../lib/control/instance.ts";
import { ProgressBar, StateBadge } from "./components.tsx";
import { formatDuration, formatRate } from "./format.ts";

/** Where a row is shown; the row's htmx requests ask for the same view back. */
export type RowView = "dashboard" | "team";

/** States in which a row keeps refreshing itself. */
export function isTransitional(row: Pick<InstanceRow, "state" | "pendingAction" | "progressPercent">): boolean {
	return ["pending", "stopping", "shutting-down"].includes(row.state) || !!row.pendingAction ||
		(row.progressPercent !== null && row.progressPercent < 100 && row.state === "running");
}

/** The https link to an instance: its DNS name when it has one, else its IP. */
export function webLink(row: Pick<InstanceRow, "dnsName" | "privateIp" | "publicIp" | "state">, publicIp: boolean) {
	const host = row.dnsName || (publicIp ? row.publicIp : row.privateIp);
	if (!host || row.state === "terminated" || row.state === "vanished") return null;
	return { href: `https://${host}/`, label: host };
}

/** An instance's discounted hourly rate; a configuration without an OS (or none) prices as Linux. */
export function rowRate(
	deps: Pick<Deps, "pricing" | "settings">,
	row: Pick<InstanceRow, "instanceType" | "configOs">,
): Price {
	return instanceRate(deps, { type: row.instanceType, os: row.configOs });
}

/** The state cell of rows and the detail panel: badge, boot progress, or the last progress text. */
export function InstanceState(
	props: { row: Pick<InstanceRow, "state" | "pendingAction" | "hasProgressBar" | "progressText" | "progressPercent"> },
) {
	const { row } = props;
	return (
		<>
			<StateBadge state={row.state} pendingAction={row.pendingAction} />
			{row.hasProgressBar && <ProgressBar text={row.progressText} percent={row.progressPercent} />}
			{row.progressPercent === null && row.progressText && <div class="small muted">{row.progressText}</div>}
		</>
	);
}

const CONFIRM: Record<InstanceAction, (id: string) => string | undefined> = {
	start: () => undefined,
	stop: (id) => `Stop ${id}? Anything running on it stops; its disks are kept.`,
	restart: (id) => `Restart ${id}? It reboots; running work is interrupted.`,
	terminate: (id) =>
		`Terminate ${id}? This deletes its CloudFormation stack: the instance and the volumes created with it are destroyed. This cannot be undone.`,
	archive: (id) => `Remove ${id} from your lists? Its billing history stays in the reports.`,
};

const LABEL: Record<InstanceAction, string> = {
	start: "Start",
	stop: "Stop",
	restart: "Restart",
	terminate: "Terminate",
	archive: "Remove",
};

/** The action buttons; each posts to the seed's control URL and swaps `target` with the answer. */
export function InstanceActions(
	props: { viewer: Viewer; row: InstanceRow; mayControl: boolean; view: string; target: string; swap?: string },
) {
	const actions = availableActions("instance", props.viewer, props.row, props.mayControl) as InstanceAction[];
	if (props.row.pendingAction) {
		return <span class="muted small">{props.row.pendingAction} in progress…</span>;
	}
	if (actions.length === 0) return <span class="muted small">—</span>;
	return (
		<div class="actions">
			{actions.map((action) => {
				const confirm = CONFIRM[action](props.row.id);
				return (
					<button
						type="button"
						class={action === "terminate" || action === "archive" ? "danger" : undefined}
						hx-post={`/ajax/instance/${props.row.id}/${action}?view=${props.view}`}
						hx-target={props.target}
						hx-swap={props.swap ?? "outerHTML"}
						hx-disable="this"
						{...(confirm ? { "hx-confirm": confirm } : {})}
						aria-label={`${LABEL[action]} ${props.row.id}`}
						data-action={action}
					>
						{LABEL[action]}
					</button>
				);
			})}
		</div>
	);
}

/** One instance as a table row; it refreshes itself while something is changing. */
export function InstanceTableRow(
	props: {
		viewer: Viewer;
		row: InstanceRow;
		view: RowView;
		deps: Pick<Deps, "pricing" | "settings">;
		now: Date;
		error?: string;
	},
) {
	const { row } = props;
	const link = webLink(row, props.deps.settings.DISPLAY_PUBLIC_IP);
	const rate = rowRate(props.deps, row);
	const live = isTransitional(row);
	const uptime = row.state === "running" && row.startedAt
		? formatDuration(props.now.getTime() - row.startedAt.getTime())
		: "—";
	return (
		<tr
			id={`row-${row.id}`}
			data-instance={row.id}
			{...(live
				? { "hx-get": `/instances/${row.id}/row?view=${props.view}`, "hx-trigger": "every 3s", "hx-swap": "outerHTML" }
				: {})}
		>
			<td data-label="Instance">
				<a href={`/instances/${row.id}`}>{row.name || row.id}</a>
				<div class="small muted mono">{row.id}</div>
			</td>
			{props.view === "team" && <td data-label="Owner">{row.ownerName}</td>}
			<td data-label="Web link">
				{link
					? <a href={link.href} target="_blank" rel="noopener noreferrer">{link.label}</a>
					: <span class="muted">—</span>}
			</td>
			<td data-label="Type" class="mono">{row.instanceType}</td>
			<td data-label="State">
				<InstanceState row={row} />
			</td>
			<td data-label="Hourly cost" class="num">{rate.known ? formatRate(rate.hourly) : "price unknown"}</td>
			<td data-label="Configuration">{row.configName ?? <span class="muted">unknown</span>}</td>
			<td data-label="Uptime" class="num">{uptime}</td>
			<td data-label="Actions">
				<InstanceActions
					viewer={props.viewer}
					row={row}
					mayControl
					view={props.view}
					target={`#row-${row.id}`}
				/>
				{props.error && <div class="inline-error" role="alert">{props.error}</div>}
			</td>
		</tr>
	);
}

/** The table around instance rows. */
export function InstanceTable(props: { view: RowView; children: preact.ComponentChildren; caption: string }) {
	return (
		<div class="table-wrap">
			<table class="responsive">
				<caption class="sr-only">{props.caption}</caption>
				<thead>
					<tr>
						<th scope="col">Instance</th>
						{props.view === "team" && <th scope="col">Owner</th>}
						<th scope="col">Web link</th>
						<th scope="col">Type</th>
						<th scope="col">State</th>
						<th scope="col" class="num">Hourly cost</th>
						<th scope="col">Configuration</th>
						<th scope="col" class="num">Uptime</th>
						<th scope="col">Actions</th>
					</tr>
				</thead>
				<tbody>{props.children}</tbody>
			</table>
		</div>
	);
}
