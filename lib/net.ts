/**
 * IP addresses and CIDR ranges: parsing, range checks, loopback, and the address a request comes
 * from behind trusted proxies. Pure functions, used by settings, sign-in, CSRF and the progress check.
 */

/** A parsed IPv4/IPv6 CIDR range. */
export interface Cidr {
	/** The range as written, for logs and messages. */
	text: string;
	bytes: Uint8Array;
	prefix: number;
}

/** Parses `10.0.0.0/8`, `::1`, `192.168.1.5` into a range; `undefined` when malformed. */
export function parseCidr(text: string): Cidr | undefined {
	const [address, prefixText, ...rest] = text.trim().split("/");
	if (rest.length > 0 || address === undefined) return undefined;
	const bytes = parseIp(address);
	if (!bytes) return undefined;
	const max = bytes.length * 8;
	if (prefixText === undefined) return { text: text.trim(), bytes, prefix: max };
	if (!/^\d{1,3}$/.test(prefixText)) return undefined;
	const prefix = Number(prefixText);
	return prefix <= max ? { text: text.trim(), bytes, prefix } : undefined;
}

/** Parses an IPv4 or IPv6 address to bytes; IPv4-mapped IPv6 addresses become IPv4. */
export function parseIp(text: string): Uint8Array | undefined {
	const value = text.trim().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
	const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value);
	if (v4) {
		const parts = v4.slice(1).map(Number);
		return parts.every((n) => n <= 255) ? Uint8Array.from(parts) : undefined;
	}
	if (!/^[0-9a-fA-F:.]+$/.test(value) || !value.includes(":")) return undefined;
	const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(value);
	if (mapped) return parseIp(mapped[1]!);
	const halves = value.split("::");
	if (halves.length > 2) return undefined;
	const parseGroups = (part: string) => part === "" ? [] : part.split(":");
	const head = parseGroups(halves[0]!);
	const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
	const missing = 8 - head.length - tail.length;
	if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
	const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
	const bytes = new Uint8Array(16);
	for (const [i, group] of groups.entries()) {
		if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
		const n = parseInt(group, 16);
		bytes[i * 2] = n >> 8;
		bytes[i * 2 + 1] = n & 0xff;
	}
	return bytes;
}

/**
 * The answers of {@link addressInRanges} for the addresses last asked about, per list of ranges
 * (the settings' lists, which live as long as the process): every request asks it of its peer,
 * almost always one of a few (the proxy), and parsing the address each time was ≈ 2 µs of each.
 */
const inRangesMemo = new WeakMap<readonly Cidr[], Map<string, boolean>>();
/** Distinct addresses remembered per list before the memo starts over (a flood of peers costs no memory). */
const IN_RANGES_MEMO_SIZE = 1024;

/** Whether `address` lies inside any of the ranges (as settings hold them, parsed). */
export function addressInRanges(address: string | undefined, ranges: readonly Cidr[]): boolean {
	if (!address) return false;
	let memo = inRangesMemo.get(ranges);
	if (!memo) inRangesMemo.set(ranges, memo = new Map());
	let inside = memo.get(address);
	if (inside === undefined) {
		if (memo.size >= IN_RANGES_MEMO_SIZE) memo.clear();
		inside = parsedInRanges(address, ranges);
		memo.set(address, inside);
	}
	return inside;
}

function parsedInRanges(address: string, ranges: readonly Cidr[]): boolean {
	const ip = parseIp(address);
	if (!ip) return false;
	return ranges.some((cidr) => {
		if (cidr.bytes.length !== ip.length) return false;
		let bits = cidr.prefix;
		for (let i = 0; i < ip.length && bits > 0; i++, bits -= 8) {
			const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
			if ((ip[i]! & mask) !== (cidr.bytes[i]! & mask)) return false;
		}
		return true;
	});
}

/** Whether an address (or host name) is loopback only: `localhost`, 127.0.0.0/8, `::1`, also bracketed or IPv4-mapped. */
export function isLoopback(host: string): boolean {
	if (host.trim().toLowerCase() === "localhost") return true;
	return addressInRanges(host, LOOPBACK);
}

const LOOPBACK = [parseCidr("127.0.0.0/8")!, parseCidr("::1")!];

/** The address a request comes from: the peer, or the last forwarded hop when the peer is a trusted proxy. */
export function callerAddress(peer: string, forwardedFor: string | null, trustedProxies: readonly Cidr[]): string {
	if (!forwardedFor || !addressInRanges(peer, trustedProxies)) return peer;
	const hops = forwardedFor.split(",").map((h) => h.trim()).filter(Boolean);
	// Walk back from the proxy: the first hop that is not itself a trusted proxy is the client.
	for (let i = hops.length - 1; i >= 0; i--) {
		if (!parseIp(hops[i]!)) return peer;
		if (!addressInRanges(hops[i], trustedProxies)) return hops[i]!;
	}
	return hops[0] ?? peer;
}

/** Whether two addresses are the same IP (`::ffff:10.0.0.1` and `10.0.0.1` are). */
export function sameAddress(a: string | null | undefined, b: string): boolean {
	const x = a ? parseIp(a) : undefined;
	const y = parseIp(b);
	return !!x && !!y && x.length === y.length && x.every((v, i) => v === y[i]);
}
