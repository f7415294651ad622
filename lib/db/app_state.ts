/** Process-shared values kept in the database. */
import { eq, inArray } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
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
	const rows = await stateStatements(db).generations.all();
	const found: Generations = { identity: undefined, data: undefined };
	for (const row of rows) {
		if (row.key === "identity_generation") found.identity = Number(row.value);
		else found.data = Number(row.value);
	}
	return found;
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
