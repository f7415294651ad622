/**
 * The portal's sign-in sessions of a redirect sign-in (OIDC), kept in app_state (one row each, no
 * table of its own): the SHA-256 of the session's id (the cookie holds the id) → the user and the
 * session's end. A sign-out deletes the row, so a copy of the cookie stops working at once; rows
 * past their end are deleted whenever a session opens.
 */
import { and, eq, like, lt, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { appState } from "./schema.ts";

/** An open sign-in session, as stored. */
export interface SignInSession {
	userId: number;
	expiresAt: Date;
}

const PREFIX = "sign-in-session:";
const keyOf = (idHash: string) => `${PREFIX}${idHash}`;

/** Stores a new session and deletes the ones that have ended by `now`. */
export async function storeSignInSession(db: Db, idHash: string, session: SignInSession, now: Date): Promise<void> {
	const value = JSON.stringify({ userId: session.userId, expiresAt: session.expiresAt.getTime() });
	await db.transaction(async (tx) => {
		await tx.delete(appState).where(
			and(like(appState.key, `${PREFIX}%`), lt(sql`json_extract(${appState.value}, '$.expiresAt')`, now.getTime())),
		);
		await tx.insert(appState).values({ key: keyOf(idHash), value });
	});
}

/** The session of that id hash, or `undefined` (none, or ended by a sign-out). */
export async function signInSession(db: Db, idHash: string): Promise<SignInSession | undefined> {
	const row = await db.query.appState.findFirst({ where: eq(appState.key, keyOf(idHash)) });
	if (!row) return undefined;
	try {
		const value = JSON.parse(row.value);
		if (typeof value?.userId !== "number" || typeof value.expiresAt !== "number") return undefined;
		return { userId: value.userId, expiresAt: new Date(value.expiresAt) };
	} catch {
		return undefined;
	}
}

/** Ends a session (a sign-out). */
export async function endSignInSession(db: Db, idHash: string): Promise<void> {
	await db.delete(appState).where(eq(appState.key, keyOf(idHash)));
}

/** Ends every session of a user (signed out everywhere, or by an admin). */
export async function endSignInSessionsOf(db: Db, userId: number): Promise<void> {
	await db.delete(appState).where(
		and(like(appState.key, `${PREFIX}%`), eq(sql`json_extract(${appState.value}, '$.userId')`, userId)),
	);
}
