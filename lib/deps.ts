/** The dependencies every route, job and domain function receives, built once by main.ts (or a test). */
import type { Aws, AwsCredentials } from "./aws/types.ts";
import { createAws } from "./aws/sdk/mod.ts";
import { appSecret } from "./db/app_state.ts";
import { type Database, type Db, openDatabase } from "./db/client.ts";
import { getLoggers, type Loggers } from "./log.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { loadPlugins, type Plugins } from "./plugins.ts";
import { createPricing, DEFAULT_PRICING_FILE, type Pricing } from "./pricing.ts";
import type { Settings } from "./settings.ts";
import { EMBEDDED_PRICING } from "../fixtures/mod.ts";

/** Fire-and-forget work (job kicks, refreshes) that shutdown and tests can wait for. */
export interface Background {
	/** Starts `task` without waiting; errors are logged, never thrown. */
	run(name: string, task: () => Promise<unknown>): void;
	/** Resolves when every started task has finished. */
	idle(): Promise<void>;
}

export interface Deps {
	settings: Settings;
	db: Db;
	aws: Aws;
	plugins: Plugins;
	log: Loggers;
	pricing: Pricing;
	metrics: Metrics;
	/** The current time; tests pass a fixed or fake clock. */
	clock: () => Date;
	/** Key for the portal's HMACs (CSRF and progress tokens); shared by every process via the database. */
	secret: string;
	/** This process's name in job leases. */
	holder: string;
	background: Background;
}

/** Creates a {@link Background} that logs failures to `log`. */
export function createBackground(log: Loggers["web"]): Background {
	const running = new Set<Promise<unknown>>();
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
		async idle() {
			while (running.size > 0) await Promise.allSettled([...running]);
		},
	};
}

/** What a test or benchmark may replace when building dependencies. */
export interface DepsOverrides {
	aws?: Aws;
	/** Keys for the SDK's clients, instead of its default chain (moto, loopback endpoints). */
	credentials?: AwsCredentials;
	clock?: () => Date;
	/** Instance metadata base URL (tests point it at a closed port). */
	metadataUrl?: string;
	holder?: string;
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
	});
	try {
		const metrics = createMetrics();
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
			// Only the default path falls back to the embedded copy (the compiled binary run without
			// the file); a PRICING_FILE that was set and is missing stops startup (README "Prices").
			embedded: settings.PRICING_FILE === DEFAULT_PRICING_FILE ? () => EMBEDDED_PRICING : undefined,
			log: log.web,
		});
		const plugins = await loadPlugins(
			{ auth: settings.AUTH_PLUGIN, dns: settings.DNS_PLUGIN },
			{
				settings: settings.PLUGIN_SETTINGS,
				aws,
				log: log.web,
				listen: { hostname: settings.HOST, port: settings.PORT },
			},
		);
		const background = createBackground(log.web);
		return {
			settings,
			db: database.db,
			database,
			aws,
			plugins,
			log,
			pricing,
			metrics,
			clock: overrides.clock ?? (() => new Date()),
			secret: await appSecret(database.db),
			holder: overrides.holder ?? `${Deno.hostname()}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`,
			background,
			async close() {
				await background.idle();
				sdk?.close();
				database.close();
			},
		};
	} catch (error) {
		database.close();
		throw error;
	}
}
