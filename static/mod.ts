/**
 * The static assets, embedded in the program so a bundle or binary serves them without files
 * beside it: htmx 4 (from its npm package, no CDN), the stylesheet, the page glue and the islands
 * bundle (built by `deno task build:islands` into static/islands.js).
 */
import htmx from "htmx.org/dist/htmx.min.js" with { type: "text" };
import css from "./app.css" with { type: "text" };
import js from "./app.js" with { type: "text" };
import islands from "./islands.js" with { type: "text" };

/** A static file: its body and content type. */
export interface StaticFile {
	body: string;
	type: string;
}

export const STATIC_FILES: Readonly<Record<string, StaticFile>> = {
	"htmx.min.js": { body: htmx, type: "text/javascript; charset=utf-8" },
	"app.css": { body: css, type: "text/css; charset=utf-8" },
	"app.js": { body: js, type: "text/javascript; charset=utf-8" },
	"islands.js": { body: islands, type: "text/javascript; charset=utf-8" },
};

/** Changes whenever any asset changes: appended to asset URLs so browsers may cache them for long. */
export const STATIC_VERSION: string = fnv1a(Object.values(STATIC_FILES).map((f) => f.body).join("\u0000"));

function fnv1a(text: string): string {
	let hash = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) {
		hash ^= text.charCodeAt(i);
		hash = Math.imul(hash, 0x01000193);
	}
	return (hash >>> 0).toString(36);
}
