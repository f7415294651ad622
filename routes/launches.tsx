/**
 * A launch's page, mounted at /launches: GET /:id (its steps), GET /:id/events (its stack's stored
 * CloudFormation events and failure diagnosis), polling GET /:id/status until the
 * launch is done or failed; when it is done the poll sends the browser to the dashboard. POST
 * /:id/dismiss hides a failed launch's notice from its owner's dashboard.
 */
import { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { dismissLaunchNotice } from "../lib/launch/request.ts";
import { dashboardQueryOf, myInstancesView } from "../lib/views/dashboard.ts";
import { launchPageView, launchStatusView } from "../lib/views/launches.ts";
import { type AppContext, type AppEnv, pageContext, setFlash } from "./context.ts";
import { MyInstances } from "./ui/DashboardPage.tsx";
import { LaunchPage, LaunchStatus } from "./ui/LaunchStatus.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";
import { StackEventsPage } from "./ui/BootTimeline.tsx";
import { stackEventsView } from "../lib/views/timeline.ts";

function launchId(c: AppContext): string {
	return c.req.param("id")!.slice(0, 64);
}

export function launchRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.get("/:id", async (c) => {
		const launch = await launchPageView(deps, c.get("viewer"), launchId(c));
		return c.html(renderPage(<LaunchPage ctx={await pageContext(c, deps)} launch={launch} />));
	});

	// The stack's CloudFormation events as the launcher stored them, with what failed first.
	app.get("/:id/events", async (c) => {
		const events = await stackEventsView(deps, c.get("viewer"), launchId(c));
		return c.html(renderPage(<StackEventsPage ctx={await pageContext(c, deps)} events={events} />));
	});

	app.get("/:id/status", async (c) => {
		const status = await launchStatusView(deps, c.get("viewer"), launchId(c));
		if (status.status === "complete" && c.req.header("HX-Request")) {
			// htmx follows HX-Redirect without swapping, so there is nothing to render.
			const outcome = status.outcome;
			await setFlash(c, deps, {
				tone: outcome?.tone === "bad" ? "error" : "ok",
				text: outcome?.text ?? `${status.configName ?? "Your launch"} is complete.`,
			});
			c.header("HX-Redirect", "/");
			return c.html("");
		}
		return c.html(renderFragment(<LaunchStatus status={status} />));
	});
	// The dashboard's notice of a failed launch, dismissed by its owner: htmx gets the dashboard's
	// instances fragment again (its empty state, when the notice was all it showed).
	app.post("/:id/dismiss", async (c) => {
		const viewer = c.get("viewer");
		await dismissLaunchNotice(deps, viewer, launchId(c));
		if (!c.req.header("HX-Request")) return c.redirect("/", 303);
		const query = dashboardQueryOf(c.req.header("HX-Current-URL"));
		return c.html(renderFragment(<MyInstances instances={await myInstancesView(deps, viewer, { query })} swapped />));
	});
	return app;
}
