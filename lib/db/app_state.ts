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
