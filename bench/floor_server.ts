/**
 * The middleware floor: a no-op route (`GET /noop`, answering "ok") behind the portal's own first
 * middleware — request id, access log with metrics, security headers — or, as its baseline, behind
 * nothing in a bare hono app. Logging is configured as main.ts does (the four files, console on),
 * so the figure includes the log line's formatting and its sinks. `hono-headers` is the bare app
 * sending the same five headers the portal's answer carries (fixed values): what those headers
 * alone cost Deno to send, for reference.
 *
 * Usage: deno run -P bench/floor_server.ts <port> portal|hono|hono-headers <log folder>
 */
import { Hono } from "hono";
import { closeLogging, configureLogging, getLoggers } from "../lib/log.ts";
import { createMetrics } from "../lib/metrics.ts";
import { resolveSettings } from "../lib/settings.ts";
import type { AppEnv } from "../routes/context.ts";
import { accessLog } from "../routes/middleware/access_log.ts";
import { requestIdentity } from "../routes/middleware/request_id.ts";
import { SECURITY_HEADERS, securityHeaders } from "../routes/middleware/security_headers.ts";
import { setAnswerHeaders } from "../routes/middleware/answer_headers.ts";

const [portArg, mode = "portal", logs = "bench/.work/floor-logs"] = Deno.args;
const app = new Hono<AppEnv>();
if (mode === "portal") {
	const settings = resolveSettings({ env: { MLIY_LOG_LOCATION: logs } });
	await configureLogging(settings);
	app.use(requestIdentity({ settings }));
	app.use(accessLog({ log: getLoggers(), metrics: createMetrics() }));
	app.use(securityHeaders);
} else if (mode === "hono-headers") {
	const id = crypto.randomUUID();
	app.use(async (c, next) => {
		await next();
		setAnswerHeaders(c, { "X-Request-Id": id, ...SECURITY_HEADERS });
	});
}
app.get("/noop", (c) => c.text("ok"));
const server = Deno.serve({ hostname: "127.0.0.1", port: Number(portArg), onListen() {} }, app.fetch);
Deno.addSignalListener("SIGTERM", async () => {
	await server.shutdown();
	await closeLogging();
	Deno.exit(0);
});
