/**
 * The seed's URLs, kept as they were: the bootstrap's progress callback GET|POST
 * /ajax/progress/<id>/<stage>(<n>) (no signed-in user: the instance's token, in the
 * X-MLiy-Progress-Token header, or its address lets it in),
 * the control URLs POST /ajax/instance/:id/:action and POST /ajax/cluster/:id/terminate (JSON, or
 * for htmx the refreshed row or panel; other methods are a 405), the old detail links
 * /dashboard/<instance or cluster id>, redirected to the machine's page, the old pages' addresses
 * (/pay, /dashboard/new…, /launching/<id>) redirected to their new homes, and the seed's JSON views
 * (/ajax/user-instances, /ajax/instances, /ajax/instance-states, /ajax/instance-burn answer from the
 * database; /ajax/user-payroll is gone, 410, naming /billing.csv). The README lists them all.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { Viewer } from "../lib/auth/identify.ts";
import { controlMachine, isAction } from "../lib/control/control.ts";
import type { Deps } from "../lib/deps.ts";
import { recordProgress } from "../lib/progress.ts";
import { clusterPanelView } from "../lib/views/cluster.ts";
import { dashboardQueryOf, myInstancesView } from "../lib/views/dashboard.ts";
import { instancePanelView, instanceRowView } from "../lib/views/instance.ts";
import { checkMachineId } from "../lib/views/machines.ts";
import type { AppEnv } from "./context.ts";
import { instanceCallbackLimit } from "./middleware/rate_limit.ts";
import { methodNotAllowed, rerenderRefusal, respondError } from "./respond.tsx";
import { ClusterPanel } from "./ui/ClusterPanel.tsx";
import { MyInstances } from "./ui/DashboardPage.tsx";
import { InstanceTableRow } from "./ui/InstanceTable.tsx";
import { InstancePanel } from "./ui/InstancePanel.tsx";
import { renderFragment } from "./ui/render.tsx";
import {
	instanceBurnJson,
	instanceStatesJson,
	myInstancesJson,
	payrollReplacement,
	teamInstancesJson,
} from "../lib/views/seed_json.ts";
import { parseTeamQuery } from "./team.tsx";

/** What the control URLs answer with for htmx: the row (view=dashboard|team) or panel (view=detail) that asked. */
async function instanceFragment(deps: Deps, viewer: Viewer, id: string, view: string | undefined, error?: string) {
	if (view === "detail") {
		return renderFragment(<InstancePanel panel={await instancePanelView(deps, viewer, id)} error={error} />);
	}
	const row = await instanceRowView(deps, viewer, id, view === "team" ? "team" : "dashboard");
	return renderFragment(<InstanceTableRow row={row} error={error} />);
}

async function clusterFragment(deps: Deps, viewer: Viewer, id: string, error?: string) {
	return renderFragment(<ClusterPanel panel={await clusterPanelView(deps, viewer, id)} error={error} />);
}

