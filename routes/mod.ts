/**
 * createApp(deps): the hono application. Middleware in order: request id and log context, metrics
 * and access log, security headers, the request body limit, the public routes (health, metrics, static files, the progress
 * callback), then identity, CSRF protection and the signed-in routes. One error handler turns every
 * refusal into a 4xx in the form the client wants; nothing else leaks out as a 500 page.
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { withContext } from "@logtape/logtape";
import { identify, isIdentityFailure } from "../lib/auth/identify.ts";
import { csrfRefusal, csrfToken } from "../lib/auth/csrf.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { isDatabaseBusy } from "../lib/db/client.ts";
import type { AppEnv } from "./env.ts";
import { respondError } from "./errors.tsx";
import { publicRoutes } from "./public.ts";
import { dashboardRoutes } from "./dashboard.tsx";
import { instanceRoutes } from "./instances.tsx";
import { launchRoutes } from "./launch.tsx";
import { teamRoutes } from "./team.tsx";
import { billingRoutes } from "./billing.tsx";
import { profileRoutes } from "./profile.tsx";
import { adminRoutes } from "./admin/mod.ts";
import { clusterRoutes } from "./clusters.tsx";
import { activityRoutes } from "./activity.ts";
import { extendRoutes } from "./extend.tsx";

/**
 * The largest body the portal reads, checked before identity and CSRF (which parse form bodies).
 * The biggest form is a software configuration: a template of at most 51,200 characters, a script
 * of 16 KiB and a description of 10,000, under 700 KB even if each character took three bytes, each
 * sent as %XX. Only the catalogue import takes more: a whole document, uploaded as multipart.
 */
const FORM_BODY_LIMIT = 1024 * 1024;
const CATALOG_IMPORT_PATH = "/admin/catalog";
const CATALOG_BODY_LIMIT = 6 * 1024 * 1024;

const formBodyLimit = bodyLimit({
	maxSize: FORM_BODY_LIMIT,
	onError: (c) => respondError(c, 413, "That request is larger than 1 MiB, more than any form of the portal sends."),
});
const catalogBodyLimit = bodyLimit({
	maxSize: CATALOG_BODY_LIMIT,
	onError: (c) =>
		respondError(
			c,
			413,
			"The import is larger than 6 MiB. Import the document in parts: items are matched by name and nothing is deleted.",
		),
});

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

/** Builds the application for the given dependencies (tests build it with a temp database and moto). */
export function createApp(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.use(requestId({ headerName: "X-Request-Id" }));
	app.use(async (c, next) => {
		c.set("remoteAddress", c.env?.remoteAddr?.hostname ?? "unknown");
		const started = performance.now();
		await withContext({ requestId: c.get("requestId") }, () => next());
		const seconds = (performance.now() - started) / 1000;
		const route = c.req.routePath || "unmatched";
		deps.metrics.httpRequests.inc({ route, method: c.req.method, status: String(c.res.status) });
		deps.metrics.httpDuration.observe({ route, method: c.req.method }, seconds);
		if (!route.startsWith("/static")) {
			// Instances' progress callbacks are the bulk of the traffic: their successes are debug lines.
			const quiet = route.startsWith("/ajax/progress") && c.res.status < 400;
			deps.log.web[quiet ? "debug" : "info"]("{method} {path} {status} {ms} ms", {
				method: c.req.method,
				path: c.req.path,
				status: c.res.status,
				ms: Math.round(seconds * 1000),
				requestId: c.get("requestId"),
			});
		}
	});
	app.use(async (c, next) => {
		await next();
		c.header("X-Content-Type-Options", "nosniff");
		c.header("X-Frame-Options", "DENY");
		c.header("Referrer-Policy", "same-origin");
		c.header(
			"Content-Security-Policy",
			"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
		);
	});

	app.use((c, next) => (c.req.path === CATALOG_IMPORT_PATH ? catalogBodyLimit : formBodyLimit)(c, next));

	app.route("/", publicRoutes(deps));
	app.route("/", activityRoutes(deps));

	// Everything below needs a signed-in user.
	app.use(async (c, next) => {
		const result = await identify(deps, c.req.raw, c.get("remoteAddress"));
		if (isIdentityFailure(result)) return respondError(c, 401, result.message);
		c.set("viewer", result);
		c.set("csrf", await csrfToken(deps.secret, result));
		if (!["GET", "HEAD", "OPTIONS"].includes(c.req.method)) {
			const refusal = csrfRefusal(
				{
					origin: c.req.header("Origin"),
					secFetchSite: c.req.header("Sec-Fetch-Site"),
					host: c.req.header("Host") ?? new URL(c.req.url).host,
					forwardedHost: c.req.header("X-Forwarded-Host"),
					remoteAddress: c.get("remoteAddress"),
					token: c.req.header("X-CSRF-Token") ?? await formToken(c),
				},
				c.get("csrf"),
				deps.settings,
			);
			if (refusal) {
				deps.log.web.warn("refused {method} {path}: {refusal}", {
					method: c.req.method,
					path: c.req.path,
					refusal,
					user: result.username,
				});
				return respondError(c, 403, refusal);
			}
		}
		await next();
	});

	app.route("/", dashboardRoutes(deps));
	app.route("/", instanceRoutes(deps));
	app.route("/", launchRoutes(deps));
	app.route("/", teamRoutes(deps));
	app.route("/", billingRoutes(deps));
	app.route("/", profileRoutes(deps));
	app.route("/admin", adminRoutes(deps));
	app.route("/", clusterRoutes(deps));
	app.route("/", extendRoutes(deps));

	app.notFound((c) => respondError(c, 404, `Nothing is at ${c.req.path.slice(0, 200)}`));
	app.onError((error, c) => {
		if (error instanceof UserError) return respondError(c, error.status, error.message, { ...error.fields });
		if (error instanceof HTTPException) {
			return respondError(c, error.status, error.status === 400 ? "That request could not be read." : error.message);
		}
		if (isDatabaseBusy(error)) {
			deps.log.web.warn("database busy on {method} {path}", { method: c.req.method, path: c.req.path });
			c.header("Retry-After", "5");
			return respondError(c, 503, "The portal's database is busy; try again in a few seconds.");
		}
		deps.log.web.error("unhandled error on {method} {path}: {message}", {
			method: c.req.method,
			path: c.req.path,
			message: (error as Error).message,
			stack: (error as Error).stack,
			requestId: c.get("requestId"),
		});
		return respondError(c, 500, `Something went wrong on the portal's side (request ${c.get("requestId")}).`);
	});
	return app;
}
