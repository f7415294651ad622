/**
 * One instance, mounted at /instances: GET /:id (the detail page), GET /:id/panel (the htmx
 * fragment it polls), POST /:id/policy and /:id/keep-alive (its policy panel's forms, detail.tsx)
 * and GET /:id/row (the fragment a dashboard or team row polls, view=team for the team's). Its
 * actions are the seed's URLs, in compat.tsx.
 */
import type { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { instancePanelView, instanceRowView } from "../lib/views/instance.ts";
import type { AppEnv } from "./context.ts";
import { detailRoutes } from "./detail.tsx";
import { InstanceTableRow } from "./ui/InstanceTable.tsx";
import { InstancePage, InstancePanel } from "./ui/InstancePanel.tsx";
import { renderFragment } from "./ui/render.tsx";

export function instanceRoutes(deps: Deps): Hono<AppEnv> {
	const app = detailRoutes(deps, {
		kind: "instance",
		load: instancePanelView,
		Page: InstancePage,
		Panel: InstancePanel,
	});
	app.get("/:id/row", async (c) => {
		const view = c.req.query("view") === "team" ? "team" : "dashboard";
		const row = await instanceRowView(deps, c.get("viewer"), c.req.param("id"), view);
		return c.html(renderFragment(<InstanceTableRow row={row} />));
	});
	return app;
}
