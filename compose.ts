/**
 * The composition root: builds the dependencies from settings. It is the one place that wires the
 * database client (migrated), the AWS SDK adapter, the embedded pricing file, the shipped plugins
 * (with the secret params in their context), the metrics, the shared secret, the background tracker
 * and the launcher's wake-up.
 */
import type { Aws, AwsCredentials } from "./lib/aws/types.ts";
import { createAws } from "./lib/aws/sdk/mod.ts";
import { describeFolderSync, syncCatalogFolder } from "./lib/catalog/folder.ts";
import { secretParam } from "./lib/catalog/secrets.ts";
import { appSecret } from "./lib/db/app_state.ts";
import { type Database, openDatabase, type OpenDatabaseOptions } from "./lib/db/client.ts";
import { reportStore } from "./lib/db/reports.ts";
import type { Background, Deps } from "./lib/deps.ts";
import { ConfigError, UserError } from "./lib/errors.ts";
import { kickJob } from "./lib/jobs.ts";
import { getLoggers, type Loggers } from "./lib/log.ts";
import { createMetrics } from "./lib/metrics.ts";
import { loadPlugins } from "./lib/plugins/loader.ts";
import { createPricing, DEFAULT_PRICING_FILE } from "./lib/pricing.ts";
import { ReportQueue } from "./lib/report_queue.ts";
import type { Settings } from "./lib/settings.ts";
import {
	ACTIVITY_AGENT,
	CLUSTER_TEMPLATE,
	INSTANCE_TEMPLATE,
	KEEPALIVE_COMMAND,
	SAMPLE_BOOTSTRAP,
} from "./fixtures/mod.ts";
import { SHIPPED_PLUGINS } from "./plugins/mod.ts";
import { advanceLaunchesJob } from "./jobs/advance_launches.ts";

/** Creates a {@link Background} that logs failures to `log`. */
function createBackground(log: Loggers["web"]): Background {
	const running = new Set<Promise<unknown>>();
	const closing = new AbortController();
	const idle = async () => {
		while (running.size > 0) await Promise.allSettled([...running]);
	};
	return {
		run(name, task) {
			const promise = (async () => {
				try {
					await task();
				} catch (error) {
					log.error("background task {name} failed: {message}", { name, message: (error as Error).message });
				}
			})();
			running.add(promise);
			promise.finally(() => running.delete(promise));
		},
		sleep(ms) {
			const { signal } = closing;
			if (signal.aborted) return Promise.resolve(false);
			return new Promise((resolve) => {
				const ended = () => {
					clearTimeout(timer);
					resolve(false);
				};
				const timer = setTimeout(() => {
					signal.removeEventListener("abort", ended);
					resolve(true);
				}, ms);
				signal.addEventListener("abort", ended, { once: true });
			});
		},
		idle,
		async close() {
			closing.abort();
			await idle();
		},
	};
}

/**
 * CATALOG_FOLDER: the catalogue is synced from the folder once, before anything is served, as
 * `./mliy catalog:sync` does. A folder that cannot be loaded stops the start (nothing is changed):
 * the operator asked for that catalogue, and a portal serving another would hide the mistake.
 */
async function syncAtStart(deps: Deps, folder: string): Promise<void> {
	try {
		const sync = await syncCatalogFolder(deps, folder, {
			dryRun: false,
			origin: { actorId: null, actor: "start (CATALOG_FOLDER)" },
		});
		deps.log.web.info("catalogue synced from {folder} (CATALOG_FOLDER):\n{report}", {
			folder,
			report: describeFolderSync(sync),
		});
	} catch (error) {
		if (!(error instanceof UserError)) throw error;
		throw new ConfigError(`CATALOG_FOLDER ${folder} cannot be synced, nothing was changed: ${error.message}`);
	}
}

/**
 * Whether this is the compiled binary (`deno compile`) or the one-file bundle (`deno bundle`,
 * where this module's URL is the bundle's): the programs that carry their files inside them. Run
 * from the source tree, the program reads its files from disk like any other.
 */
const PACKAGED = Deno.build.standalone || !import.meta.url.endsWith("/compose.ts");

