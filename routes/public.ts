/**
 * Routes that need no signed-in user: GET /health, GET /metrics (token or allowed address), both
 * rate-limited per source (they query the database and the registry), and GET /static/<file>. The other one, the instances' progress callback, is a seed URL (compat.tsx).
 */
import { Hono } from "hono";
import { compress } from "hono/compress";
import { probeWrite } from "../lib/db/app_state.ts";
import { isDatabaseBusy, noteUnwritable, pingDatabase, recentlyUnwritable } from "../lib/db/client.ts";
import { unwritableReason } from "../lib/db/errors.ts";
import type { Deps } from "../lib/deps.ts";
import { staleJobs } from "../lib/jobs.ts";
import { syncStatus } from "../lib/sync/all.ts";
import { addressInRanges } from "../lib/net.ts";
import { STATIC_FILES, STATIC_VERSION } from "../static/mod.ts";
import type { AppEnv } from "./context.ts";
import { createLimiter } from "./middleware/rate_limit.ts";
import { respondError } from "./respond.tsx";

export function publicRoutes(deps: Deps): Hono<AppEnv> {
	const startedAt = deps.clock();
	const app = new Hono<AppEnv>();
	const perSource = (endpoint: string) =>
		createLimiter(deps, { endpoint, perSource: deps.settings.RATE_LIMIT_PER_SOURCE }).middleware;

	app.get("/health", perSource("health"), async (c) => {
		const now = deps.clock();
		let database: "ok" | "not writable" | "error" = "ok";
		let lastSync: Date | null = null;
		let stuckJobs: string[] = [];
		try {
			await pingDatabase(deps.db);
			lastSync = (await syncStatus(deps, now)).lastSuccessAt;
			stuckJobs = await staleJobs(deps, now);
		} catch (error) {
			// The answer is public: only the status goes out, the reason to the operators' log.
			database = "error";
			deps.log.web.error("health check: the database did not answer: {message}", {
				message: (error as Error).message,
			});
		}
		if (database === "ok") {
			try {
				await probeWrite(deps.db, now);
			} catch (error) {
				// Busy is another process writing: the database is fine. Anything else is not.
				const unwritable = unwritableReason(error);
				if (unwritable) noteUnwritable(deps.db, now);
				if (!isDatabaseBusy(error)) database = unwritable ? "not writable" : "error";
				deps.log.web.error("health check: the database cannot be written: {message}", {
					message: (error as Error).message,
				});
			}
		}
		if (database === "ok" && recentlyUnwritable(deps.db, now)) database = "not writable";
		const staleMs = deps.settings.SYNC_STALE_MINUTES * 60_000;
		const syncAgeSeconds = lastSync ? Math.round((now.getTime() - lastSync.getTime()) / 1000) : null;
		const inGrace = now.getTime() - startedAt.getTime() < staleMs;
		const syncOk = syncAgeSeconds !== null ? syncAgeSeconds * 1000 <= staleMs : inGrace;
		const healthy = database === "ok" && syncOk && stuckJobs.length === 0;
		c.header("Cache-Control", "no-store");
		return c.json({
			status: healthy ? "ok" : "unhealthy",
			database,
			lastSync: lastSync?.toISOString() ?? null,
			syncAgeSeconds,
			sync: syncAgeSeconds === null ? (inGrace ? "pending" : "never") : syncOk ? "ok" : "stale",
			uptimeSeconds: Math.round((now.getTime() - startedAt.getTime()) / 1000),
			stuckJobs,
		}, healthy ? 200 : 503);
	});

	app.get("/metrics", perSource("metrics"), async (c) => {
		const token = deps.settings.METRICS_TOKEN;
		const bearer = c.req.header("Authorization")?.replace(/^Bearer\s+/i, "");
		const byToken = !!token && bearer === token;
		const byAddress = addressInRanges(c.get("remoteAddress"), deps.settings.METRICS_ALLOWED_ADDRESSES);
		if (!byToken && !byAddress) return respondError(c, 403, "Metrics are available to the configured scrapers only.");
		c.header("Content-Type", deps.metrics.registry.contentType);
		c.header("Cache-Control", "no-store");
		return c.body(await deps.metrics.registry.metrics());
	});

	app.use("/static/*", compress());
	app.get("/static/:file", (c) => {
		const file = Object.hasOwn(STATIC_FILES, c.req.param("file")) ? STATIC_FILES[c.req.param("file")] : undefined;
		if (!file) return respondError(c, 404, "No such static file");
		const etag = `"${STATIC_VERSION}"`;
		c.header("ETag", etag);
		c.header(
			"Cache-Control",
			c.req.query("v") === STATIC_VERSION ? "public, max-age=31536000, immutable" : "public, max-age=300",
		);
		if (c.req.header("If-None-Match") === etag) return c.body(null, 304);
		c.header("Content-Type", file.type);
		return c.body(file.body);
	});

	return app;
}
