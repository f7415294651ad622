/**
 * The part of the `libsql` package's API that local_client.ts uses. The package's own declarations
 * reference `@types/node` globally (`/// <reference types="node" />`), which replaces Deno's node
 * types for the whole program (node:assert's overloads among them), so they are not loaded.
 */
declare class Statement {
	raw(toggle?: boolean): this;
	safeIntegers(toggle?: boolean): this;
	columns(): Array<{ name: string; type: string | null }>;
	all(params?: unknown[] | Record<string, unknown>): unknown[];
	get(params?: unknown[] | Record<string, unknown>): unknown;
	run(params?: unknown[] | Record<string, unknown>): { changes: number; lastInsertRowid: number | bigint };
}

declare class SqliteError extends Error {
	code: string;
	rawCode?: number;
}

declare class Database {
	constructor(path: string, options?: { timeout?: number });
	readonly open: boolean;
	readonly inTransaction: boolean;
	prepare(sql: string): Statement;
	exec(sql: string): void;
	close(): void;
	static SqliteError: typeof SqliteError;
}

export default Database;
