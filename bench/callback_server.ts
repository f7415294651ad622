/**
 * The progress callback's own work with nothing in front of it: `Deno.serve` calling
 * `recordProgress` (lib/progress.ts, the route's one call: the cached token check and the coalesced
 * write) directly — no hono, no request id, access line, metrics, security headers or rate limit.
 * What answering reports before the portal's middleware could reach at best: the bench's
 * reference for what would close the callback's gap to its target, in the same run.
 *
 * Usage: deno run -P bench/callback_server.ts <settings file>
 */
import { createDeps } from "../compose.ts";
import { UserError } from "../lib/errors.ts";
import { recordProgress } from "../lib/progress.ts";
import { loadSettings } from "../lib/settings.ts";

const settings = await loadSettings({ MLIY_SETTINGS_FILE: Deno.args[0] });
const deps = await createDeps(settings);
const CALLBACK = /^\/ajax\/progress\/([^/]+)\/([^/]+)$/;
const server = Deno.serve({ hostname: "127.0.0.1", port: settings.PORT, onListen() {} }, async (request, info) => {
	const path = new URL(request.url).pathname;
	if (path === "/health") return new Response("ok");
	const match = CALLBACK.exec(path);
	if (!match) return new Response("not found", { status: 404 });
	try {
		const action = await recordProgress(deps, {
			instanceId: decodeURIComponent(match[1]!),
			spec: decodeURIComponent(match[2]!),
			token: request.headers.get("X-MLiy-Progress-Token"),
			peer: info.remoteAddr.hostname,
			forwardedFor: request.headers.get("X-Forwarded-For"),
		});
		return Response.json({ action, status: "ok" }, { headers: { "Cache-Control": "no-store" } });
	} catch (error) {
		return new Response("refused", { status: error instanceof UserError ? error.status : 500 });
	}
});
Deno.addSignalListener("SIGTERM", async () => {
	await server.shutdown();
	await deps.close();
	Deno.exit(0);
});
