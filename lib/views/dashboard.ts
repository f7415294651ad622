/**
 * The dashboard's data: the viewer's instances with their launches still on the way (the fragment
 * polls until none is left) and those that failed lately, so a failure is shown where the user
 * waits for the instance; then the viewer's clusters.
 */
import type { Viewer } from "../auth/identify.ts";
import { ownedClusterRows } from "../db/clusters.ts";
import { ownedInstanceRows } from "../db/instances.ts";
import { activeLaunches, recentLaunches } from "../db/launches.ts";
import type { Deps } from "../deps.ts";
import { clusterRow, type ClusterRowProps } from "./cluster.ts";
import { instanceRow, type InstanceRowProps } from "./instance.ts";
import { launchHref } from "./layout.ts";
import { endedVisibleSince } from "./machines.ts";
import { type BudgetBarsProps, myBudgetBars } from "./budgets.ts";

/** A launch shown above the instances: one on the way (its step), or one that failed (its reason). */
export interface LaunchNote {
	id: string;
	stackName: string;
	text: string;
	href: string;
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

/** The dashboard. */
export interface DashboardProps {
	instances: MyInstancesProps;
	clusters: ClusterRowProps[];
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
		l.kind === "instance" && l.status === "failed" && (l.finishedAt ?? l.createdAt) > since
	);
	const note = (l: (typeof recent)[number], text: string): LaunchNote => ({
		id: l.id,
		stackName: l.stackName,
		text,
		href: `/launches/${l.id}`,
	});
	return {
		rows: rows.map((row) => instanceRow(deps, viewer, row, { view: "dashboard", now })),
		waiting: waiting.map((l) => note(l, l.step)),
		failed: failed.map((l) => note(l, l.reason ?? "the stack failed")),
		launchHref: href,
		poll: waiting.length ? "/dashboard/instances" : null,
	};
}

/** The viewer's dashboard; `launchHref` is the page's (its layout has loaded it). */
export async function dashboardView(deps: Deps, viewer: Viewer, launchHref: string | null): Promise<DashboardProps> {
	const now = deps.clock();
	const [instances, clusters, budgets] = await Promise.all([
		myInstancesView(deps, viewer, { launchHref }),
		ownedClusterRows(deps.db, viewer.id, endedVisibleSince(now)),
		myBudgetBars(deps, viewer),
	]);
	return {
		instances,
		clusters: clusters.map((row) => clusterRow(row, now)),
		budgets,
		discounted: deps.settings.AWS_DISCOUNT > 0,
	};
}
