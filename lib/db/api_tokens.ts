/** Queries and writes for `api_tokens`: a user's personal API tokens, found by the hash of the token. */
import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "./client.ts";
import { apiTokens } from "./schema.ts";

export type ApiToken = typeof apiTokens.$inferSelect;
export type NewApiToken = typeof apiTokens.$inferInsert;

export async function insertApiToken(db: Db, token: NewApiToken): Promise<ApiToken> {
	const [row] = await db.insert(apiTokens).values(token).returning();
	return row!;
}

/** The user's tokens, newest first (revoked ones too: the profile shows when they were). */
export async function apiTokensOf(db: Db, userId: number): Promise<ApiToken[]> {
	return await db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(
		desc(apiTokens.createdAt),
		desc(apiTokens.id),
	);
}

/** The token whose SHA-256 is `tokenHash`, revoked or not. */
export async function apiTokenByHash(db: Db, tokenHash: string): Promise<ApiToken | undefined> {
	const [row] = await db.select().from(apiTokens).where(eq(apiTokens.tokenHash, tokenHash));
	return row;
}

/** Revokes the user's token `id`; returns it when it was the user's and not yet revoked. */
export async function revokeApiToken(db: Db, userId: number, id: number, at: Date): Promise<ApiToken | undefined> {
	const [row] = await db.update(apiTokens).set({ revokedAt: at }).where(
		and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)),
	).returning();
	return row;
}

/** Notes a use of the token, writing only when the last noted use is older than `staleBefore`. */
export async function touchApiToken(db: Db, id: number, at: Date, staleBefore: Date): Promise<void> {
	await db.update(apiTokens).set({ lastUsedAt: at }).where(
		and(eq(apiTokens.id, id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, staleBefore))),
	);
}
