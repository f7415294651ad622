/**
 * The controls of a sortable list (the team view, billing, My dashboard, the admin's machine
 * lists): column headings that sort, the sort fields of its filter form, and what a filtered list
 * that is empty says.
 */
import type { Choice, ListSort, SortHeading } from "../../lib/views/lists.ts";
import { EmptyState } from "./components.tsx";

/** The htmx attributes of a link that swaps `target` with the list at its address and puts it in the address bar. */
export function swapsList(href: string, target: string | undefined): Record<string, string> {
	return target ? { "hx-get": href, "hx-target": target, "hx-swap": "outerHTML", "hx-push-url": "true" } : {};
}

const MARKS = { ascending: "▲", descending: "▼", none: "↕" } as const;

/**
 * A column heading: plain text when the column does not sort; otherwise a link (keyboard and
 * screen-reader usable as it is) to the list sorted by it, the heading's `aria-sort` saying the
 * current order. With `target`, htmx swaps only the list.
 */
export function ColumnHeading(props: { label: string; heading?: SortHeading; class?: string; target?: string }) {
	const { heading } = props;
	const cls = props.class ? { class: props.class } : {};
	if (!heading) return <th scope="col" {...cls}>{props.label}</th>;
	const title = heading.sorted === "none"
		? `Sort by ${props.label.toLowerCase()}`
		: `Sorted ${heading.sorted}: sort ${heading.sorted === "ascending" ? "descending" : "ascending"}`;
	return (
		<th scope="col" {...cls} aria-sort={heading.sorted} data-sort-column>
			<a
				class="sort"
				href={heading.href}
				title={title}
				{...swapsList(heading.href, props.target)}
			>
				{props.label}
				<span class="sort-mark" aria-hidden="true">{MARKS[heading.sorted]}</span>
			</a>
		</th>
	);
}

/**
 * The sort of a list as fields of its filter form, so a filter change keeps the order (and a phone,
 * whose stacked rows have no headings, can sort too). `oob` renders it for an htmx answer that
 * swaps the table: the fields with the same id in the form are replaced, so they follow a click
 * on a heading.
 */
export function SortFields(
	props: { id: string; columns: readonly Choice[]; sort: ListSort; oob?: boolean },
) {
	const { id, sort } = props;
	return (
		<div id={id} class="sort-fields" {...(props.oob ? { "hx-swap-oob": "true" } : {})}>
			<div class="field">
				<label for={`${id}-by`}>Sort by</label>
				<select id={`${id}-by`} name="sort">
					{props.columns.map((c) => (
						<option value={String(c.value)} selected={c.value === sort.column}>{c.label}</option>
					))}
				</select>
			</div>
			<div class="field">
				<label for={`${id}-dir`}>Order</label>
				<select id={`${id}-dir`} name="dir">
					<option value="asc" selected={sort.dir === "asc"}>Ascending</option>
					<option value="desc" selected={sort.dir === "desc"}>Descending</option>
				</select>
			</div>
		</div>
	);
}

/** A filtered list that came out empty: says so and offers the list without its filters (a whole page, so the form clears too). */
export function NoMatches(props: { title: string; clearHref: string }) {
	return (
		<EmptyState title={props.title}>
			<p>Nothing matches these filters.</p>
			<a class="btn" href={props.clearHref} data-clear-filters>Clear the filters</a>
		</EmptyState>
	);
}
