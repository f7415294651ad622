/** Process-shared values kept in the database. */
import { eq, inArray } from "drizzle-orm";
import { type Db, ownConnection, preparedFor } from "./client.ts";
import { ChangeWatch, type Connection, type Statement } from "./connections.ts";
import { appState } from "./schema.ts";

/**
 * The portal's HMAC key (CSRF and progress tokens, flash cookies). Generated once and stored, so
 * every process on the database and every restart uses the same key.
 */
export async function appSecret(db: Db): Promise<string> {
	const fresh = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
	await db.insert(appState).values({ key: "secret", value: fresh }).onConflictDoNothing();
	const row = await db.query.appState.findFirst({ where: eq(appState.key, "secret") });
	return row!.value;
}

/** The smallest real write (one row, a new value each time): whether the database can be written now. */
export async function probeWrite(db: Db, now: Date): Promise<void> {
	const value = String(now.getTime());
	await db.insert(appState).values({ key: "health_probe", value }).onConflictDoUpdate({
		target: appState.key,
		set: { value },
	});
}

const stateStatements = preparedFor((db) => ({
	generations: db.select({ key: appState.key, value: appState.value }).from(appState)
		.where(inArray(appState.key, ["identity_generation", "data_generation"])).prepare(),
}));

/** The two counters the database's own triggers move, read together (one statement per request). */
export interface Generations {
	/** Moved by every write to who anyone is (migration 0020); see {@link identityGeneration}. */
	identity: number | undefined;
	/**
	 * Moved by every write to what the cached pages show (migration 0021: machines, launches,
	 * catalogue, policies, budgets, bills, the sync's banner …), by any process. `undefined` when
	 * the row is missing, which caches nothing.
	 */
	data: number | undefined;
}

/** Both generations in one read: every request reads them first (lib/auth/identity_cache.ts). */
export async function generations(db: Db): Promise<Generations> {
	const read = readerOf(db).read();
	if (read) return read;
	return generationsOf(await stateStatements(db).generations.all());
}

function generationsOf(rows: readonly { key: string; value: string }[]): Generations {
	const found: Generations = { identity: undefined, data: undefined };
	for (const row of rows) {
		if (row.key === "identity_generation") found.identity = Number(row.value);
		else found.data = Number(row.value);
	}
	return found;
}

/**
 * The generations of an embedded database, read on a connection of its own that never writes.
 * Nothing can have moved the counters while this process's writes ({@link ProcessWrites}: its pool
 * and its report writer) and the connection's `PRAGMA data_version` (every other connection's
 * commits: another process, hand-written SQL) stand still, so the last read is still true; the
 * pragma is read at most once per OTHER_WRITERS_MS (lib/db/connections.ts), so another process's commit is seen
 * within that ({@link ChangeWatch}). A request then costs an addition and a clock read while nobody
 * writes: the pragma on every request was ≈ 12 µs in a CPU profile of the cached dashboard under
 * load. The watch looks before the counters are read, so a commit between the two leaves it an
 * older look behind and the next request reads the counters again.
 */
class GenerationsReader {
	readonly #db: Db;
	#connection: Connection | undefined;
	#watch: ChangeWatch | undefined;
	#counters: Statement | undefined;
	#last: Generations | undefined;
	/** A libSQL server or a closed database: no connection of its own, every read goes through the client. */
	#unavailable = false;

	constructor(db: Db) {
		this.#db = db;
	}

	/** The generations, or undefined when the connection cannot be used (the caller reads through the client). */
	read(): Generations | undefined {
		try {
			if (!this.#connection?.open) {
				if (this.#unavailable) return undefined;
				const own = ownConnection(this.#db);
				if (!own) {
					this.#unavailable = true;
					return undefined;
				}
				const { connection, writes } = own;
				this.#connection = connection;
				this.#watch = new ChangeWatch(connection, () => writes.pool + writes.reports);
				this.#counters = connection.prepare(
					"SELECT key, value FROM app_state WHERE key IN ('identity_generation', 'data_generation')",
				);
			}
			if (!this.#watch!.changed() && this.#last) return this.#last;
			const read = generationsOf(this.#counters!.all() as { key: string; value: string }[]);
			this.#last = read;
			return read;
		} catch {
			// Closed with the database, or a statement failed: the next call opens another (the
			// `libsql` binding's failed statement would stay in progress on this one).
			try {
				if (this.#connection?.open) this.#connection.close();
			} catch { /* it goes anyway */ }
			this.#connection = undefined;
			return undefined;
		}
	}
}

const readers = new WeakMap<Db, GenerationsReader>();

function readerOf(db: Db): GenerationsReader {
	let reader = readers.get(db);
	if (!reader) {
		reader = new GenerationsReader(db);
		readers.set(db, reader);
	}
	return reader;
}

/**
 * The identity generation: a counter the database's own triggers (migration 0020) move on every
 * write to users, memberships, group managers, groups and sign-in or break-glass sessions, by any
 * process. Whoever caches who a user is compares it on each request. `undefined` when the row is
 * missing, which caches nothing.
 */
export async function identityGeneration(db: Db): Promise<number | undefined> {
	return (await generations(db)).identity;
}
