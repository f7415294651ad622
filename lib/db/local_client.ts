/**
 * The embedded database's client: `@libsql/client`'s `Client` over the `libsql` package's
 * synchronous API (the engine `@libsql/client` itself uses for `file:` URLs), keeping every
 * connection's statements prepared. `@libsql/client` prepares each statement anew on every call
 * (`sqlite3_prepare`, then reading its columns twice) and builds each row with a property
 * definition per value; on a dashboard request that was a quarter of the CPU. Drizzle and
 * lib/db see the same interface, so remote libSQL URLs keep `@libsql/client` (client.ts).
 *
 * The connection pool keeps `@libsql/client`'s rules (0.18): every call but a transaction borrows a
 * connection for one synchronous step; a transaction holds its own until it settles, and a
 * connection never goes back to the pool inside a transaction. Values go in and come out as there
 * (integers as numbers, refusing ones a number cannot hold; booleans as 0/1; dates as epoch ms),
 * and SQLite's errors become `LibsqlError`s with the same codes.
 */
// @ts-types="./libsql_types.d.ts"
import Database from "libsql";
import { Buffer } from "node:buffer";
import {
	type Client,
	type InArgs,
	type InStatement,
	LibsqlBatchError,
	LibsqlError,
	type ResultSet,
	type Row,
	type Transaction,
	type TransactionMode,
} from "@libsql/client";
import { ProcessWrites } from "./connections.ts";

type Connection = InstanceType<typeof Database>;
type Statement = ReturnType<Connection["prepare"]>;

/** Statements a connection keeps prepared; past this the oldest is dropped (queries built per request vary). */
const STATEMENTS_PER_CONNECTION = 256;

/** The values of a row, for the positional reads drizzle makes (`row[0]`, `Array.prototype.slice.call(row)`). */
const VALUES = Symbol("values");

/** A statement as prepared once on a connection, with what every execution of it needs. */
interface Prepared {
	statement: Statement;
	/** Whether it returns rows (a SELECT, a write with RETURNING). */
	reader: boolean;
	/** Whether it may write (counted in {@link ProcessWrites} after it ran). */
	writes: boolean;
	columns: string[];
	columnTypes: string[];
	/** The prototype of its rows: indices and `length` read the values; names are the row's own properties. */
	rowPrototype: object;
	/** Each column's first index under its name (a later column of the same name is reached by index only). */
	named: Array<[string, number]>;
}

/** Connection options as `libsql` takes them. */
export interface LocalClientOptions {
	/** The database file's path (or `:memory:`). */
	path: string;
	/** Milliseconds a connection waits for another's lock (SQLite's busy timeout). */
	timeout: number;
	/** Connections the pool may open. */
	concurrency: number;
	/** Run on every connection the pool opens (per-connection settings: synchronous, mmap_size). */
	pragmas?: readonly string[];
	/** Where the statements that may have written are counted (see {@link ProcessWrites}). */
	writes?: ProcessWrites;
}

/** Opens the client; fails at once when the file cannot be opened. */
export function createLocalClient(options: LocalClientOptions): Client {
	const memory = options.path === ":memory:" || options.path.includes("mode=memory");
	// An in-memory database exists only on the connection that opened it.
	const pool = new Pool(
		options.path,
		options.timeout,
		memory ? 1 : Math.max(1, options.concurrency),
		options.pragmas ?? [],
		options.writes ?? new ProcessWrites(),
	);
	const probe = pool.take();
	try {
		run(probe, "SELECT 1");
	} catch (error) {
		pool.close();
		throw error;
	}
	pool.give(probe);
	return new LocalClient(pool);
}

/**
 * One open connection and the statements prepared on it. A connection on which a statement failed
 * busy is `broken` and closed when it goes back to the pool: the `libsql` binding leaves a statement
 * that failed mid-step (SQLITE_BUSY after the busy timeout, most often) un-reset, so SQLite counts
 * it as in progress, and every later COMMIT on that connection would fail with "cannot commit
 * transaction - SQL statements in progress" (tests/local_client_test.ts reproduces it). Kept prepared, such a
 * statement would never be finalized; a fresh connection costs about a millisecond.
 */
