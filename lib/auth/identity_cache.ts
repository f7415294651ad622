/**
 * Who a signed-in user is, kept per process so a request costs one small read instead of the
 * user's row, their groups, the groups they manage and (with a directory) the directory's groups.
 *
 * It stays true by the identity generation (lib/db/app_state.ts): a counter that the database's
 * own triggers move on every write to users, memberships, group managers, groups (their directory
 * names) and sign-in or break-glass sessions, whichever process, job or hand-written SQL makes it.
 * Every request reads it first; when it moved, everything cached is dropped. So a role taken away, a membership
 * removed, a "sign out everywhere" or a sign-out counts from the next request on, in this process
 * and in every other one on the same database, exactly as without the cache.
 *
 * What is read under one generation is kept only if the counter has not moved since (a write of
 * the request itself, or of anyone else, meanwhile): the next request then reads it afresh.
 * Bounded by size (least recently used first out), so a flood of users costs at most
 * {@link IDENTITY_CACHE_SIZE} entries per kind.
 */
import { LRUCache } from "lru-cache";
import { generations } from "../db/app_state.ts";
import type { Db } from "../db/client.ts";
import type { User } from "../db/users.ts";

/** Users (and, apart, sessions) kept per process: a few thousand, some hundreds of bytes each. */
export const IDENTITY_CACHE_SIZE = 4096;

/**
 * What is kept of a signed-in user: `SignedIn` of lib/auth/identify.ts (a type parameter here, since
 * identify.ts uses this module).
 */
export interface Identity {
	groupIds: number[];
	managedGroupIds: number[];
	csrfEpoch: object;
}

/** A user as identify() last admitted them, from the identity header. */
export interface CachedUser<T extends Identity> {
	signedIn: T;
	/** Their row: what the plugin is shown, and when their sign-in was last refreshed (a stale one goes the slow way). */
	user: User;
	/** What the auth plugin said of them (profile, role, directory groups): the entry answers only while it says the same. */
	answer: string;
}

/** A session cookie's (break-glass or redirect sign-in) signed-in user and end. */
export interface CachedSession<T extends Identity> {
	signedIn: T;
	until: Date;
}

/** The cache of one database (one per process, shared by every app built on that database). */
export class IdentityCache<T extends Identity> {
	#generation: number | undefined;
	#data: number | undefined;
	/** By lower-case username. */
	readonly users = new LRUCache<string, CachedUser<T>>({ max: IDENTITY_CACHE_SIZE });
	/** By kind and cookie value (`break-glass:…`, `sign-in:…`): values only the portal's secret can sign. */
	readonly sessions = new LRUCache<string, CachedSession<T>>({ max: IDENTITY_CACHE_SIZE });

	/**
	 * Reads the identity generation, dropping everything when it moved; returns it, for
	 * {@link keeps}. Generations only grow: a read that overtook a newer one changes nothing.
	 */
	async refresh(db: Db): Promise<number | undefined> {
		const { identity: generation, data } = await generations(db);
		if (data !== undefined && (this.#data === undefined || data > this.#data)) this.#data = data;
		if (generation === undefined || this.#generation === undefined || generation > this.#generation) {
			this.users.clear();
			this.sessions.clear();
			this.#generation = generation;
		}
		return generation;
	}

	/**
	 * The highest data generation (lib/db/app_state.ts) read so far, in the same statement as the
	 * identity generation: every signed-in request has read it before its handler runs, so it is
	 * never older than the database was when the request began (lib/views/page_cache.ts keys on it).
	 */
	get dataGeneration(): number | undefined {
		return this.#data;
	}

	/** Whether what was read under `generation` may be kept: the counter has not moved since. */
	keeps(generation: number | undefined): boolean {
		return generation !== undefined && generation === this.#generation;
	}
}

const caches = new WeakMap<Db, IdentityCache<Identity>>();

/** The identity cache of a database (of `SignedIn` users, for every caller). */
export function identityCacheOf<T extends Identity>(db: Db): IdentityCache<T> {
	let cache = caches.get(db);
	if (!cache) {
		cache = new IdentityCache();
		caches.set(db, cache);
	}
	return cache as unknown as IdentityCache<T>;
}

/** A signed-in user as the cache hands it out: frozen, since every later request shares it. */
export function frozenSignedIn<T extends Identity>(signedIn: T): T {
	Object.freeze(signedIn.groupIds);
	Object.freeze(signedIn.managedGroupIds);
	Object.freeze(signedIn.csrfEpoch);
	return Object.freeze(signedIn);
}
