/**
 * The first middleware: the peer's address and the request id. An `X-Request-Id` the request
 * brings is kept only from the trusted proxy (which names its own, so its log and the portal's
 * match); from anyone else it is replaced, so a client cannot plant ids (or text) in the logs or
 * make its requests look like another's.
 */
import type { MiddlewareHandler } from "hono";
import { fromTrustedProxy } from "../../lib/auth/proxy.ts";
import type { Deps } from "../../lib/deps.ts";
import type { AppEnv } from "../context.ts";
import { setAnswerHeader } from "./answer_headers.ts";

/** What a proxy's id may look like: nginx's hex, Apache's UNIQUE_ID, a UUID. */
const REQUEST_ID = /^[A-Za-z0-9._:@+=\/-]{1,128}$/;

export function requestIdentity(deps: Pick<Deps, "settings">): MiddlewareHandler<AppEnv> {
	return async (c, next) => {
		const peer = c.env?.remoteAddr?.hostname ?? "unknown";
		c.set("remoteAddress", peer);
		const given = c.req.header("X-Request-Id");
		const id = given && REQUEST_ID.test(given) && fromTrustedProxy(deps.settings, peer, c.req.raw.headers)
			? given
			: crypto.randomUUID();
		c.set("requestId", id);
		await next();
		// On the answer once made (see setAnswerHeaders): a header set before next() makes hono
		// build every answer from a Headers object, which Deno copies entry by entry (≈ 4 µs).
		setAnswerHeader(c, "X-Request-Id", id);
	};
}
