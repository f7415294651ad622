/** The headers every answer carries: no sniffing, no framing, same-origin referrers and the content security policy. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context.ts";

const CONTENT_SECURITY_POLICY =
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
	await next();
	c.header("X-Content-Type-Options", "nosniff");
	c.header("X-Frame-Options", "DENY");
	c.header("Referrer-Policy", "same-origin");
	c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
};