class PooledConnection {
	readonly db: Connection;
	readonly prepared = new Map<string, Prepared>();
	broken = false;
	constructor(path: string, timeout: number, pragmas: readonly string[], readonly writes: ProcessWrites) {
		this.db = new Database(path, { timeout });
		try {
			for (const pragma of pragmas) this.db.exec(pragma);
		} catch (error) {
			this.db.close();
			throw mapSqliteError(error);
		}
	}
}

class Pool {
	#idle: PooledConnection[] = [];
	#borrowed = new Set<PooledConnection>();
	#heldByTransaction = new Set<PooledConnection>();
	#waiters: Array<{ resolve: (c: PooledConnection) => void; reject: (e: unknown) => void; tx: boolean }> = [];
	closed = false;

	constructor(
		readonly path: string,
		readonly timeout: number,
		readonly max: number,
		readonly pragmas: readonly string[],
		readonly writes: ProcessWrites,
	) {}

	/** A connection now, opening one if none is idle; only when the pool is not at its limit. */
	take(forTransaction = false): PooledConnection {
		if (this.closed) throw new LibsqlError("The client is closed", "CLIENT_CLOSED");
		const connection = this.#idle.pop() ?? new PooledConnection(this.path, this.timeout, this.pragmas, this.writes);
		this.#borrowed.add(connection);
		if (forTransaction) this.#heldByTransaction.add(connection);
		return connection;
	}

	/** Whether {@link take} would have to wait for a connection to come back. */
	get full(): boolean {
		return !this.closed && this.#idle.length === 0 && this.#borrowed.size >= this.max;
	}

