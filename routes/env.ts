/** Types shared by the routes: hono's environment and the context every page is rendered with. */
import type { Context } from "hono";
import { getSignedCookie, setSignedCookie } from "hono/cookie";
import type { Viewer } from "../lib/auth.ts";
import { launchableGroupIds } from "../lib/db/catalog.ts";
import { getLease, type JobLease } from "../lib/db/leases.ts";
import type { Deps } from "../lib/deps.ts";
import { SYNC_JOB_NAME } from "../jobs/sync_aws.ts";

/** Hono variables set by the middleware. */
interface AppVariables {
	requestId: string;
	remoteAddress: string;
	viewer: Viewer;
	csrf: string;
}

/** On Deno, hono's `c.env` is the serve handler info (the peer address). */
interface AppBindings {
	remoteAddr?: { hostname: string; port: number; transport: string };
}

export type AppEnv = { Variables: AppVariables; Bindings: AppBindings };
export type AppContext = Context<AppEnv>;

/** A one-time message shown on the next page (after a redirect). */
export interface Flash {
	tone: "ok" | "error";
	text: string;
}

/** Everything the layout needs besides the page's own content. */
export interface PageContext {
	viewer: Viewer;
	csrf: string;
	path: string;
	/** Where "Launch" goes; null when the viewer may launch nothing. */
	launchHref: string | null;
	notice?: string;
	flash?: Flash;
	timeZone: string;
	now: Date;
}

const FLASH_COOKIE = "mliy_flash";

/** Stores a message for the next page the browser loads. */
export async function setFlash(c: AppContext, deps: Deps, flash: Flash): Promise<void> {
	await setSignedCookie(c, FLASH_COOKIE, JSON.stringify(flash), deps.secret, {
		path: "/",
		httpOnly: true,
		sameSite: "Lax",
		maxAge: 60,
	});
}

async function takeFlash(c: AppContext, deps: Deps): Promise<Flash | undefined> {
	const raw = await getSignedCookie(c, deps.secret, FLASH_COOKIE);
	if (raw === undefined) return undefined;
	c.header("Set-Cookie", `${FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`, { append: true });
	try {
		const flash = JSON.parse(raw || "null");
		if (flash && typeof flash.text === "string") {
			return { tone: flash.tone === "error" ? "error" : "ok", text: flash.text };
		}
	} catch {
		// a tampered or stale cookie is ignored
	}
	return undefined;
}

/** Where "Launch" goes for a viewer who may launch into `launchableGroupIds`; null when nowhere. */
export function launchHrefFor(launchableGroupIds: readonly number[]): string | null {
	if (launchableGroupIds.length === 0) return null;
	return launchableGroupIds.length === 1 ? `/launch/${launchableGroupIds[0]}` : "/launch";
}

/**
 * Builds the page context: navigation entitlements, the AWS freshness notice and any flash message.
 * A route that has already loaded the viewer's launchable groups passes them, saving the query.
 */
export async function pageContext(
	c: AppContext,
	deps: Deps,
	known: { launchableGroupIds?: readonly number[] } = {},
): Promise<PageContext> {
	const viewer = c.get("viewer");
	const now = deps.clock();
	const [launchable, lease, flash] = await Promise.all([
		known.launchableGroupIds ?? launchableGroupIds(deps.db, viewer.groupIds),
		getLease(deps.db, SYNC_JOB_NAME),
		takeFlash(c, deps),
	]);
	return {
		viewer,
		csrf: c.get("csrf"),
		path: new URL(c.req.url).pathname,
		launchHref: launchHrefFor(launchable),
		notice: syncNotice(lease, now, deps.settings.SYNC_STALE_MINUTES),
		flash,
		timeZone: deps.settings.TIME_ZONE,
		now,
	};
}

/**
 * The banner shown when what the pages show may be out of date, with the classified reason of the
 * last failure (never its raw message, which can hold ARNs and account ids).
 */
function syncNotice(lease: JobLease | undefined, now: Date, staleMinutes: number): string | undefined {
	const lastSuccess = lease?.lastSuccessAt ?? null;
	const failure = lease?.lastError ? lease.lastErrorNotice : null;
	if (lastSuccess && now.getTime() - lastSuccess.getTime() <= staleMinutes * 60_000) return undefined;
	if (!lastSuccess) {
		return failure
			? `The portal has not reached AWS yet: ${failure}. States shown here may be out of date.`
			: "The portal has not synced with AWS yet; states shown here may be out of date.";
	}
	const minutes = Math.round((now.getTime() - lastSuccess.getTime()) / 60_000);
	return `AWS was last synced ${minutes} minutes ago${
		failure ? ` (the last attempt failed: ${failure})` : ""
	}; states shown here may be out of date.`;
}
