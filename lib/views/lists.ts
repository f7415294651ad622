/** What list pages hand their filters and pagers: the options of a filter, and the links to the pages around. */

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
