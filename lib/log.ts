/**
 * Logging: the seed's four files in LOG_LOCATION (auth.log, boto.log, mliyweb.log,
 * mliylaunch.log) as JSON lines, plus the console. A request id set with {@link withRequestId} ties a
 * request's lines together. Every line is in its file within {@link FLUSH_MS}: the file sinks
 * (lib/log_file.ts) buffer lines and write them out on a timer, off the JavaScript thread, so a
 * crash (kill -9) loses at most the last second, and no request waits for a disk write. The console sink buffers too (LogTape's non-blocking
 * mode), so a busy portal writes to the journal in batches rather than once a line.
 */
import {
	configure,
	getConsoleSink,
	getLogger,
	getTextFormatter,
	type Logger,
	type LogLevel,
	type LogRecord,
	reset,
} from "@logtape/logtape";
import { AsyncLocalStorage } from "node:async_hooks";
import { withoutSqlParameters } from "./db/errors.ts";
import { bufferedFileSink } from "./log_file.ts";
import type { LogLevelName, Settings } from "./settings.ts";

/** The portal's loggers, one per log file. */
export interface Loggers {
	/** The web application: pages, jobs (mliyweb.log). */
	web: Logger;
	/**
	 * The access log, one line per request (mliyweb.log only, not the console: at a line a request
	 * the console's formatting and write were most of a request's cost; bench/RESULTS.md).
	 */
	access: AccessLog;
	/** Sign-ins, identities, refused identities (auth.log). */
	auth: Logger;
	/** Every AWS SDK call and its outcome (boto.log, the seed's name). */
	boto: Logger;
	/** Launches: stack submission, polling, outcome (mliylaunch.log). */
	launch: Logger;
}

/** The seed's log file for each logger. */
export const LOG_FILES: Readonly<Record<Exclude<keyof Loggers, "access">, string>> = {
	web: "mliyweb.log",
	auth: "auth.log",
	boto: "boto.log",
	launch: "mliylaunch.log",
};

/** Returns the loggers; they write nothing until {@link configureLogging} has run (as in tests). */
export function getLoggers(): Loggers {
	return {
		web: getLogger(["mliy", "web"]),
		access: accessLog,
		auth: getLogger(["mliy", "auth"]),
		boto: getLogger(["mliy", "boto"]),
		launch: getLogger(["mliy", "launch"]),
	};
}

/**
 * The longest a line waits in memory before it is written to its file. LogTape's blocking sink
 * checks its interval only when the next line comes, so a quiet portal kept a sign-in in memory
 * until shutdown; the file sink writes within this period of a line (and at once after a quiet
 * period, or when {@link FILE_BUFFER_CHARS} are waiting).
 */
export const FLUSH_MS = 1000;

/**
 * How much a file sink gathers before it writes without waiting for its timer: about 300
 * access-log lines, one write each (LogTape's default of 8 Ki characters meant one per ~40).
 */
const FILE_BUFFER_CHARS = 64 * 1024;

const LEVELS: Record<LogLevelName, LogLevel> = {
	DEBUG: "debug",
	INFO: "info",
	WARNING: "warning",
	ERROR: "error",
	CRITICAL: "fatal",
};

/** Options for {@link configureLogging}. */
export interface LoggingOptions {
	/** Also log to the console (the service manager's journal). @default true */
	console?: boolean;
}

/**
 * Creates LOG_LOCATION and routes each logger to its file at the configured level: the web level
 * (WEB_LOG_LEVEL) for mliyweb, auth and boto, LAUNCH_LOG_LEVEL for launches.
 */
