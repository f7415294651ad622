/**
 * The portal's side of a redirect sign-in (an auth plugin with `redirectSignIn`, e.g. OpenID
 * Connect): the plugin speaks the protocol, the portal keeps what must survive the trip to the
 * provider, admits the user the provider names through the one mapping every auth plugin uses
 * (`admitUser`: profile, directory role, directory groups), and keeps the session.
 *
 * - Before the trip: what the plugin must get back (PKCE verifier, state, nonce) and where to
 *   return go in a signed cookie (`mliy_sign_in`) that lasts {@link PENDING_MINUTES}; a callback
 *   without it, with it changed, or late, is refused.
 * - After it: one random session id per sign-in, kept as its SHA-256 with the user and the end
 *   (lib/db/sign_in_sessions.ts); the cookie (`mliy_session`) holds the id and the HMAC of it with
 *   the portal's secret (lib/auth/session_cookie.ts, as the break-glass cookie). It lasts
 *   SIGN_IN_SESSION_MINUTES and is not renewed: the provider is asked again after that. A sign-out
 *   deletes the session, so a copy of the cookie stops working too.
 * - Identity headers count for nothing here: {@link sessionIdentity} reads only the cookie.
 */
import { recordAudit } from "../db/audit.ts";
import { endSignInSession, signInSession, storeSignInSession } from "../db/sign_in_sessions.ts";
import { getUser } from "../db/users.ts";
import { UserError } from "../errors.ts";
import type { RedirectSignIn } from "../plugins/contract.ts";
import { publicUrl, type Settings } from "../settings.ts";
import { sha256Hex } from "../tokens.ts";
import { admitUser, type IdentifyDeps, isIdentityFailure, type SignedIn, viewerOf } from "./identify.ts";
import { frozenSignedIn, identityCacheOf } from "./identity_cache.ts";
import { randomSessionId, readCookieValue, signCookieValue } from "./session_cookie.ts";

/** The session cookie of a redirect sign-in. */
export const SESSION_COOKIE = "mliy_session";
/** The cookie keeping a sign-in in progress while the browser is at the provider. */
export const PENDING_COOKIE = "mliy_sign_in";
/** How long a sign-in may stay at the provider (typing a password, a second factor). */
export const PENDING_MINUTES = 10;
/** Where the provider sends the browser back (the redirect URI registered with it). */
export const CALLBACK_PATH = "/sign-in/callback";
/** Where the portal sends the browser after a sign-out (the post-logout redirect URI). */
export const SIGNED_OUT_PATH = "/signed-out";

const SESSION_PURPOSE = "sign-in-session";
const PENDING_PURPOSE = "sign-in-pending";

/** What the sign-in functions need. */
export interface SignInDeps extends IdentifyDeps {
	secret: string;
	settings: IdentifyDeps["settings"] & Pick<Settings, "PUBLIC_URL" | "HOST" | "PORT" | "SIGN_IN_SESSION_MINUTES">;
}

