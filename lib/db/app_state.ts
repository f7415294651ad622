/** Process-shared values kept in the database. */
import { eq, sql } from "drizzle-orm";
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
	value: db.select({ value: appState.value }).from(appState).where(eq(appState.key, sql.placeholder("key"))).prepare(),
}));

/**
 * The identity generation: a counter the database's own triggers (migration 0020) move on every
 * write to users, memberships, group managers, groups and sign-in or break-glass sessions, by any
 * process. Whoever caches who a user is compares it on each request. `undefined` when the row is
 * missing, which caches nothing.
 */
export async function identityGeneration(db: Db): Promise<number | undefined> {
	const row = await stateStatements(db).value.get({ key: "identity_generation" });
	return row ? Number(row.value) : undefined;
}
