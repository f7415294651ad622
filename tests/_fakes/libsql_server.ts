/**
 * A libSQL server for the tests: a STAND-IN FOR `sqld`, which cannot be installed here (no npm
 * package ships it, cargo cannot fetch crates, there is no Docker, and `turso`'s `tursodb
 * --sync-server` answers without batons, so `@libsql/client` fails on its first call against it).
 * The portal's remote-URL path (`http://`, `https://`, `libsql://` in DATABASE_URL) goes through
 * `@libsql/client`'s HTTP client; this server answers what that client sends, over a REAL SQLite
 * engine (the `libsql` package's connections, on a database file), so what the tests check is
 * SQLite's own behaviour, reached the way a libSQL server is reached.
 *
 * What it implements, as `@libsql/hrana-client` 0.10 (the version `@libsql/client` 0.18 pins) speaks it:
 * - Hrana 2 over HTTP with JSON (`POST /v2/pipeline`; `GET /v2` answers 200). `@libsql/client` 0.18
 *   asks for nothing else over HTTP: it opens the HTTP client at protocol version 2, so there is no
 *   v3 (protobuf, cursors) here, and `GET /v3-protobuf` is a 404 as on a server without it.
 * - Streams with batons: each stream holds one SQLite connection of its own from its first request
 *   until `close` (or 10 s without a request, as sqld expires them), so interactive transactions
 *   (BEGIN on one HTTP request, COMMIT on a later one) work; every response hands a new baton and
 *   the old one is refused (a 400) like an unknown or expired one.
 * - Requests `execute`, `batch` (step conditions `ok`, `error`, `not`, `and`, `or`,
 *   `is_autocommit`; a failed step does not stop the batch), `sequence`, `store_sql` / `close_sql`
 *   (statements by `sql_id`), `get_autocommit`, `close`. Not `describe` (the client never sends it):
 *   it is answered as an error.
 * - Values as Hrana types them: integers as decimal strings (SQLite's 64-bit integers, never
 *   rounded), floats, text, base64 blobs, null; positional and named arguments.
 * - Errors with SQLite's base codes (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, …) and SQLite's message.
 * - `Authorization: Bearer <token>` compared with the server's token (sqld checks a JWT's signature;
 *   here any other value, or none, is a 401 with a plain-text reason, as sqld refuses one).
 * Idle connections are kept for the next stream; one on which a statement failed is closed instead
 * (the `libsql` binding leaves a statement that failed mid-step in progress: lib/db/local_client.ts).
 *
 * Where it differs from sqld: it runs in the test's own process, on one thread, so SQLite's busy
 * wait on one of its connections (another stream, or another process, holding the write lock)
 * blocks the whole server until the lock is free or the busy timeout passes — as the portal's own
 * pool does on an embedded file; sqld waits on other threads. Its busy timeout is the server's own
 * (`busyTimeoutMs`), not the client's, as with sqld.
 */
// @ts-types="../../lib/db/libsql_types.d.ts"
import Database from "libsql";
import { Buffer } from "node:buffer";
import { sqliteCodeName } from "../../lib/db/local_client.ts";

type Connection = InstanceType<typeof Database>;

/** How long a stream may go without a request before it is closed (sqld: 10 s). */
const STREAM_IDLE_MS = 10_000;

export interface LibsqlServerOptions {
	/** The SQLite database file the server serves. */
	path: string;
	/** The bearer token every request must carry; undefined lets any request in (sqld without auth). */
	token?: string;
	/** SQLite's busy timeout on the server's connections, milliseconds. @default 5000 */
	busyTimeoutMs?: number;
}

export interface LibsqlServer extends AsyncDisposable {
	/** `http://127.0.0.1:<port>`: a DATABASE_URL for the portal. */
	url: string;
	/** Streams open now (each holds a connection): 0 once every client call has finished. */
	readonly openStreams: number;
	/** Pipeline requests answered so far (a refused one included). */
	readonly requests: number;
	close(): Promise<void>;
}

