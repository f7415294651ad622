/**
 * A connection of its own to an embedded database file, outside the client's pool: the coalesced
 * report writer's (lib/db/reports.ts), whose `PRAGMA data_version` must not move with its own
 * commits. It is the `libsql` package's connection, as lib/db/local_client.ts pools them.
 */
// @ts-types="./libsql_types.d.ts"
import Database from "libsql";

/** A connection of the `libsql` package (better-sqlite3's interface). */
export type Connection = InstanceType<typeof Database>;
/** A statement prepared on a {@link Connection}. */
export type Statement = ReturnType<Connection["prepare"]>;

/** What the connection is opened with. */
export interface ConnectionOptions {
	/** SQLite's busy timeout, milliseconds. */
	timeout: number;
	/** Run on the connection before it is used (synchronous, mmap_size). */
	pragmas: readonly string[];
}

/**
 * Opens the connection, with the pragmas. The caller closes it, and opens another after a failed
 * statement (one the binding leaves in progress breaks every later commit: local_client.ts).
 */
export function embeddedConnection(path: string, options: ConnectionOptions): Connection {
	const connection = new Database(path, { timeout: options.timeout });
	try {
		for (const pragma of options.pragmas) connection.exec(pragma);
	} catch (error) {
		connection.close();
		throw error;
	}
	return connection;
}

/**
 * How long a commit of another process (or of a connection outside this process's pool and report
 * writer) may go unseen by a reader that watches `PRAGMA data_version`: the pragma is read at most
 * once per this many milliseconds. Reading it for every request cost ≈ 12 µs of each cached page
 * and of each progress report under load (CPU profiles, 2026-12-02); this process's own writes are
 * seen at once through {@link ProcessWrites}.
 */
export const OTHER_WRITERS_MS = 1;

/**
 * The writes this process made to an embedded database, counted as each completes: a reader that
 * caches what it read compares these counts on every use, and only another process's commits are
 * left to `PRAGMA data_version` ({@link ChangeWatch}). A count moves after the statement
 * returned (for an autocommit write, after its commit); one that may not have written (a
 * transaction rolled back) moves it too, which costs a reader one read again and nothing else.
 */
export class ProcessWrites {
	/** Statements of the client's pool that may have written, and their transactions' commits. */
	pool = 0;
	/** Batches the report writer committed on its own connection (lib/db/reports.ts). */
	reports = 0;
}

/**
 * Whether anything a reader cached may have changed since it last looked: the counts of this
 * process's writes it watches ({@link ProcessWrites}) or, for every other connection's commits, its
 * own connection's `PRAGMA data_version`, read at most once per {@link OTHER_WRITERS_MS}. Made
 * anew with each connection the reader opens, so the first look always says changed.
 */
export class ChangeWatch {
	readonly #pragma: Statement;
	readonly #writes: () => number;
	#version = -1;
	#readAgainAt = -Infinity;
	#seenVersion = -1;
	#seenWrites = -1;

	constructor(connection: Connection, writes: () => number) {
		// Its one value as an array: `get()` of a raw statement is the binding's cheapest call (≈ 2 µs,
		// a third of `all()`), and it resets the statement, so no read transaction stays open.
		this.#pragma = connection.prepare("PRAGMA data_version").raw();
		this.#writes = writes;
	}

	/** True at the first call, then whenever the watched counts or the pragma moved since the last. */
	changed(): boolean {
		const writes = this.#writes();
		const now = performance.now();
		if (now >= this.#readAgainAt) {
			this.#version = Number((this.#pragma.get() as [number])[0]);
			this.#readAgainAt = now + OTHER_WRITERS_MS;
		}
		if (writes === this.#seenWrites && this.#version === this.#seenVersion) return false;
		this.#seenWrites = writes;
		this.#seenVersion = this.#version;
		return true;
	}
}