export async function configureLogging(
	settings: Pick<Settings, "LOG_LOCATION" | "WEB_LOG_LEVEL" | "LAUNCH_LOG_LEVEL">,
	options: LoggingOptions = {},
): Promise<void> {
	await Deno.mkdir(settings.LOG_LOCATION, { recursive: true });
	const formatter = preformattedOr(withoutSqlValues(jsonLine));
	const file = (name: string) =>
		bufferedFileSink(`${settings.LOG_LOCATION}/${name}`, {
			formatter,
			maxSize: 5 * 1024 * 1024,
			maxFiles: 5,
			flushMs: FLUSH_MS,
			bufferChars: FILE_BUFFER_CHARS,
		});
	const web = file(LOG_FILES.web);
	const useConsole = options.console ?? true;
	const withConsole = (sink: string) => useConsole ? [sink, "console"] : [sink];
	await configure({
		reset: true,
		contextLocalStorage: requestContext,
		sinks: {
			web,
			auth: file(LOG_FILES.auth),
			boto: file(LOG_FILES.boto),
			launch: file(LOG_FILES.launch),
			console: getConsoleSink({
				formatter: withoutSqlValues(getTextFormatter({ value: "bare" })),
				// Up to 1,000 lines or 100 ms in memory, then one batch (LogTape drops the oldest
				// only past twice that many waiting, which a flush scheduled at 1,000 prevents).
				nonBlocking: { bufferSize: 1000, flushInterval: 100 },
			}),
		},
		loggers: [
			{ category: ["mliy", "web"], sinks: withConsole("web"), lowestLevel: LEVELS[settings.WEB_LOG_LEVEL] },
			{ category: ["mliy", "auth"], sinks: withConsole("auth"), lowestLevel: LEVELS[settings.WEB_LOG_LEVEL] },
			{ category: ["mliy", "boto"], sinks: withConsole("boto"), lowestLevel: LEVELS[settings.WEB_LOG_LEVEL] },
			{
				category: ["mliy", "launch"],
				sinks: withConsole("launch"),
				lowestLevel: LEVELS[settings.LAUNCH_LOG_LEVEL],
			},
			{ category: ["logtape", "meta"], sinks: ["console"], lowestLevel: "warning" },
		],
	});
	accessSink = { sink: web, lowest: RANK[LEVELS[settings.WEB_LOG_LEVEL]] };
}

/** Renders a message with its values inline (strings unquoted) for people reading the file. */
export function renderMessage(record: Pick<LogRecord, "message">): string {
	return record.message.map((part, i) =>
		i % 2 === 0 || typeof part === "string" || typeof part === "bigint"
			? String(part)
			: JSON.stringify(part) ?? String(part)
	).join("");
}

/**
 * One JSON object per line: every property, then time, level, logger and the rendered message.
 * The fixed fields come last so a property of the same name (many calls pass `{message}`) cannot
 * replace the line's text; its value is in the rendered message anyway.
 */
function jsonLine(record: LogRecord): string {
	const line = {
		...record.properties,
		"@timestamp": new Date(record.timestamp).toISOString(),
		level: record.level.toUpperCase(),
		logger: record.category.join("."),
		message: renderMessage(record),
	};
	try {
		return JSON.stringify(line) + "\n";
	} catch {
		// Only a BigInt somewhere makes JSON.stringify throw: written as its digits. (A replacer on
		// every line would cost each line a call per key.)
		return JSON.stringify(line, (_key, value) => typeof value === "bigint" ? value.toString() : value) + "\n";
	}
}

/**
 * A formatter that first takes the parameter values of failed queries out of the record: errors
 * from the database quote them in their message and stack (see withoutSqlParameters), and drizzle's
 * error object carries them as `params` when a whole error is logged.
 */
function withoutSqlValues(format: (record: LogRecord) => string): (record: LogRecord) => string {
	return (record) =>
		plain(record)
			? format(record)
			: format({ ...record, message: record.message.map(scrub), properties: scrub(record.properties) });
}

/**
 * Whether a record has nothing to scrub: its message values and properties are numbers, booleans
 * or strings without a parameter list — the access log's line and most others. Such records are
 * formatted as they are, without the copy (the access log's cost is per request).
 */
function plain(record: LogRecord): boolean {
	for (const part of record.message) if (!plainValue(part)) return false;
	for (const key in record.properties) if (!plainValue(record.properties[key])) return false;
	return true;
}

function plainValue(value: unknown): boolean {
	return typeof value === "string" ? !value.includes("params: ") : typeof value !== "object" || value === null;
}

