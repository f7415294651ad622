/**
 * Cross-site request forgery protection for every state-changing request: the browser's own
 * signals (Sec-Fetch-Site, Origin) must say same-origin, and the request must carry the per-user
 * token the pages embed (a header for htmx, a hidden field for forms). The token is an HMAC of the
 * user with the portal's secret, so nothing is stored.
 */
import type { Viewer } from "./identify.ts";
import { addressInRanges, type Cidr } from "../net.ts";
import { hmacToken, timingSafeEqual } from "../tokens.ts";

/** The CSRF token for a user. */
export function csrfToken(secret: string, viewer: Pick<Viewer, "id" | "username">): Promise<string> {
	return hmacToken(secret, `csrf:${viewer.id}:${viewer.username}`);
}

/** What the check needs from a request. */
export interface CsrfInput {
	origin: string | undefined;
	secFetchSite: string | undefined;
	host: string | undefined;
	forwardedHost: string | undefined;
	remoteAddress: string;
	/** The token from the X-CSRF-Token header or the `_csrf` form field. */
	token: string | undefined;
}

/** Returns why the request is refused, or `undefined` when it may proceed. */
export function csrfRefusal(
	input: CsrfInput,
	expected: string,
	settings: { PUBLIC_URL?: string; TRUSTED_PROXIES: readonly Cidr[] },
): string | undefined {
	if (input.secFetchSite && !["same-origin", "none"].includes(input.secFetchSite)) {
		return "This request came from another site, so the portal refused it.";
	}
	if (input.origin && input.origin !== "null") {
		let originHost: string;
		try {
			originHost = new URL(input.origin).host;
		} catch {
			return "This request has a malformed Origin header.";
		}
		const allowed = new Set<string>();
		if (input.host) allowed.add(input.host);
		if (input.forwardedHost && addressInRanges(input.remoteAddress, settings.TRUSTED_PROXIES)) {
			allowed.add(input.forwardedHost.split(",")[0]!.trim());
		}
		if (settings.PUBLIC_URL) allowed.add(new URL(settings.PUBLIC_URL).host);
		if (!allowed.has(originHost)) return "This request came from another site, so the portal refused it.";
	} else if (input.origin === "null") {
		return "This request came from an opaque origin, so the portal refused it.";
	}
	if (!input.token || !timingSafeEqual(input.token, expected)) {
		return "This form is missing its security token or it has expired; reload the page and try again.";
	}
	return undefined;
}
