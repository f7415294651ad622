/**
 * A full garbage collection once the portal goes quiet after a burst of work. A browser tells V8
 * when it is idle and V8 shrinks its heap then; Deno posts no idle-time tasks, so a burst's garbage
 * and the heap pages it grew stay resident: the benchmark saw no collection in the 5 s after its
 * load, and V8 keeps its committed pages after an ordinary collection too. V8's "last resort"
 * collection also gives those pages back: measured on the bench's load (2026-12-02), the heap's
 * pages went from 74 to 26 MiB and RSS from ≈ 225–255 to ≈ 173 MiB. It takes 80–140 ms on that
 * heap, and a request arriving meanwhile waits, so it runs only after a whole quiet interval and
 * only when the heap grew by `growthBytes` since the last one: light traffic never triggers it.
 * Needs V8's `--expose-gc` (lib/workers.ts V8_FLAGS); without it nothing runs.
 */

/** V8's `gc` function as `--expose-gc` exposes it, with the options used here. */
export type ExposedGc = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

/** How long without a request, after some, before the collection. */
export const IDLE_COLLECTION_MS = 2_000;

/** How much the heap must have grown since the last collection (or start) for the next. */
export const IDLE_COLLECTION_GROWTH_BYTES = 16 << 20;

export interface IdleCollectionOptions {
	gc?: ExposedGc;
	idleMs?: number;
	growthBytes?: number;
	/** The heap V8 holds (default: `Deno.memoryUsage().heapTotal`). */
	heapBytes?: () => number;
	/** Runs `tick` every `ms` until the returned function is called (default: an unref'd setInterval). */
	every?: (tick: () => void, ms: number) => () => void;
}

export interface IdleCollection {
	/** Called for every request: one increment. */
	served(): void;
	stop(): void;
}

/**
 * Every `idleMs` the timer looks whether requests came since its last look; when none did, some
 * came before, and the heap grew by `growthBytes` since the last collection, it collects.
 */
export function idleCollection(options: IdleCollectionOptions = {}): IdleCollection {
	const gc = options.gc ?? (globalThis as { gc?: ExposedGc }).gc;
	if (!gc) return { served() {}, stop() {} };
	const heapBytes = options.heapBytes ?? (() => Deno.memoryUsage().heapTotal);
	const growth = options.growthBytes ?? IDLE_COLLECTION_GROWTH_BYTES;
	const every = options.every ?? ((tick, ms) => {
		const timer = setInterval(tick, ms);
		Deno.unrefTimer(timer);
		return () => clearInterval(timer);
	});
	let requests = 0;
	let seen = 0;
	let busy = false;
	let heapAfterLast = heapBytes();
	const stop = every(() => {
		if (requests !== seen) {
			seen = requests;
			busy = true;
			return;
		}
		if (!busy) return;
		busy = false;
		if (heapBytes() < heapAfterLast + growth) return;
		gc({ type: "major", execution: "sync", flavor: "last-resort" });
		heapAfterLast = heapBytes();
	}, options.idleMs ?? IDLE_COLLECTION_MS);
	return {
		served() {
			requests++;
		},
		stop,
	};
}
