/** The dependencies every route, job and domain function receives: built once by compose.ts (or a test). */
import type { Aws } from "./aws/types.ts";
import type { Db } from "./db/client.ts";
import type { Loggers } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { Plugins } from "./plugins/contract.ts";
import type { Pricing } from "./pricing.ts";
import type { ReportQueue } from "./report_queue.ts";
import type { Settings } from "./settings.ts";

/** Fire-and-forget work (job kicks, refreshes) that shutdown and tests can wait for. */
export interface Background {
	/** Starts `task` without waiting; errors are logged, never thrown. */
	run(name: string, task: () => Promise<unknown>): void;
	/**
	 * Waits `ms` inside a task; resolves true when the time has passed, or false at once when the
	 * process is closing (the task should stop, so shutdown does not wait on a long follow-up).
	 */
	sleep(ms: number): Promise<boolean>;
	/** Resolves when every started task has finished. */
	idle(): Promise<void>;
	/** Ends the waits of {@link sleep} and resolves when every started task has finished. */
	close(): Promise<void>;
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
	/**
	 * What the secret params' key is derived from (lib/sealed.ts): the operator's SECRET_PARAMS_KEY,
	 * else {@link secret}. Kept apart so that, with the setting, the database alone opens no secret.
	 */
	paramsKey: string;
	/** This process's name in job leases. */
	holder: string;
	background: Background;
	/**
	 * The instances' progress and activity reports: checked against cached instances and written
	 * together, one transaction per short window (lib/report_queue.ts). Tests that read what a report
	 * wrote call `flush()` first.
	 */
	reports: ReportQueue;
	/** Asks the launcher to move launches soon (in the background), e.g. right after one is recorded. */
	wakeLauncher(): void;
	/** The shipped sample files a new configuration starts from (embedded, so a binary carries them). */
	samples: Samples;
}

/** The sample CloudFormation templates and bootstrap script shipped with the portal, and the scripts it installs. */
export interface Samples {
	instanceTemplate: string;
	clusterTemplate: string;
	bootstrapScript: string;
	/** `mliy-activity` and `mliy-keepalive`, served to instances at /ajax/activity/script/<name>. */
	activityAgent: string;
	keepAliveCommand: string;
}
