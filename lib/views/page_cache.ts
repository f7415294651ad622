/**
 * Rendered pages kept as bytes, per process, for the pages everyone keeps open and reloads (the
 * dashboard and the team view): a page whose data did not change is sent from the bytes it was
 * encoded to once, instead of a dozen queries and a render.
 *
 * It stays true by the data generation (lib/db/app_state.ts): a counter the database's own
 * triggers (migration 0021) move on every write to what these pages show — machines, launches,
 * users and groups, the catalogue, policies, budgets, bills, the sync's banner — whichever process,
 * job or hand-written SQL makes it. Every signed-in request reads it with the identity generation
 * (one statement, lib/auth/identity_cache.ts) before its handler runs, so a page is kept under a
 * generation no older than the database was when the request began: a write committed before a
 * request is always in the page it gets, in this process and in every other one on the database.
 *
 * What a page shows of time (uptimes to the second, costs so far, "last synced … ago", which ended
 * machines are still listed) is kept true by the second: a page is kept for the second of the clock
 * it was rendered in ({@link PAGE_SECOND_MS}), so a page served from the cache is exactly the page
 * an uncached render made less than one second earlier.
 *
 * A page is one viewer's (their name, role, groups, CSRF token and session end are in its key) for
 * one address (path and query string) and one kind of answer (the page or its htmx fragment):
 * it is never sent to anyone else. One entry per such page (the newest replaces the older), and
 * all of them bounded by size ({@link PAGE_CACHE_BYTES}, least recently used first out).
 */
import { LRUCache } from "lru-cache";
import type { Viewer } from "../auth/identify.ts";
import { identityCacheOf } from "../auth/identity_cache.ts";
import type { Deps } from "../deps.ts";

/** Bytes of pages kept per process: a few hundred pages of the dashboard's or the team view's size. */
export const PAGE_CACHE_BYTES = 16 * 1024 * 1024;

/** How long a page is kept at most without a write: one second, the finest time a page shows ("40 s"). */
export const PAGE_SECOND_MS = 1000;

/** Who asks for which page: everything besides the database and the clock that a page's bytes depend on. */
export interface PageAsked {
	viewer: Viewer;
	csrf: string;
	/** The ends of a break-glass or a browser sign-in session, which the page's header shows. */
	breakGlassUntil?: Date;
	signInUntil?: Date;
	/** Whether the page or its htmx fragment (HX-Request). */
	fragment: boolean;
	/** The path and query string. */
	address: string;
}

/** When a page was rendered, as its entry is compared: the data generation and the second. */
interface Stamp {
	generation: number;
	second: number;
	/** The pricing index the page was priced with (it is swapped in when the file changes). */
	pricing: number;
}

interface Entry extends Stamp {
	bytes: Uint8Array<ArrayBuffer>;
}

const pricingIds = new WeakMap<object, number>();
let nextPricingId = 0;

function pricingId(index: object): number {
	let id = pricingIds.get(index);
	if (id === undefined) {
		id = ++nextPricingId;
		pricingIds.set(index, id);
	}
	return id;
}

/** The page cache of one app (its settings, plugins and pricing are part of every page it renders). */
export class PageCache {
	readonly #pages = new LRUCache<string, Entry>({
		maxSize: PAGE_CACHE_BYTES,
		sizeCalculation: (entry, key) => entry.bytes.byteLength + key.length * 2 + 64,
	});
	/** The renders under way, by key: as many as requests are in flight. */
	readonly #rendering = new Map<string, Stamp & { bytes: Promise<Uint8Array<ArrayBuffer>> }>();
	readonly #deps: Pick<Deps, "db" | "clock" | "pricing">;

	constructor(deps: Pick<Deps, "db" | "clock" | "pricing">) {
		this.#deps = deps;
	}

	/** How many pages are kept, and their bytes (for tests and the bench). */
	get size(): { pages: number; bytes: number } {
		return { pages: this.#pages.size, bytes: this.#pages.calculatedSize };
	}

	/** Drops every page (the tests compare a cached page with an uncached render of the same moment). */
	clear(): void {
		this.#pages.clear();
	}

	/**
	 * The page's bytes: the kept ones when nothing it shows has changed since they were rendered in
	 * this second, else `render()`'s, encoded once and kept. Without a data generation (none read
	 * yet, or the row missing) nothing is kept.
	 */
	async page(asked: PageAsked, render: () => Promise<string>): Promise<Uint8Array<ArrayBuffer>> {
		const stamp = this.#stamp();
		if (!stamp) return encoder.encode(await render());
		const key = keyOf(asked);
		const kept = this.#pages.get(key);
		if (kept && sameStamp(kept, stamp)) return kept.bytes;
		// Requests that miss together (every open connection, as a second turns or a write lands)
		// wait for one render instead of each making its own.
		const flight = this.#rendering.get(key);
		if (flight && sameStamp(flight, stamp)) return await flight.bytes;
		const bytes = render().then((html) => encoder.encode(html));
		this.#rendering.set(key, { ...stamp, bytes });
		try {
			const made = await bytes;
			// A slower render of an older generation or second does not replace a newer one.
			const now = this.#pages.peek(key);
			if (!now || !newer(now, stamp)) this.#pages.set(key, { ...stamp, bytes: made });
			return made;
		} finally {
			if (this.#rendering.get(key)?.bytes === bytes) this.#rendering.delete(key);
		}
	}

	#stamp(): Stamp | undefined {
		const generation = identityCacheOf(this.#deps.db).dataGeneration;
		if (generation === undefined) return undefined;
		return {
			generation,
			second: Math.floor(this.#deps.clock().getTime() / PAGE_SECOND_MS),
			pricing: pricingId(this.#deps.pricing.index),
		};
	}
}

const encoder = new TextEncoder();

function sameStamp(a: Stamp, b: Stamp): boolean {
	return a.generation === b.generation && a.second === b.second && a.pricing === b.pricing;
}

function newer(a: Stamp, b: Stamp): boolean {
	return a.generation > b.generation || (a.generation === b.generation && a.second > b.second);
}

/** The key of one viewer's page: every field of the viewer, their token and sessions, the kind and address. */
function keyOf(asked: PageAsked): string {
	const v = asked.viewer;
	return JSON.stringify([
		v.id,
		v.username,
		v.name,
		v.email,
		v.role,
		v.groupIds.join(","),
		v.managedGroupIds.join(","),
		asked.csrf,
		asked.breakGlassUntil?.getTime() ?? "",
		asked.signInUntil?.getTime() ?? "",
		asked.fragment ? "fragment" : "page",
		asked.address,
	]);
}

const caches = new WeakMap<object, PageCache>();

/** The page cache of an app (one per deps: two apps on one database in a test each keep their own). */
export function pageCacheOf(deps: Pick<Deps, "db" | "clock" | "pricing">): PageCache {
	let cache = caches.get(deps);
	if (!cache) {
		cache = new PageCache(deps);
		caches.set(deps, cache);
	}
	return cache;
}
