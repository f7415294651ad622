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
