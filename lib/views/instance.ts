/**
 * The data of an instance as the pages show it: a row of the dashboard and team tables, and the
 * detail panel, each with the actions the viewer may take now, the hourly rate (or why it is
 * unknown), its links, and the fragment URL it polls while something is changing.
 */
import type { Viewer } from "../auth/identify.ts";
import { mayFollowLaunch } from "../auth/permissions.ts";
import { instanceRate } from "../billing/rates.ts";
import { availableActions } from "../control/control.ts";
import { type InstanceAction, lockOf } from "../control/instance.ts";
import { getInstanceRow, type InstanceRow } from "../db/instances.ts";
import { getLaunch, type Launch } from "../db/launches.ts";
import { launchAgainHref } from "../launch/again.ts";
import { volumesOf } from "../db/volumes.ts";
import { getResize } from "../db/resizes.ts";
import type { Deps } from "../deps.ts";
import {
	activityOf,
	type AuditEntry,
	NAME_SHOWN,
	type Rate,
	type RenameForm,
	renameForm,
	uptimeMs,
	visibleMachine,
	type WebLink,
} from "./machines.ts";
import { plainText } from "../text.ts";
import {
	type NextAction,
	nextActions,
	type PolicyPanelProps,
	policyPanelView,
	type PolicySubmission,
} from "./policy.ts";
import { type Connection, connectionOf } from "../machines/connect.ts";
import { INSTANCE_ENDED_STATES, VOLUME_GONE_STATES } from "../machines/lifecycle.ts";
import { type CostSoFar, costsSoFar, rateWithVolumes } from "../billing/so_far.ts";
import type { Settings } from "../settings.ts";
import { SETUP_SLOW_MS } from "../sync/console.ts";
import { mayOfferResize } from "./resize.ts";
import { type BootTimelineProps, bootTimelineView } from "./timeline.ts";

export type { InstanceAction, NextAction, PolicySubmission };

/** Where an instance is shown; its actions ask for the same view back. */
export type InstanceView = "dashboard" | "team" | "detail";
/** The tables an instance row is shown in. */
export type RowView = Exclude<InstanceView, "detail">;

/** A setup that ended badly: the stage it failed at (or the last one it reported) and when. */
export interface SetupEnd {
	/** `failed`: a failure stage was reported; `stalled`: no report for PROGRESS_TIMEOUT_MINUTES. */
	condition: "failed" | "stalled";
	stage: string;
	at: Date;
}

/** What the state cell shows: the state badge, the action in flight, the boot progress or how the setup ended. */
export interface InstanceStateCell {
	state: string;
	pendingAction: string | null;
	hasProgressBar: boolean;
	/** The last progress text; null once the instance has ended (it would only be stale). */
	progressText: string | null;
	progressPercent: number | null;
	setup: SetupEnd | null;
	timeZone: string;
}

/** An action the viewer may take now, and the URL it is posted to. */
export interface InstanceActionButton {
	action: InstanceAction;
	url: string;
}

/** One of the display plugin's extra columns for an instance: its heading and the value the last sync stored. */
export interface ExtraValue {
	label: string;
	/** Null when the sync stored none for this instance. */
	value: string | null;
}

/** What a row and the panel both show. */
interface InstanceFacts {
	id: string;
	/** The instance's name, empty when it has none. */
	name: string;
	href: string;
	ownerName: string;
	link: WebLink | null;
	/** How to reach it (address, SSH command, application links); null once it has ended. */
	connection: Connection | null;
	instanceType: string;
	cell: InstanceStateCell;
	/** The hourly rate (or why it is unknown); null once the instance has ended. */
	rate: Rate | null;
	configName: string | null;
	actions: InstanceActionButton[];
	/**
	 * The wizard pre-filled as this instance was launched (lib/launch/again.ts): in a row, for the
	 * owner of an instance whose setup failed; on its page, for anyone of its group, live or ended.
	 */
	launchAgain: string | null;
	pendingAction: string | null;
	/** The fragment URL polled while something is changing; null when nothing is. */
	poll: string | null;
	/** The display plugin's extra columns, in its order (the same for every row). */
	extra: ExtraValue[];
	/**
	 * Why the controls are locked to Terminate, shown with the actions: the reason its locker gave
	 * (null when none) and the whole message the control endpoint refuses with; null when not locked.
	 */
	locked: { reason: string | null; message: string } | null;
}

