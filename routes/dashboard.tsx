/**
 * My dashboard, the home page, mounted at the root: GET / (and its old address GET /dashboard) and
 * its fragment GET /dashboard/instances. Renders from the database only; opening it asks for a
 * rate-limited background refresh of the viewer's resources.
 */
import { type Handler, Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { requestUserRefresh } from "../lib/sync/user_refresh.ts";
import { dashboardView, myInstancesView } from "../lib/views/dashboard.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { DashboardPage, MyInstances } from "./ui/DashboardPage.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

export function dashboardRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const page: Handler<AppEnv> = async (c) => {
		const viewer = c.get("viewer");
		requestUserRefresh(deps, viewer);
		const ctx = await pageContext(c, deps);
		const dashboard = await dashboardView(deps, viewer, ctx.launchHref);
		return c.html(renderPage(<DashboardPage ctx={ctx} dashboard={dashboard} />));
	};
	app.get("/", page);
	app.get("/dashboard", page);
	app.get("/dashboard/instances", async (c) => {
		const instances = await myInstancesView(deps, c.get("viewer"));
		return c.html(renderFragment(<MyInstances instances={instances} />));
	});
	return app;
}
