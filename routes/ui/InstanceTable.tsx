/** Instances as table rows, with their state cell and action buttons (the detail panel shares both). */
import type {
	InstanceAction,
	InstanceActionButton,
	InstanceRowProps,
	InstanceStateCell,
	RowView,
} from "../../lib/views/instance.ts";
import type { SortHeading } from "../../lib/views/lists.ts";
import { MachineName, polling, ProgressBar, StateBadge } from "./components.tsx";
import { ConnectCompact } from "./Connect.tsx";
import { CostSoFarCell } from "./CostSoFar.tsx";
import { formatDuration, formatRate, formatTime } from "./format.ts";
import { ColumnHeading } from "./ListControls.tsx";
import { PlannedAction } from "./PlannedAction.tsx";

/** The state cell of rows and the detail panel: badge, boot progress, how the setup ended, or the last progress text. */
export function InstanceState(props: { cell: InstanceStateCell }) {
	const { cell } = props;
	const { setup } = cell;
	// One block, so a narrow screen's label/value cell keeps the badge and what follows it together.
	return (
		<div class="state-cell">
			<StateBadge state={cell.state} pendingAction={cell.pendingAction} />
			{setup?.condition === "failed" && (
				<div class="small" data-setup="failed">
					<span class="badge bad">setup failed</span> at <strong>{setup.stage}</strong>,{" "}
					{formatTime(setup.at, cell.timeZone)}
				</div>
			)}
			{setup?.condition === "stalled" && (
				<div class="small" data-setup="stalled">
					<span class="badge busy">setup stalled</span> {setup.stage}
				</div>
			)}
			{!setup && cell.hasProgressBar && <ProgressBar text={cell.progressText} percent={cell.progressPercent} />}
			{!setup && cell.progressPercent === null && cell.progressText && (
				<div class="small muted">{cell.progressText}</div>
			)}
		</div>
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

/**
 * The action buttons; each posts to its URL and swaps `target` with the answer. `launchAgain` is
 * the wizard's link for an instance whose setup failed.
 */
export function InstanceActions(
	props: {
		id: string;
		actions: InstanceActionButton[];
		pendingAction: string | null;
		target: string;
		launchAgain?: string | null;
	},
) {
	const inFlight = props.pendingAction && <span class="muted small">{props.pendingAction} in progress…</span>;
	if (props.actions.length === 0 && !props.launchAgain) return inFlight || <span class="muted small">—</span>;
	return (
		<div class="actions">
			{inFlight}
			{props.launchAgain && <a class="btn" href={props.launchAgain}>Launch again</a>}
			{props.actions.map(({ action, url }) => {
				const confirm = CONFIRM[action](props.id);
				return (
					<button
						type="button"
						class={action === "terminate" || action === "archive" ? "danger" : undefined}
						hx-post={url}
						hx-target={props.target}
						hx-swap="outerHTML"
						hx-disable="this"
						{...(confirm ? { "hx-confirm": confirm } : {})}
						aria-label={`${LABEL[action]} ${props.id}`}
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
export function InstanceTableRow(props: { row: InstanceRowProps; error?: string }) {
	const { row } = props;
	return (
		<tr
			id={`row-${row.id}`}
			data-instance={row.id}
			{...polling(row.poll, 3)}
		>
			<td data-label="Instance">
				<MachineName href={row.href} name={row.name} id={row.id} />
			</td>
			{row.view === "team" && <td data-label="Owner">{row.ownerName}</td>}
			<td data-label="Web link">
				<div class="web-link">
					{row.link
						? <a href={row.link.href} target="_blank" rel="noopener noreferrer">{row.link.label}</a>
						: <span class="muted">—</span>}
					<ConnectCompact connection={row.connection} />
				</div>
			</td>
			<td data-label="Type" class="mono">{row.instanceType}</td>
			<td data-label="State">
				<InstanceState cell={row.cell} />
				<PlannedAction next={row.next} />
			</td>
			<td data-label="Hourly cost" class="num">
				{row.rate === null ? "—" : row.rate.known ? formatRate(row.rate.hourly) : "price unknown"}
			</td>
			<CostSoFarCell soFar={row.soFar} />
			<td data-label="Configuration">{row.configName ?? <span class="muted">unknown</span>}</td>
			<td data-label="Uptime" class="num">{row.uptimeMs === null ? "—" : formatDuration(row.uptimeMs)}</td>
			{row.extra.map((extra) => (
				<td data-label={extra.label} data-extra={extra.label}>{extra.value ?? <span class="muted">—</span>}</td>
			))}
			<td data-label="Actions">
				<InstanceActions
					id={row.id}
					actions={row.actions}
					pendingAction={row.pendingAction}
					target={`#row-${row.id}`}
					launchAgain={row.launchAgain}
				/>
				{row.locked && <LockedNote text={`Terminate only: ${row.locked.reason ?? "its controls are locked"}`} />}
				{props.error && <div class="inline-error" role="alert">{props.error}</div>}
			</td>
		</tr>
	);
}

/** Why an instance's controls are locked to Terminate, with its actions. */
export function LockedNote(props: { text: string }) {
	return (
		<p class="locked-note small" data-locked>
			<span class="badge busy">locked</span> {props.text}
		</p>
	);
}

/** The columns of the instance table a list may sort on (the team view and My dashboard choose which). */
export type InstanceColumn = "name" | "owner" | "type" | "state" | "cost" | "config" | "uptime";

/** How the table's headings sort: a heading per sortable column, and the element htmx swaps (none: whole pages). */
export interface InstanceTableSorting {
	headings: Partial<Record<InstanceColumn, SortHeading>>;
	target?: string;
}

/**
 * The table of instance rows of the dashboard or the team view; `sorting` makes its headings sort,
 * and the display plugin's extra columns (the same for every row) follow the uptime.
 */
export function InstanceTable(
	props: { view: RowView; rows: InstanceRowProps[]; caption: string; sorting?: InstanceTableSorting },
) {
	const extra = props.rows[0]?.extra.map((e) => e.label) ?? [];
	const heading = (column: InstanceColumn, label: string, cls?: string) => (
		<ColumnHeading
			label={label}
			heading={props.sorting?.headings[column]}
			class={cls}
			target={props.sorting?.target}
		/>
	);
	return (
		<div class="table-wrap">
			<table class="responsive">
				<caption class="sr-only">{props.caption}</caption>
				<thead>
					<tr>
						{heading("name", "Instance")}
						{props.view === "team" && heading("owner", "Owner")}
						<th scope="col">Web link</th>
						{heading("type", "Type")}
						{heading("state", "State")}
						{heading("cost", "Hourly cost", "num")}
						<th scope="col" class="num">Cost so far</th>
						{heading("config", "Configuration")}
						{heading("uptime", "Uptime", "num")}
						{extra.map((label) => <th scope="col">{label}</th>)}
						<th scope="col">Actions</th>
					</tr>
				</thead>
				<tbody>{props.rows.map((row) => <InstanceTableRow row={row} />)}</tbody>
			</table>
		</div>
	);
}
