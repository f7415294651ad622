/**
 * My dashboard, the home page, mounted at the root: GET / (and its old address GET /dashboard) and
 * its fragment GET /dashboard/instances (also GET / with HX-Request: the list's filters, headings
 * and pager ask for it there). Past a screenful of machines the query string
 * (`?state=&kind=&config=&q=&sort=&dir=&page=`) filters, sorts and pages them, fragment included.
 * Renders from the database only, and sends the bytes of the same page rendered within the last
 * second when nothing it shows has been written since (routes/cached_page.ts); opening it asks for
 * a rate-limited background refresh of the viewer's resources.
 */
import { type Context, type Handler, Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { requestUserRefresh } from "../lib/sync/user_refresh.ts";
import { dashboardView, myInstancesView, parseDashboardQuery } from "../lib/views/dashboard.ts";
import { cachedHtml } from "./cached_page.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { DashboardPage, MyInstances } from "./ui/DashboardPage.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

export function dashboardRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const fragment = async (c: Context<AppEnv>) => {
		const query = parseDashboardQuery(c.req.query());
		return await cachedHtml(c, deps, async () => {
			const instances = await myInstancesView(deps, c.get("viewer"), { query });
			return renderFragment(<MyInstances instances={instances} swapped />);
		});
	};
	const page: Handler<AppEnv> = async (c) => {
		c.header("Vary", "HX-Request");
		if (c.req.header("HX-Request")) return await fragment(c);
		const viewer = c.get("viewer");
		const query = parseDashboardQuery(c.req.query());
		requestUserRefresh(deps, viewer);
		return await cachedHtml(c, deps, async () => {
			const ctx = await pageContext(c, deps);
			const dashboard = await dashboardView(deps, viewer, ctx.launchHref, query);
			return renderPage(<DashboardPage ctx={ctx} dashboard={dashboard} />);
		});
	};
	app.get("/", page);
	app.get("/dashboard", page);
	app.get("/dashboard/instances", (c) => fragment(c));
	return app;
}