/** A Hrana value as JSON carries it. */
type Value =
	| { type: "null" }
	| { type: "integer"; value: string }
	| { type: "float"; value: number }
	| { type: "text"; value: string }
	| { type: "blob"; base64: string };

interface Stmt {
	sql?: string;
	sql_id?: number;
	args?: Value[];
	named_args?: Array<{ name: string; value: Value }>;
	want_rows?: boolean;
}

type Cond =
	| { type: "ok" | "error"; step: number }
	| { type: "not"; cond: Cond }
	| { type: "and" | "or"; conds: Cond[] }
	| { type: "is_autocommit" };

type StreamRequest =
	| { type: "close" }
	| { type: "execute"; stmt: Stmt }
	| { type: "batch"; batch: { steps: Array<{ condition?: Cond | null; stmt: Stmt }> } }
	| { type: "sequence"; sql?: string; sql_id?: number }
	| { type: "store_sql"; sql_id: number; sql: string }
	| { type: "close_sql"; sql_id: number }
	| { type: "get_autocommit" }
	| { type: "describe" };

interface StmtResult {
	cols: Array<{ name: string; decltype: string | null }>;
	rows: Value[][];
	affected_row_count: number;
	last_insert_rowid: string | null;
}

interface HranaError {
	message: string;
	code: string;
}

/** An error answered to one request of a pipeline (the stream goes on). */
class RequestError extends Error {
	constructor(message: string, readonly code: string) {
		super(message);
	}
}

class Stream {
	connection: Connection | undefined;
	broken = false;
	readonly sqls = new Map<number, string>();
	timer: ReturnType<typeof setTimeout> | undefined;
}

