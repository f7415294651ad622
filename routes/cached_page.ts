/**
 * Answers a page from its cached bytes (lib/views/page_cache.ts) with the headers `c.html()` gives
 * it: the same answer as rendering it anew, sent as bytes. A request carrying a flash message
 * renders anew and keeps nothing (the message is shown once, and its cookie cleared).
 */
import type { Deps } from "../lib/deps.ts";
import { pageCacheOf } from "../lib/views/page_cache.ts";
import { type AppContext, FLASH_COOKIE } from "./context.ts";

const HTML = { "Content-Type": "text/html; charset=UTF-8" };
const encoder = new TextEncoder();

/** The page `render` makes for this request, from the cache when nothing it shows has changed. */
export async function cachedHtml(c: AppContext, deps: Deps, render: () => Promise<string>): Promise<Response> {
	if ((c.req.header("Cookie") ?? "").includes(`${FLASH_COOKIE}=`)) {
		return c.body(encoder.encode(await render()), 200, HTML);
	}
	const url = c.req.url;
	const bytes = await pageCacheOf(deps).page({
		viewer: c.get("viewer"),
		csrf: c.get("csrf"),
		breakGlassUntil: c.get("breakGlassUntil"),
		signInUntil: c.get("signInUntil"),
		fragment: !!c.req.header("HX-Request"),
		address: url.slice(url.indexOf("/", url.indexOf("//") + 2)),
	}, render);
	return c.body(bytes, 200, HTML);
}
