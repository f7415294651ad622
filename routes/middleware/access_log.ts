/**
 * The second middleware (after request_id.ts): the log context of the request id, the request
 * metrics and one access-log line per request (the instances' progress and activity reports, the
 * bulk of the traffic, as debug lines; calls a rate limit refused only in its summaries).
 *
 * It runs on every request, so what it can work out once per route is worked out once: the
 * metrics' label children (prom-client's `labels()`, which otherwise hashes the labels object on
 * every call) and whether the route logs at all, and at which level, are kept per route pattern,
 * method and status (a few hundred entries at most: patterns, not paths).
 */
import type { MiddlewareHandler } from "hono";
import type { Counter, Histogram } from "prom-client";
import type { Deps } from "../../lib/deps.ts";
import { withRequestId } from "../../lib/log.ts";
import type { AppEnv } from "../context.ts";

/** What is known of one route pattern and method. */
interface RouteEntry {
	duration: Histogram.Internal<"route" | "method">;
	/** The request counter, by status. */
	requests: Map<number, Counter.Internal>;
	/** Static files are not logged. */
	logged: boolean;
	/** Progress and activity reports log their successes at debug. */
	quiet: boolean;
}

const QUIET_ROUTE = /^\/ajax\/(progress|activity)\//;

export function accessLog(deps: Pick<Deps, "log" | "metrics">): MiddlewareHandler<AppEnv> {
	const { httpRequests, httpDuration } = deps.metrics;
	const routes = new Map<string, Map<string, RouteEntry>>();
	const entryFor = (route: string, method: string): RouteEntry => {
		let methods = routes.get(route);
		if (!methods) routes.set(route, methods = new Map());
		let entry = methods.get(method);
		if (!entry) {
			entry = {
				duration: httpDuration.labels(route, method),
				requests: new Map(),
				logged: !route.startsWith("/static"),
				quiet: QUIET_ROUTE.test(route),
			};
			methods.set(method, entry);
		}
		return entry;
	};
	return async (c, next) => {
		const started = performance.now();
		const requestId = c.get("requestId");
		await withRequestId(requestId, next);
		const ms = performance.now() - started;
		const route = c.req.routePath || "unmatched";
		const method = c.req.method;
		const status = c.res.status;
		const entry = entryFor(route, method);
		let requests = entry.requests.get(status);
		if (!requests) entry.requests.set(status, requests = httpRequests.labels(route, method, String(status)));
		requests.inc();
		entry.duration.observe(ms / 1000);
		if (!entry.logged || c.get("rateLimited")) return;
		deps.log.access.write(entry.quiet && status < 400, method, c.req.path, status, ms, requestId);
	};
}
