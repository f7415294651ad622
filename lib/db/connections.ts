/**
 * The embedded database's connection pool, with one repair over @libsql/client's: a connection on
 * which a statement failed is closed when it goes back to the pool, instead of being lent again.
 *
 * Why: the `libsql` binding leaves a statement that failed mid-step (SQLITE_BUSY after the busy
 * timeout, most often) un-reset until the garbage collector finalizes it, so SQLite counts it as
 * "in progress" on its connection. Every later COMMIT on that connection then fails with "cannot
 * commit transaction - SQL statements in progress", and an autocommit write on it stays inside an
 * implicit transaction that nothing commits: one busy moment broke a pooled connection until the
 * process restarted (tests/db_test.ts reproduces it). A fresh connection costs about a millisecond.
 *
 * The pool also gives every connection it opens the per-connection pragmas (synchronous, mmap),
 * which the client would not do for the connections it opens later.
 */
import type { Client, IntMode } from "@libsql/client";
// @ts-types="./libsql_sqlite3.d.ts"
import { type Connection, ConnectionPool, Sqlite3Client, type Statement } from "@libsql/client/sqlite3";

export type { Connection, Statement };

/** What a pooled connection is opened with (the `libsql` package's options). */
export interface ConnectionOptions {
	/** SQLite's busy timeout, milliseconds. */
	timeout: number;
	/** Run on every connection the pool opens, before it is lent. */
	pragmas: readonly string[];
}

class RepairingPool extends ConnectionPool {
	readonly #known = new WeakSet<Connection>();
	readonly #broken = new WeakSet<Connection>();
	readonly #pragmas: readonly string[];

	constructor(path: string, options: ConnectionOptions, size: number) {
		super(path, { timeout: options.timeout }, size);
		this.#pragmas = options.pragmas;
	}

	override acquireSync(forTransaction = false): Connection {
		const connection = super.acquireSync(forTransaction);
		if (!this.#known.has(connection)) {
			this.#known.add(connection);
			this.#watch(connection);
			try {
				for (const pragma of this.#pragmas) connection.prepare(pragma).all();
			} catch (error) {
				this.release(connection);
				throw error;
			}
		}
		return connection;
	}

	override release(connection: Connection): void {
		if (this.#broken.has(connection) && connection.open) {
			// Rolled back by the close; the pool sees it closed and opens a new one when needed.
			try {
				if (connection.inTransaction) connection.prepare("ROLLBACK").run();
			} catch { /* closing discards it anyway */ }
			try {
				connection.close();
			} catch { /* already unusable */ }
		}
		super.release(connection);
	}

	/** Marks the connection broken when one of its statements throws while running. */
	#watch(connection: Connection): void {
		const prepare = connection.prepare.bind(connection);
		const broken = this.#broken;
		connection.prepare = ((sql: string) => {
			const statement: Statement = prepare(sql);
			for (const method of ["run", "get", "all"] as const) {
				const original = statement[method].bind(statement) as (...args: unknown[]) => unknown;
				(statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
					try {
						return original(...args);
					} catch (error) {
						broken.add(connection);
						throw error;
					}
				};
			}
			return statement;
		}) as typeof connection.prepare;
	}
}

/**
 * One connection of its own to an embedded database file, with the pragmas (the coalesced report
 * writer's: lib/db/reports.ts). The caller closes it, and opens another after a failed statement.
 */
export function embeddedConnection(path: string, options: ConnectionOptions): Connection {
	const connection = new ConnectionPool(path, { timeout: options.timeout }, 1).acquireSync();
	try {
		for (const pragma of options.pragmas) connection.prepare(pragma).all();
	} catch (error) {
		connection.close();
		throw error;
	}
	return connection;
}

/** A client over an embedded database file, on the repairing pool of `size` connections. */
export function embeddedClient(path: string, options: ConnectionOptions & { size: number }): Client {
	const pool = new RepairingPool(path, options, options.size);
	// Fails fast, as createClient does, when the file cannot be opened.
	const probe = pool.acquireSync();
	pool.release(probe);
	return new Sqlite3Client(pool, "number" satisfies IntMode);
}
