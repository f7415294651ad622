/**
 * What break-glass sign-in keeps (in app_state, one row per admin, no table of its own): the slow
 * hash of an admin's local password, and the hash of their one open break-glass session. A new
 * password or a sign-out drops the session, so a cookie issued before stops working at once.
 */
import { eq } from "drizzle-orm";
import type { Db } from "./client.ts";
import { appState } from "./schema.ts";

/** An admin's local password, as stored: the argon2 hash (PHC string) and when it was set. */
export interface StoredPassword {
	hash: string;
	setAt: Date;
}

/** An open break-glass session: the SHA-256 of its id (the cookie holds the id) and its end. */
export interface StoredSession {
	idHash: string;
	expiresAt: Date;
}

const passwordKey = (username: string) => `break-glass-password:${username}`;
const sessionKey = (username: string) => `break-glass-session:${username}`;

async function read(db: Db, key: string): Promise<Record<string, unknown> | undefined> {
	const row = await db.query.appState.findFirst({ where: eq(appState.key, key) });
	if (!row) return undefined;
	try {
		return JSON.parse(row.value);
	} catch {
		return undefined;
	}
}

async function write(db: Db, key: string, value: unknown): Promise<void> {
	const text = JSON.stringify(value);
	await db.insert(appState).values({ key, value: text }).onConflictDoUpdate({
		target: appState.key,
		set: { value: text },
	});
}

/** The admin's stored password hash, or `undefined` when none was set. */
export async function breakGlassPassword(db: Db, username: string): Promise<StoredPassword | undefined> {
	const value = await read(db, passwordKey(username));
	if (typeof value?.hash !== "string" || typeof value.setAt !== "number") return undefined;
	return { hash: value.hash, setAt: new Date(value.setAt) };
}

/** Stores a new password hash and ends the admin's open session, in one transaction. */
export async function storeBreakGlassPassword(db: Db, username: string, password: StoredPassword): Promise<void> {
	await db.transaction(async (tx) => {
		await write(tx as unknown as Db, passwordKey(username), { hash: password.hash, setAt: password.setAt.getTime() });
		await tx.delete(appState).where(eq(appState.key, sessionKey(username)));
	});
}

/** The admin's open session, or `undefined`. */
export async function breakGlassSession(db: Db, username: string): Promise<StoredSession | undefined> {
	const value = await read(db, sessionKey(username));
	if (typeof value?.idHash !== "string" || typeof value.expiresAt !== "number") return undefined;
	return { idHash: value.idHash, expiresAt: new Date(value.expiresAt) };
}

/** Opens a session for the admin, replacing (ending) any they had. */
export async function storeBreakGlassSession(db: Db, username: string, session: StoredSession): Promise<void> {
	await write(db, sessionKey(username), { idHash: session.idHash, expiresAt: session.expiresAt.getTime() });
}

/** Ends the admin's session. */
export async function endBreakGlassSession(db: Db, username: string): Promise<void> {
	await db.delete(appState).where(eq(appState.key, sessionKey(username)));
}