	/** A connection, waiting for one to be given back when all are borrowed. */
	borrow(forTransaction = false): Promise<PooledConnection> {
		if (!this.full) {
			try {
				return Promise.resolve(this.take(forTransaction));
			} catch (error) {
				return Promise.reject(error);
			}
		}
		if (this.#heldByTransaction.size >= this.max) {
			return Promise.reject(
				new LibsqlError(
					`All ${this.max} of this client's connections are held by open transactions. ` +
						"Commit or roll back one before using the client again, or raise `concurrency`.",
					"TRANSACTION_ACTIVE",
				),
			);
		}
		return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject, tx: forTransaction }));
	}

	/**
	 * Gives a connection back (rolling back a transaction left open), or to the first waiter; a
	 * broken or closed one is closed, and a waiter then gets a new connection in its place.
	 */
	give(connection: PooledConnection): void {
		this.#borrowed.delete(connection);
		this.#heldByTransaction.delete(connection);
		const db = connection.db;
		let usable = !this.closed && db.open && !connection.broken;
		if (db.open && db.inTransaction) {
			try {
				db.exec("ROLLBACK");
			} catch {
				usable = false;
			}
		}
		if (!usable) {
			closeQuietly(connection);
			if (!this.closed) this.#replaceForWaiter();
			return;
		}
		const waiter = this.#waiters.shift();
		if (waiter) {
			this.#borrowed.add(connection);
			if (waiter.tx) this.#heldByTransaction.add(connection);
			waiter.resolve(connection);
		} else {
			this.#idle.push(connection);
		}
	}

	/** The first waiter, if any, gets a connection opened for it (the one it waited for was closed). */
	#replaceForWaiter(): void {
		const waiter = this.#waiters.shift();
		if (!waiter) return;
		try {
			waiter.resolve(this.take(waiter.tx));
		} catch (error) {
			waiter.reject(error);
		}
	}

	close(): void {
		this.closed = true;
		for (const connection of [...this.#idle, ...this.#borrowed]) closeQuietly(connection);
		this.#idle = [];
		this.#borrowed.clear();
		this.#heldByTransaction.clear();
		const waiters = this.#waiters;
		this.#waiters = [];
		for (const waiter of waiters) waiter.reject(new LibsqlError("The client is closed", "CLIENT_CLOSED"));
	}
}

function closeQuietly(connection: PooledConnection): void {
	try {
		connection.prepared.clear();
		if (connection.db.open) connection.db.close();
	} catch {
		// nothing useful to do while tearing down
	}
}

function transactionBegin(mode: TransactionMode): string {
	if (mode === "write") return "BEGIN IMMEDIATE";
	if (mode === "read") return "BEGIN TRANSACTION READONLY";
	if (mode === "deferred") return "BEGIN DEFERRED";
	throw new RangeError('Unknown transaction mode, supported values are "write", "read" and "deferred"');
}

class LocalClient implements Client {
	closed = false;
	readonly protocol = "file";
	#pool: Pool;

	constructor(pool: Pool) {
		this.#pool = pool;
	}

	/** Runs `work` on a borrowed connection: at once when one is idle (the usual case), else when one comes back. */
	#with<T>(work: (connection: PooledConnection) => T): Promise<T> {
		this.#checkOpen();
		if (!this.#pool.full) {
			let connection: PooledConnection;
			try {
				connection = this.#pool.take();
			} catch (error) {
				return Promise.reject(error);
			}
			try {
				return Promise.resolve(work(connection));
			} catch (error) {
				return Promise.reject(error);
			} finally {
				this.#pool.give(connection);
			}
		}
		return this.#pool.borrow().then((connection) => {
			try {
				this.#checkUsable(connection);
				return work(connection);
			} finally {
				this.#pool.give(connection);
			}
		});
	}

	execute(stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> {
		const stmt = typeof stmtOrSql === "string" ? { sql: stmtOrSql, args: args ?? [] } : stmtOrSql;
		return this.#with((connection) => execute(connection, stmt));
	}

	batch(stmts: Array<InStatement | [string, InArgs?]>, mode: TransactionMode = "deferred"): Promise<ResultSet[]> {
		return this.#with((connection) => {
			run(connection, transactionBegin(mode));
			const results = batch(connection, stmts);
			run(connection, "COMMIT");
			return results;
		});
	}

	migrate(stmts: InStatement[]): Promise<ResultSet[]> {
		return this.#with((connection) => {
			run(connection, "PRAGMA foreign_keys=off");
			try {
				run(connection, transactionBegin("deferred"));
				const results = batch(connection, stmts);
				run(connection, "COMMIT");
				return results;
			} finally {
				if (connection.db.inTransaction) run(connection, "ROLLBACK");
				run(connection, "PRAGMA foreign_keys=on");
			}
		});
	}

	async transaction(mode: TransactionMode = "write"): Promise<Transaction> {
		this.#checkOpen();
		const connection = await this.#pool.borrow(true);
		try {
			this.#checkUsable(connection);
			run(connection, transactionBegin(mode));
		} catch (error) {
			this.#pool.give(connection);
			throw error;
		}
		return new LocalTransaction(connection, (used) => this.#pool.give(used));
	}

	executeMultiple(sql: string): Promise<void> {
		return this.#with((connection) => executeMultiple(connection, sql));
	}

	sync(): Promise<undefined> {
		return Promise.reject(
			new LibsqlError("An embedded database without a sync URL does not sync", "SYNC_NOT_SUPPORTED"),
		);
	}

	reconnect(): Promise<void> {
		this.#pool.close();
		this.#pool = new Pool(this.#pool.path, this.#pool.timeout, this.#pool.max, this.#pool.pragmas, this.#pool.writes);
		this.closed = false;
		return Promise.resolve();
	}

	close(): void {
		this.closed = true;
		this.#pool.close();
	}

	#checkOpen(): void {
		if (this.closed) throw new LibsqlError("The client is closed", "CLIENT_CLOSED");
	}

	/** `close()` can land between a borrow and its work: say so instead of reaching a closed handle. */
	#checkUsable(connection: PooledConnection): void {
		this.#checkOpen();
		if (!connection.db.open) {
			throw new LibsqlError("The connection was closed while this operation was in flight", "CLIENT_CLOSED");
		}
	}
}

