/**
 * The coalesced report writer's side of the database (lib/report_queue.ts): a window's progress
 * and activity reports written in one transaction, and the cheap change check that tells the
 * queue's cache of instances when another connection has committed.
 */
import { aliasedTable, fillPlaceholders, sql } from "drizzle-orm";
import type { InArgs } from "@libsql/client";
import { type Database, type Db, preparedFor } from "./client.ts";
import { progressBatchUpdate, reportOfOpenSetup, reportRows } from "./instances.ts";
import { ChangeWatch, type Connection, type ProcessWrites, type Statement } from "./connections.ts";
import { instances, progressReports, type SetupState } from "./schema.ts";

/** A progress report as it is written: the instance row's latest and a row of its history. */
export interface ProgressWrite {
	instanceId: string;
	configId: number | null;
	text: string;
	percent: number;
	at: Date;
	setupState: SetupState;
	endedAt: Date | null;
}

/** An activity report of an instance's own script, as recordSignals writes it with `byAgent`. */
export interface ActivityWrite {
	machineId: string;
	at: Date;
	activeAt?: Date;
	values: {
		cpuPercent: number;
		gpuPercent: number | null;
		kernelsBusy: number;
		sessions: number;
		networkBytesPerSecond: number;
	};
}

/** One queued report, in the order it was answered. */
export type ReportWrite = { kind: "progress"; write: ProgressWrite } | { kind: "activity"; write: ActivityWrite };

/**
 * The SQL of a batch's statements, built once per database. Each takes all the batch's rows of its
 * kind as one JSON array (`json_each`), so a batch costs three statements whatever its size, where
 * two per progress report paid the `libsql` binding's cost per statement (≈ 7–18 µs) on each.
 */
const batchSql = preparedFor((db) => {
	const target = aliasedTable(instances, "target");
	return {
		// Before the update, whose guard it shares: the guard reads nothing the batch writes but the
		// setup state, and progressRows leaves out what would follow a setup's end.
		history: db.insert(progressReports).select(
			db.select({
				// Every column, in the table's order, as drizzle asks of an INSERT … SELECT: a NULL id is the next one.
				id: sql<number>`NULL`.as("report_id"),
				instanceId: sql<string>`report.value ->> 0`.as("report_instance"),
				configId: sql<number | null>`report.value ->> 1`.as("report_config"),
				stage: sql<string>`report.value ->> 2`.as("report_stage"),
				percent: sql<number>`report.value ->> 3`.as("report_percent"),
				at: sql<number>`report.value ->> 4`.as("report_at"),
			})
				// In the batch's order: the ids the rows would get written one by one.
				.from(reportRows()).crossJoin(target).where(reportOfOpenSetup(target)).orderBy(sql`report.key`),
		).toSQL(),
		latest: progressBatchUpdate(db).toSQL(),
	};
});

/**
 * recordSignals' upsert for reports of the machines' own script (every value given, `byAgent`),
 * one row per machine (activityRows).
 */
const ACTIVITY_SQL = "INSERT INTO machine_activity (machine_id, source, signal_at, active_at, reported_at, " +
	"cpu_percent, gpu_percent, kernels_busy, sessions, network_bytes_per_second) " +
	"SELECT value ->> 0, 'agent', value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, " +
	// WHERE: without it SQLite would read ON CONFLICT as a join's ON.
	"value ->> 7, value ->> 8 FROM json_each(?) WHERE true ORDER BY key ON CONFLICT (machine_id) DO UPDATE SET " +
	"source = excluded.source, signal_at = max(signal_at, excluded.signal_at), " +
	// The latest activity any report showed: a late report never moves it back.
	"active_at = CASE WHEN excluded.active_at IS NULL THEN active_at " +
	"ELSE max(coalesce(active_at, 0), excluded.active_at) END, " +
	"reported_at = excluded.reported_at, cpu_percent = excluded.cpu_percent, gpu_percent = excluded.gpu_percent, " +
	"kernels_busy = excluded.kernels_busy, sessions = excluded.sessions, " +
	"network_bytes_per_second = excluded.network_bytes_per_second";

/** A statement of a batch: SQL with positional arguments. */
interface BatchStatement {
	sql: string;
	args: unknown[];
}

/**
 * The history rows and each instance's latest report, as writing the reports one by one would
 * leave them: the guard holds for all of an instance's reports or for none, except that a report
 * ending the setup refuses those after it.
 */
function progressRows(reports: readonly ProgressWrite[]): { history: unknown[][]; latest: unknown[][] } {
	const history: unknown[][] = [];
	const latest = new Map<string, ProgressWrite>();
	const ended = new Set<string>();
	for (const p of reports) {
		if (ended.has(p.instanceId)) continue;
		history.push([p.instanceId, p.configId, p.text, p.percent, p.at.getTime()]);
		latest.set(p.instanceId, p);
		if (p.setupState !== "running") ended.add(p.instanceId);
	}
	return {
		history,
		latest: [...latest.values()].map((p) => [
			p.instanceId,
			p.text,
			p.percent,
			p.at.getTime(),
			p.setupState,
			p.endedAt?.getTime() ?? null,
		]),
	};
}

/**
 * One row per machine, the upsert that applying its reports in order would amount to: the latest
 * signal and activity of any of them (an activity nobody reported keeps the stored one), the time
 * and values of the last.
 */
