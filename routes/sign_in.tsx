/**
 * Sign-in through the browser, for an auth plugin with a redirect sign-in (OpenID Connect; see
 * lib/auth/sign_in.ts): GET /sign-in sends the browser to the provider, GET /sign-in/callback is
 * where it comes back and gets its session, POST /sign-out ends it (a signed-in form, CSRF checked
 * by identity), GET /signed-out says so and links the provider's own sign-out. The GETs answer 404
 * when the auth plugin reads identity from headers.
 *
 * The pending and session cookies are `SameSite=Lax`: the way back from the provider is a
 * navigation another site starts, on which a `Strict` cookie is not sent (routes/context.ts,
 * `sessionCookie`).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { sourceAddress } from "../lib/auth/proxy.ts";
import {
	beginSignIn,
	CALLBACK_PATH,
	completeSignIn,
	PENDING_COOKIE,
	PENDING_MINUTES,
	providerSignOutUrl,
	SESSION_COOKIE,
	SIGNED_OUT_PATH,
	signOut,
} from "../lib/auth/sign_in.ts";
import type { Deps } from "../lib/deps.ts";
import { type AppEnv, secureCookies, sessionCookie } from "./context.ts";
import { createLimiter } from "./middleware/rate_limit.ts";
import { respondError } from "./respond.tsx";
import { renderPage } from "./ui/render.tsx";
import { SignedOutPage } from "./ui/SignedOutPage.tsx";

export function signInRoutes(deps: Deps, signedIn: MiddlewareHandler<AppEnv>): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const signIn = deps.plugins.redirectSignIn;
	// Each start and each callback costs a call to the provider, and a refused callback a log line.
	const limiter = createLimiter(deps, { endpoint: "oidc-sign-in", perSource: deps.settings.RATE_LIMIT_PER_SOURCE });
	const off: MiddlewareHandler<AppEnv> = async (c, next) => {
		if (!signIn) return respondError(c, 404, "This portal signs you in through its sign-in proxy, not here.");
		await next();
	};
	const source = (c: Parameters<MiddlewareHandler<AppEnv>>[0]) =>
		sourceAddress(deps.settings, c.get("remoteAddress"), c.req.raw.headers);

	app.get("/sign-in", off, async (c) => {
		const limited = limiter.check(c);
		if (limited) return limited;
		const { url, pendingCookie } = await beginSignIn(deps, signIn!, c.req.query("return") ?? "/");
		setCookie(
			c,
			PENDING_COOKIE,
			pendingCookie,
			sessionCookie(deps, {
				path: "/sign-in",
				maxAge: PENDING_MINUTES * 60,
				sameSite: "Lax",
			}),
		);
		c.header("Cache-Control", "no-store");
		return c.redirect(url, 303);
	});

	app.get(CALLBACK_PATH, off, async (c) => {
		const limited = limiter.check(c);
		if (limited) return limited;
		const done = await completeSignIn(
			deps,
			signIn!,
			new URL(c.req.url).search,
			getCookie(c, PENDING_COOKIE),
			source(c),
		);
		deleteCookie(c, PENDING_COOKIE, { path: "/sign-in", secure: secureCookies(deps) });
		setCookie(
			c,
			SESSION_COOKIE,
			done.sessionCookie,
			sessionCookie(deps, {
				path: "/",
				maxAge: done.maxAgeSeconds,
				sameSite: "Lax",
			}),
		);
		c.header("Cache-Control", "no-store");
		return c.redirect(done.returnTo, 303);
	});

	// A signed-in form (identity checks its CSRF token). Under a header plugin there is no session
	// of the portal's to end: it only clears the cookie, as the break-glass sign-out does.
	app.post("/sign-out", signedIn, async (c) => {
		if (signIn) await signOut(deps, getCookie(c, SESSION_COOKIE), c.get("viewer"), source(c));
		deleteCookie(c, SESSION_COOKIE, { path: "/", secure: secureCookies(deps) });
		return c.redirect(signIn ? SIGNED_OUT_PATH : "/", 303);
	});

	app.get(SIGNED_OUT_PATH, off, async (c) => {
		const providerUrl = await providerSignOutUrl(deps, signIn!);
		return c.html(renderPage(<SignedOutPage providerSignOutUrl={providerUrl} />), 200, {
			"Cache-Control": "no-store",
		});
	});
	return app;
}
