/**
 * The data of an instance as the pages show it: a row of the dashboard and team tables, and the
 * detail panel, each with the actions the viewer may take now, the hourly rate (or why it is
 * unknown), its links, and the fragment URL it polls while something is changing.
 */
import type { Viewer } from "../auth/identify.ts";
import { instanceRate } from "../billing/rates.ts";
import { availableActions } from "../control/control.ts";
import type { InstanceAction } from "../control/instance.ts";
import { getInstanceRow, type InstanceRow } from "../db/instances.ts";
import { volumesOf } from "../db/volumes.ts";
import type { Deps } from "../deps.ts";
import {
	activityOf,
	type AuditEntry,
	NAME_SHOWN,
	type Rate,
	uptimeMs,
	visibleMachine,
	type WebLink,
} from "./machines.ts";
import { plainText } from "../text.ts";

export type { InstanceAction };

/** Where an instance is shown; its actions ask for the same view back. */
export type InstanceView = "dashboard" | "team" | "detail";
/** The tables an instance row is shown in. */
export type RowView = Exclude<InstanceView, "detail">;

/** What the state cell shows: the state badge, the action in flight and the boot progress. */
export interface InstanceStateCell {
	state: string;
	pendingAction: string | null;
	hasProgressBar: boolean;
	progressText: string | null;
	progressPercent: number | null;
}

/** An action the viewer may take now, and the URL it is posted to. */
export interface InstanceActionButton {
	action: InstanceAction;
	url: string;
}

/** What a row and the panel both show. */
interface InstanceFacts {
	id: string;
	/** The instance's name, empty when it has none. */
	name: string;
	href: string;
	ownerName: string;
	link: WebLink | null;
	instanceType: string;
	cell: InstanceStateCell;
	rate: Rate;
	configName: string | null;
	actions: InstanceActionButton[];
	pendingAction: string | null;
	/** The fragment URL polled while something is changing; null when nothing is. */
	poll: string | null;
}

/** An instance as a row of the dashboard or team table. */
export interface InstanceRowProps extends InstanceFacts {
	view: RowView;
	/** How long it has been running; null when it is not. */
	uptimeMs: number | null;
}

/** A volume of an instance. */
export interface VolumeRow {
	id: string;
	device: string;
	sizeGb: number;
	volumeType: string;
	state: string;
}

/** An instance's detail panel. */
export interface InstancePanelProps extends InstanceFacts {
	ownerUsername: string;
	groupName: string | null;
	amiId: string;
	privateIp: string | null;
	publicIp: string | null;
	launchedAt: Date | null;
	startedAt: Date | null;
	stoppedAt: Date | null;
	lastSeenAt: Date | null;
	stackName: string | null;
	/** The page of the launch that made it. */
	launchHref: string | null;
	volumes: VolumeRow[];
	events: AuditEntry[];
	/** The machine's whole part of the audit trail (admins only: the audit view is theirs). */
	auditHref?: string;
	timeZone: string;
	now: Date;
}

/** How many events the panel shows. */
const PANEL_EVENTS = 15;

/** States in which an instance's row and panel keep refreshing themselves. */
function isTransitional(row: Pick<InstanceRow, "state" | "pendingAction" | "progressPercent">): boolean {
	return ["pending", "stopping", "shutting-down"].includes(row.state) || !!row.pendingAction ||
		(row.progressPercent !== null && row.progressPercent < 100 && row.state === "running");
}

/** The https link to an instance: its DNS name when it has one, else its IP. */
function webLink(row: Pick<InstanceRow, "dnsName" | "privateIp" | "publicIp" | "state">, publicIp: boolean) {
	const host = row.dnsName || (publicIp ? row.publicIp : row.privateIp);
	if (!host || row.state === "terminated" || row.state === "vanished") return null;
	return { href: `https://${host}/`, label: host };
}

function facts(
	deps: Pick<Deps, "pricing" | "settings">,
	viewer: Viewer,
	row: InstanceRow,
	where: { view: InstanceView; poll: string },
): InstanceFacts {
	// Rows are scoped to what the viewer may see (in SQL for lists), so each one may be controlled.
	const actions = availableActions("instance", viewer, row, true) as InstanceAction[];
	return {
		id: row.id,
		name: plainText(row.name, NAME_SHOWN),
		href: `/instances/${row.id}`,
		ownerName: row.ownerName,
		link: webLink(row, deps.settings.DISPLAY_PUBLIC_IP),
		instanceType: row.instanceType,
		cell: {
			state: row.state,
			pendingAction: row.pendingAction,
			hasProgressBar: row.hasProgressBar,
			progressText: row.progressText,
			progressPercent: row.progressPercent,
		},
		// A configuration without an OS (or none) prices as Linux.
		rate: instanceRate(deps, { type: row.instanceType, os: row.configOs }),
		configName: row.configName,
		actions: actions.map((action) => ({ action, url: `/ajax/instance/${row.id}/${action}?view=${where.view}` })),
		pendingAction: row.pendingAction,
		poll: isTransitional(row) ? where.poll : null,
	};
}

/** An instance row of a table, from a row the viewer may see. */
export function instanceRow(
	deps: Pick<Deps, "pricing" | "settings">,
	viewer: Viewer,
	row: InstanceRow,
	shown: { view: RowView; now: Date },
): InstanceRowProps {
	return {
		...facts(deps, viewer, row, { view: shown.view, poll: `/instances/${row.id}/row?view=${shown.view}` }),
		view: shown.view,
		uptimeMs: uptimeMs(row.startedAt, row.state === "running", shown.now),
	};
}

/** Loads an instance the viewer may see: 404 when unknown or archived, 403 outside the viewer's groups. */
function visibleInstance(deps: Pick<Deps, "db">, viewer: Viewer, id: string): Promise<InstanceRow> {
	return visibleMachine(deps, viewer, { kind: "instance", id, load: (id) => getInstanceRow(deps.db, id) });
}

/** The row fragment of an instance the viewer may see. */
export async function instanceRowView(
	deps: Deps,
	viewer: Viewer,
	id: string,
	view: RowView,
): Promise<InstanceRowProps> {
	return instanceRow(deps, viewer, await visibleInstance(deps, viewer, id), { view, now: deps.clock() });
}

/** The detail panel of an instance the viewer may see, with its volumes and recent activity. */
export async function instancePanelView(deps: Deps, viewer: Viewer, id: string): Promise<InstancePanelProps> {
	const row = await visibleInstance(deps, viewer, id);
	const [volumes, events] = await Promise.all([volumesOf(deps.db, row.id), activityOf(deps, row.id, PANEL_EVENTS)]);
	return {
		...facts(deps, viewer, row, { view: "detail", poll: `/instances/${row.id}/panel` }),
		ownerUsername: row.ownerUsername,
		groupName: row.groupName,
		amiId: row.amiId,
		privateIp: row.privateIp,
		publicIp: row.publicIp,
		launchedAt: row.launchedAt,
		startedAt: row.startedAt,
		stoppedAt: row.stoppedAt,
		lastSeenAt: row.lastSeenAt,
		stackName: row.stackName,
		launchHref: row.launchId ? `/launches/${row.launchId}` : null,
		volumes: volumes.map((v) => ({
			id: v.id,
			device: v.device,
			sizeGb: v.sizeGb,
			volumeType: v.volumeType,
			state: v.state,
		})),
		events,
		auditHref: viewer.role === "admin" ? `/admin/audit?machine=${encodeURIComponent(row.id)}` : undefined,
		timeZone: deps.settings.TIME_ZONE,
		now: deps.clock(),
	};
}
