/**
 * GET /extend/<token>: a notice's extend page (reading it changes nothing, so mail scanners that
 * follow links postpone nothing); POST /extend/<token>: postpones the action once (CSRF applies as
 * to every signed-in POST). Only the user the link was sent to may use it.
 */
import { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { extendView, postponeAction } from "../lib/policy/extend.ts";
import { noticeTime } from "../lib/policy/notices.ts";
import { type AppEnv, pageContext, setFlash } from "./context.ts";
import { ExtendPage } from "./ui/ExtendPage.tsx";
import { renderPage } from "./ui/render.tsx";

const machineHref = (kind: string, id: string) => `/${kind === "cluster" ? "clusters" : "instances"}/${id}`;

export function extendRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.get("/:token", async (c) => {
		const view = await extendView(deps, c.get("viewer"), c.req.param("token"));
		const ctx = await pageContext(c, deps);
		c.header("Cache-Control", "no-store");
		return c.html(renderPage(
			<ExtendPage
				ctx={ctx}
				message={view.message}
				action={`/extend/${c.req.param("token")}`}
				choices={view.open ? view.choices : []}
				closed={view.open ? undefined : view.closed}
				machineHref={machineHref(view.action.kind, view.action.machineId)}
			/>,
		));
	});
	app.post("/:token", async (c) => {
		const body = await c.req.parseBody();
		const view = await extendView(deps, c.get("viewer"), c.req.param("token"));
		const { until } = await postponeAction(deps, c.get("viewer"), c.req.param("token"), body);
		await setFlash(c, deps, {
			tone: "ok",
			text: `Postponed: now not before ${noticeTime(until, deps.settings.TIME_ZONE)}.`,
		});
		return c.redirect(machineHref(view.action.kind, view.action.machineId), 303);
	});
	return app;
}