/** Starts the server on a free loopback port (listening when this returns). */
export function startLibsqlServer(options: LibsqlServerOptions): LibsqlServer {
	const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
	const idle: Connection[] = [];
	const streams = new Map<string, Stream>();
	let requests = 0;
	let closed = false;
	// sqld keeps its databases in WAL mode: readers never wait for the writer.
	const first = new Database(options.path, { timeout: busyTimeoutMs });
	first.exec("PRAGMA journal_mode=WAL");
	idle.push(first);

	const openConnection = (): Connection => {
		const connection = idle.pop() ?? new Database(options.path, { timeout: busyTimeoutMs });
		return connection;
	};

	const release = (stream: Stream): void => {
		clearTimeout(stream.timer);
		const connection = stream.connection;
		stream.connection = undefined;
		stream.sqls.clear();
		if (!connection || !connection.open) return;
		let usable = !stream.broken && !closed;
		try {
			if (connection.inTransaction) connection.exec("ROLLBACK");
		} catch {
			usable = false;
		}
		if (usable) idle.push(connection);
		else connection.close();
	};

	const connectionOf = (stream: Stream): Connection => (stream.connection ??= openConnection());

	const sqlOf = (stream: Stream, sql: string | undefined, sqlId: number | undefined): string => {
		if (sql !== undefined) return sql;
		if (sqlId !== undefined) {
			const stored = stream.sqls.get(sqlId);
			if (stored === undefined) throw new RequestError(`SQL text ${sqlId} was not stored`, "SQL_NOT_FOUND");
			return stored;
		}
		throw new RequestError("The statement has neither SQL text nor a SQL id", "SQL_NO_STATEMENT");
	};

	const sqliteError = (stream: Stream, error: unknown): RequestError => {
		if (error instanceof RequestError) return error;
		stream.broken = true;
		const e = error as { message?: string; rawCode?: number };
		// sqld names errors by SQLite's primary codes, as the portal's own client does.
		const code = e.rawCode === undefined ? "SQLITE_UNKNOWN" : sqliteCodeName(e.rawCode);
		return new RequestError(String(e.message ?? error), code);
	};

	const execute = (stream: Stream, stmt: Stmt): StmtResult => {
		const sql = sqlOf(stream, stmt.sql, stmt.sql_id);
		const connection = connectionOf(stream);
		const positional = (stmt.args ?? []).map(valueIn);
		const named = stmt.named_args ?? [];
		if (positional.length > 0 && named.length > 0) {
			throw new RequestError("Positional and named arguments in one statement are not supported", "ARGS_INVALID");
		}
		const args: unknown[] | Record<string, unknown> = named.length > 0
			? Object.fromEntries(named.map((a) => [a.name.replace(/^[:@$]/, ""), valueIn(a.value)]))
			: positional;
		try {
			const statement = connection.prepare(sql);
			statement.safeIntegers(true);
			let reader = true;
			try {
				statement.raw(true);
			} catch {
				reader = false; // raw() throws for a statement that returns no rows
			}
			if (!reader) {
				const info = statement.run(args);
				return {
					cols: [],
					rows: [],
					affected_row_count: info.changes,
					last_insert_rowid: `${info.lastInsertRowid}`,
				};
			}
			const before = changesOf(connection);
			const rows = statement.all(args) as unknown[][];
			const after = changesOf(connection);
			return {
				cols: statement.columns().map((c) => ({ name: c.name, decltype: c.type })),
				rows: stmt.want_rows === false ? [] : rows.map((row) => row.map(valueOut)),
				// A write with RETURNING changed rows; a plain read did not (total_changes() stayed).
				affected_row_count: after.total === before.total ? 0 : after.changes,
				last_insert_rowid: after.rowid,
			};
		} catch (error) {
			throw sqliteError(stream, error);
		}
	};

	const holds = (cond: Cond, results: Array<StmtResult | null>, errors: Array<HranaError | null>, stream: Stream) => {
		const check = (c: Cond): boolean => {
			switch (c.type) {
				case "ok":
					return results[c.step] != null;
				case "error":
					return errors[c.step] != null;
				case "not":
					return !check(c.cond);
				case "and":
					return c.conds.every(check);
				case "or":
					return c.conds.some(check);
				case "is_autocommit":
					return !connectionOf(stream).inTransaction;
				default:
					throw new RequestError(`Unknown batch condition ${JSON.stringify(c)}`, "PROTO_ERROR");
			}
		};
		return check(cond);
	};

	const handle = (stream: Stream, request: StreamRequest): Record<string, unknown> => {
		switch (request.type) {
			case "close":
				release(stream);
				return { type: "close" };
			case "execute":
				return { type: "execute", result: execute(stream, request.stmt) };
			case "batch": {
				const results: Array<StmtResult | null> = [];
				const errors: Array<HranaError | null> = [];
				request.batch.steps.forEach((step, i) => {
					results[i] = null;
					errors[i] = null;
					if (step.condition && !holds(step.condition, results, errors, stream)) return;
					try {
						results[i] = execute(stream, step.stmt);
					} catch (error) {
						const e = error instanceof RequestError ? error : sqliteError(stream, error);
						errors[i] = { message: e.message, code: e.code };
					}
				});
				return { type: "batch", result: { step_results: results, step_errors: errors } };
			}
			case "sequence":
				try {
					connectionOf(stream).exec(sqlOf(stream, request.sql, request.sql_id));
				} catch (error) {
					throw sqliteError(stream, error);
				}
				return { type: "sequence" };
			case "store_sql":
				stream.sqls.set(request.sql_id, request.sql);
				return { type: "store_sql" };
			case "close_sql":
				stream.sqls.delete(request.sql_id);
				return { type: "close_sql" };
			case "get_autocommit":
				return { type: "get_autocommit", is_autocommit: !connectionOf(stream).inTransaction };
			default:
				throw new RequestError(
					`This stand-in for sqld does not implement "${(request as { type: string }).type}" requests`,
					"NOT_IMPLEMENTED",
				);
		}
	};

	const pipeline = (body: { baton?: string | null; requests: StreamRequest[] }): Response => {
		let stream: Stream;
		if (body.baton) {
			const found = streams.get(body.baton);
			if (!found) return text(400, "The baton is invalid or its stream has expired");
			streams.delete(body.baton);
			stream = found;
		} else {
			stream = new Stream();
		}
		clearTimeout(stream.timer);
		let open = true;
		const results = body.requests.map((request) => {
			if (!open) return { type: "error", error: { message: "The stream is closed", code: "STREAM_CLOSED" } };
			try {
				const response = handle(stream, request);
				if (request.type === "close") open = false;
				return { type: "ok", response };
			} catch (error) {
				const e = error instanceof RequestError ? error : sqliteError(stream, error);
				return { type: "error", error: { message: e.message, code: e.code } };
			}
		});
		let baton: string | null = null;
		if (open) {
			baton = crypto.randomUUID();
			streams.set(baton, stream);
			const expiring = baton;
			stream.timer = setTimeout(() => {
				streams.delete(expiring);
				release(stream);
			}, STREAM_IDLE_MS);
		}
		return Response.json({ baton, base_url: null, results });
	};

	const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
		const path = new URL(request.url).pathname;
		if (request.method === "GET" && (path === "/v2" || path === "/health")) return new Response(null, { status: 200 });
		if (request.method !== "POST" || path !== "/v2/pipeline") {
			await request.body?.cancel();
			return text(404, `Not found: ${request.method} ${path}`);
		}
		requests++;
		if (options.token !== undefined && request.headers.get("authorization") !== `Bearer ${options.token}`) {
			await request.body?.cancel();
			const reason = request.headers.has("authorization")
				? "the authentication token is not valid"
				: "an authentication token is required";
			return text(401, `Unauthorized: ${reason}`);
		}
		let body: { baton?: string | null; requests: StreamRequest[] };
		try {
			body = await request.json();
			if (!Array.isArray(body.requests)) throw new Error("no requests");
		} catch (error) {
			return text(400, `Invalid pipeline request: ${error}`);
		}
		return pipeline(body);
	});

	const close = async () => {
		if (closed) return;
		closed = true;
		for (const stream of streams.values()) release(stream);
		streams.clear();
		for (const connection of idle.splice(0)) connection.close();
		await server.shutdown();
	};
	return {
		url: `http://127.0.0.1:${server.addr.port}`,
		get openStreams() {
			return streams.size;
		},
		get requests() {
			return requests;
		},
		close,
		[Symbol.asyncDispose]: close,
	};
}

