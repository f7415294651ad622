/** Ids from URLs and query strings, read the same way on every route. */
import { UserError } from "../lib/errors.ts";

const ID = /^\d{1,9}$/;

/** The database id a URL or query value names, or undefined when it is not one. */
export function parseId(value: string | undefined): number | undefined {
	return value !== undefined && ID.test(value) ? Number(value) : undefined;
}

/** An optional id filter of a query string: undefined when absent or empty, a 400 when malformed. */
export function idFilter(query: Record<string, string>, name: string): number | undefined {
	const value = query[name];
	if (value === undefined || value === "") return undefined;
	const id = parseId(value);
	if (id === undefined) throw new UserError(400, `The ${name} filter must be an id number`);
	return id;
}
