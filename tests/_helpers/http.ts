/** Requests against the app as a given user, from a given address, with the page's CSRF token. */
import type { Hono } from "hono";
import type { AppEnv } from "../../routes/context.ts";

/** Options for one request. */
export interface RequestOptions {
	/** The username sent in the identity header (REMOTE_USER unless `header` says otherwise). */
	user?: string;
	header?: string;
	/** The TCP peer. @default "127.0.0.1" (a trusted proxy by default) */
	from?: string;
	headers?: Record<string, string>;
	/** Form fields for a POST (urlencoded); the CSRF token is added unless `csrf: false`. */
	form?: Record<string, string | string[]>;
	csrf?: boolean;
	htmx?: boolean;
	method?: string;
	/** A raw body (an instance's JSON report), sent as it is with its own Content-Type header. */
	body?: string;
}

const tokens = new WeakMap<Hono<AppEnv>, Map<string, string>>();

/** Sends one request to the app. */
export async function request(app: Hono<AppEnv>, path: string, options: RequestOptions = {}): Promise<Response> {
	const headers = new Headers(options.headers);
	if (options.user) headers.set(options.header ?? "REMOTE_USER", options.user);
	if (options.htmx) headers.set("HX-Request", "true");
	const method = options.method ?? (options.form ? "POST" : "GET");
	let body: string | undefined = options.body;
	if (body === undefined && (options.form || method === "POST")) {
		const form = new URLSearchParams();
		for (const [key, value] of Object.entries(options.form ?? {})) {
			for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
		}
		if (options.csrf !== false && options.user) form.set("_csrf", await csrfFor(app, options));
		headers.set("Content-Type", "application/x-www-form-urlencoded");
		body = form.toString();
	}
	const res = await app.request(path, { method, headers, body }, {
		remoteAddr: { hostname: options.from ?? "127.0.0.1", port: 40000, transport: "tcp" },
	});
	// Every answer to a signed-in user names their current token: a token already fetched follows
	// it, as the page glue keeps an open page's (a revocation or a sign-in refresh moves it on).
	const current = res.headers.get("X-CSRF-Token");
	const cache = tokenCache(app);
	if (current && options.user && cache.has(tokenKey(options))) cache.set(tokenKey(options), current);
	return res;
}

function tokenCache(app: Hono<AppEnv>): Map<string, string> {
	const cache = tokens.get(app) ?? new Map<string, string>();
	tokens.set(app, cache);
	return cache;
}

const tokenKey = (options: RequestOptions) => `${options.user}|${options.header ?? ""}`;

/** The CSRF token the pages give this user (read from the profile page's meta tag). */
export async function csrfFor(app: Hono<AppEnv>, options: RequestOptions): Promise<string> {
	const key = tokenKey(options);
	const cache = tokenCache(app);
	const known = cache.get(key);
	if (known) return known;
	const res = await request(app, "/", { user: options.user, header: options.header, from: options.from });
	const html = await res.text();
	const token = /<meta name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
	if (!token) throw new Error(`no csrf token for ${options.user}: ${res.status} ${html.slice(0, 200)}`);
	cache.set(key, token);
	return token;
}
