/**
 * Who is asking: the identity header set by a trusted proxy (or the development plugin on
 * loopback), turned into a portal user through the auth plugin. Users are created on first visit
 * and updated from the plugin on each request, writing only when something changed.
 */
import { type Db, noteUnwritable } from "../db/client.ts";
import { unwritableReason } from "../db/errors.ts";
import type { Role } from "../db/schema.ts";
import {
	displayName,
	ensureUser,
	groupIdsOf,
	highestRole,
	managedGroupIdsOf,
	syncDirectoryManagement,
	syncDirectoryMemberships,
	updateUserProfile,
	type User,
} from "../db/users.ts";
import type { Loggers } from "../log.ts";
import type { AuthUserInfo, Plugins, PluginUser } from "../plugins/contract.ts";
import type { Settings } from "../settings.ts";
import { CSRF_GRACE_MS, type CsrfEpoch } from "./csrf.ts";
import { frozenSignedIn, identityCacheOf } from "./identity_cache.ts";
import { proxyRefusal, type ProxySettings } from "./proxy.ts";

/** The signed-in user as every route and permission check sees it. */
export interface Viewer {
	id: number;
	username: string;
	name: string;
	email: string;
	/** Effective role: the highest of the admin-given role, the directory role and ADMIN_USERNAMES. */
	role: Role;
	groupIds: number[];
	/**
	 * The groups the viewer manages by assignment (the directory's per-group manager group, or an
	 * admin), whether or not they belong to them. A global manager (the role) manages every group.
	 */
	managedGroupIds: number[];
}

/** The viewer of a request, with the generation of their CSRF tokens. */
export type SignedIn = Viewer & { csrfEpoch: CsrfEpoch };

/**
 * Why a request has no identity; every case is a 401. `log` is the auth.log line a refusal deserves:
 * the caller writes it, unless a rate limit counts the request instead (forged identities are free
 * to send, so one line each would let a flood fill the log).
 */
export interface IdentityFailure {
	reason: "missing" | "untrusted" | "malformed";
	message: string;
	log?: { message: string; properties: Record<string, unknown> };
}

function untrusted(message: string, properties: Record<string, unknown>): IdentityFailure {
	return {
		reason: "untrusted",
		message: "This request did not come through the portal's sign-in proxy, so its identity is not trusted.",
		log: { message, properties },
	};
}

/** What the portal accepts as a (lower-case) username, from the identity header or an import. */
export const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,63}$/;

/** Dependencies of {@link identify}. */
export interface IdentifyDeps {
	db: Db;
	settings: ProxySettings & Pick<Settings, "ADMIN_USERNAMES">;
	plugins: Plugins;
	log: Pick<Loggers, "auth">;
	clock: () => Date;
}