function activityRows(reports: readonly ActivityWrite[]): unknown[][] {
	const folded = new Map<string, { signalAt: number; activeAt: number | null; last: ActivityWrite }>();
	for (const a of reports) {
		const at = a.at.getTime();
		const activeAt = a.activeAt?.getTime() ?? null;
		const seen = folded.get(a.machineId);
		if (!seen) {
			folded.set(a.machineId, { signalAt: at, activeAt, last: a });
			continue;
		}
		seen.signalAt = Math.max(seen.signalAt, at);
		if (activeAt !== null) seen.activeAt = seen.activeAt === null ? activeAt : Math.max(seen.activeAt, activeAt);
		seen.last = a;
	}
	return [...folded.values()].map(({ signalAt, activeAt, last }) => {
		const v = last.values;
		return [
			last.machineId,
			signalAt,
			activeAt,
			last.at.getTime(),
			v.cpuPercent,
			v.gpuPercent,
			v.kernelsBusy,
			v.sessions,
			v.networkBytesPerSecond,
		];
	});
}

/**
 * A batch's statements: the progress history, the instances' latest progress, the machines'
 * activity. The data-generation triggers (migration 0021) fire once per instance or machine
 * written rather than once per report: the counter still moves with every batch that wrote.
 */
function statementsOf(db: Db, reports: readonly ReportWrite[]): BatchStatement[] {
	const { history, latest } = batchSql(db);
	const progress: ProgressWrite[] = [];
	const activity: ActivityWrite[] = [];
	for (const report of reports) {
		if (report.kind === "progress") progress.push(report.write);
		else activity.push(report.write);
	}
	const statements: BatchStatement[] = [];
	if (progress.length > 0) {
		const rows = progressRows(progress);
		statements.push(
			{ sql: history.sql, args: fillPlaceholders(history.params, { rows: JSON.stringify(rows.history) }) },
			{ sql: latest.sql, args: fillPlaceholders(latest.params, { rows: JSON.stringify(rows.latest) }) },
		);
	}
	if (activity.length > 0) statements.push({ sql: ACTIVITY_SQL, args: [JSON.stringify(activityRows(activity))] });
	return statements;
}

/** Where the report queue writes, and how it learns that someone else wrote. */
export interface ReportStore {
	/** Writes the reports, in order, in one transaction: all of them or (on an error) none. */
	write(reports: readonly ReportWrite[]): Promise<void>;
	/**
	 * A number that changes whenever another connection commits to the database (`PRAGMA
	 * data_version` on the writer's own connection, which its own commits do not move); undefined
	 * when there is no such check (a libSQL server), so nothing may be cached.
	 */
	changeMark(): Promise<number | undefined>;
}

/** Driver values for the `libsql` package, as @libsql/client converts them. */
function driverValue(value: unknown): unknown {
	if (value instanceof Date) return value.getTime();
	if (typeof value === "boolean") return value ? 1 : 0;
	return value;
}

/**
 * The writer's own connection, with its statements prepared once. Any failed statement closes the
 * connection (a statement the `libsql` binding left in progress would break every later commit on
 * it: lib/db/connections.ts) and the next call opens another; the change mark then moves too, since
 * a new connection counts data_version from its own start.
 *
 * The change mark moves with the pool's writes in this process (counted, seen at once) and with
 * the connection's `PRAGMA data_version`, read at most once per OTHER_WRITERS_MS: another
 * process's commit is seen within that, where reading the pragma for every report cost ≈ 12 µs of
 * each under load. The writer's own batches move neither (they are counted apart, for the pages).
 */
class ConnectionStore implements ReportStore {
	readonly #open: () => Connection;
	readonly #db: Db;
	readonly #writes: ProcessWrites;
	#connection: Connection | undefined;
	/** Watches the pool's writes and the other connections' commits; made anew with each connection. */
	#watch: ChangeWatch | undefined;
	readonly #statements = new Map<string, Statement>();
	#mark = 0;

	constructor(db: Db, open: () => Connection, writes: ProcessWrites) {
		this.#db = db;
		this.#open = open;
		this.#writes = writes;
	}

	#connected(): Connection {
		this.#connection ??= this.#open();
		return this.#connection;
	}

	#prepared(sql: string): Statement {
		let statement = this.#statements.get(sql);
		if (!statement) {
			statement = this.#connected().prepare(sql);
			this.#statements.set(sql, statement);
		}
		return statement;
	}

	#discard(): void {
		this.#statements.clear();
		try {
			if (this.#connection?.open) this.#connection.close();
		} catch { /* it goes anyway */ }
		this.#connection = undefined;
		this.#watch = undefined;
	}

	write(reports: readonly ReportWrite[]): Promise<void> {
		if (reports.length === 0) return Promise.resolve();
		try {
			this.#prepared("BEGIN IMMEDIATE").run();
			for (const statement of statementsOf(this.#db, reports)) {
				this.#prepared(statement.sql).run(statement.args.map(driverValue));
			}
			this.#prepared("COMMIT").run();
			this.#writes.reports++;
		} catch (error) {
			// Closing rolls back what the transaction had done.
			this.#discard();
			return Promise.reject(error);
		}
		return Promise.resolve();
	}

	changeMark(): Promise<number> {
		try {
			const writes = this.#writes;
			this.#watch ??= new ChangeWatch(this.#connected(), () => writes.pool);
			if (this.#watch.changed()) this.#mark++;
			return Promise.resolve(this.#mark);
		} catch (error) {
			this.#discard();
			return Promise.reject(error);
		}
	}
}

/** The report store of an open database: the writer's own connection, or the pool for a libSQL server. */
export function reportStore(database: Pick<Database, "db" | "client" | "writer" | "writes">): ReportStore {
	if (database.writer && database.writes) return new ConnectionStore(database.db, database.writer, database.writes);
	const { client, db } = database;
	return {
		async write(reports) {
			if (reports.length === 0) return;
			await client.batch(statementsOf(db, reports).map((s) => ({ sql: s.sql, args: s.args as InArgs })), "write");
		},
		// No connection of its own to watch: nothing is cached.
		changeMark: () => Promise.resolve(undefined),
	};
}
