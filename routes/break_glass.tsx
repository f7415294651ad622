/**
 * Break-glass sign-in, mounted at /break-glass before identity (lib/auth/break_glass.ts says what
 * it is): GET shows the form (or the open session), POST signs in, POST /sign-out ends the session.
 * All of it answers 404 unless BREAK_GLASS is on.
 *
 * The sign-in form has no user yet, so its CSRF token is bound to the browser instead: GET sets a
 * random nonce in a SameSite=Strict cookie and the form carries the HMAC of that nonce; the POST
 * must carry both and pass the same origin checks as every other form. Attempts are rate-limited
 * per source address and per username (BREAK_GLASS_PER_MINUTE) before anything else is looked at;
 * a refused attempt is counted in the rate limit summary, every other one is audited.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import {
	BREAK_GLASS_COOKIE,
	breakGlassIdentity,
	signInBreakGlass,
	signOutBreakGlass,
} from "../lib/auth/break_glass.ts";
import { csrfRefusal, csrfToken } from "../lib/auth/csrf.ts";
import { sourceAddress } from "../lib/auth/proxy.ts";
import type { Deps } from "../lib/deps.ts";
import { hmacToken } from "../lib/tokens.ts";
import { type AppContext, type AppEnv, secureCookies, sessionCookie } from "./context.ts";
import { createLimiter } from "./middleware/rate_limit.ts";
import { respondError } from "./respond.tsx";
import { BreakGlassPage, type BreakGlassProps } from "./ui/BreakGlassPage.tsx";
import { renderPage } from "./ui/render.tsx";

/** The cookie binding the sign-in form's token to this browser. */
const FORM_COOKIE = "mliy_break_glass_form";
const FORM_COOKIE_SECONDS = 60 * 60;

export function breakGlassRoutes(deps: Deps, signedIn: MiddlewareHandler<AppEnv>): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const perMinute = deps.settings.BREAK_GLASS_PER_MINUTE;
	/** The username each attempt names, for the per-username limit (read from the body before the check). */
	const attempted = new WeakMap<Request, string>();
	const limiter = createLimiter(deps, {
		endpoint: "break-glass",
		perSource: perMinute,
		keys: [{ name: "username", perMinute, of: (c) => attempted.get(c.req.raw) }],
	});
	const source = (c: AppContext) => sourceAddress(deps.settings, c.get("remoteAddress"), c.req.raw.headers);
	const cookieOptions = (maxAge: number, path: string) => sessionCookie(deps, { path, maxAge, sameSite: "Strict" });

	/** The form's token for this browser, setting a fresh nonce cookie when it has none. */
	const formToken = async (c: AppContext): Promise<string> => {
		let nonce = getCookie(c, FORM_COOKIE);
		if (!nonce || !/^[0-9a-f-]{36}$/.test(nonce)) {
			nonce = crypto.randomUUID();
			setCookie(c, FORM_COOKIE, nonce, cookieOptions(FORM_COOKIE_SECONDS, "/break-glass"));
		}
		return await hmacToken(deps.secret, `break-glass-form:${nonce}`);
	};
	const page = async (c: AppContext, status: 200 | 401, props: Partial<BreakGlassProps>) =>
		c.html(
			renderPage(
				<BreakGlassPage
					csrf={props.csrf ?? await formToken(c)}
					minutes={deps.settings.BREAK_GLASS_MINUTES}
					timeZone={deps.settings.TIME_ZONE}
					{...props}
				/>,
			),
			status,
			{ "Cache-Control": "no-store" },
		);

	app.use(async (c, next) => {
		if (!deps.settings.BREAK_GLASS) return respondError(c, 404, "Break-glass sign-in is turned off on this portal.");
		await next();
	});

	app.get("/", async (c) => {
		const admin = await breakGlassIdentity(deps, c.req.raw, getCookie(c, BREAK_GLASS_COOKIE), c.get("remoteAddress"));
		if (!admin) return await page(c, 200, {});
		// The sign-out form is a signed-in form: its token is the admin's own, as identity checks it.
		return await page(c, 200, {
			csrf: await csrfToken(deps.secret, admin.signedIn, admin.signedIn.csrfEpoch.epoch),
			session: { username: admin.signedIn.username, until: admin.until },
		});
	});

	app.post("/", async (c) => {
		const body = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
		const field = (name: string) => typeof body[name] === "string" ? body[name] as string : "";
		const username = field("username").trim().slice(0, 100);
		attempted.set(c.req.raw, username.toLowerCase());
		const limited = limiter.check(c);
		if (limited) return limited;
		const nonce = getCookie(c, FORM_COOKIE);
		const expected = nonce ? await hmacToken(deps.secret, `break-glass-form:${nonce}`) : undefined;
		const refusal = csrfRefusal(
			{ origin: c.req.header("Origin"), secFetchSite: c.req.header("Sec-Fetch-Site"), token: field("_csrf") },
			expected ? [expected] : [],
			deps.settings,
		);
		if (refusal) return respondError(c, 403, refusal);
		const result = await signInBreakGlass(deps, { username, password: field("password"), source: source(c) });
		if (!result.ok) return await page(c, 401, { username, error: result.message });
		setCookie(c, BREAK_GLASS_COOKIE, result.cookie, cookieOptions(deps.settings.BREAK_GLASS_MINUTES * 60, "/"));
		deleteCookie(c, FORM_COOKIE, { path: "/break-glass", secure: secureCookies(deps) });
		return c.redirect("/", 303);
	});

	app.post("/sign-out", signedIn, async (c) => {
		if (c.get("breakGlassUntil")) await signOutBreakGlass(deps, c.get("viewer"), source(c));
		deleteCookie(c, BREAK_GLASS_COOKIE, { path: "/", secure: secureCookies(deps) });
		return c.redirect("/break-glass", 303);
	});
	return app;
}
