/**
 * Personal API tokens: made and revoked by their user on the profile, sent as
 * `Authorization: Bearer <token>` to /api/, and turned back into the user's viewer on each request
 * (so a change to the user's groups or role reaches their tokens at once).
 *
 * A token is `mliy_` and 32 random bytes in base64url (256 bits from the system's CSPRNG), shown
 * once. Only its SHA-256 is stored: a password needs a slow, salted hash (argon2) because people
 * choose guessable ones, but a token with 256 random bits cannot be guessed, so a fast unsalted
 * hash already makes a leaked table useless, and lets each request find its token with one
 * indexed lookup instead of an argon2 verification per token.
 *
 * A token acts with its user's rights and never more. Its `admin` flag is what lets it use admin
 * rights: only an admin may make such a token (refused here, whatever the form sent), and a token
 * without it acts as at most a manager, so a token handed to a script cannot administer the
 * portal or terminate other people's machines.
 */
import { z } from "zod";
import { apiTokenByHash, apiTokensOf, insertApiToken, revokeApiToken, touchApiToken } from "../db/api_tokens.ts";
import type { ApiToken } from "../db/api_tokens.ts";
import { recordAudit } from "../db/audit.ts";
import { noteUnwritable } from "../db/client.ts";
import { unwritableReason } from "../db/errors.ts";
import { getUser } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { parseLaunchForm } from "../launch/forms.ts";
import { sha256Hex } from "../tokens.ts";
import { type Viewer, viewerOf } from "./identify.ts";

export type { ApiToken };

const TOKEN_PREFIX = "mliy_";
/** The token's characters the profile shows to tell tokens apart (the prefix and four more). */
const SHOWN_CHARACTERS = TOKEN_PREFIX.length + 4;
/** What a token looks like: anything else is refused before the database is asked. */
const TOKEN_SHAPE = /^mliy_[A-Za-z0-9_-]{43}$/;
/** Last-used times are written at most this often per token, so a busy script does not write on every call. */
const LAST_USED_EVERY_MS = 60_000;
/** The longest expiry a token may be given. */
export const MAX_TOKEN_DAYS = 3650;

/** The profile's form for a new token. */
export const apiTokenForm = z.object({
	name: z.string({ error: "Name the token" }).trim().min(1, "Name the token, e.g. what script uses it")
		.max(100, "A token's name is at most 100 characters"),
	expiresInDays: z.string().trim().optional().transform((value, ctx) => {
		if (value === undefined || value === "") return undefined;
		const days = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
		if (!(days >= 1 && days <= MAX_TOKEN_DAYS)) {
			ctx.addIssue({ code: "custom", message: `Give a whole number of days from 1 to ${MAX_TOKEN_DAYS}, or none` });
			return z.NEVER;
		}
		return days;
	}),
	admin: z.enum(["on"]).optional(),
});

function newTokenText(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(32));
	return TOKEN_PREFIX + btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The viewer's tokens, newest first. */
export function listApiTokens(deps: Pick<Deps, "db">, viewer: Viewer): Promise<ApiToken[]> {
	return apiTokensOf(deps.db, viewer.id);
}

/**
 * Makes a token for the viewer from the profile's form (422 with the marked fields; 403 for an
 * admin token asked by someone who is not an admin). Audited. Returns the token's text, which is
 * never stored or shown again, and its row.
 */
export async function createApiToken(
	deps: Pick<Deps, "db" | "clock" | "log">,
	viewer: Viewer,
	raw: Record<string, unknown>,
): Promise<{ token: string; row: ApiToken }> {
	const form = parseLaunchForm(apiTokenForm, raw);
	const admin = form.admin === "on";
	if (admin && viewer.role !== "admin") {
		throw new UserError(403, "Only admins may make a token that uses admin rights.");
	}
	const now = deps.clock();
	const token = newTokenText();
	const row = await insertApiToken(deps.db, {
		userId: viewer.id,
		name: form.name,
		tokenHash: await sha256Hex(token),
		prefix: token.slice(0, SHOWN_CHARACTERS),
		admin,
		expiresAt: form.expiresInDays === undefined ? null : new Date(now.getTime() + form.expiresInDays * 86_400_000),
		createdAt: now,
	});
	await recordAudit(deps.db, {
		at: now,
		actorId: viewer.id,
		actor: viewer.username,
		action: "create-api-token",
		resourceKind: "api-token",
		resourceId: String(row.id),
		outcome: "ok",
		detail: `"${row.name}"${admin ? ", admin" : ""}${row.expiresAt ? `, expires ${row.expiresAt.toISOString()}` : ""}`,
	});
	deps.log.auth.info("API token {id} made by {username}", { id: row.id, username: viewer.username, admin });
	return { token, row };
}

/** Revokes one of the viewer's tokens (404 for a token that is not theirs or already revoked). Audited. */
export async function revokeOwnApiToken(
	deps: Pick<Deps, "db" | "clock" | "log">,
	viewer: Viewer,
	id: number,
): Promise<ApiToken> {
	const now = deps.clock();
	const row = Number.isSafeInteger(id) ? await revokeApiToken(deps.db, viewer.id, id, now) : undefined;
	if (!row) throw new UserError(404, "You have no such token, or it is revoked already.");
	await recordAudit(deps.db, {
		at: now,
		actorId: viewer.id,
		actor: viewer.username,
		action: "revoke-api-token",
		resourceKind: "api-token",
		resourceId: String(row.id),
		outcome: "ok",
		detail: `"${row.name}"`,
	});
	deps.log.auth.info("API token {id} revoked by {username}", { id: row.id, username: viewer.username });
	return row;
}

/** A request's bearer token, turned into who it acts for. */
export type BearerResult =
	| { ok: true; viewer: Viewer; tokenId: number }
	| { ok: false; message: string };

/**
 * Who a bearer token acts for: its user as they are now, with admin rights only through an admin
 * token. Refused (a 401's message): no token, a malformed, unknown, revoked or expired one.
 */
export async function authenticateBearer(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	authorization: string | undefined,
): Promise<BearerResult> {
	const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
	if (!match) {
		return { ok: false, message: "This API takes a personal API token: send Authorization: Bearer <token>." };
	}
	const refused = { ok: false as const, message: "This API token is not valid: it is unknown, revoked or expired." };
	const text = match[1]!;
	if (!TOKEN_SHAPE.test(text)) return refused;
	const row = await apiTokenByHash(deps.db, await sha256Hex(text));
	const now = deps.clock();
	if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now.getTime())) return refused;
	const user = await getUser(deps.db, row.userId);
	if (!user) return refused;
	const viewer = await viewerOf(deps.db, user, deps.settings.ADMIN_USERNAMES);
	try {
		await touchApiToken(deps.db, row.id, now, new Date(now.getTime() - LAST_USED_EVERY_MS));
	} catch (error) {
		// A full or read-only disk: reads still work, so the time of the use can wait.
		if (!unwritableReason(error)) throw error;
		noteUnwritable(deps.db, now);
	}
	return { ok: true, tokenId: row.id, viewer: row.admin ? viewer : withoutAdminRights(viewer) };
}

/** The viewer a token without the admin flag acts as: an admin's rights stop at a manager's. */
function withoutAdminRights(viewer: Viewer): Viewer {
	return viewer.role === "admin" ? { ...viewer, role: "manager" } : viewer;
}