/** What a test or benchmark may replace when building dependencies. */
export interface DepsOverrides {
	aws?: Aws;
	/** Keys for the SDK's clients, instead of its default chain (moto, loopback endpoints). */
	credentials?: AwsCredentials;
	clock?: () => Date;
	/** Instance metadata base URL (tests point it at a closed port). */
	metadataUrl?: string;
	holder?: string;
	/** SQLite's memory levers (the memory benchmark compares them). */
	database?: Pick<OpenDatabaseOptions, "mmapBytes" | "cacheKiB">;
}

/**
 * Builds the dependencies from settings: database (migrated), metrics, AWS, pricing, plugins, the
 * shared secret. `close()` waits for background work and releases the database and AWS clients.
 */
export async function createDeps(
	settings: Settings,
	overrides: DepsOverrides = {},
): Promise<Deps & { database: Database; close(): Promise<void> }> {
	const log = getLoggers();
	const database = await openDatabase({
		url: settings.DATABASE_URL,
		authToken: settings.DATABASE_AUTH_TOKEN,
		synchronous: settings.DATABASE_SYNCHRONOUS,
		busyTimeoutMs: settings.DATABASE_BUSY_TIMEOUT_MS,
		...overrides.database,
	});
	try {
		const metrics = createMetrics();
		const holder = overrides.holder ?? `${Deno.hostname()}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
		metrics.processInfo.set({ process_id: holder }, 1);
		const sdk = overrides.aws ? undefined : createAws({
			region: settings.AWS_REGION,
			endpoint: settings.AWS_ENDPOINT_URL,
			credentials: overrides.credentials,
			maxAttempts: settings.AWS_MAX_ATTEMPTS,
			timeoutSeconds: settings.AWS_TIMEOUT_SECONDS,
			log: log.boto,
			metadataUrl: overrides.metadataUrl,
			onCall(operation, seconds, error) {
				metrics.awsCalls.inc({ operation, outcome: error ? error.kind : "ok" });
				metrics.awsDuration.observe({ operation }, seconds);
			},
		});
		const aws = overrides.aws ?? sdk!;
		const pricing = await createPricing({
			path: settings.PRICING_FILE,
			// Only the packaged program, with the default path, falls back to the embedded copy (run
			// where that file is absent); a PRICING_FILE that was set, or a source run missing the
			// file, stops startup (README "Prices").
			embedded: PACKAGED && settings.PRICING_FILE === DEFAULT_PRICING_FILE
				? async () => (await import("./fixtures/pricing.ts")).EMBEDDED_PRICING
				: undefined,
			log: log.web,
		});
		const secret = await appSecret(database.db);
		const paramsKey = settings.SECRET_PARAMS_KEY ?? secret;
		const plugins = await loadPlugins(
			{ auth: settings.AUTH_PLUGIN, dns: settings.DNS_PLUGIN, display: settings.DISPLAY_PLUGIN },
			{
				settings: settings.PLUGIN_SETTINGS,
				aws,
				log: log.web,
				listen: { hostname: settings.HOST, port: settings.PORT },
				proxy: {
					secretRequired: settings.PROXY_SECRET !== undefined,
					withoutSecretAccepted: settings.PROXY_SECRET_WAIVED,
				},
				secretParam: (token) => secretParam(database.db, paramsKey, token),
			},
			{ shipped: SHIPPED_PLUGINS },
		);
		const background = createBackground(log.web);
		const reports = new ReportQueue({ db: database.db, store: reportStore(database), log: log.web });
		const deps: Deps & { database: Database; close(): Promise<void> } = {
			settings,
			db: database.db,
			database,
			aws,
			plugins,
			log,
			pricing,
			metrics,
			clock: overrides.clock ?? (() => new Date()),
			secret,
			paramsKey,
			holder,
			background,
			reports,
			wakeLauncher: () => kickJob(deps, advanceLaunchesJob),
			samples: {
				instanceTemplate: INSTANCE_TEMPLATE,
				clusterTemplate: CLUSTER_TEMPLATE,
				bootstrapScript: SAMPLE_BOOTSTRAP,
				activityAgent: ACTIVITY_AGENT,
				keepAliveCommand: KEEPALIVE_COMMAND,
			},
			async close() {
				await background.close();
				// After the background work (it may still report), before the database goes.
				await reports.close();
				sdk?.close();
				database.close();
			},
		};
		if (settings.CATALOG_FOLDER !== undefined) await syncAtStart(deps, settings.CATALOG_FOLDER);
		return deps;
	} catch (error) {
		database.close();
		throw error;
	}
}
