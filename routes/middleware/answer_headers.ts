/** Headers that middleware adds to an answer after the handler made it. */
import type { Context } from "hono";

/**
 * Sets headers on the answer a handler has already made, for middleware that adds them after
 * `next()`. hono's `c.header()` at that point wraps the answer in a new Response around the old
 * one's body stream, once per call, so a page rendered as a string went out streamed through
 * nested ReadableStreams instead of Deno's one-copy path (bench/RESULTS.md, "Middleware floor").
 * The answer's own headers are changed in place instead; only an answer whose headers are
 * immutable (`Response.redirect`, a `fetch()` result) takes hono's way.
 */
export function setAnswerHeaders(c: Context, headers: Readonly<Record<string, string>>): void {
	try {
		const answer = c.res.headers;
		for (const name in headers) answer.set(name, headers[name]!);
	} catch {
		for (const name in headers) c.header(name, headers[name]!);
	}
}

/** {@link setAnswerHeaders} for one header (the request id on every answer), without an object for it. */
export function setAnswerHeader(c: Context, name: string, value: string): void {
	try {
		c.res.headers.set(name, value);
	} catch {
		c.header(name, value);
	}
}
