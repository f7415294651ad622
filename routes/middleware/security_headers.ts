/** The headers every answer carries: no sniffing, no framing, same-origin referrers and the content security policy. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";
import { setAnswerHeaders } from "./answer_headers.ts";

const CONTENT_SECURITY_POLICY =
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/** The headers, for the benchmark's reference app (bench/floor_server.ts). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options": "DENY",
	"Referrer-Policy": "same-origin",
	"Content-Security-Policy": CONTENT_SECURITY_POLICY,
};

export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
	await next();
	setAnswerHeaders(c, SECURITY_HEADERS);
};
