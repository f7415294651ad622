/**
 * One EMR cluster: GET /clusters/:id (detail with the connection string), GET /clusters/:id/panel
 * (htmx), and the seed-style POST /ajax/cluster/:id/terminate answering JSON, or for htmx the
 * refreshed panel.
 */
import { Hono } from "hono";
import type { Viewer } from "../lib/auth/identify.ts";
import { controlMachine } from "../lib/control/control.ts";
import type { Deps } from "../lib/deps.ts";
import { clusterPanelView } from "../lib/views/cluster.ts";
import { checkMachineId } from "../lib/views/machines.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { methodNotAllowed, rerenderRefusal } from "./respond.tsx";
import { ClusterPage, ClusterPanel } from "./ui/ClusterPanel.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

export function clusterRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	const panelFragment = async (viewer: Viewer, id: string, error?: string) =>
		renderFragment(<ClusterPanel panel={await clusterPanelView(deps, viewer, id)} error={error} />);

	app.get("/clusters/:id", async (c) => {
		const panel = await clusterPanelView(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderPage(<ClusterPage ctx={await pageContext(c, deps)} panel={panel} />));
	});
	app.get("/dashboard/:id{j-[0-9A-Za-z]+}", (c) => c.redirect(`/clusters/${c.req.param("id")}`, 301));
	app.get("/clusters/:id/panel", async (c) => c.html(await panelFragment(c.get("viewer"), c.req.param("id"))));
	app.post("/ajax/cluster/:id/terminate", async (c) => {
		const viewer = c.get("viewer");
		const id = c.req.param("id");
		checkMachineId("cluster", id);
		let cluster;
		try {
			cluster = await controlMachine(deps, viewer, { kind: "cluster", id, action: "terminate" });
		} catch (error) {
			return await rerenderRefusal(c, error, (reason) => panelFragment(viewer, id, reason));
		}
		if (!c.req.header("HX-Request")) return c.json({ action: "terminate", status: "ok", state: cluster.state });
		if (cluster.archived) {
			c.header("HX-Redirect", "/");
			return c.html("");
		}
		return c.html(await panelFragment(viewer, id));
	});
	app.on(["GET", "PUT", "DELETE", "PATCH"], "/ajax/cluster/:id/terminate", (c) =>
		methodNotAllowed(
			c,
			"Terminating a cluster changes state, so it must be sent as POST with the page's security token.",
		));
	return app;
}
