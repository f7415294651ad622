/** Renders preact trees to HTML strings for hono's `c.html()`. */
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";

/** A whole document. */
export function renderPage(vnode: VNode): string {
	return "<!DOCTYPE html>" + renderToString(vnode);
}

/** A fragment for an htmx swap. */
export function renderFragment(vnode: VNode): string {
	return renderToString(vnode);
}
