/**
 * The admin pages (admins only), mounted at /admin: the overview, groups, software configurations
 * (with their template and bootstrap script, and "save as"), the simple lists (instance types,
 * security groups, params), users' roles and manual memberships, and the whole catalogue as one
 * JSON/YAML document, the audit trail, the admin guide, and every machine the portal records (instances, clusters,
 * volumes left behind, launches) with the actions on their records. Every form is validated on the server and re-rendered with field errors;
 * refused deletes say why.
 */
import { Hono } from "hono";
import { adminPagesRefusal } from "../../lib/auth/permissions.ts";
import type { Deps } from "../../lib/deps.ts";
import type { AppEnv } from "../context.ts";
import { respondError } from "../respond.tsx";
import { auditRoutes } from "./audit.tsx";
import { catalogRoutes } from "./catalog.tsx";
import { configRoutes } from "./configs.tsx";
import { foundRoutes } from "./found.tsx";
import { groupRoutes } from "./groups.tsx";
import { guideRoutes } from "./guide.tsx";
import { listRoutes, LISTS } from "./lists.tsx";
import { machineBrowseRoutes } from "./machines.tsx";
import { overviewRoutes } from "./overview.tsx";
import { userRoutes } from "./users.tsx";

export function adminRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	// Checked on the server for every admin URL, known or not, before anything else runs.
	app.use("*", async (c, next) => {
		const viewer = c.get("viewer");
		if (viewer.role !== "admin") return respondError(c, 403, await adminPagesRefusal(deps, viewer));
		await next();
	});
	app.route("/", overviewRoutes(deps));
	app.route("/groups", groupRoutes(deps));
	app.route("/configs", configRoutes(deps));
	for (const list of LISTS) app.route(`/${list.segment}`, listRoutes(deps, list));
	app.route("/users", userRoutes(deps));
	app.route("/found", foundRoutes(deps));
	app.route("/", machineBrowseRoutes(deps));
	app.route("/", catalogRoutes(deps));
	app.route("/", auditRoutes(deps));
	app.route("/", guideRoutes(deps));
	return app;
}
