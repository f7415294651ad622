/**
 * The second middleware (after request_id.ts): the log context of the request id, the request
 * metrics and one access-log line per request (the instances' progress and activity reports, the
 * bulk of the traffic, as debug lines; calls a rate limit refused only in its summaries).
 */
import type { MiddlewareHandler } from "hono";
import { withContext } from "@logtape/logtape";
import type { Deps } from "../../lib/deps.ts";
import type { AppEnv } from "../context.ts";

export function accessLog(deps: Pick<Deps, "log" | "metrics">): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const started = performance.now();
		await withContext({ requestId: c.get("requestId") }, () => next());
		const seconds = (performance.now() - started) / 1000;
		const route = c.req.routePath || "unmatched";
		deps.metrics.httpRequests.inc({ route, method: c.req.method, status: String(c.res.status) });
		deps.metrics.httpDuration.observe({ route, method: c.req.method }, seconds);
		if (route.startsWith("/static") || c.get("rateLimited")) return;
		const quiet = /^\/ajax\/(progress|activity)\//.test(route) && c.res.status < 400;
		deps.log.web[quiet ? "debug" : "info"]("{method} {path} {status} {ms} ms", {
			method: c.req.method,
			path: c.req.path,
			status: c.res.status,
			ms: Math.round(seconds * 1000),
			requestId: c.get("requestId"),
		});
	};
}