function scrub<T>(value: T, depth = 0): T {
	if (typeof value === "string") return withoutSqlParameters(value) as T;
	if (typeof value !== "object" || value === null || depth > 4) return value;
	if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1)) as T;
	const prototype = Object.getPrototypeOf(value);
	if (!(value instanceof Error) && prototype !== Object.prototype && prototype !== null) return value;
	const entries = Object.entries(value).map(([key, item]) => [key, scrub(item, depth + 1)]);
	if (value instanceof Error) {
		// Errors serialise to their own enumerable fields only: keep what a reader needs.
		entries.push(["name", value.name], ["message", withoutSqlParameters(value.message)]);
	}
	const scrubbed = Object.fromEntries(entries);
	if ("query" in scrubbed && "params" in scrubbed) scrubbed.params = "[redacted]";
	return scrubbed as T;
}

/** Flushes and closes the log files; later records go nowhere instead of to a closed file. */
export async function closeLogging(): Promise<void> {
	accessSink = undefined;
	await reset();
}

/**
 * The request's log context: every line logged while `fn` runs carries the request id. This is
 * LogTape's `withContext` without its copy of the outer context (a request has none) and its
 * checks, on the storage {@link configureLogging} gives LogTape: it runs on every request.
 */
export function withRequestId<T>(requestId: string, fn: () => T): T {
	return requestContext.run({ requestId }, fn);
}

/** The log context's storage, one for the process: LogTape reads it on every line. */
const requestContext = new AsyncLocalStorage<Record<string, unknown>>();

/** LogTape's levels, lowest first. */
const RANK: Readonly<Record<LogLevel, number>> = { trace: 0, debug: 1, info: 2, warning: 3, error: 4, fatal: 5 };

/**
 * The access log: one JSON line a request in mliyweb.log, with the same fields a LogTape line has
 * (the request id, method, path, status, milliseconds, then `@timestamp`, level, logger and the
 * rendered message). It costs about a microsecond where a LogTape record cost seven
 * (bench/RESULTS.md, "Middleware floor"): the line is one string built by hand and handed to the
 * web log's own file sink, so it shares that file's buffer, flush timer and rotation, and it is in
 * the file within {@link FLUSH_MS} like every other line.
 */
export interface AccessLog {
	/** Writes the line of one request, at debug when `quiet` (the instances' reports), else at info. */
	write(quiet: boolean, method: string, path: string, status: number, ms: number, requestId: string): void;
}

/** The web log's file sink and level while logging is configured (the access lines' way there). */
let accessSink: { sink: (record: LogRecord) => void; lowest: number } | undefined;

/**
 * The one record handed to the file sink for an access line, reused: the sink reads its timestamp
 * and category and formats it at once (to its `line`, see preformattedOr), keeping nothing.
 */
const accessRecord = {
	category: ["mliy", "web", "access"],
	level: "info" as LogLevel,
	message: [] as unknown[],
	rawMessage: "",
	timestamp: 0,
	properties: {},
	line: "",
};

/** The `@timestamp` text of the current millisecond, which many requests share under load. */
let stampMs = -1;
let stamp = "";

const accessLog: AccessLog = {
	write(quiet, method, path, status, ms, requestId) {
		const target = accessSink;
		const level = quiet ? "debug" : "info";
		if (!target || RANK[level] < target.lowest) return;
		const now = Date.now();
		if (now !== stampMs) {
			stampMs = now;
			stamp = new Date(now).toISOString();
		}
		const shown = withoutSqlParameters(path);
		const rounded = Math.round(ms);
		accessRecord.level = level;
		accessRecord.timestamp = now;
		const levelName = quiet ? "DEBUG" : "INFO";
		const message = JSON.stringify(`${method} ${shown} ${status} ${rounded} ms`);
		accessRecord.line = `{"requestId":${JSON.stringify(requestId)},"method":${JSON.stringify(method)},` +
			`"path":${JSON.stringify(shown)},"status":${status},"ms":${rounded},"@timestamp":"${stamp}",` +
			`"level":"${levelName}","logger":"mliy.web.access","message":${message}}\n`;
		target.sink(accessRecord as LogRecord);
	},
};

/** A file formatter that writes an access line as it was built, and formats every other record. */
function preformattedOr(format: (record: LogRecord) => string): (record: LogRecord) => string {
	return (record) => record === (accessRecord as unknown) ? accessRecord.line : format(record);
}
