/** Process-shared values kept in the database. */
import { eq } from "drizzle-orm";
import type { Db } from "./client.ts";
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
