/**
 * Rate limits for the routes anyone may call without signing in (lib/rate_limit.ts): once the
 * caller's source address (the client the trusted proxy names, an IPv6 client by its /64), or
 * another key the route names (the progress callback's instance id), has used its share, the answer
 * is a 429 with Retry-After, counted in the minute's summary and the metric instead of logged. Any
 * unauthenticated route takes one (the policy engine's activity endpoint too): `createLimiter`.
 */
import type { Context, MiddlewareHandler } from "hono";
import { sourceAddress } from "../../lib/auth/proxy.ts";
import type { Deps } from "../../lib/deps.ts";
import { RefusalLog, TokenBuckets } from "../../lib/rate_limit.ts";
import type { AppEnv } from "../context.ts";
import { respondError } from "../respond.tsx";

/** A key besides the source, with its own share: e.g. the instance id of a progress call. */
export interface LimitKey {
	name: string;
	perMinute: number;
	/** The key of this request; `undefined` skips this limit. */
	of(c: Context<AppEnv>): string | undefined;
}

/** What one endpoint allows. */
export interface LimitSpec {
	/** The endpoint's name in the summaries and in `mliy_rate_limited_total`. */
	endpoint: string;
	/** Calls per minute from one source address. */
	perSource: number;
	keys?: readonly LimitKey[];
}

/** One endpoint's limiter. */
export interface Limiter {
	/** The 429 to answer when this request is over a share (the refusal is counted), else `undefined`. */
	check(c: Context<AppEnv>): Response | undefined;
	/** {@link Limiter.check} as a middleware. */
	middleware: MiddlewareHandler<AppEnv>;
}

const refusalLogs = new WeakMap<Deps, RefusalLog>();

/** The summary of refused calls shared by every limiter of the app. */
function refusalLogOf(deps: Deps): RefusalLog {
	let log = refusalLogs.get(deps);
	if (!log) {
		log = new RefusalLog({ log: deps.log.web, clock: deps.clock, metric: deps.metrics.rateLimited });
		refusalLogs.set(deps, log);
	}
	return log;
}

/** Writes the pending summary of refused calls (at shutdown, or when a test reads the logs). */
export function flushRateLimitSummaries(deps: Deps): void {
	refusalLogs.get(deps)?.close();
}

/** A limiter for one endpoint. */
export function createLimiter(deps: Deps, spec: LimitSpec): Limiter {
	const bySource = new TokenBuckets({ perMinute: spec.perSource, clock: deps.clock });
	const byKey = (spec.keys ?? []).map((key) => ({
		key,
		buckets: new TokenBuckets({ perMinute: key.perMinute, clock: deps.clock }),
	}));
	const refusals = refusalLogOf(deps);
	const check = (c: Context<AppEnv>) => {
		const source = sourceAddress(deps.settings, c.get("remoteAddress"), c.req.raw.headers);
		let wait = bySource.take(source);
		for (const { key, buckets } of byKey) {
			if (wait > 0) break;
			const value = key.of(c);
			if (value !== undefined) wait = buckets.take(value.slice(0, 100).toLowerCase());
		}
		if (wait === 0) return undefined;
		refusals.note(spec.endpoint, source);
		c.set("rateLimited", true);
		c.header("Retry-After", String(wait));
		return respondError(c, 429, `Too many requests; try again in ${wait} s.`);
	};
	return {
		check,
		middleware: async (c, next) => {
			const refused = check(c);
			if (refused) return refused;
			await next();
		},
	};
}

/**
 * The limit of an instance's callbacks (progress, activity): they need no sign-in and each is a
 * write, so they are limited per source address and per instance id, and neither one flooding
 * source nor many sources reporting for one id can take the database or the logs.
 */
export function instanceCallbackLimit(deps: Deps, endpoint: string): MiddlewareHandler<AppEnv> {
	return createLimiter(deps, {
		endpoint,
		perSource: deps.settings.RATE_LIMIT_PER_SOURCE,
		keys: [{
			name: "instance",
			perMinute: deps.settings.RATE_LIMIT_PER_INSTANCE,
			of: (c) => c.req.param("instanceId"),
		}],
	}).middleware;
}
