/**
 * What the page shell shows besides a page's content: where "Launch" goes, how fresh the AWS data
 * is, and the viewer's machine policy notices (what will be done, with the way to postpone it, and
 * what was done and why).
 */
import type { Viewer } from "../auth/identify.ts";
import { launchableGroups } from "../db/catalog.ts";
import type { Deps } from "../deps.ts";
import { syncStatus } from "../sync/all.ts";
import { type BannerNotice, bannerNotices } from "./policy.ts";

export type { BannerNotice, Viewer };

/** The shell's data for one viewer. */
export interface LayoutView {
	/** Where "Launch" goes; null when the viewer may launch nothing. */
	launchHref: string | null;
	/** The banner when the data may be out of date. */
	notice?: string;
	/** The viewer's policy notices, newest first. */
	notices: BannerNotice[];
}

/** Where "Launch" goes for a viewer who may launch into these groups; null when nowhere. */
function launchHrefFor(launchable: readonly { id: number }[]): string | null {
	if (launchable.length === 0) return null;
	return launchable.length === 1 ? `/launch/${launchable[0]!.id}` : "/launch";
}

/** Where "Launch" goes for the viewer (one query). */
export async function launchHref(deps: Pick<Deps, "db">, viewer: Viewer): Promise<string | null> {
	return launchHrefFor(await launchableGroups(deps.db, viewer.groupIds));
}

/**
 * The shell's data as of `now`. A page that has already loaded the viewer's launchable groups
 * passes them, saving the query.
 */
export async function layoutView(
	deps: Pick<Deps, "db" | "settings" | "clock" | "secret">,
	viewer: Viewer,
	now: Date,
	known: { launchable?: readonly { id: number }[] } = {},
): Promise<LayoutView> {
	const [launchable, sync, notices] = await Promise.all([
		known.launchable ?? launchableGroups(deps.db, viewer.groupIds),
		syncStatus(deps, now),
		bannerNotices(deps, viewer),
	]);
	return { launchHref: launchHrefFor(launchable), notice: sync.notice, notices };
}
