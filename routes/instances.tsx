/**
 * One instance: GET /instances/:id (detail page), GET /instances/:id/row and /panel (htmx
 * fragments), and the seed's control URL POST /ajax/instance/:id/:action (start, stop, restart,
 * terminate) answering JSON, or for htmx the refreshed row or panel.
 */
import { Hono } from "hono";
import type { Viewer } from "../lib/auth/identify.ts";
import { controlMachine, isAction } from "../lib/control/control.ts";
import type { Deps } from "../lib/deps.ts";
import { instancePanelView, instanceRowView, type RowView } from "../lib/views/instance.ts";
import { checkMachineId } from "../lib/views/machines.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { methodNotAllowed, rerenderRefusal, respondError } from "./respond.tsx";
import { InstanceTableRow } from "./ui/InstanceTable.tsx";
import { InstancePage, InstancePanel } from "./ui/InstancePanel.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

function rowView(value: string | undefined): RowView {
	return value === "team" ? "team" : "dashboard";
}

/** The row (in a table view) or the panel (view=detail) of an instance, with a refused action's reason. */
async function instanceFragment(deps: Deps, viewer: Viewer, id: string, view: string | undefined, error?: string) {
	return view === "detail"
		? renderFragment(<InstancePanel panel={await instancePanelView(deps, viewer, id)} error={error} />)
		: renderFragment(<InstanceTableRow row={await instanceRowView(deps, viewer, id, rowView(view))} error={error} />);
}

export function instanceRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.get("/instances/:id", async (c) => {
		const panel = await instancePanelView(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderPage(<InstancePage ctx={await pageContext(c, deps)} panel={panel} />));
	});
	app.get("/dashboard/:id{i-[0-9a-zA-Z]+}", (c) => c.redirect(`/instances/${c.req.param("id")}`, 301));
	app.get("/instances/:id/row", async (c) => {
		const row = await instanceRowView(deps, c.get("viewer"), c.req.param("id"), rowView(c.req.query("view")));
		return c.html(renderFragment(<InstanceTableRow row={row} />));
	});
	app.get("/instances/:id/panel", async (c) => {
		const panel = await instancePanelView(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderFragment(<InstancePanel panel={panel} />));
	});

	app.post("/ajax/instance/:id/:action", async (c) => {
		const viewer = c.get("viewer");
		const id = c.req.param("id");
		const action = c.req.param("action");
		checkMachineId("instance", id);
		if (!isAction("instance", action)) {
			return respondError(
				c,
				400,
				`Unknown action "${action.slice(0, 40)}": use start, stop, restart, terminate or archive`,
			);
		}
		const view = c.req.query("view");
		let row;
		try {
			row = await controlMachine(deps, viewer, { kind: "instance", id, action });
		} catch (error) {
			return await rerenderRefusal(c, error, (reason) => instanceFragment(deps, viewer, id, view, reason));
		}
		if (!c.req.header("HX-Request")) {
			return c.json({ action, status: "ok", state: row.state, pendingAction: row.pendingAction });
		}
		if (action === "archive") {
			// The record is gone from the lists: the row disappears, the detail page goes to the dashboard.
			if (view === "detail") c.header("HX-Redirect", "/");
			return c.html("");
		}
		return c.html(await instanceFragment(deps, viewer, id, view));
	});
	app.on(["GET", "PUT", "DELETE", "PATCH"], "/ajax/instance/:id/:action", (c) =>
		methodNotAllowed(
			c,
			"Instance actions change state, so they must be sent as POST with the page's security token.",
		));
	return app;
}
