/**
 * The entry point: settings → private files and logging → dependencies (compose.ts: database and migrations, pricing,
 * AWS, plugins) → app → jobs → serve (→ with WORKERS > 1, the other processes on the same port: lib/workers.ts), then
 * graceful shutdown on SIGTERM/SIGINT. Any startup problem stops the process with a message naming what is wrong,
 * before anything listens.
 */
import { createDeps } from "./compose.ts";
import process from "node:process";
import { privateFile, privateFolder } from "./lib/files.ts";
import { closeLogging, configureLogging, getLoggers, LOG_FILES } from "./lib/log.ts";
import { loadSettings, redactedSettings, redactUrls } from "./lib/settings.ts";
import { registerJobs } from "./jobs/mod.ts";
import { createApp } from "./routes/mod.ts";
import { flushRateLimitSummaries } from "./routes/middleware/rate_limit.ts";
import { ConfigError } from "./lib/errors.ts";
import { startWorkers, stopWhenPrimaryEnds, workerCommand, workerNumber } from "./lib/workers.ts";
import { idleCollection } from "./lib/idle_collection.ts";

async function start(): Promise<void> {
	// Whatever the portal creates is its own account's only: the database and its journals, the
	// logs (also the files rotation opens later) and any folder for them. Also made explicit below.
	process.umask(0o077);
	const settings = await loadSettings(Deno.env.toObject());
	// 0: the process an operator started; 1…WORKERS-1: the copies it started (lib/workers.ts).
	const worker = workerNumber(Deno.args);
	if (settings.WORKERS > 1 && Deno.build.os !== "linux") {
		throw new ConfigError(`Cannot load settings: "WORKERS" above 1 needs Linux (SO_REUSEPORT), not ${Deno.build.os}`);
	}
	const workerStart = worker === 0 && settings.WORKERS > 1 ? workerCommand() : undefined;
	await privateFolder(settings.LOG_LOCATION);
	for (const file of Object.values(LOG_FILES)) await privateFile(`${settings.LOG_LOCATION}/${file}`);
	await configureLogging(settings);
	const log = getLoggers();
	log.web.info("starting MLiy with settings {settings}", { settings: redactedSettings(settings) });

	const deps = await createDeps(settings);
	log.auth.info("auth plugin {folder}: {sources}", {
		folder: deps.plugins.auth.folder,
		sources: deps.plugins.auth.sources,
	});
	log.web.info("dns plugin {folder}: {sources}", {
		folder: deps.plugins.dns.folder,
		sources: deps.plugins.dns.sources,
	});
	const app = createApp(deps);
	const jobs = new AbortController();
	if (settings.RUN_JOBS) registerJobs(deps, jobs.signal);

	const collection = idleCollection();
	const server = Deno.serve({
		hostname: settings.HOST,
		port: settings.PORT,
		// Several processes on one port share it; a lone process keeps failing when the port is taken.
		reusePort: settings.WORKERS > 1,
		onListen: ({ hostname, port }) =>
			log.web.info("listening on http://{hostname}:{port}{worker}", {
				hostname,
				port,
				worker: worker === 0 ? "" : ` (worker ${worker})`,
			}),
	}, (request, info) => {
		collection.served();
		return app.fetch(request, info);
	});
	// The workers start once the primary listens and has migrated the database: they find nothing to migrate, and
	// get the port it was given (PORT 0 asks for any free one).
	const workers = workerStart
		? startWorkers({
			count: settings.WORKERS - 1,
			command: workerStart,
			env: { MLIY_PORT: String(server.addr.port) },
			log: log.web,
		})
		: undefined;

	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) return;
		stopping = true;
		log.web.info("{signal}: finishing requests and the running job step, then stopping", { signal });
		jobs.abort();
		collection.stop();
		await Promise.all([server.shutdown(), workers?.stop()]);
		await deps.close();
		flushRateLimitSummaries(deps);
		log.web.info("stopped");
		await closeLogging();
		Deno.exit(0);
	};
	Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
	Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
	if (worker > 0) stopWhenPrimaryEnds(() => stop("the primary process ended"));
}

try {
	await start();
} catch (error) {
	// Startup failed: say what is wrong (no stack for the expected cases) and stop without serving.
	// libSQL quotes a malformed database URL whole, with its auth token: strip URL credentials.
	const expected = ["ConfigError", "PluginError", "PricingFormatError", "LibsqlError"].includes((error as Error).name);
	const reason = redactUrls(String(expected ? (error as Error).message : (error as Error).stack));
	// deno-lint-ignore no-console
	console.error(`MLiy cannot start: ${reason}`);
	await closeLogging().catch(() => {});
	Deno.exit(1);
}
