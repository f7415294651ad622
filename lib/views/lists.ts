/**
 * What list pages share: the options of a filter, the links to the pages around, and the sort and
 * page a list reads from its query string (`?sort=<column>&dir=asc|desc&page=<n>`), read the same
 * way on the team view, the billing report, My dashboard and the admin's machine lists.
 *
 * Each list declares its sortable columns (with the direction a first click gives) and its default
 * sort; {@link parseSort} refuses (400) a column it does not offer, {@link parsePage} a page that is
 * not a positive number, and {@link pageWindow} brings a page past the end back to the last one, so
 * a link kept while the list shrank still shows rows (the admin's machine lists, paged in one query
 * with their count, show a page past the end empty instead). Which columns a list may sort on is the list's
 * to choose: a list paged in SQL offers only columns that are indexed or cheap to sort.
 */
import { UserError } from "../errors.ts";

/** One option of a filter. */
export interface Choice {
	value: string | number;
	label: string;
}

/** Links to the pages around the current one (null at either end). */
export interface PagerProps {
	page: number;
	pages: number;
	total: number;
	previous: string | null;
	next: string | null;
}

export type SortDirection = "asc" | "desc";

/** A list's sort: one of its columns and a direction. */
export interface ListSort<Column extends string = string> {
	column: Column;
	dir: SortDirection;
}

/** The sorts a list offers: each column with the direction its first click gives, and the sort when none is asked. */
export interface SortOptions<Column extends string> {
	columns: Readonly<Record<Column, SortDirection>>;
	default: ListSort<Column>;
}

/** The longest query value quoted back in an error. */
const QUOTED = 30;

/**
 * The sort of a query string: `sort` one of the list's columns (a 400 naming them otherwise), `dir`
 * asc or desc (that column's first direction when absent). Neither given is the list's default.
 */
export function parseSort<Column extends string>(
	query: Record<string, string | undefined>,
	options: SortOptions<Column>,
): ListSort<Column> {
	const column = query.sort ?? "";
	const dir = query.dir ?? "";
	if (dir !== "" && dir !== "asc" && dir !== "desc") {
		throw new UserError(400, `Unknown sort direction "${dir.slice(0, QUOTED)}": use asc or desc`);
	}
	if (column === "") return dir === "" ? options.default : { column: options.default.column, dir };
	if (!Object.hasOwn(options.columns, column)) {
		throw new UserError(
			400,
			`Unknown sort column "${column.slice(0, QUOTED)}": sort by ${Object.keys(options.columns).join(", ")}`,
		);
	}
	const known = column as Column;
	return { column: known, dir: dir === "" ? options.columns[known] : dir };
}

/** The page of a query string: a positive number (1 when absent), a 400 otherwise. */
export function parsePage(query: Record<string, string | undefined>): number {
	const text = query.page ?? "";
	if (text === "") return 1;
	if (!/^\d{1,6}$/.test(text) || Number(text) < 1) throw new UserError(400, "The page must be a positive number");
	return Number(text);
}

/** The rows a page covers once the total is known: a page past the end is the last page. */
export interface PageWindow {
	page: number;
	pages: number;
	offset: number;
	limit: number;
}

export function pageWindow(page: number, total: number, size: number): PageWindow {
	const pages = Math.max(1, Math.ceil(total / size));
	const shown = Math.min(page, pages);
	return { page: shown, pages, offset: (shown - 1) * size, limit: size };
}

/** The pager of a window, with `href` giving each page's address. */
export function pagerFor(window: PageWindow, total: number, href: (page: number) => string): PagerProps {
	return {
		page: window.page,
		pages: window.pages,
		total,
		previous: window.page > 1 ? href(window.page - 1) : null,
		next: window.page < window.pages ? href(window.page + 1) : null,
	};
}

/** The query parameters of a sort: none for the list's default, so a plain list keeps its plain address. */
export function sortParams<Column extends string>(
	sort: ListSort<Column>,
	options: SortOptions<Column>,
): Record<string, string | undefined> {
	if (sort.column === options.default.column && sort.dir === options.default.dir) return {};
	return { sort: sort.column, dir: sort.dir };
}

/**
 * A list's address: `path` with the parameters that have a value, in the order given (so the same
 * view has the same URL); page 1 is left out.
 */
export function listHref(path: string, params: Record<string, string | number | undefined | null>): string {
	const search = new URLSearchParams();
	for (const [name, value] of Object.entries(params)) {
		if (value === undefined || value === null || value === "") continue;
		if (name === "page" && Number(value) <= 1) continue;
		search.set(name, String(value));
	}
	const text = search.toString();
	return text ? `${path}?${text}` : path;
}

/** A column heading that sorts: where a click goes, and what `aria-sort` says now. */
export interface SortHeading {
	href: string;
	/** The heading's `aria-sort`: only the sorted column says its direction. */
	sorted: "ascending" | "descending" | "none";
}

/**
 * The headings of `columns` (a list may offer orders without a heading, such as "Created"): a click on the sorted column turns its direction, a click on
 * another sorts by it in its first direction; `href` makes the address (of page 1: a new order
 * starts at the top).
 */
export function sortHeadings<Column extends string>(
	columns: readonly Column[],
	sort: ListSort<Column>,
	options: SortOptions<Column>,
	href: (sort: ListSort<Column>) => string,
): Partial<Record<Column, SortHeading>> {
	const headings: Partial<Record<Column, SortHeading>> = {};
	for (const column of columns) {
		const current = sort.column === column;
		const dir: SortDirection = current ? (sort.dir === "asc" ? "desc" : "asc") : options.columns[column];
		headings[column] = {
			href: href({ column, dir }),
			sorted: current ? (sort.dir === "asc" ? "ascending" : "descending") : "none",
		};
	}
	return headings;
}

/**
 * Compares two values of a column for an in-memory sort: numbers and dates by value, text without
 * case by code point (as SQLite's NOCASE orders the lists sorted in SQL, so every list orders text
 * alike); a missing value (null: a price unknown, no configuration) goes last whichever the
 * direction, so what is known always comes first.
 */
export function compareValues(
	a: string | number | Date | null,
	b: string | number | Date | null,
	dir: SortDirection,
): number {
	if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
	let order: number;
	if (typeof a === "string" && typeof b === "string") {
		const [x, y] = [a.toLowerCase(), b.toLowerCase()];
		order = x < y ? -1 : x > y ? 1 : 0;
	} else order = Number(a) - Number(b);
	return dir === "asc" ? order : -order;
}
