/**
 * Test dependencies: a temp-file libSQL database with migrations (or, with `remote`, the same file
 * served by the test libSQL server, tests/_fakes/libsql_server.ts, and opened by its URL), settings
 * from overrides, the shipped plugins, the real pricing file, and either a fake AWS (unit tests) or the real SDK
 * against moto (integration tests). Dispose to wait for background work and remove the files.
 */
import type { Aws } from "../../lib/aws/types.ts";
import type { Database } from "../../lib/db/client.ts";
import type { Deps } from "../../lib/deps.ts";
import { createDeps } from "../../compose.ts";
import { resolveSettings } from "../../lib/settings.ts";
import { createApp } from "../../routes/mod.ts";
import { fakeAws } from "../_fakes/aws.ts";
import { TEST_CREDENTIALS } from "../_fakes/endpoint.ts";
import { type LibsqlServer, startLibsqlServer } from "../_fakes/libsql_server.ts";
import type { Hono } from "hono";
import type { AppEnv } from "../../routes/context.ts";

/** A clock tests can move. */
export interface TestClock {
	(): Date;
	set(at: Date | string): void;
	advance(ms: number): void;
}

export function testClock(start: Date | string = "2025-03-01T12:00:00Z"): TestClock {
	let now = new Date(start).getTime();
	const clock = (() => new Date(now)) as TestClock;
	clock.set = (at) => {
		now = new Date(at).getTime();
	};
	clock.advance = (ms) => {
		now += ms;
	};
	return clock;
}

export interface TestDeps extends Deps, AsyncDisposable {
	clock: TestClock;
	database: Database;
	dir: string;
	app: Hono<AppEnv>;
	/** The libSQL server the database is opened through (`remote`); it serves `${dir}/test.db`. */
	server?: LibsqlServer;
}

/** The bearer token of the test libSQL server. */
export const TEST_DATABASE_TOKEN = "test-database-token";

/** The database engines the db tests run on: the embedded file, and the same file through a libSQL server's URL. */
export const DATABASE_ENGINES = ["file", "remote"] as const;
export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];

export interface TestDepsOptions {
	/** Settings (as in the settings file). */
	settings?: Record<string, unknown>;
	/** A fake AWS; default: the SDK against `awsEndpoint` (moto), or a fake that refuses every call. */
	aws?: Aws;
	awsEndpoint?: string;
	clock?: TestClock;
	/** Use the real clock (for tests against moto where times come from AWS). */
	realClock?: boolean;
	/**
	 * Open the database by a libSQL server's URL (`http://127.0.0.1:<port>`, with a token) instead of
	 * the file, through the test server started here over `${dir}/test.db` (unless `settings` name a
	 * DATABASE_URL: then that one). Default: the environment's TEST_DATABASE_ENGINE=remote, so any
	 * test file can be run on the remote path (not an MLIY_ name: the portal refuses unknown ones).
	 */
	remote?: boolean;
}

/** Builds dependencies and the app for a test. */
export async function createTestDeps(options: TestDepsOptions = {}): Promise<TestDeps> {
	const dir = await Deno.makeTempDir({ prefix: "mliy-test-" });
	const remote = options.remote ?? Deno.env.get("TEST_DATABASE_ENGINE") === "remote";
	// The server waits for another process's lock as long as the portal's own connections would.
	const server = remote && options.settings?.DATABASE_URL === undefined
		? startLibsqlServer({
			path: `${dir}/test.db`,
			token: TEST_DATABASE_TOKEN,
			busyTimeoutMs: options.settings?.DATABASE_BUSY_TIMEOUT_MS as number | undefined,
		})
		: undefined;
	const settings = resolveSettings({
		file: {
			DATABASE_URL: server ? server.url : `file:${dir}/test.db`,
			// Another test deps on the same server (a second process) carries the server's token too.
			...(remote ? { DATABASE_AUTH_TOKEN: TEST_DATABASE_TOKEN } : {}),
			LOG_LOCATION: `${dir}/logs`,
			AUTH_PLUGIN: "plugins/auth_header",
			LAUNCH_SUBNET_ID: "subnet-0123456789abcdef0",
			LAUNCH_AVAILABILITY_ZONE: "us-east-1a",
			RUN_JOBS: false,
			...(options.awsEndpoint
				? { AWS_ENDPOINT_URL: options.awsEndpoint, AWS_MAX_ATTEMPTS: 2, AWS_TIMEOUT_SECONDS: 10 }
				: {}),
			...options.settings,
		},
	});
	const clock = options.clock ?? (options.realClock ? realClock() : testClock());
	let deps: Awaited<ReturnType<typeof createDeps>>;
	try {
		deps = await createDeps(settings, {
			aws: options.aws ?? (options.awsEndpoint ? undefined : fakeAws()),
			credentials: TEST_CREDENTIALS,
			clock,
			metadataUrl: "http://127.0.0.1:9",
			holder: `test-${crypto.randomUUID().slice(0, 8)}`,
		});
	} catch (error) {
		await server?.close();
		throw error;
	}
	const full = Object.assign(deps, { clock, dir, server }) as unknown as TestDeps;
	full.app = createApp(full);
	full[Symbol.asyncDispose] = async () => {
		await deps.close();
		await server?.close();
		await Deno.remove(dir, { recursive: true }).catch(() => {});
	};
	return full;
}

function realClock(): TestClock {
	const clock = (() => new Date()) as TestClock;
	clock.set = () => {
		throw new Error("the real clock cannot be set");
	};
	clock.advance = () => {
		throw new Error("the real clock cannot be moved");
	};
	return clock;
}
