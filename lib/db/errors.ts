/**
 * What the database's errors mean for the portal, read from the driver's codes and messages (drizzle
 * wraps libSQL's error in its own, as `cause`): a database that cannot be written (disk full,
 * read-only, failing) and the query parameters drizzle quotes in its messages.
 */

/** The error and the ones it wraps, outermost first (drizzle's, then libSQL's). */
function* chain(error: unknown): Generator<{ code?: unknown; extendedCode?: unknown; message?: unknown }> {
	let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
	for (let depth = 0; e && typeof e === "object" && depth < 5; depth++) {
		yield e;
		e = e.cause as typeof e;
	}
}

/**
 * Why the database cannot save anything now, or `undefined` for other errors: SQLite's
 * SQLITE_FULL (the disk or its quota is full), SQLITE_READONLY (a read-only file or mount),
 * SQLITE_IOERR (the disk failed a write) and SQLITE_CANTOPEN of a journal.
 */
export function unwritableReason(error: unknown): "full" | "read-only" | "failing" | undefined {
	for (const e of chain(error)) {
		const code = `${typeof e.extendedCode === "string" ? e.extendedCode : ""} ${
			typeof e.code === "string" ? e.code : ""
		} ${typeof e.message === "string" ? e.message : ""}`;
		if (/SQLITE_FULL|database or disk is full/i.test(code)) return "full";
		if (/SQLITE_READONLY|readonly database|read-only file system/i.test(code)) return "read-only";
		if (/SQLITE_IOERR|SQLITE_CANTOPEN|disk I\/O error/i.test(code)) return "failing";
	}
	return undefined;
}

/**
 * A text (a message, a stack) without the parameter values of a failed query: drizzle writes
 * `Failed query: <sql>\nparams: <values>`, and the values are what was being saved (an admin's
 * param values, a user's form). The SQL stays: it names the table and has only placeholders.
 */
export function withoutSqlParameters(text: string): string {
	if (!text.includes("params: ")) return text;
	return text.replace(/(Failed query: [\s\S]*?\n)params: [\s\S]*?(?=\n\s+at |$)/g, "$1params: [redacted]");
}
