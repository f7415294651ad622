/**
 * Break-glass sign-in: when the sign-in proxy or the directory is down, an admin listed in
 * ADMIN_USERNAMES signs in at /break-glass with a local password set by `./mliy admin:password`.
 * Off unless BREAK_GLASS is on.
 *
 * - The password is kept as an argon2id hash (@node-rs/argon2, OWASP's parameters), never in
 *   clear; a wrong password and an unknown or non-admin username take the same time and get the
 *   same answer, so the form does not tell which usernames have a password.
 * - A session is one random id per admin (a new sign-in, a sign-out or a new password ends the
 *   previous one), kept as its SHA-256 with its end; the cookie holds the username, the id and the
 *   HMAC of both with the portal's secret. It lasts BREAK_GLASS_MINUTES and is not renewed.
 * - It is never mixed with the proxy's identity: the cookie is honoured only on a request that
 *   carries no identity header. A request with one is the proxy's, judged by its rules alone, and
 *   the cookie is ignored; so a break-glass session is only ever "this admin, by password", and a
 *   proxy (or anyone who can reach the portal through it) can never lend its identity to, or take
 *   one from, a break-glass cookie.
 * - Every attempt is audited (success and failure, with the source address, never the password)
 *   and written to auth.log.
 */
import { hash, verify } from "@node-rs/argon2";
import { recordAudit } from "../db/audit.ts";
import {
	breakGlassPassword,
	breakGlassSession,
	endBreakGlassSession,
	storeBreakGlassPassword,
	storeBreakGlassSession,
} from "../db/break_glass.ts";
import type { Db } from "../db/client.ts";
import { ensureUser, getUserByUsername } from "../db/users.ts";
import { UserError } from "../errors.ts";
import type { Loggers } from "../log.ts";
import type { Plugins } from "../plugins/contract.ts";
import type { Settings } from "../settings.ts";
import { sha256Hex, timingSafeEqual } from "../tokens.ts";
import { type SignedIn, USERNAME, viewerOf } from "./identify.ts";
import { frozenSignedIn, identityCacheOf } from "./identity_cache.ts";
import { randomSessionId, readCookieValue, signCookieValue } from "./session_cookie.ts";

/** The cookie of a break-glass session. */
export const BREAK_GLASS_COOKIE = "mliy_break_glass";

/** Shorter passwords are refused by the command: this one guards an admin account. */
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;

/**
 * OWASP's first recommended set for argon2id (19 MiB, 2 passes, 1 lane): about 50 ms a hash. The
 * library's default algorithm is argon2id (its `Algorithm` is a const enum, which Deno's isolated
 * modules cannot read); the test checks the stored hash says so.
 */
const HASH_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** What the break-glass functions need. */
export interface BreakGlassDeps {
	db: Db;
	settings: Pick<Settings, "ADMIN_USERNAMES" | "BREAK_GLASS" | "BREAK_GLASS_MINUTES">;
	log: Pick<Loggers, "auth">;
	clock: () => Date;
	secret: string;
}

/**
 * Sets (or replaces) the local password of an admin listed in ADMIN_USERNAMES and ends their open
 * break-glass session. Refuses anyone else, and passwords shorter than {@link MIN_PASSWORD_LENGTH}.
 * Audited as done from the command line.
 */
