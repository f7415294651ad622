/** One instance's page and its detail panel: facts, times, actions, volumes and recent activity. */
import type { InstancePanelProps, VolumeRow } from "../../lib/views/instance.ts";
import { AuditList } from "./AuditList.tsx";
import { BootTimeline } from "./BootTimeline.tsx";
import { ConnectPanel } from "./Connect.tsx";
import { CostSoFarFacts } from "./CostSoFar.tsx";
import { type Column, ItemTable, polling, StateBadge } from "./components.tsx";
import { formatAgo, formatRate, formatTime } from "./format.ts";
import { InstanceActions, InstanceState, LockedNote } from "./InstanceTable.tsx";
import { MachinePage, type PageContext } from "./Layout.tsx";
import { PolicyPanel } from "./PolicyPanel.tsx";
import { RenameForm } from "./RenameForm.tsx";

const VOLUME_COLUMNS: Column<VolumeRow>[] = [
	{ label: "Volume", class: "mono", cell: (v) => v.id },
	{ label: "Mounted at", class: "mono", cell: (v) => v.device || "—" },
	{ label: "Size", class: "num", cell: (v) => `${v.sizeGb} GiB` },
	{ label: "Type", cell: (v) => v.volumeType },
	{ label: "State", cell: (v) => <StateBadge state={v.state} /> },
];

/** The panel; it refreshes itself while something is changing. `error` is a refused action's reason. */
export function InstancePanel(props: { panel: InstancePanelProps; error?: string }) {
	const { panel } = props;
	const tz = panel.timeZone;
	return (
		<section
			id="instance-panel"
			{...polling(panel.poll, 3)}
		>
			<div class="grid">
				<div class="panel">
					<dl class="facts">
						<dt>Instance ID</dt>
						<dd class="mono">{panel.id}</dd>
						<dt>Owner</dt>
						<dd>{panel.ownerName} ({panel.ownerUsername})</dd>
						<dt>Group</dt>
						<dd>{panel.groupName ?? "—"}</dd>
						<dt>Configuration</dt>
						<dd>
							{panel.configName ?? "unknown"} <span class="mono muted">({panel.amiId || "no AMI"})</span>
						</dd>
						<dt>Type</dt>
						<dd class="mono">{panel.instanceType}</dd>
						<dt>State</dt>
						<dd>
							<InstanceState cell={panel.cell} />
						</dd>
						<dt>Address</dt>
						<dd>
							{panel.link
								? <a href={panel.link.href} target="_blank" rel="noopener noreferrer">{panel.link.label}</a>
								: "—"}
							{panel.privateIp && (
								<div class="small muted">
									private {panel.privateIp}
									{panel.publicIp ? ` · public ${panel.publicIp}` : ""}
								</div>
							)}
						</dd>
						<dt>Hourly cost</dt>
						<dd>
							{panel.cost.hourly === null
								? "—"
								: panel.cost.hourly.known
								? formatRate(panel.cost.hourly.hourly)
								: `price unknown (${panel.cost.hourly.reason})`}
							{panel.cost.volumesHourly && (
								<div class="small muted">
									{panel.cost.volumesHourly.known
										? `with its volumes' ${formatRate(panel.cost.volumesHourly.hourly)}, billed while it is stopped too`
										: "with its volumes"}
								</div>
							)}
						</dd>
						<CostSoFarFacts soFar={panel.cost.soFar} />
						{panel.extra.map((extra) => (
							<>
								<dt>{extra.label}</dt>
								<dd data-extra={extra.label}>{extra.value ?? "—"}</dd>
							</>
						))}
					</dl>
				</div>
				<div class="panel">
					<dl class="facts">
						<dt>Launched</dt>
						<dd>{formatTime(panel.launchedAt, tz)}</dd>
						<dt>Start time</dt>
						<dd>{panel.startedAt ? formatTime(panel.startedAt, tz) : "Not set"}</dd>
						<dt>Stop time</dt>
						<dd>{panel.stoppedAt ? formatTime(panel.stoppedAt, tz) : "Not set"}</dd>
						<dt>Last synced</dt>
						<dd>
							{panel.lastSeenAt
								? `${formatTime(panel.lastSeenAt, tz)} (${formatAgo(panel.lastSeenAt, panel.now)})`
								: "not yet"}
						</dd>
						<dt>Stack</dt>
						<dd class="mono small">{panel.stackName ?? "none"}</dd>
						{panel.launchHref && (
							<>
								<dt>Launch</dt>
								<dd>
									<a href={panel.launchHref}>launch record</a>
								</dd>
							</>
						)}
					</dl>
					<h3>Actions</h3>
					{panel.locked && <LockedNote text={panel.locked.message} />}
					{panel.result && <p class={`flash ${panel.result.tone}`} role="status" data-result>{panel.result.text}</p>}
					<RenameForm rename={panel.rename} target="#instance-panel" />
					<InstanceActions
						id={panel.id}
						actions={panel.actions}
						pendingAction={panel.pendingAction}
						target="#instance-panel"
						launchAgain={panel.launchAgain}
					/>
					{panel.resizing && (
						<p class="muted small" data-resizing>
							Stop, resize, start to <span class="mono">{panel.resizing.toType}</span> on its way:{" "}
							{panel.resizing.step === "stopping" ? "stopping it" : "starting it again"}…
						</p>
					)}
					{panel.resizeHref && !panel.pendingAction && (
						<div class="actions">
							<a class="btn" href={panel.resizeHref}>Resize…</a>
						</div>
					)}
					{props.error && <p class="inline-error" role="alert">{props.error}</p>}
				</div>
			</div>
			<ConnectPanel connection={panel.connection} />
			{panel.console && (
				<section id="console-tail">
					<h2>Console output</h2>
					<p class="muted small">
						The last lines of the instance's console, as EC2 had them at {formatTime(panel.console.at, tz)}{" "}
						(EC2 updates them every few minutes).
					</p>
					{panel.console.text
						? <pre class="console" data-console>{panel.console.text}</pre>
						: <p class="muted">EC2 has no console output for this instance yet.</p>}
				</section>
			)}
			{panel.timeline && <BootTimeline timeline={panel.timeline} />}
			{panel.policy && <PolicyPanel policy={panel.policy} target="#instance-panel" />}
			<h2>Volumes</h2>
			{panel.volumes.length === 0
				? <p class="muted">No extra volumes are recorded for this instance.</p>
				: <ItemTable columns={VOLUME_COLUMNS} rows={panel.volumes} />}
			<AuditList events={panel.events} timeZone={tz} allHref={panel.auditHref} />
		</section>
	);
}

/** GET /instances/:id: the panel under the instance's name. */
export function InstancePage(props: { ctx: PageContext; panel: InstancePanelProps }) {
	const { panel } = props;
	return (
		<MachinePage ctx={props.ctx} noun="Instance" id={panel.id} name={panel.name}>
			<InstancePanel panel={panel} />
		</MachinePage>
	);
}
