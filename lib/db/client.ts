/**
 * Opens the database (embedded libSQL file by default, or a remote libSQL server) and migrates it:
 * one interface (drizzle over `@libsql/client`'s `Client`), two engines — a file through
 * local_client.ts (statements kept prepared), a remote URL through `@libsql/client`.
 */
import { type Client, createClient } from "@libsql/client";
import { type SQL, sql } from "drizzle-orm";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import * as schema from "./schema.ts";
import { createLocalClient } from "./local_client.ts";
import { migrate } from "./migrate.ts";
import { type Connection, embeddedConnection, ProcessWrites } from "./connections.ts";
import { privateFile, privateFolder, tightenIfPresent } from "../files.ts";

/** The drizzle database every query module takes as its first argument. */
export type Db = LibSQLDatabase<typeof schema>;

/** An open database; dispose it (or call `close`) to release the file. */
export interface Database extends AsyncDisposable {
	db: Db;
	client: Client;
	/**
	 * Opens a connection of its own for the coalesced report writer (lib/db/reports.ts): its `PRAGMA
	 * data_version` moves exactly when another connection (this process's pool or another process)
	 * commits, and it keeps its statements prepared. Closed with the database. Undefined for a
	 * libSQL server, where a report batch goes through {@link client}.
	 */
	writer?: () => Connection;
	/**
	 * This process's writes to an embedded file, counted as they complete (the pool's and the
	 * report writer's): what readers of their own connection compare before trusting what they
	 * cached. Undefined for a libSQL server.
	 */
	writes?: ProcessWrites;
	close(): void;
}

/** Options for {@link openDatabase}. */
export interface OpenDatabaseOptions {
	url: string;
	authToken?: string;
	/**
	 * Milliseconds a write waits for another process's lock before failing, on an embedded file. A
	 * libSQL server waits as long as it is configured to: `@libsql/client`'s HTTP client sends no
	 * timeout. @default 5000
	 */
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
	const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
	const pragmas = [
		`PRAGMA synchronous=${options.synchronous ?? "NORMAL"}`,
		`PRAGMA mmap_size=${Math.floor(options.mmapBytes ?? MMAP_BYTES)}`,
		...(options.cacheKiB === undefined ? [] : [`PRAGMA cache_size=${-Math.floor(options.cacheKiB)}`]),
	];
	// The coalesced report writer gets a connection of its own on a plain file; on anything else (a
	// server, an in-memory database, a URL with options) it writes through the client.
	const plainFile = local && path !== "" && !/[?#]/.test(path) && !path.includes(":memory:");
	// The local client gives every connection it opens the per-connection pragmas; libSQL passes the
	// timeout to SQLite as the busy timeout of every pooled connection.
	const writes = local ? (plainFile ? processWritesOf(path) : new ProcessWrites()) : undefined;
	const released = () => {
		if (plainFile) releaseProcessWrites(path);
	};
	let client: Client;
	try {
		client = local
			? createLocalClient({ path, timeout: busyTimeoutMs, concurrency: POOL_SIZE, pragmas, writes })
			: createClient(
				{
					url: options.url,
					authToken: options.authToken,
					timeout: busyTimeoutMs,
					concurrency: POOL_SIZE,
				} as Parameters<
					typeof createClient
				>[0],
			);
	} catch (error) {
		released();
		throw error;
	}
	let writer: (() => Connection) | undefined;
	const writerConnections = new Set<Connection>();
	try {
		if (local) {
			await client.execute("PRAGMA journal_mode=WAL");
		}
		await migrate(client);
		if (plainFile) {
			writer = () => {
				for (const old of writerConnections) if (!old.open) writerConnections.delete(old);
				const connection = embeddedConnection(path, { timeout: busyTimeoutMs, pragmas });
				writerConnections.add(connection);
				return connection;
			};
		}
	} catch (error) {
		client.close();
		released();
		throw local ? error : unreachable(options.url, error);
	}
	const db = drizzle(client, { schema });
	if (writer) ownConnections.set(db, { open: writer, writes: writes! });
	const close = () => {
		// No connection of its own is opened after this (nothing would close it).
		ownConnections.delete(db);
		for (const connection of writerConnections) {
			try {
				if (connection.open) connection.close();
			} catch { /* closing anyway */ }
		}
		client.close();
	};
	return { db, client, writer, writes, close, [Symbol.asyncDispose]: () => Promise.resolve(close()) };
}

/**
 * The count of this process's writes to each open database file, shared by every client this
 * process opened on it (a second openDatabase of the same file is this process too, and its
 * writes are seen at once), with how many are open.
 */
const processWrites = new Map<string, { writes: ProcessWrites; open: number }>();

function processWritesOf(path: string): ProcessWrites {
	let entry = processWrites.get(path);
	if (!entry) processWrites.set(path, entry = { writes: new ProcessWrites(), open: 0 });
	entry.open++;
	return entry.writes;
}

function releaseProcessWrites(path: string): void {
	const entry = processWrites.get(path);
	if (entry && --entry.open === 0) processWrites.delete(path);
}

/** The opener of connections of their own (see {@link Database.writer}) and the process's writes, by database. */
const ownConnections = new WeakMap<Db, { open: () => Connection; writes: ProcessWrites }>();

/**
 * Opens a connection of its own to an embedded database file (closed with the database), for a
 * reader that must see every commit: this process's through the counts of its writes, every
 * other connection's through the connection's `PRAGMA data_version` (lib/db/app_state.ts);
 * undefined for a libSQL server and once the database is closed.
 */
export function ownConnection(db: Db): { connection: Connection; writes: ProcessWrites } | undefined {
	const own = ownConnections.get(db);
	return own && { connection: own.open(), writes: own.writes };
}

/**
 * The error of a libSQL server that refused or could not be reached at start, in words an operator
 * acts on (the client's own says "SERVER_ERROR: Server returned HTTP status 401"); the client's is
 * its cause. The URL is shown without its query, where a token may be.
 */
function unreachable(url: string, error: unknown): unknown {
	const where = url.replace(/[?#].*$/, "");
	const status = httpStatusOf(error);
	if (status === 401 || status === 403) {
		return new Error(
			`The database server at ${where} refused the portal's credentials (HTTP ${status}): ` +
				"check DATABASE_AUTH_TOKEN.",
			{ cause: error },
		);
	}
	if (status !== undefined) {
		return new Error(`The database server at ${where} answered HTTP ${status} at start.`, { cause: error });
	}
	// fetch's TypeError for a refused connection or an unknown host (not any TypeError: a bug is not an outage).
	const network = error instanceof TypeError && /error sending request|connect|dns|fetch failed/i.test(error.message);
	if (network || (error as { code?: unknown })?.code === "HRANA_WEBSOCKET_ERROR") {
		return new Error(`The database server at ${where} could not be reached: ${(error as Error).message}`, {
			cause: error,
		});
	}
	return error;
}

/** The HTTP status a libSQL server answered, on the error or one it wraps. */
function httpStatusOf(error: unknown): number | undefined {
	for (let e = error as { status?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
		if (typeof e.status === "number") return e.status;
		e = e.cause as typeof e;
	}
	return undefined;
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
 * The values of a JSON array given to a prepared statement's placeholder `name`, as a subquery for
 * `inArray(column, …)`: one statement (one SQL text, prepared once) serves a list of any length,
 * where a list of bound values makes a new statement per length.
 */
export function jsonListOf(name: string): SQL {
	return sql`(SELECT value FROM json_each(${sql.placeholder(name)}))`;
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
