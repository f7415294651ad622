/** Opens the database (embedded libSQL file by default, or a remote libSQL server) and migrates it. */
import { type Client, createClient } from "@libsql/client";
import { sql } from "drizzle-orm";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import * as schema from "./schema.ts";
import { migrate } from "./migrate.ts";
import { privateFile, privateFolder, tightenIfPresent } from "../files.ts";

/** The drizzle database every query module takes as its first argument. */
export type Db = LibSQLDatabase<typeof schema>;

/** An open database; dispose it (or call `close`) to release the file. */
export interface Database extends AsyncDisposable {
	db: Db;
	client: Client;
	close(): void;
}

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
	url: string;
	authToken?: string;
	/** Milliseconds a write waits for another process's lock before failing. @default 5000 */
	busyTimeoutMs?: number;
	/**
	 * SQLite's synchronous level for an embedded database in WAL mode. NORMAL survives a crash of the
	 * process without losing anything and is several times faster per write; only a power or OS
	 * failure may lose the last commits (never corrupting the file). @default "NORMAL"
	 */
	synchronous?: "NORMAL" | "FULL";
	/** SQLite's memory map of an embedded database file, per connection (pages read through it count toward RSS). @default 0, none */
	mmapBytes?: number;
	/** SQLite's page cache per pooled connection, in KiB. @default SQLite's own, 2000 */
	cacheKiB?: number;
}

/** Connections the client keeps for an embedded database; each is given the pragmas at open. */
const POOL_SIZE = 8;

/**
 * No memory map of the database file by default: each pooled connection maps the file on its own,
 * so every page it read through the map counted in RSS once per connection (up to 8 × the file),
 * about 40 MiB of the bench's 12 MB database after its load (bench/RESULTS.md, "Memory levers");
 * reads then go through SQLite's page cache and the OS's.
 */
const MMAP_BYTES = 0;

/**
 * Opens the database, creating the parent folder (0700) and file (0600) of a `file:` database, switching an embedded
 * database to WAL (readers never wait for the writer), and applying pending migrations.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
	const local = options.url.startsWith("file:");
	const path = local ? options.url.slice("file:".length).replace(/^\/\/(localhost)?(?=\/)/, "") : "";
	if (local) {
		// Owner-only, whatever the umask: the database holds the secret that signs every token.
		// SQLite gives the -wal and -shm files the database file's own mode when it creates them.
		const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
		if (folder) await privateFolder(folder);
		await privateFile(path);
		for (const suffix of ["-wal", "-shm"]) await tightenIfPresent(`${path}${suffix}`);
	}
	const client = createClient(
		{
			url: options.url,
			authToken: options.authToken,
			// libSQL passes this to SQLite as the busy timeout of every pooled connection.
			timeout: options.busyTimeoutMs ?? 5000,
			concurrency: POOL_SIZE,
		} as Parameters<typeof createClient>[0],
	);
	try {
		if (local) {
			await client.execute("PRAGMA journal_mode=WAL");
			// PRAGMA synchronous is per connection and the client opens its pooled connections lazily:
			// borrowing all of them at once makes it open each, so every one gets the setting.
			const pragmas = [
				`PRAGMA synchronous=${options.synchronous ?? "NORMAL"}`,
				`PRAGMA mmap_size=${Math.floor(options.mmapBytes ?? MMAP_BYTES)}`,
				...(options.cacheKiB === undefined ? [] : [`PRAGMA cache_size=${-Math.floor(options.cacheKiB)}`]),
			];
			for (const pragma of pragmas) await Promise.all(Array.from({ length: POOL_SIZE }, () => client.execute(pragma)));
		}
		await migrate(client);
	} catch (error) {
		client.close();
		throw error;
	}
	const db = drizzle(client, { schema });
	const close = () => client.close();
	return { db, client, close, [Symbol.asyncDispose]: () => Promise.resolve(close()) };
}

/**
 * Builds a set of prepared statements once per database, for the hot paths (every request, every
 * progress callback): a prepared statement skips rebuilding its SQL on each call.
 */
export function preparedFor<T>(build: (db: Db) => T): (db: Db) => T {
	const cache = new WeakMap<Db, T>();
	return (db) => {
		let statements = cache.get(db);
		if (!statements) {
			statements = build(db);
			cache.set(db, statements);
		}
		return statements;
	};
}

/**
 * Whether an error (or one it wraps: drizzle wraps the driver's) is SQLite giving up on a lock
 * another writer held longer than the busy timeout. Callers answer it as a temporary outage.
 */
export function isDatabaseBusy(error: unknown): boolean {
	for (
		let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0;
		e && depth < 5;
		depth++
	) {
		if (e.code === "SQLITE_BUSY" || e.code === "SQLITE_LOCKED") return true;
		if (typeof e.message === "string" && /database is (locked|busy)/i.test(e.message)) return true;
		e = e.cause as typeof e;
	}
	return false;
}

const unwritableAt = new WeakMap<Db, number>();

/** Remembers that a write failed because the database cannot be written (see unwritableReason). */
export function noteUnwritable(db: Db, at: Date): void {
	unwritableAt.set(db, at.getTime());
}

/**
 * Whether a write failed that way within the last `withinMs`. /health reports it even when its
 * own small probe succeeds: SQLite can still fit a one-row write into pages the WAL already has
 * on a full disk, while the write a user asked for needs new ones.
 */
export function recentlyUnwritable(db: Db, now: Date, withinMs = 60_000): boolean {
	const at = unwritableAt.get(db);
	return at !== undefined && now.getTime() - at < withinMs;
}

/** Runs the cheapest query there is: resolves when the database answers, rejects when it cannot. */
export async function pingDatabase(db: Db): Promise<void> {
	await db.run(sql`SELECT 1`);
}