/** The seed's URLs; `signedIn` (identity and CSRF) guards all but the progress callback. */
export function compatRoutes(deps: Deps, signedIn: MiddlewareHandler<AppEnv>): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.on(["GET", "POST"], "/ajax/progress/:instanceId/:spec", instanceCallbackLimit(deps, "progress"), async (c) => {
		const text = await recordProgress(deps, {
			instanceId: c.req.param("instanceId"),
			spec: c.req.param("spec"),
			// The header only: a token in the query string would be written to every proxy's access log.
			token: c.req.header("X-MLiy-Progress-Token") ?? null,
			peer: c.get("remoteAddress"),
			forwardedFor: c.req.header("X-Forwarded-For") ?? null,
		});
		c.header("Cache-Control", "no-store");
		return c.json({ action: text, status: "ok" });
	});

	app.post("/ajax/instance/:id/:action", signedIn, async (c) => {
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
		if (row.notice) {
			// Sent, but AWS did not answer: accepted, being confirmed (the row or panel says so).
			if (!c.req.header("HX-Request")) {
				return c.json(
					{ action, status: "sent", state: row.state, pendingAction: row.pendingAction, message: row.notice },
					202,
				);
			}
			return c.html(await instanceFragment(deps, viewer, id, view, row.notice), 202);
		}
		if (!c.req.header("HX-Request")) {
			return c.json({ action, status: "ok", state: row.state, pendingAction: row.pendingAction });
		}
		if (action === "archive") {
			// The record is gone from the lists: the detail page goes to the dashboard; the dashboard's
			// instances are drawn again (its empty state after the last one); a team row disappears.
			if (view === "detail") c.header("HX-Redirect", "/");
			if (view === "dashboard") {
				c.header("HX-Retarget", "#my-instances");
				c.header("HX-Reswap", "outerHTML");
				const query = dashboardQueryOf(c.req.header("HX-Current-URL"));
				const instances = await myInstancesView(deps, viewer, { query });
				return c.html(renderFragment(<MyInstances instances={instances} swapped />));
			}
			return c.html("");
		}
		return c.html(await instanceFragment(deps, viewer, id, view));
	});
	app.on(["GET", "PUT", "DELETE", "PATCH"], "/ajax/instance/:id/:action", signedIn, (c) =>
		methodNotAllowed(
			c,
			"Instance actions change state, so they must be sent as POST with the page's security token.",
		));

	app.post("/ajax/cluster/:id/terminate", signedIn, async (c) => {
		const viewer = c.get("viewer");
		const id = c.req.param("id");
		checkMachineId("cluster", id);
		let cluster;
		try {
			cluster = await controlMachine(deps, viewer, { kind: "cluster", id, action: "terminate" });
		} catch (error) {
			return await rerenderRefusal(c, error, (reason) => clusterFragment(deps, viewer, id, reason));
		}
		if (cluster.notice) {
			if (!c.req.header("HX-Request")) {
				return c.json({ action: "terminate", status: "sent", state: cluster.state, message: cluster.notice }, 202);
			}
			return c.html(await clusterFragment(deps, viewer, id, cluster.notice), 202);
		}
		if (!c.req.header("HX-Request")) return c.json({ action: "terminate", status: "ok", state: cluster.state });
		if (cluster.archived) {
			c.header("HX-Redirect", "/");
			return c.html("");
		}
		return c.html(await clusterFragment(deps, viewer, id));
	});
	app.on(["GET", "PUT", "DELETE", "PATCH"], "/ajax/cluster/:id/terminate", signedIn, (c) =>
		methodNotAllowed(
			c,
			"Terminating a cluster changes state, so it must be sent as POST with the page's security token.",
		));

	app.get("/dashboard/:id{i-[0-9a-zA-Z]+}", signedIn, (c) => c.redirect(`/instances/${c.req.param("id")}`, 301));
	app.get("/dashboard/:id{j-[0-9A-Za-z]+}", signedIn, (c) => c.redirect(`/clusters/${c.req.param("id")}`, 301));

	// The original's pages, moved for good (301: browsers and bookmarks update). Each target is a
	// fixed path of ours, or one built from an id the pattern bounds, so none can send a browser
	// off the portal. No old page read a query string, so none is carried over.
	app.get("/pay", signedIn, (c) => c.redirect("/billing", 301));
	// The old wizard's steps (group, configuration, the instance and cluster forms, "creating your
	// cluster"): their group and configuration ids are the old database's, so all go to the wizard's start.
	app.get("/dashboard/new", signedIn, (c) => c.redirect("/launch", 301));
	app.get("/dashboard/new/*", signedIn, (c) => c.redirect("/launch", 301));
	app.get("/launching/:id{[0-9A-Za-z_-]{1,64}}", signedIn, (c) => c.redirect(`/launches/${c.req.param("id")}`, 301));

	// The original's JSON views, for scripts: read from the database, scoped as the pages they fed.
	app.get("/ajax/user-instances", signedIn, async (c) => c.json(await myInstancesJson(deps, c.get("viewer"))));
	app.get("/ajax/instances", signedIn, async (c) => {
		return c.json(await teamInstancesJson(deps, c.get("viewer"), parseTeamQuery(c.req.query())));
	});
	app.get("/ajax/instance-states", signedIn, async (c) => c.json(await instanceStatesJson(deps, c.get("viewer"))));
	app.get("/ajax/instance-burn", signedIn, async (c) => c.json(await instanceBurnJson(deps, c.get("viewer"))));
	app.get("/ajax/user-payroll", signedIn, (c) => {
		const replacement = payrollReplacement(c.req.query());
		c.header("Cache-Control", "no-store");
		c.header("Link", `<${replacement}>; rel="successor-version"`);
		return c.json({
			status: "gone",
			error: `This report is gone: ask ${replacement} for the billing report as CSV ` +
				"(from and to as YYYY-MM-DD; the user and group filters are ids, chosen on /billing).",
			replacement,
		}, 410);
	});
	return app;
}
