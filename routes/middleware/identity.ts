/**
 * Who is asking: the admin of a break-glass session on a request without an identity header, else
 * the user of the portal's sign-in session when the auth plugin signs in through the browser (OIDC;
 * identity headers are then ignored, and a page without a session goes to the sign-in), else the
 * auth plugin's user from the identity header (a 401 without one), then, for every request that may
 * change state, the CSRF check (the portal's own origin and the user's token; a 403 otherwise).
 * Every answer to a signed-in user is `Cache-Control: no-store`. Requests to /api/ are not looked
 * at: the API takes only its bearer tokens (routes/middleware/bearer.ts), never this identity.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { BREAK_GLASS_COOKIE, breakGlassIdentity } from "../../lib/auth/break_glass.ts";
import { acceptedCsrfTokens, csrfRefusal } from "../../lib/auth/csrf.ts";
import { identify, isIdentityFailure } from "../../lib/auth/identify.ts";
import { SESSION_COOKIE, sessionIdentity } from "../../lib/auth/sign_in.ts";
import type { Deps } from "../../lib/deps.ts";
import type { AppEnv } from "../context.ts";
import { setAnswerHeaders } from "./answer_headers.ts";
import { createLimiter } from "./rate_limit.ts";
import { respondError } from "../respond.tsx";

/** The `_csrf` field of a form body (parsed once; handlers get hono's cached copy). */
async function formToken(c: Context<AppEnv>): Promise<string | undefined> {
	const type = c.req.header("Content-Type") ?? "";
	if (!type.startsWith("application/x-www-form-urlencoded") && !type.startsWith("multipart/form-data")) {
		return undefined;
	}
	try {
		const value = (await c.req.parseBody())["_csrf"];
		return typeof value === "string" ? value : undefined;
	} catch {
		return undefined;
	}
}

/** What a request without an open sign-in session is told, when the auth plugin signs in through the browser. */
const NOT_SIGNED_IN = "You are not signed in, or your session has ended: sign in at /sign-in.";

/**
 * Without a session: a page the browser navigates to goes to the provider's sign-in and comes back
 * to it; anything else (an htmx request, a form post, JSON) gets a 401 saying to sign in.
 */
function signInFirst(c: Context<AppEnv>): Response {
	if (c.req.method === "GET" && !c.req.header("HX-Request") && (c.req.header("Accept") ?? "").includes("text/html")) {
		const url = new URL(c.req.url);
		return c.redirect(`/sign-in?return=${encodeURIComponent(url.pathname + url.search)}`, 303);
	}
	return respondError(c, 401, NOT_SIGNED_IN);
}

/** Sets `viewer` and `csrf`, or answers 401 (nobody signed in) or 403 (a cross-site or tokenless change). */
export function identity(deps: Deps): MiddlewareHandler<AppEnv> {
	// Refused sign-ins are logged (auth.log) and may be forged at will: limited per source like
	// the other calls that need no sign-in, so a flood of them is a count, not the log's content.
	const refusals = createLimiter(deps, { endpoint: "sign-in", perSource: deps.settings.RATE_LIMIT_PER_SOURCE });
	return async (c, next) => {
		// The API is signed in by its own tokens only: no identity header or cookie counts there.
		if (c.req.path === "/api" || c.req.path.startsWith("/api/")) return await next();
		// A break-glass session counts only on a request without an identity header (see lib/auth/break_glass.ts).
		const breakGlass = await breakGlassIdentity(
			deps,
			c.req.raw,
			getCookie(c, BREAK_GLASS_COOKIE),
			c.get("remoteAddress"),
		);
		// With a redirect sign-in (OIDC) the portal's session cookie is the only identity: headers are ignored.
		const redirectSignIn = !breakGlass && deps.plugins.redirectSignIn !== undefined;
		const session = redirectSignIn ? await sessionIdentity(deps, getCookie(c, SESSION_COOKIE)) : undefined;
		if (redirectSignIn && !session) return signInFirst(c);
		const result = breakGlass?.signedIn ?? session?.signedIn ??
			await identify(deps, c.req.raw, c.get("remoteAddress"));
		if (isIdentityFailure(result)) {
			const limited = refusals.check(c);
			if (limited) return limited;
			if (result.log) deps.log.auth.warn(result.log.message, result.log.properties);
			return respondError(c, 401, result.message);
		}
		const { csrfEpoch, ...viewer } = result;
		c.set("viewer", viewer);
		if (breakGlass) c.set("breakGlassUntil", breakGlass.until);
		if (session) c.set("signInUntil", session.until);
		const accepted = await acceptedCsrfTokens(deps.secret, viewer, csrfEpoch, deps.clock());
		c.set("csrf", accepted[0]!);
		if (!["GET", "HEAD", "OPTIONS"].includes(c.req.method)) {
			const refusal = csrfRefusal(
				{
					origin: c.req.header("Origin"),
					secFetchSite: c.req.header("Sec-Fetch-Site"),
					token: c.req.header("X-CSRF-Token") ?? await formToken(c),
				},
				accepted,
				deps.settings,
			);
			if (refusal) {
				deps.log.web.warn("refused {method} {path}: {refusal}", {
					method: c.req.method,
					path: c.req.path,
					refusal,
					user: viewer.username,
				});
				return respondError(c, 403, refusal);
			}
		}
		await next();
		// What a signed-in user sees is theirs: no cache (the browser's, a proxy's) keeps a copy.
		// The page's token, for the page glue to keep open pages current across a sign-in refresh.
		// (After a revocation this is the new generation's, for the page that asked for it.)
		// Set in place (see setAnswerHeaders): c.header() here would re-wrap the page's body.
		setAnswerHeaders(c, { "Cache-Control": "no-store", "X-CSRF-Token": c.get("csrf") });
	};
}
