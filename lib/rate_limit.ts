/**
 * Rate limits for what anyone may call without signing in, and the record of what they refused.
 *
 * A token bucket per key (a source address, an instance id): `perMinute` tokens refill evenly over
 * a minute, up to `perMinute` in the bucket, so a caller may spend a minute's worth at once and then
 * goes at the refill rate. Written here rather than taken from npm: it is forty lines, it reads the
 * portal's clock (tests compress a minute-long flood into no time at all), and its memory stays
 * bounded when a flood invents a new key per call. Buckets live in the process: with several
 * processes behind the proxy, each allows its own share.
 *
 * Refused calls are not logged one by one (a flood would rotate every earlier line out of the
 * files): {@link RefusalLog} counts them and writes one line per source and endpoint per interval,
 * the busiest sources by name and the rest as one total, and counts them in a metric.
 */
import type { Logger } from "@logtape/logtape";
import type { Counter } from "prom-client";

/** How much a key may call. */
export interface RateLimit {
	/** Calls per minute, and the most that may come at once. */
	perMinute: number;
}

/** Options of {@link TokenBuckets}. */
export interface TokenBucketsOptions extends RateLimit {
	clock: () => Date;
	/** Keys kept at most; past this, full buckets and then the oldest are forgotten. @default 10000 */
	maxKeys?: number;
}

interface Bucket {
	tokens: number;
	at: number;
}

/** Token buckets by key. */
export class TokenBuckets {
	readonly #capacity: number;
	readonly #perMs: number;
	readonly #clock: () => Date;
	readonly #maxKeys: number;
	readonly #buckets = new Map<string, Bucket>();
	#lastSweep = 0;

	constructor(options: TokenBucketsOptions) {
		this.#capacity = Math.max(1, options.perMinute);
		this.#perMs = this.#capacity / 60_000;
		this.#clock = options.clock;
		this.#maxKeys = options.maxKeys ?? 10_000;
	}

	/** Takes a token for `key`: 0 when the call may go ahead, else the whole seconds until it could. */
	take(key: string): number {
		const now = this.#clock().getTime();
		let bucket = this.#buckets.get(key);
		if (bucket) {
			bucket.tokens = Math.min(this.#capacity, bucket.tokens + Math.max(0, now - bucket.at) * this.#perMs);
			bucket.at = now;
		} else {
			this.#makeRoom(now);
			bucket = { tokens: this.#capacity, at: now };
			this.#buckets.set(key, bucket);
		}
		if (bucket.tokens >= 1) {
			bucket.tokens -= 1;
			return 0;
		}
		return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perMs / 1000));
	}

	/** How many keys are held (for tests of the bound). */
	get size(): number {
		return this.#buckets.size;
	}

	/**
	 * Before a new key: when full, forget the buckets that have refilled (the same as having none),
	 * at most once a second, then the oldest ones. Forgetting a busy key only gives it a fresh
	 * bucket; its other keys (the source's own) still hold it back.
	 */
	#makeRoom(now: number): void {
		if (this.#buckets.size < this.#maxKeys) return;
		if (now - this.#lastSweep >= 1000) {
			this.#lastSweep = now;
			for (const [key, bucket] of this.#buckets) {
				if (bucket.tokens + (now - bucket.at) * this.#perMs >= this.#capacity) this.#buckets.delete(key);
			}
		}
		for (const key of this.#buckets.keys()) {
			if (this.#buckets.size < this.#maxKeys) break;
			this.#buckets.delete(key);
		}
	}
}

/** Options of {@link RefusalLog}. */
export interface RefusalLogOptions {
	log: Logger;
	clock: () => Date;
	/** Counted by endpoint. */
	metric: Counter<"endpoint">;
	/** One line per source and endpoint per interval. @default 60000 */
	intervalMs?: number;
	/** Sources named per interval; the others are summed in one line. @default 20 */
	namedSources?: number;
}

/** Counts refused calls and writes them as summaries. */
export class RefusalLog {
	readonly #options: Required<RefusalLogOptions>;
	/** endpoint → source → count, since `#since`. */
	#counts = new Map<string, Map<string, number>>();
	#since: number | undefined;
	#timer: ReturnType<typeof setTimeout> | undefined;

	constructor(options: RefusalLogOptions) {
		this.#options = { intervalMs: 60_000, namedSources: 20, ...options };
	}

	/** Counts one refused call; writes the previous interval's summary first when it is over. */
	note(endpoint: string, source: string): void {
		this.#options.metric.inc({ endpoint });
		const now = this.#options.clock().getTime();
		if (this.#since !== undefined && now - this.#since >= this.#options.intervalMs) this.flush();
		this.#since ??= now;
		let bySource = this.#counts.get(endpoint);
		if (!bySource) this.#counts.set(endpoint, bySource = new Map());
		bySource.set(source, (bySource.get(source) ?? 0) + 1);
		// A flood that stops still gets its summary, within an interval.
		if (this.#timer === undefined) this.#arm(this.#options.intervalMs);
	}

	/**
	 * Writes the summary once the interval is over by the portal's clock, which the timer's wait only
	 * approximates (a slow machine, a test's clock): until then it waits for the rest of it.
	 */
	#arm(waitMs: number): void {
		const timer = setTimeout(() => {
			this.#timer = undefined;
			if (this.#since === undefined) return;
			const left = this.#options.intervalMs - (this.#options.clock().getTime() - this.#since);
			if (left > 0) this.#arm(left);
			else this.flush();
		}, waitMs);
		Deno.unrefTimer(timer);
		this.#timer = timer;
	}

	/** Writes the summary of what was counted since the last one (nothing when nothing was). */
	flush(): void {
		if (this.#since === undefined) return;
		const seconds = Math.max(1, Math.round((this.#options.clock().getTime() - this.#since) / 1000));
		for (const [endpoint, bySource] of this.#counts) {
			const busiest = [...bySource].sort((a, b) => b[1] - a[1]);
			for (const [source, count] of busiest.slice(0, this.#options.namedSources)) {
				this.#options.log.warn("rate limit: refused {count} calls to {endpoint} from {source} in {seconds} s", {
					count,
					endpoint,
					source,
					seconds,
				});
			}
			const rest = busiest.slice(this.#options.namedSources);
			if (rest.length > 0) {
				this.#options.log.warn(
					"rate limit: refused {count} calls to {endpoint} from {sources} other sources in {seconds} s",
					{ count: rest.reduce((n, [, c]) => n + c, 0), endpoint, sources: rest.length, seconds },
				);
			}
		}
		this.#counts = new Map();
		this.#since = undefined;
	}

	/** Writes what is pending and stops the timer (shutdown, the end of a test). */
	close(): void {
		if (this.#timer !== undefined) clearTimeout(this.#timer);
		this.#timer = undefined;
		this.flush();
	}
}
