/**
 * The instances' activity endpoint (no signed-in user: the launch's token in X-MLiy-Progress-Token,
 * as for progress): POST /ajax/activity/<id> a report of the machine's workload, POST
 * /ajax/activity/<id>/keepalive a keep-alive (mliy-keepalive), and GET
 * /ajax/activity/script/<name> the two scripts the bootstrap installs. A refused call is a 4xx
 * that says why; nothing is written then.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Deps } from "../lib/deps.ts";
import { noticeTime } from "../lib/policy/notices.ts";
import { ACTIVITY_BODY_LIMIT, keepAliveFromInstance, recordActivity } from "../lib/policy/signals.ts";
import type { AppContext, AppEnv } from "./context.ts";
import { instanceCallbackLimit } from "./middleware/rate_limit.ts";
import { respondError } from "./respond.tsx";

export function activityRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const rate = instanceCallbackLimit(deps, "activity");
	const limit = bodyLimit({
		maxSize: ACTIVITY_BODY_LIMIT,
		onError: (c) => respondError(c, 413, `A report is at most ${ACTIVITY_BODY_LIMIT} bytes.`),
	});
	const call = async (c: AppContext) => ({
		instanceId: c.req.param("instanceId") ?? "",
		token: c.req.header("X-MLiy-Progress-Token") ?? null,
		body: await c.req.text(),
	});

	app.post("/:instanceId", rate, limit, async (c) => {
		const { active } = await recordActivity(deps, await call(c));
		c.header("Cache-Control", "no-store");
		return c.json({ status: "ok", active });
	});

	app.post("/:instanceId/keepalive", rate, limit, async (c) => {
		const until = await keepAliveFromInstance(deps, await call(c));
		c.header("Cache-Control", "no-store");
		return c.json({
			status: "ok",
			until: until?.toISOString() ?? null,
			message: until ? `kept running until ${noticeTime(until, deps.settings.TIME_ZONE)}` : "keep-alive ended",
		});
	});

	app.get("/script/:name", (c) => {
		const scripts: Record<string, string> = {
			"mliy-activity": deps.samples.activityAgent,
			"mliy-keepalive": deps.samples.keepAliveCommand,
		};
		const script = Object.hasOwn(scripts, c.req.param("name")) ? scripts[c.req.param("name")] : undefined;
		if (script === undefined) return respondError(c, 404, "No such script: mliy-activity or mliy-keepalive");
		c.header("Content-Type", "text/x-shellscript; charset=utf-8");
		c.header("Cache-Control", "no-cache");
		return c.body(script);
	});
	return app;
}
