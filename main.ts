/**
 * The composition root: settings → logging → database and migrations → pricing → AWS → plugins →
 * app → jobs → serve, then graceful shutdown on SIGTERM/SIGINT. Any startup problem stops the
 * process with a message naming what is wrong, before anything listens.
 */
import { createAws } from "./lib/aws/sdk.ts";
import { appSecret } from "./lib/db/app_state.ts";
import { openDatabase } from "./lib/db/client.ts";
import { createBackground, type Deps } from "./lib/deps.ts";
import { closeLogging, configureLogging, getLoggers } from "./lib/log.ts";
import { createMetrics } from "./lib/metrics.ts";
import { loadPlugins } from "./lib/plugins.ts";
import { createPricing } from "./lib/pricing.ts";
import { loadSettings, redactedSettings } from "./lib/settings.ts";
import { EMBEDDED_PRICING } from "./fixtures/mod.ts";
import { registerJobs } from "./jobs/mod.ts";
import { createApp } from "./routes/mod.ts";

async function start(): Promise<void> {
	const settings = await loadSettings(Deno.env.toObject());
	await configureLogging(settings);
	const log = getLoggers();
	log.web.info("starting MLiy with settings {settings}", { settings: redactedSettings(settings) });

	const database = await openDatabase({ url: settings.DATABASE_URL, authToken: settings.DATABASE_AUTH_TOKEN });
	const metrics = createMetrics();
	const aws = createAws({
		region: settings.AWS_REGION,
		endpoint: settings.AWS_ENDPOINT_URL,
		maxAttempts: settings.AWS_MAX_ATTEMPTS,
		timeoutSeconds: settings.AWS_TIMEOUT_SECONDS,
		log: log.boto,
		onCall(operation, seconds, error) {
			metrics.awsCalls.inc({ operation, outcome: error ? error.kind : "ok" });
			metrics.awsDuration.observe({ operation }, seconds);
		},
	});
	const pricing = await createPricing({ path: settings.PRICING_FILE, embedded: () => EMBEDDED_PRICING, log: log.web });
	const plugins = await loadPlugins(
		{ auth: settings.AUTH_PLUGIN, dns: settings.DNS_PLUGIN },
		{ settings: settings.PLUGIN_SETTINGS, aws, log: log.web, listen: { hostname: settings.HOST, port: settings.PORT } },
	);
	log.auth.info("auth plugin {folder}: {sources}", { folder: plugins.auth.folder, sources: plugins.auth.sources });
	log.web.info("dns plugin {folder}: {sources}", { folder: plugins.dns.folder, sources: plugins.dns.sources });

	const deps: Deps = {
		settings,
		db: database.db,
		aws,
		plugins,
		log,
		pricing,
		metrics,
		clock: () => new Date(),
		secret: await appSecret(database.db),
		holder: `${Deno.hostname()}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`,
		background: createBackground(log.web),
	};
	const app = createApp(deps);
	const jobs = new AbortController();
	if (settings.RUN_JOBS) registerJobs(deps, jobs.signal);

	const server = Deno.serve({
		hostname: settings.HOST,
		port: settings.PORT,
		onListen: ({ hostname, port }) => log.web.info("listening on http://{hostname}:{port}", { hostname, port }),
	}, app.fetch);

	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) return;
		stopping = true;
		log.web.info("{signal}: finishing requests and the running job step, then stopping", { signal });
		jobs.abort();
		await server.shutdown();
		await deps.background.idle();
		aws.close();
		database.close();
		log.web.info("stopped");
		await closeLogging();
		Deno.exit(0);
	};
	Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
	Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
}

try {
	await start();
} catch (error) {
	// Startup failed: say what is wrong (no stack for the expected cases) and stop without serving.
	const expected = ["ConfigError", "PluginError", "PricingFormatError", "LibsqlError"].includes((error as Error).name);
	// deno-lint-ignore no-console
	console.error(`MLiy cannot start: ${expected ? (error as Error).message : (error as Error).stack}`);
	await closeLogging().catch(() => {});
	Deno.exit(1);
}