/** An instance as a row of the dashboard or team table. */
export interface InstanceRowProps extends InstanceFacts {
	view: RowView;
	/** How long it has been running; null when it is not. */
	uptimeMs: number | null;
	/** What its policy will do next ("stops at 19:00 unless extended"); none when nothing is planned. */
	next?: NextAction;
	/** What it has cost this month and since launch, from its billed periods (and its volumes'). */
	soFar?: CostSoFar;
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
	/** The page of the launch that made it, for a viewer who may follow that launch. */
	launchHref: string | null;
	/** The tail of the console output, when the sync fetched it (setup failed or slow). */
	console: { text: string; at: Date } | null;
	volumes: VolumeRow[];
	events: AuditEntry[];
	/** Its machine policy; none once it has ended. */
	policy?: PolicyPanelProps | null;
	/** The launch's steps and the bootstrap's stages, with durations; null when nothing was recorded. */
	timeline: BootTimelineProps | null;
	/** Its resize page, while it is alive and was launched from a configuration. */
	resizeHref: string | null;
	/** A "stop, resize, start" on its way: to which type, and where it is. */
	resizing: { toType: string; step: "stopping" | "starting" } | null;
	/** The machine's whole part of the audit trail (admins only: the audit view is theirs). */
	auditHref?: string;
	/** Its rename form; null once it has ended. */
	rename: RenameForm | null;
	/** What it costs an hour with its volumes (billed even while it is stopped), and what it has cost so far. */
	cost: { hourly: Rate | null; volumesHourly: Rate | null; soFar: CostSoFar };
	/** What the last form of the panel did (a rename), shown above its actions. */
	result?: { tone: "ok"; text: string };
	timeZone: string;
	now: Date;
}

/** How many events the panel shows. */
const PANEL_EVENTS = 15;

function ended(row: Pick<InstanceRow, "state">): boolean {
	return INSTANCE_ENDED_STATES.includes(row.state);
}

/**
 * Whether the setup may still report, as the progress endpoint accepts it: it is running, the
 * instance has not ended, and its last report is within PROGRESS_TIMEOUT_MINUTES.
 */
function setupReporting(
	settings: Pick<Settings, "PROGRESS_TIMEOUT_MINUTES">,
	row: Pick<InstanceRow, "state" | "setupState" | "progressUpdatedAt" | "createdAt">,
	now: Date,
): boolean {
	const last = row.progressUpdatedAt ?? row.createdAt;
	return row.setupState === "running" && !ended(row) &&
		now.getTime() - last.getTime() <= settings.PROGRESS_TIMEOUT_MINUTES * 60_000;
}

/**
 * States in which an instance's row and panel keep refreshing themselves: a state or action on its
 * way, and a setup that may still report (so every report it makes shows without a reload).
 */
function isTransitional(
	settings: Pick<Settings, "PROGRESS_TIMEOUT_MINUTES">,
	row: InstanceRow,
	now: Date,
): boolean {
	return ["pending", "stopping", "shutting-down"].includes(row.state) || !!row.pendingAction ||
		setupReporting(settings, row, now);
}

/** Whether the setup failed, stalled or is slow (no report for a while) on an instance that still exists. */
function setupTroubled(row: InstanceRow, now: Date): boolean {
	if (ended(row)) return false;
	if (row.setupState === "failed" || row.setupState === "stalled") return true;
	const last = row.progressUpdatedAt ?? row.createdAt;
	return row.setupState === "running" && now.getTime() - last.getTime() > SETUP_SLOW_MS;
}

/** How the setup ended, when it failed or stalled and the instance still exists. */
function setupEnd(row: InstanceRow): SetupEnd | null {
	if (ended(row) || (row.setupState !== "failed" && row.setupState !== "stalled")) return null;
	return {
		condition: row.setupState,
		stage: row.progressText ?? "unknown stage",
		at: row.setupEndedAt ?? row.progressUpdatedAt ?? row.createdAt,
	};
}