export async function setBreakGlassPassword(
	deps: Omit<BreakGlassDeps, "secret">,
	rawUsername: string,
	password: string,
): Promise<void> {
	const username = rawUsername.trim().toLowerCase();
	if (!USERNAME.test(username)) throw new UserError(400, `"${username.slice(0, 64)}" is not a username.`);
	if (!deps.settings.ADMIN_USERNAMES.includes(username)) {
		throw new UserError(
			403,
			`${username} is not listed in ADMIN_USERNAMES: only those admins may have a break-glass password.`,
		);
	}
	if (password.length < MIN_PASSWORD_LENGTH) {
		throw new UserError(400, `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
	}
	if (password.length > MAX_PASSWORD_LENGTH) {
		throw new UserError(400, `The password must have at most ${MAX_PASSWORD_LENGTH} characters.`);
	}
	const now = deps.clock();
	await storeBreakGlassPassword(deps.db, username, { hash: await hash(password, HASH_OPTIONS), setAt: now });
	const user = await getUserByUsername(deps.db, username);
	await recordAudit(deps.db, {
		at: now,
		actorId: null,
		actor: "command line",
		action: "break-glass-password",
		resourceKind: "user",
		resourceId: username,
		outcome: "ok",
		detail: user ? "set; any open break-glass session ended" : "set (the user has not signed in yet)",
	});
	deps.log.auth.info("break-glass password of {username} set from the command line", { username });
}

/** A hash of a password nobody has: unknown usernames are verified against it, taking the same time. */
let decoy: Promise<string> | undefined;

/** Why a sign-in failed, for the audit trail (the person at the form is told only that it failed). */
type Failure = "not an admin" | "no password set" | "wrong password" | "unreadable username";

/** The answer to a break-glass sign-in attempt. */
export type BreakGlassAttempt =
	| { ok: true; username: string; cookie: string; expiresAt: Date }
	| { ok: false; message: string };

/** What the person at the form is told when a sign-in fails, whatever the reason. */
export const SIGN_IN_REFUSED = "That username and password do not open a break-glass session.";

/**
 * Checks a sign-in attempt (the route has checked BREAK_GLASS, CSRF and the rate limits): on
 * success opens a session (ending any other of that admin) and returns its cookie value. Audited
 * and logged either way, with the source address; never the password.
 */
export async function signInBreakGlass(
	deps: BreakGlassDeps,
	attempt: { username: string; password: string; source: string },
): Promise<BreakGlassAttempt> {
	const username = attempt.username.trim().toLowerCase();
	const readable = USERNAME.test(username);
	const listed = readable && deps.settings.ADMIN_USERNAMES.includes(username);
	const stored = listed ? await breakGlassPassword(deps.db, username) : undefined;
	decoy ??= hash(crypto.randomUUID(), HASH_OPTIONS);
	const password = attempt.password.slice(0, MAX_PASSWORD_LENGTH);
	let matches = false;
	try {
		matches = await verify(stored?.hash ?? await decoy, password);
	} catch {
		matches = false; // a stored value that is not a hash opens nothing
	}
	const failure: Failure | undefined = !readable
		? "unreadable username"
		: !listed
		? "not an admin"
		: !stored
		? "no password set"
		: matches
		? undefined
		: "wrong password";
	const now = deps.clock();
	const user = readable ? await getUserByUsername(deps.db, username) : undefined;
	const base = {
		at: now,
		actorId: user?.id ?? null,
		actor: readable ? username : "(unreadable username)",
		action: "break-glass-sign-in",
		resourceKind: "user",
		resourceId: readable ? username : "",
	};
	if (failure) {
		await recordAudit(deps.db, { ...base, outcome: "refused", detail: `${failure}, from ${attempt.source}` });
		deps.log.auth.warn("break-glass sign-in refused for {username} from {address}: {reason}", {
			username: base.actor,
			address: attempt.source,
			reason: failure,
		});
		return { ok: false, message: SIGN_IN_REFUSED };
	}
	const sessionId = randomSessionId();
	const expiresAt = new Date(now.getTime() + deps.settings.BREAK_GLASS_MINUTES * 60_000);
	await ensureUser(deps.db, { username });
	await storeBreakGlassSession(deps.db, username, { idHash: await sha256Hex(sessionId), expiresAt });
	await recordAudit(deps.db, {
		...base,
		actorId: (await getUserByUsername(deps.db, username))!.id,
		outcome: "ok",
		detail: `from ${attempt.source}, until ${expiresAt.toISOString()}`,
	});
	deps.log.auth.warn("break-glass sign-in of {username} from {address}, until {until}", {
		username,
		address: attempt.source,
		until: expiresAt.toISOString(),
	});
	return {
		ok: true,
		username,
		expiresAt,
		cookie: await signCookieValue(deps.secret, COOKIE_PURPOSE, [username, sessionId]),
	};
}

/** What the cookie's signature is for (lib/auth/session_cookie.ts): the username and the session id. */
const COOKIE_PURPOSE = "break-glass";

/** A session's username and id from its cookie, when the portal's secret signed it. */
async function readCookie(secret: string, value: string): Promise<{ username: string; sessionId: string } | undefined> {
	const [username, sessionId] = await readCookieValue(secret, COOKIE_PURPOSE, value, 2) ?? [];
	return username && sessionId && USERNAME.test(username) ? { username, sessionId } : undefined;
}

/** The open session a cookie names: its admin and end, or `undefined` (forged, ended, expired, not an admin any more). */
export async function breakGlassSessionOf(
	deps: BreakGlassDeps,
	cookie: string | undefined,
): Promise<{ username: string; expiresAt: Date } | undefined> {
	if (!deps.settings.BREAK_GLASS || !cookie) return undefined;
	const named = await readCookie(deps.secret, cookie);
	if (!named || !deps.settings.ADMIN_USERNAMES.includes(named.username)) return undefined;
	const session = await breakGlassSession(deps.db, named.username);
	if (!session || session.expiresAt.getTime() <= deps.clock().getTime()) return undefined;
	if (!timingSafeEqual(session.idHash, await sha256Hex(named.sessionId))) return undefined;
	return { username: named.username, expiresAt: session.expiresAt };
}

/** What {@link breakGlassIdentity} needs besides {@link BreakGlassDeps}. */
export interface BreakGlassIdentityDeps extends BreakGlassDeps {
	plugins: Plugins;
}

/**
 * The signed-in admin of a request's break-glass cookie, or `undefined` to identify the request the
 * usual way: when break-glass is off, the request carries an identity header (the proxy's say,
 * never combined with a cookie), or the cookie opens no session.
 */
export async function breakGlassIdentity(
	deps: BreakGlassIdentityDeps,
	request: Request,
	cookie: string | undefined,
	remoteAddress: string,
): Promise<{ signedIn: SignedIn; until: Date } | undefined> {
	if (!deps.settings.BREAK_GLASS || !cookie) return undefined;
	// The same context identify() gives the plugin, so both read the same header name.
	const ctx = { ...deps.plugins.context, remoteAddress };
	const header = deps.plugins.auth.functions.getAuthHeader(ctx);
	// With a redirect sign-in (OIDC) no header is anyone's say, so none can set a cookie aside.
	if (!deps.plugins.redirectSignIn && request.headers.get(header)) return undefined;
	// Cached by cookie until the session's end or the next write to sessions or users (identity_cache.ts).
	const cache = identityCacheOf<SignedIn>(deps.db);
	const generation = await cache.refresh(deps.db);
	const cached = cache.sessions.get(`break-glass:${cookie}`);
	if (cached && cached.until.getTime() > deps.clock().getTime()) return cached;
	const session = await breakGlassSessionOf(deps, cookie);
	if (!session) return undefined;
	const { user } = await ensureUser(deps.db, { username: session.username });
	const viewer = await viewerOf(deps.db, user, deps.settings.ADMIN_USERNAMES);
	const csrfEpoch = { epoch: user.csrfEpoch, previousUntil: user.csrfPreviousUntil };
	const found = { signedIn: frozenSignedIn({ ...viewer, csrfEpoch }), until: session.expiresAt };
	if (cache.keeps(generation)) cache.sessions.set(`break-glass:${cookie}`, found);
	return found;
}

/** Ends the admin's break-glass session (their sign-out); audited. */
export async function signOutBreakGlass(
	deps: BreakGlassDeps,
	viewer: { id: number; username: string },
	source: string,
): Promise<void> {
	await endBreakGlassSession(deps.db, viewer.username);
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: viewer.id,
		actor: viewer.username,
		action: "break-glass-sign-out",
		resourceKind: "user",
		resourceId: viewer.username,
		outcome: "ok",
		detail: `from ${source}`,
	});
	deps.log.auth.info("break-glass sign-out of {username} from {address}", {
		username: viewer.username,
		address: source,
	});
}
