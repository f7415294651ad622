/** GET /instances/:id/resize: the types an instance may be resized to, then the confirmation with the cost before and after. */
import type { ResizeChoice, ResizePageProps } from "../../lib/views/resize.ts";
import type { Rate } from "../../lib/views/machines.ts";
import { type Column, CsrfField, ItemTable, StateBadge } from "./components.tsx";
import { formatRate } from "./format.ts";
import { Layout, type PageContext } from "./Layout.tsx";

function rateText(rate: Rate): string {
	return rate.known ? formatRate(rate.hourly) : `unknown (${rate.reason})`;
}

/** `+$0.0884/hour`, `−$0.0058/hour`, `no change`, or unknown. */
export function deltaText(delta: number | null): string {
	if (delta === null) return "unknown";
	if (Math.abs(delta) < 0.00005) return "no change";
	return `${delta > 0 ? "+" : "−"}${formatRate(Math.abs(delta))}`;
}

const CHOICE_COLUMNS: Column<ResizeChoice>[] = [
	{ label: "Type", cell: (c) => <a class="mono" href={c.href}>{c.type}</a> },
	{ label: "About", class: "small", cell: (c) => c.description || "" },
	{ label: "Hourly cost", class: "num", cell: (c) => rateText(c.rate) },
	{ label: "Difference", class: "num", cell: (c) => <span data-delta>{deltaText(c.deltaHourly)}</span> },
];

function Confirmation(props: { page: ResizePageProps; chosen: NonNullable<ResizePageProps["chosen"]>; csrf: string }) {
	const { page, chosen } = props;
	const restart = page.mode === "restart";
	return (
		<section class="panel" id="resize-confirm" aria-labelledby="resize-confirm-heading">
			<h2 id="resize-confirm-heading">
				Resize to <span class="mono">{chosen.type}</span>?
			</h2>
			<dl class="facts">
				<dt>Now</dt>
				<dd>
					<span class="mono">{page.currentType}</span> · <span data-rate-before>{rateText(page.currentRate)}</span>
				</dd>
				<dt>After</dt>
				<dd>
					<span class="mono">{chosen.type}</span> · <span data-rate-after>{rateText(chosen.rate)}</span>
				</dd>
				<dt>Difference</dt>
				<dd>
					<strong data-delta>{deltaText(chosen.deltaHourly)}</strong> while it runs
				</dd>
			</dl>
			<p class="muted small">
				{restart
					? "The instance is running: the portal stops it, changes its type, and starts it again. Its address may change; anything not on disk is lost."
					: "The instance is stopped: its type changes now, and its next start is billed at the new rate."}
			</p>
			<form method="post" action={chosen.action}>
				<CsrfField token={props.csrf} />
				<input type="hidden" name="instanceType" value={chosen.type} />
				<input type="hidden" name="mode" value={page.mode ?? ""} />
				<div class="actions">
					<button type="submit" class="primary">{restart ? "Stop, resize, start" : "Resize"}</button>
					<a class="btn" href={`${page.href}/resize`}>Choose another type</a>
				</div>
			</form>
		</section>
	);
}

export function ResizePage(props: { ctx: PageContext; page: ResizePageProps }) {
	const { page } = props;
	return (
		<Layout ctx={props.ctx} title={`Resize ${page.id}`}>
			<p class="small">
				<a href={page.href}>← {page.name || "Instance"} {page.id}</a>
			</p>
			<h1>
				Resize <span class="mono muted">{page.id}</span>
			</h1>
			<p class="lead">
				A <span class="mono">{page.currentType}</span> at {rateText(page.currentRate)},{" "}
				<StateBadge state={page.state} />.
			</p>
			{page.error && <div class="error-box" role="alert">{page.error}</div>}
			{page.refusal && <p class="error-box" role="alert" data-refusal>{page.refusal}</p>}
			{page.chosen && <Confirmation page={page} chosen={page.chosen} csrf={props.ctx.csrf} />}
			{page.choices.length > 0 && (
				<>
					<h2>Types its configuration offers</h2>
					<ItemTable columns={CHOICE_COLUMNS} rows={page.choices} />
				</>
			)}
		</Layout>
	);
}
