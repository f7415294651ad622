/**
 * One instance, mounted at /instances: GET /:id (the detail page), GET /:id/row and GET /:id/panel
 * (the htmx fragments the dashboard and team rows and the detail panel poll). Its actions are the
 * seed's URLs, in compat.tsx.
 */
import { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { instancePanelView, instanceRowView } from "../lib/views/instance.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { InstanceTableRow } from "./ui/InstanceTable.tsx";
import { InstancePage, InstancePanel } from "./ui/InstancePanel.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

export function instanceRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.get("/:id", async (c) => {
		const panel = await instancePanelView(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderPage(<InstancePage ctx={await pageContext(c, deps)} panel={panel} />));
	});
	app.get("/:id/row", async (c) => {
		const view = c.req.query("view") === "team" ? "team" : "dashboard";
		const row = await instanceRowView(deps, c.get("viewer"), c.req.param("id"), view);
		return c.html(renderFragment(<InstanceTableRow row={row} />));
	});
	app.get("/:id/panel", async (c) => {
		const panel = await instancePanelView(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderFragment(<InstancePanel panel={panel} />));
	});
	return app;
}
