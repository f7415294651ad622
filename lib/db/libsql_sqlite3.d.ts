/**
 * The few declarations lib/db/connections.ts uses from `@libsql/client/sqlite3`. Its own types
 * bring the `libsql` package's, which reference @types/node globally and change how `node:assert`
 * type-checks in every test; these say only what is used.
 */
import type { Client, IntMode } from "@libsql/client";

/** A connection of the `libsql` package (better-sqlite3's interface). */
export interface Connection {
	readonly open: boolean;
	readonly inTransaction: boolean;
	prepare(sql: string): Statement;
	close(): void;
}

export interface Statement {
	run(...args: unknown[]): { changes: number };
	get(...args: unknown[]): unknown;
	all(...args: unknown[]): unknown[];
	/** Rows as arrays of values instead of objects (the same statement, returned). */
	raw(toggle?: boolean): Statement;
}

export declare class ConnectionPool {
	constructor(path: string, options: { timeout?: number }, maxConnections: number);
	acquire(forTransaction?: boolean): Promise<Connection>;
	acquireSync(forTransaction?: boolean): Connection;
	release(db: Connection): void;
	close(): void;
	reopen(): void;
}

export declare class Sqlite3Client implements Client {
	constructor(pool: ConnectionPool, intMode: IntMode);
	execute: Client["execute"];
	batch: Client["batch"];
	migrate: Client["migrate"];
	transaction: Client["transaction"];
	executeMultiple: Client["executeMultiple"];
	sync: Client["sync"];
	reconnect: Client["reconnect"];
	close: Client["close"];
	closed: boolean;
	protocol: string;
}
