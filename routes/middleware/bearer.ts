/**
 * Who is asking on /api/: a personal API token (`Authorization: Bearer`, lib/auth/api_tokens.ts),
 * and nothing else. The identity header, the break-glass cookie and any other cookie are never
 * read here (identity() skips /api/), so a page's session cannot be ridden by a script and a token
 * cannot be forged by a proxy header; and since a browser never adds a bearer token by itself,
 * CSRF does not apply to these requests. Each token has its own rate limit; refused tokens
 * (guessing) are limited per source address like the other calls that need no sign-in.
 */
import type { MiddlewareHandler } from "hono";
import { authenticateBearer } from "../../lib/auth/api_tokens.ts";
import type { Deps } from "../../lib/deps.ts";
import { TokenBuckets } from "../../lib/rate_limit.ts";
import type { AppEnv } from "../context.ts";
import { respondError } from "../respond.tsx";
import { createLimiter } from "./rate_limit.ts";

/** Sets `viewer` from the bearer token, or answers 401 (no valid token) or 429 (the token's share is used). */
export function bearerIdentity(deps: Deps): MiddlewareHandler<AppEnv> {
	const refusals = createLimiter(deps, { endpoint: "api-token", perSource: deps.settings.RATE_LIMIT_PER_SOURCE });
	const perToken = new TokenBuckets({ perMinute: deps.settings.API_RATE_LIMIT_PER_TOKEN, clock: deps.clock });
	return async (c, next) => {
		const result = await authenticateBearer(deps, c.req.header("Authorization"));
		if (!result.ok) {
			const limited = refusals.check(c);
			if (limited) return limited;
			c.header("WWW-Authenticate", 'Bearer realm="mliy"');
			return respondError(c, 401, result.message);
		}
		const wait = perToken.take(String(result.tokenId));
		if (wait > 0) {
			c.header("Retry-After", String(wait));
			const share = deps.settings.API_RATE_LIMIT_PER_TOKEN;
			return respondError(c, 429, `This token has used its ${share} calls a minute; try again in ${wait} s.`);
		}
		c.set("viewer", result.viewer);
		await next();
		c.header("Cache-Control", "no-store");
	};
}
