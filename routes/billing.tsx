/**
 * The billing report: GET /billing (page) and GET /billing.csv (the same report as CSV). Date
 * range in the portal's time zone, user, group and cost-center filters limited to what the viewer
 * may see, rows per resource with hours and estimated cost, totals, month-to-date and live burn.
 */
import { Hono } from "hono";
import type { Viewer } from "../lib/auth/identify.ts";
import { buildReport, burnRate, monthToDate, type Report, reportCsv, type Totals } from "../lib/billing/reports.ts";
import { type BillFilters, costCentersInScope } from "../lib/db/bills.ts";
import { listGroups } from "../lib/db/catalog.ts";
import { usersInScope } from "../lib/db/instances.ts";
import { teammateIds } from "../lib/db/users.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { seesEverything, viewerScope } from "../lib/auth/permissions.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { idFilter } from "./params.ts";
import { ChartIsland, EmptyState, FilterSelect } from "./ui/components.tsx";
import { formatHours, formatMoney, formatRate, formatTime } from "./ui/format.ts";
import { Layout } from "./ui/Layout.tsx";
import { renderPage } from "./ui/render.tsx";

/** A validated report query. */
interface BillingQuery {
	from: Temporal.PlainDate;
	to: Temporal.PlainDate;
	filters: BillFilters;
}

function parseDate(value: string, name: string): Temporal.PlainDate {
	if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UserError(400, `The ${name} date must look like 2025-01-31`);
	try {
		return Temporal.PlainDate.from(value, { overflow: "reject" });
	} catch {
		throw new UserError(400, `The ${name} date ${value} does not exist`);
	}
}

/**
 * Parses and checks the report's query: real dates (from not after to, at most ten years), filters
 * that are ids, and only users and groups the viewer may see (a 403 otherwise).
 */
async function parseBillingQuery(
	deps: Deps,
	viewer: Viewer,
	query: Record<string, string>,
): Promise<BillingQuery> {
	const today = Temporal.Instant.fromEpochMilliseconds(deps.clock().getTime()).toZonedDateTimeISO(
		deps.settings.TIME_ZONE,
	)
		.toPlainDate();
	const from = query.from ? parseDate(query.from, "start") : today.with({ day: 1 });
	const to = query.to ? parseDate(query.to, "end") : today;
	if (Temporal.PlainDate.compare(from, to) > 0) throw new UserError(400, "The start date is after the end date");
	if (from.until(to).total({ unit: "days", relativeTo: from }) > 3660) {
		throw new UserError(400, "Choose a range of at most ten years");
	}
	const filters: BillFilters = { userId: idFilter(query, "user"), groupId: idFilter(query, "group") };
	if (query.costCenter) {
		if (query.costCenter.length > 60) throw new UserError(400, "The cost center filter is too long");
		filters.costCenter = query.costCenter;
	}
	if (!seesEverything(viewer)) {
		if (filters.groupId !== undefined && !viewer.groupIds.includes(filters.groupId)) {
			throw new UserError(403, "You may only see the bills of your own groups.");
		}
		if (filters.userId !== undefined && filters.userId !== viewer.id) {
			const team = await teammateIds(deps.db, viewer.groupIds);
			if (!team.includes(filters.userId)) {
				throw new UserError(403, "You may only see your own and your teammates' bills.");
			}
		}
	}
	return { from, to, filters };
}

function totalsRows(map: Map<string, Totals>) {
	return [...map.entries()].sort((a, b) => b[1].cost - a[1].cost).map(([name, t]) => (
		<tr>
			<td>{name}</td>
			<td class="num">{formatHours(t.hours)}</td>
			<td class="num">
				${formatMoney(t.cost)}
				{t.unknown ? <span class="muted small">+ {t.unknown} unknown</span> : null}
			</td>
		</tr>
	));
}

function TotalsTable(props: { title: string; map: Map<string, Totals> }) {
	return (
		<div class="panel">
			<h3>{props.title}</h3>
			<table>
				<thead>
					<tr>
						<th scope="col">Name</th>
						<th scope="col" class="num">Hours</th>
						<th scope="col" class="num">Cost</th>
					</tr>
				</thead>
				<tbody>{totalsRows(props.map)}</tbody>
			</table>
		</div>
	);
}

function ReportTable(props: { report: Report }) {
	const { report } = props;
	return (
		<div class="table-wrap">
			<table class="responsive">
				<caption class="sr-only">Billed resources</caption>
				<thead>
					<tr>
						<th scope="col">Resource</th>
						<th scope="col">Owner</th>
						<th scope="col">Group</th>
						<th scope="col">Charge code</th>
						<th scope="col">Type</th>
						<th scope="col" class="num">Periods</th>
						<th scope="col" class="num">Hours</th>
						<th scope="col" class="num">Estimated cost</th>
					</tr>
				</thead>
				<tbody>
					{report.rows.map((r) => (
						<tr>
							<td data-label="Resource">
								{r.active && r.resourceKind !== "volume"
									? (
										<a href={`/${r.resourceKind === "cluster" ? "clusters" : "instances"}/${r.resourceId}`}>
											{r.resourceId}
										</a>
									)
									: <span class="mono">{r.resourceId}</span>}
								<div class="muted small">{r.resourceKind}{r.active ? " · running" : ""}</div>
							</td>
							<td data-label="Owner">{r.userName}</td>
							<td data-label="Group">{r.groupName ?? "—"}</td>
							<td data-label="Charge code">{r.costCenter}</td>
							<td data-label="Type" class="mono small">{r.description}</td>
							<td data-label="Periods" class="num">{r.periods}</td>
							<td data-label="Hours" class="num">{formatHours(r.hours)}</td>
							<td data-label="Cost" class="num">{r.cost === null ? "price unknown" : `$${formatMoney(r.cost)}`}</td>
						</tr>
					))}
				</tbody>
				<tfoot>
					<tr>
						<td colSpan={6}>Total</td>
						<td class="num">{formatHours(report.total.hours)}</td>
						<td class="num">
							${formatMoney(report.total.cost)}
							{report.total.unknown ? <span class="small">+ {report.total.unknown} unknown</span> : null}
						</td>
					</tr>
				</tfoot>
			</table>
		</div>
	);
}