/** Resolves the request's user, creating or updating the portal's record of them. */
export async function identify(
	deps: IdentifyDeps,
	request: Request,
	remoteAddress: string,
): Promise<SignedIn | IdentityFailure> {
	const auth = deps.plugins.auth.functions;
	const ctx = { ...deps.plugins.context, remoteAddress };
	const pluginRefusal = auth.refuseAuthRequest(request, ctx);
	if (pluginRefusal) {
		return untrusted("refused identity from {address}: {reason}", { address: remoteAddress, reason: pluginRefusal });
	}
	const headerName = auth.getAuthHeader(ctx);
	const headerValue = request.headers.get(headerName);
	const proxy = proxyRefusal(deps.settings, remoteAddress, request.headers);
	let raw: string | undefined;
	if (headerValue !== null && headerValue !== "") {
		if (proxy) {
			return untrusted("refused identity header {header} from {address}: {reason}", {
				header: headerName,
				address: remoteAddress,
				reason: proxy,
			});
		}
		raw = headerValue;
	} else {
		raw = auth.anonymousAuthUser(request, ctx);
		// With a proxy secret, every identity comes through the proxy, the development one too.
		if (raw && deps.settings.PROXY_SECRET !== undefined && proxy) {
			return untrusted("refused identity from {address}: {reason}", { address: remoteAddress, reason: proxy });
		}
	}
	if (!raw) return { reason: "missing", message: "No identity reached the portal with this request." };
	const answer: DirectoryAnswer = {
		info: (user) => auth.processAuthUserInfo(user, request, ctx) ?? undefined,
		groups: (user) => auth.processAuthUserGroups(user, request, ctx) ?? undefined,
	};
	// The cached way: nothing written since this user was last admitted (the identity generation),
	// their sign-in fresh, and the plugin saying of them what it said then; admitting them again
	// would change nothing and read the same viewer.
	const cache = identityCacheOf<SignedIn>(deps.db);
	const generation = await cache.refresh(deps.db);
	const username = auth.cleanAuthUsername(raw, ctx).trim().toLowerCase();
	const cached = cache.users.get(username);
	if (cached && !loginStale(cached.user.lastLoginAt, deps.clock())) {
		const user = pluginUserOf(cached.user);
		if (answerKey(answer.info(user), answer.groups(user)) === cached.answer) return cached.signedIn;
	}
	// The plugin's answer as admitUser applied it: the same answer later means nothing to apply.
	const said: { info?: AuthUserInfo; groups?: string[] } = {};
	const admitted = await admit(deps, raw, remoteAddress, {
		info: (user) => (said.info = answer.info(user)),
		groups: (user) => (said.groups = answer.groups(user)),
	});
	if (isIdentityFailure(admitted)) return admitted;
	const signedIn = frozenSignedIn(admitted.signedIn);
	if (cache.keeps(generation)) {
		cache.users.set(username, { signedIn, user: admitted.user, answer: answerKey(said.info, said.groups) });
	}
	return signedIn;
}

/** Whether a sign-in is due its refresh (the login time, a new CSRF generation): after 15 minutes. */
function loginStale(lastLoginAt: Date | null, now: Date): boolean {
	return !lastLoginAt || now.getTime() - lastLoginAt.getTime() > 15 * 60_000;
}

function pluginUserOf(user: User): PluginUser {
	return { username: user.username, firstName: user.firstName, lastName: user.lastName, email: user.email };
}

/**
 * The plugin's answer as a string, telling apart every answer {@link admitUser} applies differently
 * (a role left out leaves the directory role as it is; a role of `undefined` clears it).
 */
function answerKey(info: AuthUserInfo | undefined, groups: string[] | undefined): string {
	return JSON.stringify([
		info?.firstName ?? null,
		info?.lastName ?? null,
		info?.email ?? null,
		info && "role" in info ? info.role ?? null : "(left out)",
		Array.isArray(groups) ? groups.map(String) : null,
	]);
}

/** What the auth plugin says of a user at sign-in: their profile and role, and their directory groups. */
export interface DirectoryAnswer {
	info(user: PluginUser): AuthUserInfo | undefined;
	/** `undefined` leaves directory memberships untouched. */
	groups(user: PluginUser): string[] | undefined;
}

/**
 * Admits the user a sign-in names (an identity header, or a redirect sign-in's ID token): the
 * plugin's `cleanAuthUsername`, the username check, the user created on first sight
 * (`configureAuthUser`), then the profile, the directory role and the directory memberships and
 * managed groups applied from `answer`, the one mapping every auth plugin goes through.
 */
export async function admitUser(
	deps: IdentifyDeps,
	raw: string,
	remoteAddress: string,
	answer: DirectoryAnswer,
): Promise<SignedIn | IdentityFailure> {
	const admitted = await admit(deps, raw, remoteAddress, answer);
	return isIdentityFailure(admitted) ? admitted : admitted.signedIn;
}

