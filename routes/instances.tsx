/**
 * One instance, mounted at /instances: GET /:id (the detail page), GET /:id/panel (the htmx
 * fragment it polls), POST /:id/policy and /:id/keep-alive (its policy panel's forms, detail.tsx)
 * GET /:id/row (the fragment a dashboard or team row polls, view=team for the team's), and its
 * resize: GET /:id/resize (the types, ?type= the confirmation with the cost before and after), POST
 * /:id/resize (instanceType, mode=stopped|restart). Its other actions are the seed's URLs, in compat.tsx.
 */
import type { Hono } from "hono";
import { resizeInstance } from "../lib/control/resize.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { resizePageView } from "../lib/views/resize.ts";
import { instancePanelView, instanceRowView } from "../lib/views/instance.ts";
import { type AppEnv, pageContext, setFlash } from "./context.ts";
import { detailRoutes } from "./detail.tsx";
import { InstanceTableRow } from "./ui/InstanceTable.tsx";
import { InstancePage, InstancePanel } from "./ui/InstancePanel.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";
import { ResizePage } from "./ui/ResizePage.tsx";

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
	app.get("/:id/resize", async (c) => {
		const page = await resizePageView(deps, c.get("viewer"), c.req.param("id"), c.req.query("type")?.slice(0, 64));
		return c.html(renderPage(<ResizePage ctx={await pageContext(c, deps)} page={page} />));
	});
	app.post("/:id/resize", async (c) => {
		const viewer = c.get("viewer");
		const id = c.req.param("id");
		const body = await c.req.parseBody();
		const mode = body.mode === "restart" ? "restart" : "stopped";
		try {
			const resized = await resizeInstance(deps, viewer, id, body.instanceType, mode);
			await setFlash(c, deps, { tone: "ok", text: resized.text });
			return c.redirect(`/instances/${resized.instance.id}`, 303);
		} catch (error) {
			if (!(error instanceof UserError) || (error.status !== 422 && error.status !== 409)) throw error;
			const page = await resizePageView(deps, viewer, id, undefined, error.message);
			return c.html(renderPage(<ResizePage ctx={await pageContext(c, deps)} page={page} />), error.status);
		}
	});
	return app;
}