export function billingRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.get("/billing", async (c) => {
		const viewer = c.get("viewer");
		const query = await parseBillingQuery(deps, viewer, c.req.query());
		const scope = viewerScope(viewer);
		const now = deps.clock();
		const tz = deps.settings.TIME_ZONE;
		const [ctx, report, mtd, burn, users, groups, costCenters] = await Promise.all([
			pageContext(c, deps),
			buildReport(deps.db, { scope, range: query, filters: query.filters, timeZone: tz, now }),
			monthToDate(deps.db, scope, tz, now),
			burnRate(deps.db, scope),
			usersInScope(deps.db, scope),
			listGroups(deps.db),
			costCentersInScope(deps.db, scope),
		]);
		const visibleGroups = scope.everyone ? groups : groups.filter((g) => viewer.groupIds.includes(g.id));
		const qs = new URLSearchParams(c.req.query()).toString();
		const mtdGroups = [...mtd.entries()].sort((a, b) => b[1].cost - a[1].cost);
		const burnGroups = [...burn.byGroup.entries()].sort((a, b) => b[1] - a[1]);
		return c.html(renderPage(
			<Layout ctx={ctx} title="Billing" wide>
				<h1>Billing report</h1>
				<form class="filters" method="get" action="/billing">
					<div class="field">
						<label for="f-from">From</label>
						<input id="f-from" type="date" name="from" value={query.from.toString()} required />
					</div>
					<div class="field">
						<label for="f-to">To</label>
						<input id="f-to" type="date" name="to" value={query.to.toString()} required />
					</div>
					{users.length > 1 && (
						<FilterSelect
							name="user"
							label="User"
							anyLabel="All users"
							options={users.map((u) => ({ value: u.id, label: u.username }))}
							selected={query.filters.userId}
						/>
					)}
					{visibleGroups.length > 1 && (
						<FilterSelect
							name="group"
							label="Group"
							anyLabel="All groups"
							options={visibleGroups.map((g) => ({ value: g.id, label: g.name }))}
							selected={query.filters.groupId}
						/>
					)}
					{costCenters.length > 1 && (
						<FilterSelect
							name="costCenter"
							label="Cost center"
							anyLabel="All"
							options={costCenters.map((cc) => ({ value: cc, label: cc }))}
							selected={query.filters.costCenter}
						/>
					)}
					<button type="submit" class="primary">Show</button>
					<a class="btn" href={`/billing.csv${qs ? `?${qs}` : ""}`} download>Download CSV</a>
				</form>
				<p class="muted small">
					From {formatTime(report.start, tz)} to {formatTime(report.end, tz)} ({tz}).
				</p>
				{report.rows.length === 0
					? (
						<EmptyState title="Nothing was billed in this range.">
							<p>Choose other dates or filters.</p>
						</EmptyState>
					)
					: <ReportTable report={report} />}
				<div class="grid">
					<TotalsTable title="By user" map={report.byUser} />
					<TotalsTable title="By group" map={report.byGroup} />
					<TotalsTable title="By cost center" map={report.byCostCenter} />
				</div>
				<div class="grid">
					<div class="panel">
						<h2>Month to date by group</h2>
						<ChartIsland
							kind="bar"
							title="Month-to-date spend per group"
							labels={mtdGroups.map(([g]) => g)}
							values={mtdGroups.map(([, t]) => Number(t.cost.toFixed(4)))}
							unit="usd"
							format={(v) => `$${formatMoney(v)}`}
							empty="Nothing billed this month yet."
						/>
					</div>
					<div class="panel">
						<h2>Burning now</h2>
						<p>
							<span class="stat">{formatRate(burn.total)}</span>
						</p>
						<ChartIsland
							kind="doughnut"
							title="Hourly burn per group"
							labels={burnGroups.map(([g]) => g)}
							values={burnGroups.map(([, v]) => v)}
							unit="usd-per-hour"
							format={(v) => formatRate(v)}
							empty="Nothing is running."
						/>
					</div>
				</div>
				<p class="muted small">
					These costs are estimates: on-demand prices for {deps.settings.AWS_REGION} from the pricing file
					{deps.settings.AWS_DISCOUNT > 0
						? `, less the ${(deps.settings.AWS_DISCOUNT * 100).toFixed(1)}% discount`
						: ""}, times the exact time each resource ran; volumes at the configured price per GB-month; spot clusters
					at the spot price seen when they started. Your AWS bill is the authority.
				</p>
			</Layout>,
		));
	});

	app.get("/billing.csv", async (c) => {
		const viewer = c.get("viewer");
		const query = await parseBillingQuery(deps, viewer, c.req.query());
		const report = await buildReport(deps.db, {
			scope: viewerScope(viewer),
			range: query,
			filters: query.filters,
			timeZone: deps.settings.TIME_ZONE,
			now: deps.clock(),
		});
		c.header("Content-Type", "text/csv; charset=utf-8");
		c.header("Content-Disposition", `attachment; filename="mliy-billing-${query.from}-${query.to}.csv"`);
		c.header("Cache-Control", "no-store");
		return c.body(reportCsv(report));
	});
	return app;
}