class LocalTransaction implements Transaction {
	#connection: PooledConnection | null;
	#release: (connection: PooledConnection) => void;

	constructor(connection: PooledConnection, release: (connection: PooledConnection) => void) {
		this.#connection = connection;
		this.#release = release;
	}

	#settle(): void {
		const connection = this.#connection;
		if (connection === null) return;
		this.#connection = null;
		this.#release(connection);
	}

	#open(): PooledConnection {
		if (this.closed) throw new LibsqlError("The transaction is closed", "TRANSACTION_CLOSED");
		return this.#connection!;
	}

	execute(stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> {
		try {
			const stmt = typeof stmtOrSql === "string" ? { sql: stmtOrSql, args: args ?? [] } : stmtOrSql;
			return Promise.resolve(execute(this.#open(), stmt));
		} catch (error) {
			return Promise.reject(error);
		}
	}

	batch(stmts: InStatement[]): Promise<ResultSet[]> {
		try {
			return Promise.resolve(batch(this.#open(), stmts));
		} catch (error) {
			return Promise.reject(error);
		}
	}

	executeMultiple(sql: string): Promise<void> {
		try {
			executeMultiple(this.#open(), sql);
			return Promise.resolve();
		} catch (error) {
			return Promise.reject(error);
		}
	}

	rollback(): Promise<void> {
		const connection = this.#connection;
		try {
			if (connection !== null && connection.db.open && connection.db.inTransaction) run(connection, "ROLLBACK");
			return Promise.resolve();
		} catch (error) {
			return Promise.reject(error);
		} finally {
			this.#settle();
		}
	}

	commit(): Promise<void> {
		try {
			run(this.#open(), "COMMIT");
			return Promise.resolve();
		} catch (error) {
			return Promise.reject(error);
		} finally {
			this.#settle();
		}
	}

	close(): void {
		const connection = this.#connection;
		if (connection === null) return;
		try {
			// Reading `inTransaction` of a closed database aborts the process.
			if (connection.db.open && connection.db.inTransaction) run(connection, "ROLLBACK");
		} finally {
			this.#settle();
		}
	}

	get closed(): boolean {
		const connection = this.#connection;
		return connection === null || !connection.db.open || !connection.db.inTransaction;
	}
}

/** The statement prepared on this connection for `sql`, preparing it the first time. */
function prepared(connection: PooledConnection, sql: string): Prepared {
	const cache = connection.prepared;
	const found = cache.get(sql);
	if (found) return found;
	const statement = connection.db.prepare(sql);
	statement.safeIntegers(true);
	let reader = true;
	try {
		statement.raw(true);
	} catch {
		// raw() throws for a statement that returns no rows
		reader = false;
	}
	const described = reader ? statement.columns() : [];
	const columns = described.map((c) => c.name);
	const rowPrototype: PropertyDescriptorMap = {
		length: { value: columns.length },
	};
	for (let i = 0; i < columns.length; i++) {
		rowPrototype[i] = {
			get(this: { [VALUES]: unknown[] }) {
				return this[VALUES][i];
			},
		};
	}
	const named: Array<[string, number]> = [];
	const seen = new Set<string>();
	columns.forEach((name, i) => {
		if (!seen.has(name)) named.push([name, i]);
		seen.add(name);
	});
	const entry: Prepared = {
		statement,
		reader,
		writes: mayWrite(sql),
		columns,
		columnTypes: described.map((c) => c.type ?? ""),
		rowPrototype: Object.create(Object.prototype, rowPrototype),
		named,
	};
	if (cache.size >= STATEMENTS_PER_CONNECTION) cache.delete(cache.keys().next().value!);
	cache.set(sql, entry);
	return entry;
}

/**
 * Whether a statement may write, from its text: anything but a query (a `SELECT`, `VALUES`,
 * `EXPLAIN`, or a `WITH` that has no `INSERT`, `UPDATE`, `DELETE` or `REPLACE`). Transaction control
 * and pragmas count as writes: a count too many costs a reader one read again.
 */
function mayWrite(sql: string): boolean {
	const first = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase();
	if (first === "SELECT" || first === "VALUES" || first === "EXPLAIN") return false;
	if (first === "WITH") return /\b(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql);
	return true;
}

function run(connection: PooledConnection, sql: string): ResultSet {
	return execute(connection, { sql, args: [] });
}

function execute(connection: PooledConnection, stmt: InStatement): ResultSet {
	const sql = typeof stmt === "string" ? stmt : stmt.sql;
	const args = typeof stmt === "string" ? [] : argsToSql(stmt.args);
	try {
		let p = prepared(connection, sql);
		if (p.reader) {
			let raw = p.statement.all(args) as unknown[][];
			// SQLite re-prepares a statement after a schema change by itself; a `SELECT *` kept from
			// before then returns more (or fewer) columns than were read at its preparation.
			if (raw.length > 0 && raw[0]!.length !== p.columns.length) {
				connection.prepared.delete(sql);
				p = prepared(connection, sql);
				raw = p.statement.all(args) as unknown[][];
			}
			if (p.writes) connection.writes.pool++;
			const rows = new Array<Row>(raw.length);
			for (let r = 0; r < raw.length; r++) rows[r] = rowOf(p, raw[r]!);
			return resultSet(p.columns, p.columnTypes, rows, 0, undefined);
		}
		const info = p.statement.run(args);
		if (p.writes) connection.writes.pool++;
		return resultSet([], [], [], info.changes, BigInt(info.lastInsertRowid));
	} catch (error) {
		throw failure(connection, error);
	}
}

/**
 * The error to throw for a statement that failed on `connection`. SQLITE_BUSY and SQLITE_LOCKED
 * are the failures SQLite lets a statement retry, so it keeps the statement running rather than
 * halting it, and the binding never resets it: the connection is then broken (see
 * {@link PooledConnection}). Other failures halt their statement and leave the connection as it was.
 */
function failure(connection: PooledConnection, error: unknown): unknown {
	const mapped = mapSqliteError(error);
	if (mapped instanceof LibsqlError && (mapped.code === "SQLITE_BUSY" || mapped.code === "SQLITE_LOCKED")) {
		connection.broken = true;
	}
	return mapped;
}

/** The statements in turn; a failure names its statement's index (`LibsqlBatchError`), as `@libsql/client`'s does. */
function batch(connection: PooledConnection, stmts: Array<InStatement | [string, InArgs?]>): ResultSet[] {
	return stmts.map((stmt, i) => {
		if (!connection.db.inTransaction) {
			throw new LibsqlBatchError("The transaction has been rolled back", i, "TRANSACTION_CLOSED");
		}
		try {
			return execute(connection, Array.isArray(stmt) ? { sql: stmt[0], args: stmt[1] ?? [] } : stmt);
		} catch (error) {
			if (error instanceof LibsqlBatchError || !(error instanceof LibsqlError)) throw error;
			throw new LibsqlBatchError(
				error.message,
				i,
				error.code,
				error.extendedCode,
				error.rawCode,
				error.cause instanceof Error ? error.cause : undefined,
			);
		}
	});
}

function executeMultiple(connection: PooledConnection, sql: string): void {
	try {
		connection.db.exec(sql);
		connection.writes.pool++;
	} catch (error) {
		throw failure(connection, error);
	}
}

/** A row: its columns by name as own properties (the first of a repeated name), and by index through its prototype. */
function rowOf(p: Prepared, raw: unknown[]): Row {
	for (let i = 0; i < raw.length; i++) raw[i] = valueFromSql(raw[i]);
	const row = Object.create(p.rowPrototype) as Record<string | symbol, unknown>;
	Object.defineProperty(row, VALUES, { value: raw });
	for (const [name, i] of p.named) row[name] = raw[i];
	return row as unknown as Row;
}

function resultSet(
	columns: string[],
	columnTypes: string[],
	rows: Row[],
	rowsAffected: number,
	lastInsertRowid: bigint | undefined,
): ResultSet {
	return {
		columns,
		columnTypes,
		rows,
		rowsAffected,
		lastInsertRowid,
		toJSON() {
			return {
				columns,
				columnTypes,
				rows: rows.map((row) => Array.prototype.map.call(row, (v) => typeof v === "bigint" ? `${v}` : v)),
				rowsAffected,
				lastInsertRowid: lastInsertRowid !== undefined ? `${lastInsertRowid}` : null,
			};
		},
	};
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_INTEGER = -9223372036854775808n;
const MAX_INTEGER = 9223372036854775807n;

function valueFromSql(value: unknown): unknown {
	if (typeof value === "bigint") {
		if (value < MIN_SAFE || value > MAX_SAFE) {
			throw new RangeError("Received integer which cannot be safely represented as a JavaScript number");
		}
		return Number(value);
	}
	if (value instanceof Buffer) return value.buffer;
	return value;
}

function argsToSql(args: InArgs | undefined): unknown[] | Record<string, unknown> {
	if (args === undefined) return [];
	if (Array.isArray(args)) return args.map(valueToSql);
	const named: Record<string, unknown> = {};
	for (const name in args) {
		const key = name[0] === "@" || name[0] === "$" || name[0] === ":" ? name.substring(1) : name;
		named[key] = valueToSql(args[name]);
	}
	return named;
}

function valueToSql(value: unknown): unknown {
	if (typeof value === "number") {
		if (!Number.isFinite(value)) {
			throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
		}
		return value;
	}
	if (typeof value === "bigint") {
		if (value < MIN_INTEGER || value > MAX_INTEGER) {
			throw new RangeError("bigint is too large to be represented as a 64-bit integer and passed as argument");
		}
		return value;
	}
	if (typeof value === "boolean") return value ? 1 : 0;
	if (value instanceof ArrayBuffer) return Buffer.from(value);
	if (value instanceof Date) return value.valueOf();
	if (value === undefined) throw new TypeError("undefined cannot be passed as argument to the database");
	return value;
}

const SQLITE_CODES: Record<number, string> = {
	1: "SQLITE_ERROR",
	2: "SQLITE_INTERNAL",
	3: "SQLITE_PERM",
	4: "SQLITE_ABORT",
	5: "SQLITE_BUSY",
	6: "SQLITE_LOCKED",
	7: "SQLITE_NOMEM",
	8: "SQLITE_READONLY",
	9: "SQLITE_INTERRUPT",
	10: "SQLITE_IOERR",
	11: "SQLITE_CORRUPT",
	12: "SQLITE_NOTFOUND",
	13: "SQLITE_FULL",
	14: "SQLITE_CANTOPEN",
	15: "SQLITE_PROTOCOL",
	16: "SQLITE_EMPTY",
	17: "SQLITE_SCHEMA",
	18: "SQLITE_TOOBIG",
	19: "SQLITE_CONSTRAINT",
	20: "SQLITE_MISMATCH",
	21: "SQLITE_MISUSE",
	22: "SQLITE_NOLFS",
	23: "SQLITE_AUTH",
	24: "SQLITE_FORMAT",
	25: "SQLITE_RANGE",
	26: "SQLITE_NOTADB",
	27: "SQLITE_NOTICE",
	28: "SQLITE_WARNING",
};

/** The name of a SQLite result code's primary part (`SQLITE_BUSY` for SQLITE_BUSY_SNAPSHOT's 517). */
export function sqliteCodeName(rawCode: number): string {
	return SQLITE_CODES[rawCode & 0xff] ?? `SQLITE_UNKNOWN_${rawCode & 0xff}`;
}

/** SQLite's error as `@libsql/client` reports it: base code (`SQLITE_BUSY`), extended code, raw code. */
function mapSqliteError(error: unknown): unknown {
	if (error instanceof Database.SqliteError) {
		const e = error as Error & { code: string; rawCode?: number };
		const code = e.rawCode === undefined ? "SQLITE_UNKNOWN" : sqliteCodeName(e.rawCode);
		return new LibsqlError(e.message, code, e.code, e.rawCode, e);
	}
	return error;
}
