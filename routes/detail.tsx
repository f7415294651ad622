/**
 * What the sub-app of every kind of machine serves alike: the machine's page at /:id and the panel
 * that page polls at /:id/panel, both from the kind's panel view (404/403 as the view decides).
 */
import { Hono } from "hono";
import type { VNode } from "preact";
import type { Viewer } from "../lib/auth/identify.ts";
import type { Deps } from "../lib/deps.ts";
import { type AppEnv, pageContext } from "./context.ts";
import type { PageContext } from "./ui/Layout.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

/** A kind's detail: its panel view, and the page and panel components that render it. */
export interface MachineDetail<Panel> {
	load(deps: Deps, viewer: Viewer, id: string): Promise<Panel>;
	Page(props: { ctx: PageContext; panel: Panel }): VNode;
	Panel(props: { panel: Panel }): VNode;
}

/** GET /:id and GET /:id/panel of a kind; the kind's sub-app adds its own routes to it. */
export function detailRoutes<Panel>(deps: Deps, detail: MachineDetail<Panel>): Hono<AppEnv> {
	const { Page, Panel } = detail;
	const app = new Hono<AppEnv>();
	app.get("/:id", async (c) => {
		const panel = await detail.load(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderPage(<Page ctx={await pageContext(c, deps)} panel={panel} />));
	});
	app.get("/:id/panel", async (c) => {
		const panel = await detail.load(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderFragment(<Panel panel={panel} />));
	});
	return app;
}
