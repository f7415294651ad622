/**
 * Whether a request came through the portal's own reverse proxy: its peer is in TRUSTED_PROXIES
 * and, when PROXY_SECRET is set, it carries that secret in PROXY_SECRET_HEADER. Only such requests
 * may assert an identity, name the client behind them (X-Forwarded-For) or set the request id. The
 * address alone is weak when other software shares the proxy's host or network: anything that can
 * open a connection from there could otherwise claim any user, role and group.
 */
import { addressInRanges, callerAddress, parseIp } from "../net.ts";
import type { Settings } from "../settings.ts";
import { timingSafeEqual } from "../tokens.ts";

/** The settings the proxy checks read. */
export type ProxySettings = Pick<Settings, "TRUSTED_PROXIES" | "PROXY_SECRET" | "PROXY_SECRET_HEADER">;

/** Why a request is not from the trusted proxy, or `undefined` when it is. */
export function proxyRefusal(
	settings: ProxySettings,
	peer: string,
	headers: Headers,
): "untrusted address" | "no proxy secret" | undefined {
	if (!addressInRanges(peer, settings.TRUSTED_PROXIES)) return "untrusted address";
	if (settings.PROXY_SECRET === undefined) return undefined;
	const sent = headers.get(settings.PROXY_SECRET_HEADER);
	return sent !== null && timingSafeEqual(sent, settings.PROXY_SECRET) ? undefined : "no proxy secret";
}

/** Whether the request came through the trusted proxy (see {@link proxyRefusal}). */
export function fromTrustedProxy(settings: ProxySettings, peer: string, headers: Headers): boolean {
	return proxyRefusal(settings, peer, headers) === undefined;
}

/**
 * The address a request comes from: the client the trusted proxy names in X-Forwarded-For, else
 * the peer itself. IPv6 clients count by their /64, the smallest block one subscriber is given, so
 * a flood cannot spread over the addresses of its own network to get a fresh rate limit for each.
 */
export function sourceAddress(settings: ProxySettings, peer: string, headers: Headers): string {
	const address = fromTrustedProxy(settings, peer, headers)
		? callerAddress(peer, headers.get("X-Forwarded-For"), settings.TRUSTED_PROXIES)
		: peer;
	let source = sources.get(address);
	if (source === undefined) {
		if (sources.size >= SOURCES_KEPT) sources.clear();
		source = sourceOf(address);
		sources.set(address, source);
	}
	return source;
}

/** {@link sourceOf} of the addresses last seen: every call without a sign-in asks it (rate limits). */
const sources = new Map<string, string>();
/** Distinct addresses remembered before the memo starts over (a flood of sources costs no memory). */
const SOURCES_KEPT = 1024;

/** An address as the rate limits count it: IPv4 as it is, IPv6 by its /64. */
function sourceOf(address: string): string {
	const bytes = parseIp(address);
	if (!bytes || bytes.length === 4) return bytes ? bytes.join(".") : address;
	const groups = Array.from({ length: 4 }, (_, i) => ((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!).toString(16));
	return `${groups.join(":")}::/64`;
}