function text(status: number, body: string): Response {
	return new Response(body, { status, headers: { "content-type": "text/plain" } });
}

function changesOf(connection: Connection): { total: bigint; changes: number; rowid: string } {
	const row = connection.prepare("SELECT total_changes(), changes(), last_insert_rowid()").raw(true).safeIntegers(true)
		.get() as [bigint, bigint, bigint];
	return { total: row[0], changes: Number(row[1]), rowid: `${row[2]}` };
}

function valueIn(value: Value): unknown {
	switch (value.type) {
		case "null":
			return null;
		case "integer":
			return BigInt(value.value);
		case "float":
			return value.value;
		case "text":
			return value.value;
		case "blob":
			return Buffer.from(value.base64, "base64");
		default:
			throw new RequestError(`Unknown value type ${JSON.stringify(value)}`, "PROTO_ERROR");
	}
}

function valueOut(value: unknown): Value {
	if (value === null || value === undefined) return { type: "null" };
	if (typeof value === "bigint") return { type: "integer", value: `${value}` };
	if (typeof value === "number") return { type: "float", value };
	if (typeof value === "string") return { type: "text", value };
	if (value instanceof Uint8Array) return { type: "blob", base64: Buffer.from(value).toString("base64") };
	throw new Error(`SQLite gave a value of an unknown type: ${typeof value}`);
}
