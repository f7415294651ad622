/** Types shared by the routes: hono's environment and the context every page is rendered with. */
import type { Context } from "hono";
import { getSignedCookie, setSignedCookie } from "hono/cookie";
import type { Viewer } from "../lib/auth/identify.ts";
import { launchableGroupIds } from "../lib/db/catalog.ts";
import type { Deps } from "../lib/deps.ts";
import { syncStatus } from "../lib/sync/all.ts";

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
	const [launchable, sync, flash] = await Promise.all([
		known.launchableGroupIds ?? launchableGroupIds(deps.db, viewer.groupIds),
		syncStatus(deps, now),
		takeFlash(c, deps),
	]);
	return {
		viewer,
		csrf: c.get("csrf"),
		path: new URL(c.req.url).pathname,
		launchHref: launchHrefFor(launchable),
		notice: sync.notice,
		flash,
		timeZone: deps.settings.TIME_ZONE,
		now,
	};
}
