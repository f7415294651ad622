/** What every route shares: hono's environment, the context a page is rendered with, and flash messages. */
import type { Context } from "hono";
import { getSignedCookie, setSignedCookie } from "hono/cookie";
import type { Viewer } from "../lib/auth/identify.ts";
import type { Deps } from "../lib/deps.ts";
import { publicUrl } from "../lib/settings.ts";
import { layoutView } from "../lib/views/layout.ts";
import type { Flash, PageContext } from "./ui/Layout.tsx";

/** Hono variables set by the middleware. */
interface AppVariables {
	requestId: string;
	remoteAddress: string;
	viewer: Viewer;
	csrf: string;
	/** When the viewer signed in with a break-glass password: the end of that session. */
	breakGlassUntil?: Date;
	/** When the viewer signed in through the browser (OIDC): the end of that session; the layout offers its sign-out. */
	signInUntil?: Date;
	/** Set when a rate limit refused the request: counted in a summary, so the access log skips it. */
	rateLimited: boolean;
}

/** On Deno, hono's `c.env` is the serve handler info (the peer address). */
interface AppBindings {
	remoteAddr?: { hostname: string; port: number; transport: string };
}

export type AppEnv = { Variables: AppVariables; Bindings: AppBindings };
export type AppContext = Context<AppEnv>;

export const FLASH_COOKIE = "mliy_flash";

/** Stores a message for the next page the browser loads. */
export async function setFlash(c: AppContext, deps: Deps, flash: Flash): Promise<void> {
	await setSignedCookie(c, FLASH_COOKIE, JSON.stringify(flash), deps.secret, {
		path: "/",
		httpOnly: true,
		sameSite: "Lax",
		secure: secureCookies(deps),
		maxAge: 60,
	});
}

/** Cookies are `Secure` when the portal is reached over https (PUBLIC_URL): never sent in clear text. */
export function secureCookies(deps: Deps): boolean {
	return publicUrl(deps.settings).startsWith("https://");
}

/**
 * The flags of the portal's own session cookies (break-glass, sign-in, and their form and pending
 * cookies): never readable by scripts, `Secure` on https, and a SameSite rule each cookie chooses.
 * `Strict` (break-glass) is never sent on a request another site started; `Lax` (a redirect
 * sign-in) is sent on top-level GET navigations from another site too: the provider's redirect back
 * to the callback is such a navigation, and so is the callback's own redirect on to the page the
 * user asked for, which with `Strict` would arrive without the new session. `Lax` still keeps the
 * cookie off cross-site POSTs, frames and fetches; CSRF tokens guard every change as well.
 */
export function sessionCookie(
	deps: Deps,
	options: { path: string; maxAge: number; sameSite: "Strict" | "Lax" },
): { path: string; httpOnly: true; sameSite: "Strict" | "Lax"; secure: boolean; maxAge: number } {
	return { ...options, httpOnly: true, secure: secureCookies(deps) };
}

async function takeFlash(c: AppContext, deps: Deps): Promise<Flash | undefined> {
	const raw = await getSignedCookie(c, deps.secret, FLASH_COOKIE);
	if (raw === undefined) return undefined;
	const secure = secureCookies(deps) ? "; Secure" : "";
	c.header("Set-Cookie", `${FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure}`, { append: true });
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

/**
 * Builds the page context: navigation entitlements, the AWS freshness notice, the viewer's policy
 * notices and any flash message.
 * A route that has already loaded the viewer's launchable groups passes them, saving the query.
 */
export async function pageContext(
	c: AppContext,
	deps: Deps,
	known: { launchable?: readonly { id: number }[] } = {},
): Promise<PageContext> {
	const viewer = c.get("viewer");
	const now = deps.clock();
	const [layout, flash] = await Promise.all([layoutView(deps, viewer, now, known), takeFlash(c, deps)]);
	return {
		viewer,
		csrf: c.get("csrf"),
		path: new URL(c.req.url).pathname,
		launchHref: layout.launchHref,
		notice: layout.notice,
		notices: layout.notices,
		breakGlassUntil: c.get("breakGlassUntil"),
		signInUntil: c.get("signInUntil"),
		flash,
		timeZone: deps.settings.TIME_ZONE,
		now,
	};
}
