/** The largest request body the portal reads, checked before identity and CSRF (which parse form bodies). */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../context.ts";
import { respondError } from "../respond.tsx";

/**
 * The biggest form is a software configuration: a template of at most 51,200 characters, a script
 * of 16 KiB and a description of 10,000, under 700 KB even if each character took three bytes, each
 * sent as %XX. Only the catalogue import takes more: a whole document, uploaded as multipart.
 */
const FORM_BODY_LIMIT = 1024 * 1024;
const CATALOG_IMPORT_PATH = "/admin/catalog";
const CATALOG_BODY_LIMIT = 6 * 1024 * 1024;

const formBodyLimit = bodyLimit({
	maxSize: FORM_BODY_LIMIT,
	onError: (c) => respondError(c, 413, "That request is larger than 1 MiB, more than any form of the portal sends."),
});
const catalogBodyLimit = bodyLimit({
	maxSize: CATALOG_BODY_LIMIT,
	onError: (c) =>
		respondError(
			c,
			413,
			"The import is larger than 6 MiB. Import the document in parts: items are matched by name and nothing is deleted.",
		),
});

/** 1 MiB for every request, 6 MiB for the catalogue import; a larger body is a 413 before anything reads it. */
export const requestBodyLimit: MiddlewareHandler<AppEnv> = (c, next) =>
	(c.req.path === CATALOG_IMPORT_PATH ? catalogBodyLimit : formBodyLimit)(c, next);
