/** Turning refusals and failures into the right response: an htmx fragment, JSON, or a page. */
import { UserError } from "../lib/errors.ts";
import type { AppContext } from "./env.ts";
import { renderFragment, renderPage } from "./ui/render.tsx";
import { STATIC_VERSION } from "../static/mod.ts";

/** The id of the page's error region, where htmx requests' error answers are shown. */
export const HTMX_ERRORS_ID = "htmx-errors";

/** Whether the client wants JSON (API callers and the seed's ajax URLs without htmx). */
function wantsJson(c: AppContext): boolean {
	if (c.req.header("HX-Request")) return false;
	const accept = c.req.header("Accept") ?? "";
	return accept.includes("application/json") || (c.req.path.startsWith("/ajax/") && !accept.includes("text/html"));
}

/** A minimal page for errors (it must render even when no user is known, e.g. before identity). */
function ErrorPage(props: { status: number; title: string; message: string }) {
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<title>{`${props.title} · MLiy`}</title>
				<link rel="icon" href="data:," />
				<link rel="stylesheet" href={`/static/app.css?v=${STATIC_VERSION}`} />
			</head>
			<body>
				<header class="top">
					<a class="brand" href="/">MLiy</a>
				</header>
				<main id="main">
					<h1>{props.title}</h1>
					<p class="error-box" role="alert">{props.message}</p>
					<p>
						{props.status === 401
							? "Sign in through your organisation's portal address, or ask your administrator for help."
							: <a href="/">Back to your dashboard</a>}
					</p>
					<p class="muted small">Error {props.status}</p>
				</main>
			</body>
		</html>
	);
}

const TITLES: Record<number, string> = {
	400: "That request is not valid",
	401: "You are not signed in",
	403: "Not allowed",
	404: "Not found",
	409: "Not possible right now",
	413: "Too large",
	422: "Please correct the form",
	429: "Too many requests",
	500: "Something went wrong",
	503: "A service is unavailable",
};

/** Responds with `message` at `status` in the form the client wants. */
export function respondError(c: AppContext, status: number, message: string, fields: Record<string, string> = {}) {
	c.header("Cache-Control", "no-store");
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
	return c.html(
		renderPage(
			<ErrorPage status={status} title={TITLES[status] ?? "Error"} message={message} />,
		),
		status as 400,
	);
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