/** {@link admitUser}, with the user's row as it left it. */
async function admit(
	deps: IdentifyDeps,
	raw: string,
	remoteAddress: string,
	answer: DirectoryAnswer,
): Promise<{ signedIn: SignedIn; user: User } | IdentityFailure> {
	const auth = deps.plugins.auth.functions;
	const ctx = { ...deps.plugins.context, remoteAddress };
	const username = auth.cleanAuthUsername(raw, ctx).trim().toLowerCase();
	if (!USERNAME.test(username)) {
		return {
			reason: "malformed",
			message: "Your sign-in name is not one the portal accepts.",
			log: { message: "refused malformed username from {address}", properties: { address: remoteAddress } },
		};
	}

	let { user, created } = await ensureUser(deps.db, { username });
	const pluginUser = () => pluginUserOf(user);
	if (created) {
		deps.log.auth.info("created user {username}", { username });
		user = await applyInfo(deps.db, user, auth.configureAuthUser(pluginUser(), ctx) ?? undefined);
	}
	const info = answer.info(pluginUser());
	const now = deps.clock();
	const refresh = loginStale(user.lastLoginAt, now);
	try {
		user = await applyInfo(deps.db, user, info, refresh ? now : undefined);
	} catch (error) {
		if (!refresh || !unwritableReason(error)) throw error;
		// A full or read-only disk: pages can still be read, so only a change the directory made
		// (a role, a name) must be saved before going on; the time of the sign-in can wait.
		noteUnwritable(deps.db, now);
		user = await applyInfo(deps.db, user, info);
	}
	if (refresh) deps.log.auth.info("sign-in {username} from {address}", { username, address: remoteAddress });

	const directoryGroups = answer.groups(pluginUser());
	if (Array.isArray(directoryGroups)) {
		const { added, removed } = await syncDirectoryMemberships(deps.db, user.id, directoryGroups.map(String));
		if (added.length || removed.length) {
			deps.log.auth.info("directory memberships of {username}: added {added}, removed {removed}", {
				username,
				added,
				removed,
			});
		}
		const managed = await syncDirectoryManagement(deps.db, user.id, directoryGroups.map(String));
		if (managed.added.length || managed.removed.length) {
			deps.log.auth.info("directory manages for {username}: added {added}, removed {removed}", {
				username,
				added: managed.added,
				removed: managed.removed,
			});
		}
	}
	const viewer = await viewerOf(deps.db, user, deps.settings.ADMIN_USERNAMES);
	return { signedIn: { ...viewer, csrfEpoch: { epoch: user.csrfEpoch, previousUntil: user.csrfPreviousUntil } }, user };
}

async function applyInfo(db: Db, user: User, info: AuthUserInfo | undefined, loginAt?: Date): Promise<User> {
	const changes: Parameters<typeof updateUserProfile>[2] = {};
	if (info?.firstName !== undefined) changes.firstName = info.firstName.slice(0, 100);
	if (info?.lastName !== undefined) changes.lastName = info.lastName.slice(0, 100);
	if (info?.email !== undefined) changes.email = info.email.slice(0, 200);
	if (info && "role" in info) changes.directoryRole = info.role ?? null;
	if (loginAt) {
		// A sign-in refresh: the CSRF tokens move on a generation, the previous one accepted a while
		// longer. Two requests refreshing at once write the same next generation.
		changes.lastLoginAt = loginAt;
		changes.csrfEpoch = user.csrfEpoch + 1;
		changes.csrfPreviousUntil = new Date(loginAt.getTime() + CSRF_GRACE_MS);
	}
	return await updateUserProfile(db, user, changes);
}

/**
 * Builds the viewer from a user row, their group ids and the groups they manage by assignment;
 * `adminUsernames` as settings give them (lower-case).
 */
export function toViewer(
	user: User,
	groupIds: number[],
	adminUsernames: readonly string[],
	managedGroupIds: number[] = [],
): Viewer {
	const listedAdmin = adminUsernames.includes(user.username);
	return {
		id: user.id,
		username: user.username,
		name: displayName(user),
		email: user.email,
		role: highestRole(user.role, user.directoryRole, listedAdmin ? "admin" : undefined),
		groupIds,
		managedGroupIds,
	};
}

/** The viewer a stored user is now: their groups and the groups they manage read from the database. */
export async function viewerOf(db: Db, user: User, adminUsernames: readonly string[]): Promise<Viewer> {
	const [groupIds, managed] = await Promise.all([groupIdsOf(db, user.id), managedGroupIdsOf(db, user.id)]);
	return toViewer(user, groupIds, adminUsernames, managed);
}

/** Whether an identify() result is a failure. */
export function isIdentityFailure<T extends object>(value: T | IdentityFailure): value is IdentityFailure {
	return "reason" in value;
}