/** An instance's address: its DNS name when it has one, else its IP (public or private, as the portal shows). */
function hostOf(row: Pick<InstanceRow, "dnsName" | "privateIp" | "publicIp">, publicIp: boolean): string | null {
	return row.dnsName || (publicIp ? row.publicIp : row.privateIp) || null;
}

/** The https link to an instance at its address. */
function webLink(row: Pick<InstanceRow, "dnsName" | "privateIp" | "publicIp" | "state">, publicIp: boolean) {
	const host = hostOf(row, publicIp);
	if (!host || ended(row)) return null;
	return { href: `https://${host}/`, label: host };
}

/** The display plugin's columns with this instance's stored values (pages never ask the plugin). */
function extraValues(deps: Pick<Deps, "plugins">, row: InstanceRow): ExtraValue[] {
	return deps.plugins.display.columns.map(({ key, label }) => ({
		label,
		value: Object.hasOwn(row.displayValues, key) ? row.displayValues[key]! : null,
	}));
}

/** How long an instance usually takes from launch until EC2 gives it an address (it has one once running). */
export const INSTANCE_ADDRESS_MINUTES = 2;

/** When an instance without an address will have one. */
function addressWaiting(row: Pick<InstanceRow, "state">): string {
	if (row.state === "stopped" || row.state === "stopping") {
		return "The instance is stopped: its address appears when it is started again, usually within a minute.";
	}
	return `The address appears when the instance is running — usually within ${INSTANCE_ADDRESS_MINUTES} minutes of launch.`;
}

function facts(
	deps: Pick<Deps, "pricing" | "settings" | "plugins">,
	viewer: Viewer,
	row: InstanceRow,
	where: { view: InstanceView; poll: string; now: Date },
): InstanceFacts {
	// Rows are scoped to what the viewer may see (in SQL for lists), so each one may be controlled.
	const available = availableActions("instance", viewer, row, true) as InstanceAction[];
	const failed = row.setupState === "failed" && !ended(row);
	// A failed setup leaves nothing to start, stop or restart: it can be terminated, or launched again.
	const actions = failed ? available.filter((a) => a === "terminate") : available;
	const gone = ended(row);
	return {
		id: row.id,
		name: plainText(row.name, NAME_SHOWN),
		href: `/instances/${row.id}`,
		ownerName: row.ownerName,
		link: webLink(row, deps.settings.DISPLAY_PUBLIC_IP),
		connection: connectionOf({
			host: hostOf(row, deps.settings.DISPLAY_PUBLIC_IP),
			ended: gone,
			keyName: row.keyName,
			loginUser: row.loginUser,
			formats: row.customUrlFormat,
			waiting: addressWaiting(row),
		}),
		instanceType: row.instanceType,
		cell: {
			state: row.state,
			pendingAction: row.pendingAction,
			hasProgressBar: row.hasProgressBar && !gone,
			progressText: gone ? null : row.progressText,
			progressPercent: gone ? null : row.progressPercent,
			setup: setupEnd(row),
			timeZone: deps.settings.TIME_ZONE,
		},
		// A configuration without an OS (or none) prices as Linux.
		rate: gone ? null : instanceRate(deps, { type: row.instanceType, os: row.configOs }),
		configName: row.configName,
		actions: actions.map((action) => ({ action, url: `/ajax/instance/${row.id}/${action}?view=${where.view}` })),
		launchAgain: failed && viewer.id === row.ownerId && row.groupId !== null && row.configId !== null
			? launchAgainHref({
				groupId: row.groupId,
				configId: row.configId,
				kind: "instance",
				instanceType: row.instanceType,
				options: {},
				name: row.name,
			})
			: null,
		pendingAction: row.pendingAction,
		poll: isTransitional(deps.settings, row, where.now) ? where.poll : null,
		extra: extraValues(deps, row),
		locked: gone ? null : lockOf(row),
	};
}

