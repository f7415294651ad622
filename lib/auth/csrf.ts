/**
 * Cross-site request forgery protection for every state-changing request: the browser's own
 * signals (Sec-Fetch-Site, Origin) must say same-origin, where the origin is the portal's own
 * address (PUBLIC_URL: scheme, host and port), never what the request says it is (its Host or
 * X-Forwarded-Host, which whoever sends it chooses); and the request must carry the user's token
 * (a header for htmx, a hidden field for forms).
 *
 * A token is an HMAC of the user and their token generation (users.csrf_epoch) with the portal's
 * secret, so nothing per page is stored. The generation moves on at each sign-in refresh, the
 * previous one still accepted for a grace period (a page opened just before stays usable), and on a
 * revocation (an admin's, or the user's "sign out everywhere"), which accepts nothing older.
 */
import { LRUCache } from "lru-cache";
import { recordAudit } from "../db/audit.ts";
import { endSignInSessionsOf } from "../db/sign_in_sessions.ts";
import { revokeCsrfTokens } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { publicUrl, type Settings } from "../settings.ts";
import { hmacToken, timingSafeEqual } from "../tokens.ts";

/**
 * How long the previous generation's tokens are accepted after a sign-in refresh: as long as the
 * sign-in stays fresh (identify refreshes it after 15 minutes), so a page opened just before a
 * refresh submits, and a token is good for at most the next refresh plus this.
 */
export const CSRF_GRACE_MS = 15 * 60_000;

/** A user's token generation, as the users table holds it. */
export interface CsrfEpoch {
	epoch: number;
	/** Until when tokens of `epoch - 1` are accepted; `null` after a revocation. */
	previousUntil: Date | null;
}

/**
 * The CSRF token of a user's generation. Generation 0 keeps the label tokens had before there were
 * generations, so pages open during an upgrade still submit.
 */
export async function csrfToken(
	secret: string,
	viewer: { id: number; username: string },
	epoch: number,
): Promise<string> {
	const label = `csrf:${viewer.id}:${viewer.username}${epoch === 0 ? "" : `:${epoch}`}`;
	const key = `${secret}\n${label}`;
	let token = madeTokens.get(key);
	if (token === undefined) {
		token = await hmacToken(secret, label);
		madeTokens.set(key, token);
	}
	return token;
}

/**
 * Tokens already made, by secret and label: a token depends on nothing else, so each user's is
 * made once per generation, not on every request (an HMAC through WebCrypto costs a trip to
 * another thread). Bounded: the least recently used go first.
 */
const madeTokens = new LRUCache<string, string>({ max: 4096 });

/** The tokens accepted from the user now: the current generation's first, then the previous one's in its grace. */
export async function acceptedCsrfTokens(
	secret: string,
	viewer: { id: number; username: string },
	epoch: CsrfEpoch,
	now: Date,
): Promise<string[]> {
	const tokens = [await csrfToken(secret, viewer, epoch.epoch)];
	if (epoch.previousUntil && epoch.previousUntil.getTime() > now.getTime()) {
		tokens.push(await csrfToken(secret, viewer, epoch.epoch - 1));
	}
	return tokens;
}

/** What the check needs from a request. */
export interface CsrfInput {
	origin: string | undefined;
	secFetchSite: string | undefined;
	/** The token from the X-CSRF-Token header or the `_csrf` form field. */
	token: string | undefined;
}

/** Returns why the request is refused, or `undefined` when it may proceed. */
export function csrfRefusal(
	input: CsrfInput,
	accepted: readonly string[],
	settings: Pick<Settings, "PUBLIC_URL" | "HOST" | "PORT">,
): string | undefined {
	if (input.secFetchSite && !["same-origin", "none"].includes(input.secFetchSite)) {
		return "This request came from another site, so the portal refused it.";
	}
	if (input.origin === "null") return "This request came from an opaque origin, so the portal refused it.";
	if (input.origin) {
		let origin: string;
		try {
			origin = new URL(input.origin).origin;
		} catch {
			return "This request has a malformed Origin header.";
		}
		const own = new URL(publicUrl(settings)).origin;
		if (origin !== own) {
			return `This request came from another site (${
				origin.slice(0, 100)
			}, not the portal's ${own}), so the portal refused it.`;
		}
	}
	const token = input.token;
	if (!token || !accepted.some((expected) => timingSafeEqual(token, expected))) {
		return "This form is missing its security token or it has expired; reload the page and try again.";
	}
	return undefined;
}

/**
 * Revokes every CSRF token of `user` (the user themself, from their profile, or an admin): pages
 * open anywhere can change nothing until reloaded. With a redirect sign-in (OIDC) it also ends
 * every sign-in session of theirs, so each browser must sign in with the provider again. Audited;
 * returns the new generation's token.
 */
export async function revokeTokens(
	deps: Pick<Deps, "db" | "clock" | "log" | "secret">,
	actor: { id: number; username: string },
	user: { id: number; username: string },
): Promise<string> {
	const epoch = await revokeCsrfTokens(deps.db, user.id);
	await endSignInSessionsOf(deps.db, user.id);
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: actor.id,
		actor: actor.username,
		action: "revoke-tokens",
		resourceKind: "user",
		resourceId: user.username,
		outcome: "ok",
		detail: actor.id === user.id ? "signed out everywhere" : "by an admin",
	});
	deps.log.auth.info("security tokens of {username} revoked by {actor}", {
		username: user.username,
		actor: actor.username,
	});
	return await csrfToken(deps.secret, user, epoch);
}