/** A path of this portal to return to after signing in; anything else (another site, `//host`) is the dashboard. */
export function returnPath(raw: string | undefined): string {
	if (!raw || raw.length > 500 || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
	return /^[\x21-\x7e]+$/.test(raw) ? raw : "/";
}

function toBase64Url(text: string): string {
	const bytes = new TextEncoder().encode(text);
	return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
	const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
	return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

const redirectUri = (deps: SignInDeps) => `${publicUrl(deps.settings)}${CALLBACK_PATH}`;

/** Starts a sign-in: the provider's URL to send the browser to, and the pending cookie's value. */
export async function beginSignIn(
	deps: SignInDeps,
	signIn: RedirectSignIn,
	returnTo: string,
): Promise<{ url: string; pendingCookie: string }> {
	let started: { url: string; pending: string };
	try {
		started = await signIn.begin({ redirectUri: redirectUri(deps) });
	} catch (error) {
		deps.log.auth.error("cannot start a sign-in with the identity provider: {message}", {
			message: (error as Error).message,
		});
		throw new UserError(503, "The identity provider cannot be reached right now; try again in a minute.");
	}
	const until = deps.clock().getTime() + PENDING_MINUTES * 60_000;
	const kept = toBase64Url(JSON.stringify({ pending: started.pending, returnTo: returnPath(returnTo), until }));
	return { url: started.url, pendingCookie: await signCookieValue(deps.secret, PENDING_PURPOSE, [kept]) };
}

/** A finished sign-in: the session cookie's value, how long it lasts, and where to go. */
export interface CompletedSignIn {
	sessionCookie: string;
	maxAgeSeconds: number;
	returnTo: string;
	username: string;
}

/**
 * Finishes a sign-in when the browser comes back from the provider (`callbackQuery`: the query of
 * the request to {@link CALLBACK_PATH}, read against PUBLIC_URL, the address the provider was
 * given, whatever address the request reached the portal by): the pending cookie must be this
 * portal's and in time, the plugin must accept the provider's answer (state, nonce, PKCE, the ID
 * token's signature and claims), and the user it names is admitted and given a new session. Any
 * refusal is a 4xx in the portal's words; why is written to auth.log, never a token.
 */
export async function completeSignIn(
	deps: SignInDeps,
	signIn: RedirectSignIn,
	callbackQuery: string,
	pendingCookie: string | undefined,
	remoteAddress: string,
): Promise<CompletedSignIn> {
	const [kept] = await readCookieValue(deps.secret, PENDING_PURPOSE, pendingCookie, 1) ?? [];
	let pending: { pending: string; returnTo: string; until: number } | undefined;
	try {
		pending = kept ? JSON.parse(fromBase64Url(kept)) : undefined;
	} catch {
		pending = undefined;
	}
	if (!pending || typeof pending.pending !== "string" || !(pending.until > deps.clock().getTime())) {
		throw new UserError(400, "This sign-in was not started from this browser, or took too long: sign in again.");
	}
	const callbackUrl = new URL(`${redirectUri(deps)}${callbackQuery}`);
	const providerError = callbackUrl.searchParams.get("error");
	if (providerError) {
		const code = /^[a-z_]{1,60}$/.test(providerError) ? providerError : "an error";
		deps.log.auth.warn("the identity provider refused a sign-in from {address}: {code}", {
			address: remoteAddress,
			code,
		});
		throw new UserError(401, `The identity provider did not sign you in (${code}). Sign in again.`);
	}
	let identity;
	try {
		identity = await signIn.complete({ callbackUrl, pending: pending.pending, redirectUri: redirectUri(deps) });
	} catch (error) {
		deps.log.auth.warn("refused a sign-in from {address}: {reason}", {
			address: remoteAddress,
			reason: (error as Error).message,
		});
		throw new UserError(
			401,
			"The identity provider's answer could not be verified, so you are not signed in. Sign in again.",
		);
	}
	const admitted = await admitUser(deps, identity.username, remoteAddress, {
		info: () => identity.info,
		groups: () => identity.groups,
	});
	if (isIdentityFailure(admitted)) {
		if (admitted.log) deps.log.auth.warn(admitted.log.message, admitted.log.properties);
		throw new UserError(401, admitted.message);
	}
	const now = deps.clock();
	const sessionId = randomSessionId();
	const minutes = deps.settings.SIGN_IN_SESSION_MINUTES;
	const expiresAt = new Date(now.getTime() + minutes * 60_000);
	await storeSignInSession(deps.db, await sha256Hex(sessionId), { userId: admitted.id, expiresAt }, now);
	await recordAudit(deps.db, {
		at: now,
		actorId: admitted.id,
		actor: admitted.username,
		action: "sign-in",
		resourceKind: "user",
		resourceId: admitted.username,
		outcome: "ok",
		detail: `with the identity provider, from ${remoteAddress}, until ${expiresAt.toISOString()}`,
	});
	return {
		sessionCookie: await signCookieValue(deps.secret, SESSION_PURPOSE, [sessionId]),
		maxAgeSeconds: minutes * 60,
		returnTo: returnPath(pending.returnTo),
		username: admitted.username,
	};
}

/** The session a cookie names, when the portal signed it and it is open: its id hash. */
async function openSession(deps: SignInDeps, cookie: string | undefined) {
	const [sessionId] = await readCookieValue(deps.secret, SESSION_PURPOSE, cookie, 1) ?? [];
	if (!sessionId) return undefined;
	const idHash = await sha256Hex(sessionId);
	const session = await signInSession(deps.db, idHash);
	if (!session || session.expiresAt.getTime() <= deps.clock().getTime()) return undefined;
	return { idHash, ...session };
}

/**
 * The signed-in user of a session cookie, or `undefined` (no cookie, a forged or changed one, a
 * session ended or past its end, a user gone). Their groups and role are the ones their sign-in
 * left, read from the database.
 */
export async function sessionIdentity(
	deps: SignInDeps,
	cookie: string | undefined,
): Promise<{ signedIn: SignedIn; until: Date } | undefined> {
	if (!cookie) return undefined;
	// Cached by cookie until the session's end or the next write to sessions or users (identity_cache.ts).
	const cache = identityCacheOf<SignedIn>(deps.db);
	const generation = await cache.refresh(deps.db);
	const cached = cache.sessions.get(`sign-in:${cookie}`);
	if (cached && cached.until.getTime() > deps.clock().getTime()) return cached;
	const session = await openSession(deps, cookie);
	const user = session && await getUser(deps.db, session.userId);
	if (!session || !user) return undefined;
	const viewer = await viewerOf(deps.db, user, deps.settings.ADMIN_USERNAMES);
	const found = {
		signedIn: frozenSignedIn({
			...viewer,
			csrfEpoch: { epoch: user.csrfEpoch, previousUntil: user.csrfPreviousUntil },
		}),
		until: session.expiresAt,
	};
	if (cache.keeps(generation)) cache.sessions.set(`sign-in:${cookie}`, found);
	return found;
}

/** Ends the session of a cookie (a sign-out); audited. */
export async function signOut(
	deps: SignInDeps,
	cookie: string | undefined,
	viewer: { id: number; username: string },
	remoteAddress: string,
): Promise<void> {
	const session = await openSession(deps, cookie);
	if (!session) return;
	await endSignInSession(deps.db, session.idHash);
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: viewer.id,
		actor: viewer.username,
		action: "sign-out",
		resourceKind: "user",
		resourceId: viewer.username,
		outcome: "ok",
		detail: `from ${remoteAddress}`,
	});
	deps.log.auth.info("sign-out of {username} from {address}", { username: viewer.username, address: remoteAddress });
}

/** The provider's sign-out page for after the portal's, when it has one (and can be reached). */
export async function providerSignOutUrl(deps: SignInDeps, signIn: RedirectSignIn): Promise<string | undefined> {
	try {
		return await signIn.endSessionUrl({ postLogoutRedirectUri: `${publicUrl(deps.settings)}${SIGNED_OUT_PATH}` });
	} catch (error) {
		deps.log.auth.warn("cannot read the identity provider's sign-out page: {message}", {
			message: (error as Error).message,
		});
		return undefined;
	}
}
