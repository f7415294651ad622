/** Small components shared by several pages. */
import type { ComponentChildren } from "preact";
import type { Choice, PagerProps } from "../../lib/views/lists.ts";
import { stateTone } from "./format.ts";

/**
 * The htmx attributes of an element that refreshes itself: it asks `url` for its new self every
 * `seconds` and is replaced by the answer; none when there is nothing to follow (`url` null).
 */
export function polling(url: string | null, seconds: number): Record<string, string> {
	return url ? { "hx-get": url, "hx-trigger": `every ${seconds}s`, "hx-swap": "outerHTML" } : {};
}

/** A machine's name linking to its page, with its id below (its id alone when it has no name). */
export function MachineName(props: { href: string; name: string; id: string }) {
	return (
		<>
			<a href={props.href}>{props.name || props.id}</a>
			<div class="small muted mono">{props.id}</div>
		</>
	);
}

/** A coloured state badge; an action in flight shows as "stopping…" and the like. */
export function StateBadge(props: { state: string; pendingAction?: string | null }) {
	const label = props.pendingAction === "restart"
		? "restarting"
		: props.pendingAction === "terminate" && props.state !== "terminated"
		? "terminating"
		: props.state;
	return (
		<span class={`badge ${stateTone(label === props.state ? props.state : "pending")}`} data-state={props.state}>
			{label}
		</span>
	);
}

/** The boot progress the instance reports, or nothing once it is done. */
export function ProgressBar(props: { text: string | null; percent: number | null }) {
	if (props.percent === null || props.percent >= 100) return null;
	const percent = Math.round(Math.max(0, Math.min(100, props.percent)));
	return (
		<div
			class="progress"
			role="progressbar"
			aria-valuemin={0}
			aria-valuemax={100}
			aria-valuenow={percent}
			aria-label="Boot progress"
		>
			<div class="bar">
				<div class={`fill w${percent}`}></div>
			</div>
			<div class="label">{percent}% · {props.text ?? ""}</div>
		</div>
	);
}

/**
 * A polite live region that stays in the page while htmx replaces (outerHTML) the element inside
 * it: screen readers announce changes within a region already in the page, not a region that was
 * itself just swapped in.
 */
export function LiveRegion(props: { children: ComponentChildren }) {
	return <div aria-live="polite">{props.children}</div>;
}

/**
 * A text field of a filter bar, filtering as the viewer types (after a pause) when `live` holds
 * the htmx swap it then makes; plain GET form field otherwise.
 */
export function TextFilter(props: {
	name: string;
	label: string;
	value: string;
	placeholder?: string;
	live?: Record<string, string>;
}) {
	const id = `f-${props.name}`;
	const common = { id, name: props.name, value: props.value, maxLength: 100, placeholder: props.placeholder };
	return (
		<div class="field">
			<label for={id}>{props.label}</label>
			{props.live
				? (
					<input
						type="search"
						{...common}
						hx-trigger="input changed delay:400ms, search"
						hx-include="closest form"
						{...props.live}
					/>
				)
				: <input type="text" {...common} />}
		</div>
	);
}

/** A select of a filter bar; the first option ("Any", "All users", …) is the empty value: no filter. */
export function FilterSelect(props: {
	name: string;
	label: string;
	anyLabel: string;
	options: readonly Choice[];
	selected: string | number | undefined;
}) {
	const id = `f-${props.name}`;
	const selected = props.selected === undefined ? "" : String(props.selected);
	return (
		<div class="field">
			<label for={id}>{props.label}</label>
			<select id={id} name={props.name}>
				<option value="">{props.anyLabel}</option>
				{props.options.map((o) => (
					<option value={String(o.value)} selected={selected === String(o.value)}>{o.label}</option>
				))}
			</select>
		</div>
	);
}

export function EmptyState(props: { title: string; children?: ComponentChildren }) {
	return (
		<div class="empty">
			<p>
				<strong>{props.title}</strong>
			</p>
			{props.children}
		</div>
	);
}

