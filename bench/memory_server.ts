/**
 * The portal as main.ts serves it, with SQLite's memory levers given on the command line (the memory
 * benchmark starts one per lever, V8 flags through `--v8-flags`), plus `GET /__memory`: this
 * process's `Deno.memoryUsage()` (the heap's share of RSS), and after `?gc` (with `--expose-gc`)
 * the heap that survives a full collection.
 *
 * Usage: deno run -P [--v8-flags=…] bench/memory_server.ts <port> <mmap bytes|default> <cache KiB|default> <settings file>
 */
import { createDeps } from "../compose.ts";
import { closeLogging, configureLogging } from "../lib/log.ts";
import { loadSettings } from "../lib/settings.ts";
import { idleCollection } from "../lib/idle_collection.ts";
import { createApp } from "../routes/mod.ts";

const [portArg, mmapArg = "default", cacheArg = "default", settingsFile] = Deno.args;
const number = (arg: string) => (arg === "default" ? undefined : Number(arg));
const settings = await loadSettings({ MLIY_SETTINGS_FILE: settingsFile, MLIY_PORT: portArg! });
await configureLogging(settings);
const deps = await createDeps(settings, { database: { mmapBytes: number(mmapArg), cacheKiB: number(cacheArg) } });
const app = createApp(deps);
const gc = (globalThis as { gc?: () => void }).gc;
// As main.ts: the heap given back once the portal goes quiet.
const collection = idleCollection();
const server = Deno.serve({ hostname: "127.0.0.1", port: settings.PORT, onListen() {} }, (request, info) => {
	const url = new URL(request.url);
	if (url.pathname !== "/__memory") {
		collection.served();
		return app.fetch(request, info);
	}
	if (url.searchParams.has("gc")) gc?.();
	return Response.json(Deno.memoryUsage());
});
Deno.addSignalListener("SIGTERM", async () => {
	collection.stop();
	await server.shutdown();
	await deps.close();
	await closeLogging();
	Deno.exit(0);
});
