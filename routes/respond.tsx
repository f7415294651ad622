/** Turning refusals and failures into the right response: an htmx fragment, JSON, or a page. */
import { UserError } from "../lib/errors.ts";
import type { AppContext } from "./context.ts";
import { ErrorPage } from "./ui/ErrorPage.tsx";
import { HTMX_ERRORS_ID } from "./ui/Layout.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

/** Whether the client wants JSON (API callers and the seed's ajax URLs without htmx). */
function wantsJson(c: AppContext): boolean {
	if (c.req.header("HX-Request")) return false;
	const accept = c.req.header("Accept") ?? "";
	return accept.includes("application/json") || (c.req.path.startsWith("/ajax/") && !accept.includes("text/html"));
}

/** The short titles of the problems the API answers (RFC 9457), by status. */
const PROBLEM_TITLES: Record<number, string> = {
	400: "Bad request",
	401: "Not signed in",
	403: "Not allowed",
	404: "Not found",
	405: "Method not allowed",
	409: "Conflict",
	410: "Gone",
	413: "Request too large",
	415: "Unsupported media type",
	422: "Invalid input",
	429: "Too many requests",
	500: "Server error",
	503: "Unavailable",
};

/**
 * An API refusal as `application/problem+json` (RFC 9457): `type` is a stable URI of the status,
 * `detail` the portal's words, and a 422's marked fields under `errors`.
 */
function respondProblem(c: AppContext, status: number, message: string, fields: Record<string, string>) {
	const problem = {
		type: `urn:mliy:problem:${status}`,
		title: PROBLEM_TITLES[status] ?? "Refused",
		status,
		detail: message,
		...(Object.keys(fields).length ? { errors: fields } : {}),
	};
	return c.body(JSON.stringify(problem), status as 400, { "Content-Type": "application/problem+json" });
}

/** Responds with `message` at `status` in the form the client wants (on /api/, always a problem document). */
export function respondError(c: AppContext, status: number, message: string, fields: Record<string, string> = {}) {
	c.header("Cache-Control", "no-store");
	if (c.req.path === "/api" || c.req.path.startsWith("/api/")) return respondProblem(c, status, message, fields);
	if (wantsJson(c)) {
		return c.json(
			{ status: "failed", error: message, ...(Object.keys(fields).length ? { fields } : {}) },
			status as 400,
		);
	}
	if (c.req.header("HX-Request")) {
		// htmx 4 swaps error answers too: into the page's error region (Layout), so the row, panel
		// or form that asked stays whole and a polling element keeps polling.
		c.header("HX-Retarget", `#${HTMX_ERRORS_ID}`);
		c.header("HX-Reswap", "innerHTML");
		return c.html(renderFragment(<p data-status={status}>{message}</p>), status as 400);
	}
	return c.html(renderPage(<ErrorPage status={status} message={message} />), status as 400);
}

/** A state-changing URL asked with another method: 405, naming the one it takes. */
export function methodNotAllowed(c: AppContext, message: string) {
	c.header("Allow", "POST");
	return respondError(c, 405, message);
}

/**
 * For htmx, an action that was refused or failed (409, 503, …) answers with the row or panel it
 * came from re-rendered with the reason inline, at the refusal's status: swapped in place on
 * purpose, unlike other errors. Anything else, and 403/404 (nothing the viewer may see to
 * re-render), is thrown on to the error handler.
 */
export async function rerenderRefusal(
	c: AppContext,
	error: unknown,
	rerender: (reason: string) => Promise<string>,
): Promise<Response> {
	if (!(error instanceof UserError) || !c.req.header("HX-Request") || error.status === 403 || error.status === 404) {
		throw error;
	}
	return c.html(await rerender(error.message), error.status);
}
