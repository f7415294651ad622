/**
 * One EMR cluster, mounted at /clusters: GET /:id (the detail page with the connection string) and
 * GET /:id/panel (the htmx fragment it polls). Terminate is the seed-style URL in compat.tsx.
 */
import { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { clusterPanelView } from "../lib/views/cluster.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { ClusterPage, ClusterPanel } from "./ui/ClusterPanel.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

export function clusterRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.get("/:id", async (c) => {
		const panel = await clusterPanelView(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderPage(<ClusterPage ctx={await pageContext(c, deps)} panel={panel} />));
	});
	app.get("/:id/panel", async (c) => {
		const panel = await clusterPanelView(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderFragment(<ClusterPanel panel={panel} />));
	});
	return app;
}
