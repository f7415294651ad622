/**
 * The dashboard's data: the viewer's instances with their launches still on the way (the fragment
 * polls until none is left) and those that failed lately, so a failure is shown where the user
 * waits for the instance; then the viewer's clusters. Each row carries its policy's next action.
 */
import type { Viewer } from "../auth/identify.ts";
import { launchableGroups } from "../db/catalog.ts";
import { ownedClusterRows } from "../db/clusters.ts";
import { ownedInstanceRows } from "../db/instances.ts";
import { activeLaunches, recentLaunches } from "../db/launches.ts";
import type { Deps } from "../deps.ts";
import { clusterRow, type ClusterRowProps } from "./cluster.ts";
import { instanceRow, type InstanceRowProps } from "./instance.ts";
import { launchHref } from "./layout.ts";
import { endedVisibleSince } from "./machines.ts";
import { nextActions } from "./policy.ts";
import { costsSoFar } from "../billing/so_far.ts";
import { type BudgetBarsProps, myBudgetBars } from "./budgets.ts";

/** A launch shown above the instances: one on the way (its step), or one that failed (its reason). */
export interface LaunchNote {
	id: string;
	stackName: string;
	text: string;
	href: string;
	/** Where the notice of a failed launch is dismissed (POST); null for one on the way. */
	dismiss: string | null;
}

/** The dashboard's instances fragment. */
export interface MyInstancesProps {
	rows: InstanceRowProps[];
	waiting: LaunchNote[];
	failed: LaunchNote[];
	/** Where the empty state's "Launch" goes; null when the viewer may launch nothing. */
	launchHref: string | null;
	/** The fragment URL polled while a launch is on the way; null when none is. */
	poll: string | null;
}

/** The dashboard's clusters: the viewer's, and where a cluster is launched (its empty state). */
export interface MyClustersProps {
	rows: ClusterRowProps[];
	/** The wizard of a group that may launch clusters; null when the viewer may launch none. */
	launchHref: string | null;
}

/** The dashboard. */
export interface DashboardProps {
	instances: MyInstancesProps;
	/** Null when the viewer has no clusters and may launch none: the section is left out. */
	clusters: MyClustersProps | null;
	/** The budgets over the viewer: their own, their groups' and their cost centers'. */
	budgets: BudgetBarsProps;
	/** Whether costs are shown after the configured discount. */
	discounted: boolean;
}

/** The viewer's instances and launches; `launchHref` when the caller knows it already. */
export async function myInstancesView(
	deps: Deps,
	viewer: Viewer,
	known: { launchHref?: string | null } = {},
): Promise<MyInstancesProps> {
	const now = deps.clock();
	const since = endedVisibleSince(now);
	const [rows, active, recent, href] = await Promise.all([
		ownedInstanceRows(deps.db, viewer.id, since),
		activeLaunches(deps.db, { userId: viewer.id, kind: "instance" }),
		recentLaunches(deps.db, viewer.id),
		known.launchHref !== undefined ? known.launchHref : launchHref(deps, viewer),
	]);
	const waiting = active.filter((l) => !rows.some((r) => r.launchId === l.id));
	const failed = recent.filter((l) =>
		l.kind === "instance" && l.status === "failed" && !l.dismissedAt && (l.finishedAt ?? l.createdAt) > since
	);
	const [next, soFar] = await Promise.all([
		nextActions(deps, rows.map((r) => r.id)),
		costsSoFar(deps, rows.map((r) => r.id), now),
	]);
	const note = (l: (typeof recent)[number], text: string, dismiss: boolean): LaunchNote => ({
		id: l.id,
		stackName: l.stackName,
		text,
		href: `/launches/${l.id}`,
		dismiss: dismiss ? `/launches/${l.id}/dismiss` : null,
	});
	return {
		rows: rows.map((row) =>
			instanceRow(deps, viewer, row, { view: "dashboard", now, next: next.get(row.id), soFar: soFar.get(row.id) })
		),
		waiting: waiting.map((l) => note(l, l.step, false)),
		failed: failed.map((l) => note(l, l.reason ?? "the stack failed", true)),
		launchHref: href,
		poll: waiting.length ? "/dashboard/instances" : null,
	};
}

/** The viewer's dashboard; `launchHref` is the page's (its layout has loaded it). */
export async function dashboardView(deps: Deps, viewer: Viewer, launchHref: string | null): Promise<DashboardProps> {
	const now = deps.clock();
	const [instances, clusters, groups, budgets] = await Promise.all([
		myInstancesView(deps, viewer, { launchHref }),
		ownedClusterRows(deps.db, viewer.id, endedVisibleSince(now)),
		launchableGroups(deps.db, viewer.groupIds),
		myBudgetBars(deps, viewer),
	]);
	const [next, soFar] = await Promise.all([
		nextActions(deps, clusters.map((c) => c.id)),
		costsSoFar(deps, clusters.map((c) => c.id), now),
	]);
	const emr = groups.find((g) => g.emrAccess);
	return {
		instances,
		clusters: clusters.length > 0 || emr
			? {
				rows: clusters.map((row) => clusterRow(deps, row, now, next.get(row.id), soFar.get(row.id))),
				launchHref: emr ? `/launch/${emr.id}` : null,
			}
			: null,
		budgets,
		discounted: deps.settings.AWS_DISCOUNT > 0,
	};
}