/** An instance row of a table, from a row the viewer may see, with its next planned action (from {@link nextActions}). */
export function instanceRow(
	deps: Pick<Deps, "pricing" | "settings" | "plugins">,
	viewer: Viewer,
	row: InstanceRow,
	shown: { view: RowView; now: Date; next?: NextAction; soFar?: CostSoFar },
): InstanceRowProps {
	return {
		...facts(deps, viewer, row, {
			view: shown.view,
			poll: `/instances/${row.id}/row?view=${shown.view}`,
			now: shown.now,
		}),
		view: shown.view,
		uptimeMs: uptimeMs(row.startedAt, row.state === "running", shown.now),
		next: shown.next,
		soFar: shown.soFar,
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
	const row = await visibleInstance(deps, viewer, id);
	const now = deps.clock();
	const [next, soFar] = await Promise.all([nextActions(deps, [row.id]), costsSoFar(deps, [row.id], now)]);
	return instanceRow(deps, viewer, row, { view, now, next: next.get(row.id), soFar: soFar.get(row.id) });
}

/**
 * "Launch again" on an instance's page, live or ended, for a viewer in its group: the wizard
 * pre-filled with its launch's type and options (its own type, when the launch is not known).
 */
function panelLaunchAgain(viewer: Viewer, row: InstanceRow, launch: Launch | undefined): string | null {
	if (row.groupId === null || row.configId === null || !viewer.groupIds.includes(row.groupId)) return null;
	return launchAgainHref({
		groupId: row.groupId,
		configId: row.configId,
		kind: "instance",
		instanceType: row.instanceType,
		options: launch?.options ?? {},
		name: row.name,
	});
}

/**
 * The detail panel of an instance the viewer may see, with its volumes, recent activity and
 * policy; `submitted` is a policy form's submission to show again.
 */
export async function instancePanelView(
	deps: Deps,
	viewer: Viewer,
	id: string,
	submitted?: PolicySubmission,
): Promise<InstancePanelProps> {
	const row = await visibleInstance(deps, viewer, id);
	const now = deps.clock();
	const [volumes, events, launch, policy, soFar] = await Promise.all([
		volumesOf(deps.db, row.id),
		activityOf(deps, row.id, PANEL_EVENTS),
		row.launchId ? getLaunch(deps.db, row.launchId) : undefined,
		policyPanelView(deps, viewer, { kind: "instance", id: row.id, state: row.state }, submitted),
		costsSoFar(deps, [row.id], now),
	]);
	const shown = facts(deps, viewer, row, { view: "detail", poll: `/instances/${row.id}/panel`, now });
	const [timeline, resize] = await Promise.all([
		bootTimelineView(deps, viewer, row, launch),
		getResize(deps.db, row.id),
	]);
	const live = volumes.filter((v) => !VOLUME_GONE_STATES.includes(v.state));
	const withVolumes = shown.rate && rateWithVolumes(deps.settings, shown.rate, live, now);
	return {
		...shown,
		launchAgain: panelLaunchAgain(viewer, row, launch) ?? shown.launchAgain,
		timeline,
		resizeHref: mayOfferResize(row) && !resize ? `/instances/${row.id}/resize` : null,
		resizing: resize ? { toType: resize.toType, step: resize.step } : null,
		// The panel follows the sequence through its quiet moment (stopped, not yet started).
		poll: shown.poll ?? (resize ? `/instances/${row.id}/panel` : null),
		cost: {
			hourly: withVolumes ? withVolumes.total : null,
			volumesHourly: withVolumes && live.length ? withVolumes.volumes : null,
			soFar: soFar.get(row.id)!,
		},
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
		launchHref: launch && mayFollowLaunch(viewer, launch) ? `/launches/${launch.id}` : null,
		console: row.consoleTail !== null && row.consoleTailAt && setupTroubled(row, now)
			? { text: row.consoleTail, at: row.consoleTailAt }
			: null,
		volumes: volumes.map((v) => ({
			id: v.id,
			device: v.device,
			sizeGb: v.sizeGb,
			volumeType: v.volumeType,
			state: v.state,
		})),
		events,
		policy,
		auditHref: viewer.role === "admin" ? `/admin/audit?machine=${encodeURIComponent(row.id)}` : undefined,
		rename: renameForm("instance", row.id, shown.name, ended(row)),
		timeZone: deps.settings.TIME_ZONE,
		now,
	};
}
