/**
 * GET /admin/audit: the audit trail, filtered and paged (lib/views/audit.ts); GET /admin/audit.csv:
 * the same filters as CSV. Bad filters are a 400 that says which.
 */
import { Hono } from "hono";
import type { Deps } from "../../lib/deps.ts";
import { auditCsv, type AuditRow, auditView, type AuditViewProps, parseAuditQuery } from "../../lib/views/audit.ts";
import { type AppEnv, pageContext } from "../context.ts";
import type { PageContext } from "../ui/Layout.tsx";
import { type Column, EmptyState, FilterSelect, ItemTable, TextFilter } from "../ui/components.tsx";
import { formatTime } from "../ui/format.ts";
import { renderPage } from "../ui/render.tsx";
import { AdminPage } from "./common.tsx";

const OUTCOME_TONE: Record<AuditRow["outcome"], string> = { ok: "ok", refused: "busy", error: "bad", sent: "busy" };

function auditColumns(timeZone: string): Column<AuditRow>[] {
	return [
		{ label: "When", class: "small nowrap", cell: (e) => formatTime(e.at, timeZone) },
		{ label: "Who", cell: (e) => <span class="mono small">{e.actor}</span> },
		{
			label: "What",
			cell: (e) => (
				<>
					{e.action}
					{e.reason && <span class="badge">{e.reason}</span>}
				</>
			),
		},
		{
			label: "On",
			cell: (e) => (
				<>
					<span class="muted small">{e.resourceKind}</span> {e.resourceHref
						? <a class="mono small" href={e.resourceHref}>{e.resourceId}</a>
						: <span class="mono small">{e.resourceId}</span>}
				</>
			),
		},
		{ label: "Outcome", cell: (e) => <span class={`badge ${OUTCOME_TONE[e.outcome]}`}>{e.outcome}</span> },
		{ label: "Detail", class: "small", cell: (e) => e.detail },
	];
}

function DateFilter(props: { name: string; label: string; value: string }) {
	return (
		<div class="field">
			<label for={`f-${props.name}`}>{props.label}</label>
			<input id={`f-${props.name}`} type="date" name={props.name} value={props.value} />
		</div>
	);
}

export function AuditPage(props: { ctx: PageContext; audit: AuditViewProps }) {
	const { audit } = props;
	const v = audit.values;
	return (
		<AdminPage ctx={props.ctx} title="Audit trail">
			<h2>Audit trail</h2>
			<p class="muted small">
				Everything people did through the portal, and everything it did by itself (the sync, the launcher, the policies
				with their reason), newest first. Dates are days in {audit.timeZone}.
			</p>
			<form class="filters" method="get" action="/admin/audit">
				<TextFilter name="user" label="Who" value={v.user} placeholder="username, policy, sync…" />
				<FilterSelect
					name="group"
					label="Group"
					anyLabel="Any"
					options={audit.groups}
					selected={v.group || undefined}
				/>
				<TextFilter name="machine" label="Machine" value={v.machine} placeholder="i-… or j-…" />
				<FilterSelect
					name="action"
					label="Action"
					anyLabel="Any"
					options={audit.actions.map((a) => ({ value: a, label: a }))}
					selected={v.action || undefined}
				/>
				<FilterSelect
					name="outcome"
					label="Outcome"
					anyLabel="Any"
					options={audit.outcomes.map((o) => ({ value: o, label: o }))}
					selected={v.outcome || undefined}
				/>
				<DateFilter name="from" label="From" value={v.from} />
				<DateFilter name="to" label="To" value={v.to} />
				<div class="row">
					<button type="submit" class="primary">Filter</button>
					<a class="btn" href="/admin/audit">Clear</a>
					<a class="btn" href={audit.csvHref} download>Download CSV</a>
				</div>
			</form>
			{audit.rows.length === 0
				? (
					<EmptyState title="No events match">
						<p>Try other filters or dates.</p>
					</EmptyState>
				)
				: <ItemTable columns={auditColumns(audit.timeZone)} rows={audit.rows} />}
			<nav class="pager" aria-label="Pages">
				{audit.newestHref && <a class="btn" href={audit.newestHref}>← Newest</a>}
				{audit.olderHref && <a class="btn" href={audit.olderHref}>Older →</a>}
			</nav>
		</AdminPage>
	);
}

export function auditRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.get("/audit", async (c) => {
		const query = parseAuditQuery(deps.settings.TIME_ZONE, c.req.query());
		const [ctx, audit] = await Promise.all([pageContext(c, deps), auditView(deps, c.get("viewer"), query)]);
		return c.html(renderPage(<AuditPage ctx={ctx} audit={audit} />));
	});
	app.get("/audit.csv", async (c) => {
		const query = parseAuditQuery(deps.settings.TIME_ZONE, c.req.query());
		const csv = await auditCsv(deps, c.get("viewer"), query);
		c.header("Content-Type", "text/csv; charset=utf-8");
		c.header("Content-Disposition", `attachment; filename="${csv.filename}"`);
		c.header("Cache-Control", "no-store");
		return c.body(csv.body);
	});
	return app;
}