/** A form field with its label, hint and server-side error. */
export function Field(
	props: { label: string; name: string; error?: string; hint?: string; children: ComponentChildren; id?: string },
) {
	const id = props.id ?? `f-${props.name}`;
	return (
		<div class={`field${props.error ? " invalid" : ""}`}>
			<label for={id}>{props.label}</label>
			{props.children}
			{props.hint && <small id={`${id}-hint`}>{props.hint}</small>}
			{props.error && <div class="error" id={`${id}-error`} role="alert">{props.error}</div>}
		</div>
	);
}

/** Accessibility attributes tying an input to its hint and error. */
export function describedBy(name: string, hasHint: boolean, error?: string): Record<string, string | boolean> {
	const ids = [hasHint ? `f-${name}-hint` : "", error ? `f-${name}-error` : ""].filter(Boolean).join(" ");
	return { ...(ids ? { "aria-describedby": ids } : {}), ...(error ? { "aria-invalid": "true" } : {}) };
}

/** A hidden CSRF field for plain (non-htmx) forms. */
export function CsrfField(props: { token: string }) {
	return <input type="hidden" name="_csrf" value={props.token} />;
}

/** A chart island with its data as a table for screen readers and no-script browsers. */
export function ChartIsland(
	props: {
		kind: "doughnut" | "bar";
		title: string;
		labels: string[];
		values: number[];
		unit: "usd-per-hour" | "usd" | "count";
		format: (value: number) => string;
		empty: string;
		colors?: string[];
	},
) {
	if (props.values.length === 0 || props.values.every((v) => v === 0)) {
		return <p class="muted">{props.empty}</p>;
	}
	const data = {
		kind: props.kind,
		title: props.title,
		labels: props.labels,
		values: props.values,
		unit: props.unit,
		colors: props.colors,
	};
	return (
		<div>
			<div class="chart-box" data-island="Chart" data-props={JSON.stringify(data)}></div>
			<details class="data">
				<summary>Data</summary>
				<table>
					<tbody>
						{props.labels.map((label, i) => (
							<tr>
								<td>{label}</td>
								<td class="num">{props.format(props.values[i]!)}</td>
							</tr>
						))}
					</tbody>
				</table>
			</details>
		</div>
	);
}

/** Chart colours of the running / stopped / changing buckets (as the state badges). */
export const STATE_COLORS = ["#1e7b46", "#8a94a3", "#d08700"];

/** Previous/next links for a paged list; each swaps `target` when given. */
export function Pager(props: PagerProps & { target?: string }) {
	if (props.pages <= 1) return null;
	const link = (href: string, label: string) => (
		<a
			class="btn"
			href={href}
			{...(props.target
				? { "hx-get": href, "hx-target": props.target, "hx-swap": "outerHTML", "hx-push-url": "true" }
				: {})}
		>
			{label}
		</a>
	);
	return (
		<nav class="pager" aria-label="Pages">
			{props.previous && link(props.previous, "← Previous")}
			<span class="muted">Page {props.page} of {props.pages} · {props.total} in all</span>
			{props.next && link(props.next, "Next →")}
		</nav>
	);
}

/** A column of an {@link ItemTable}: its heading, the class of its cells, and what a row shows in it. */
export interface Column<Row> {
	label: ComponentChildren;
	/** The class of the column's cells ("num" also right-aligns the heading). */
	class?: string;
	cell(row: Row): ComponentChildren;
}

/** A table of items declared as columns; on a phone each row stacks, each cell named by its column. */
export function ItemTable<Row>(props: { columns: readonly Column<Row>[]; rows: readonly Row[] }) {
	return (
		<div class="table-wrap">
			<table class="responsive">
				<thead>
					<tr>
						{props.columns.map((c) => <th scope="col" class={c.class === "num" ? "num" : undefined}>{c.label}</th>)}
					</tr>
				</thead>
				<tbody>
					{props.rows.map((row) => (
						<tr>
							{props.columns.map((c) => (
								<td class={c.class} data-label={typeof c.label === "string" ? c.label : undefined}>{c.cell(row)}</td>
							))}
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}
