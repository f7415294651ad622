/**
 * createApp(deps): the hono application. Middleware in order (routes/middleware/): peer address and
 * request id (a client's own only from the trusted proxy), log context, metrics and access log,
 * security headers, the request body limit; then the public routes (health, metrics, static
 * files), the seed's URLs (compat.tsx: the progress callback needs no user, the rest go through
 * identity), then identity with CSRF protection and the signed-in sub-apps, each mounted at its own
 * prefix. One error handler turns every refusal into a 4xx in the form the client wants; nothing
 * else leaks out as a 500 page.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { isDatabaseBusy, noteUnwritable } from "../lib/db/client.ts";
import { unwritableReason } from "../lib/db/errors.ts";
import type { AppEnv } from "./context.ts";
import { accessLog } from "./middleware/access_log.ts";
import { requestBodyLimit } from "./middleware/body_limit.ts";
import { identity } from "./middleware/identity.ts";
import { requestIdentity } from "./middleware/request_id.ts";
import { securityHeaders } from "./middleware/security_headers.ts";
import { respondError } from "./respond.tsx";
import { publicRoutes } from "./public.ts";
import { compatRoutes } from "./compat.tsx";
import { dashboardRoutes } from "./dashboard.tsx";
import { instanceRoutes } from "./instances.tsx";
import { wizardRoutes } from "./wizard.tsx";
import { launchRoutes } from "./launches.tsx";
import { teamRoutes } from "./team.tsx";
import { billingCsvRoutes, billingRoutes } from "./billing.tsx";
import { profileRoutes } from "./profile.tsx";
import { adminRoutes } from "./admin/mod.ts";
import { clusterRoutes } from "./clusters.tsx";
import { activityRoutes } from "./activity.ts";
import { extendRoutes } from "./extend.tsx";
import { budgetRoutes } from "./budgets.tsx";
import { approvalRoutes } from "./approvals.tsx";
import { breakGlassRoutes } from "./break_glass.tsx";
import { signInRoutes } from "./sign_in.tsx";
import { API_BASE, apiRoutes } from "./api/mod.tsx";

const CANNOT_SAVE =
	"The portal cannot save right now: its database cannot be written (its disk is full or read-only). " +
	"Your change was not saved. Try again later; if this goes on, tell an admin.";

/** Builds the application for the given dependencies (tests build it with a temp database and moto). */
export function createApp(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.use(requestIdentity(deps));
	app.use(accessLog(deps));
	app.use(securityHeaders);
	app.use(requestBodyLimit);

	const signedIn = identity(deps);
	app.route("/", publicRoutes(deps));
	app.route("/", compatRoutes(deps, signedIn));
	app.route("/ajax/activity", activityRoutes(deps));
	app.route("/break-glass", breakGlassRoutes(deps, signedIn));
	app.route("/", signInRoutes(deps, signedIn));
	// The JSON API: its own bearer tokens only, never identity's header or cookies, and no CSRF.
	app.route(API_BASE, apiRoutes(deps));

	// Everything below needs a signed-in user.
	app.use(signedIn);

	app.route("/", dashboardRoutes(deps));
	app.route("/instances", instanceRoutes(deps));
	app.route("/clusters", clusterRoutes(deps));
	app.route("/launch", wizardRoutes(deps));
	app.route("/launches", launchRoutes(deps));
	app.route("/team", teamRoutes(deps));
	app.route("/billing", billingRoutes(deps));
	app.route("/billing.csv", billingCsvRoutes(deps));
	app.route("/profile", profileRoutes(deps));
	app.route("/admin", adminRoutes(deps));
	app.route("/extend", extendRoutes(deps));
	app.route("/budgets", budgetRoutes(deps));
	app.route("/approvals", approvalRoutes(deps));

	app.notFound((c) => respondError(c, 404, `Nothing is at ${c.req.path.slice(0, 200)}`));
	app.onError((error, c) => {
		if (error instanceof UserError) return respondError(c, error.status, error.message, { ...error.fields });
		if (error instanceof HTTPException) {
			const message = error.status === 400
				? "That request could not be read."
				: error.status === 415
				? "This takes a JSON body: send it with Content-Type: application/json."
				: error.message;
			return respondError(c, error.status, message);
		}
		if (isDatabaseBusy(error)) {
			deps.log.web.warn("database busy on {method} {path}", { method: c.req.method, path: c.req.path });
			c.header("Retry-After", "5");
			return respondError(c, 503, "The portal's database is busy; try again in a few seconds.");
		}
		const unwritable = unwritableReason(error);
		if (unwritable) {
			noteUnwritable(deps.db, deps.clock());
			deps.log.web.error("the database cannot be written ({reason}) on {method} {path}", {
				reason: unwritable,
				method: c.req.method,
				path: c.req.path,
				requestId: c.get("requestId"),
			});
			c.header("Retry-After", "60");
			return respondError(c, 503, CANNOT_SAVE);
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
