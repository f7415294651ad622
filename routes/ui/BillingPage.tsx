/** The billing report (GET /billing): filters, billed resources, totals, month to date and live burn. */
import type { BillingProps, BillingRow, Totals } from "../../lib/views/billing.ts";
import { BudgetBars } from "./BudgetBars.tsx";
import { ChartIsland, EmptyState, FilterSelect } from "./components.tsx";
import { CostComparison } from "./CostComparison.tsx";
import { formatHours, formatMoney, formatRate, formatTime } from "./format.ts";
import { Layout, type PageContext } from "./Layout.tsx";
import { ColumnHeading, SortFields } from "./ListControls.tsx";
import { SavingsSection } from "./SavingsSection.tsx";

/** What a sum leaves out: periods whose price is unknown are never counted as $0. */
function Excluded(props: { count: number }) {
	if (!props.count) return null;
	return (
		<div class="muted small excluded" title="Periods whose price is unknown are not counted in this sum">
			excludes {props.count} price unknown
		</div>
	);
}

/** What runs now at an unknown price: listed, never counted as $0 or hidden behind "Nothing is running". */
function Unpriced(props: { unpriced: BillingProps["burn"]["unpriced"] }) {
	if (props.unpriced.length === 0) return null;
	return (
		<ul class="unpriced">
			{props.unpriced.map((r) => (
				<li>
					{r.href ? <a href={r.href}>{r.resourceId}</a> : <span class="mono">{r.resourceId}</span>}{" "}
					<span class="mono small">{r.description}</span> <span class="muted small">({r.userName})</span>:{" "}
					<strong>price unknown</strong>
				</li>
			))}
		</ul>
	);
}

function TotalsTable(props: { title: string; totals: [string, Totals][] }) {
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
				<tbody>
					{props.totals.map(([name, t]) => (
						<tr>
							<td>{name}</td>
							<td class="num">{formatHours(t.hours)}</td>
							<td class="num">
								${formatMoney(t.cost)}
								<Excluded count={t.unknown} />
							</td>
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}

function ReportTable(props: { rows: BillingRow[]; total: Totals; headings: BillingProps["headings"] }) {
	const { rows, total, headings } = props;
	const heading = (column: keyof BillingProps["headings"], label: string, cls?: string) => (
		<ColumnHeading label={label} heading={headings[column]} class={cls} />
	);
	return (
		<div class="table-wrap">
			<table class="responsive">
				<caption class="sr-only">Billed resources</caption>
				<thead>
					<tr>
						{heading("resource", "Resource")}
						{heading("owner", "Owner")}
						{heading("group", "Group")}
						{heading("costCenter", "Charge code")}
						{heading("type", "Type")}
						{heading("periods", "Periods", "num")}
						{heading("hours", "Hours", "num")}
						{heading("cost", "Estimated cost", "num")}
					</tr>
				</thead>
				<tbody>
					{rows.map((r) => (
						<tr>
							<td data-label="Resource">
								{r.href ? <a href={r.href}>{r.resourceId}</a> : <span class="mono">{r.resourceId}</span>}
								{r.machineName && <div data-machine-name>{r.machineName}</div>}
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
						<td class="num">{formatHours(total.hours)}</td>
						<td class="num">
							${formatMoney(total.cost)}
							<Excluded count={total.unknown} />
						</td>
					</tr>
				</tfoot>
			</table>
		</div>
	);
}

function BillingFilters(props: { billing: BillingProps; csvHref: string }) {
	const { billing } = props;
	// Each filter is offered only when there is a choice.
	const filters = [
		{ name: "user", label: "User", anyLabel: "All users", options: billing.users, selected: billing.filters.userId },
		{
			name: "group",
			label: "Group",
			anyLabel: "All groups",
			options: billing.groups,
			selected: billing.filters.groupId,
		},
		{
			name: "costCenter",
			label: "Cost center",
			anyLabel: "All",
			options: billing.costCenters,
			selected: billing.filters.costCenter,
		},
	];
	return (
		<form class="filters" method="get" action="/billing">
			<div class="field">
				<label for="f-from">From</label>
				<input id="f-from" type="date" name="from" value={billing.from} required />
			</div>
			<div class="field">
				<label for="f-to">To</label>
				<input id="f-to" type="date" name="to" value={billing.to} required />
			</div>
			{filters.map((f) => f.options.length > 1 && <FilterSelect {...f} />)}
			<SortFields id="billing-sort" columns={billing.sortChoices} sort={billing.sort} />
			<button type="submit" class="primary">Show</button>
			<a class="btn" href={props.csvHref} download>Download CSV</a>
		</form>
	);
}

/** A month's chargeback report of a cost center, as CSV or JSON (managers and admins). */
function ChargebackForm(props: { form: NonNullable<BillingProps["chargeback"]> }) {
	const { form } = props;
	return (
		<section class="panel" aria-labelledby="h-chargeback">
			<h2 id="h-chargeback">Chargeback</h2>
			<p class="muted small">
				Every machine of a cost center in a month (UTC): its hours, the estimate and what AWS billed for its launch.
			</p>
			<form class="filters" method="get" action="/billing/chargeback">
				<div class="field">
					<label for="f-cb-month">Month</label>
					<input id="f-cb-month" type="month" name="month" value={form.month} required />
				</div>
				<div class="field">
					<label for="f-cb-cc">Cost center</label>
					<select id="f-cb-cc" name="costCenter" required>
						{form.costCenters.map((cc) => <option value={String(cc.value)}>{cc.label}</option>)}
					</select>
				</div>
				<button type="submit" name="format" value="csv" class="primary">Download CSV</button>
				<button type="submit" name="format" value="json">Download JSON</button>
			</form>
		</section>
	);
}

/** The page; `csvHref` is the same report's CSV. */
export function BillingPage(props: { ctx: PageContext; billing: BillingProps; csvHref: string }) {
	const { billing } = props;
	const tz = billing.timeZone;
	return (
		<Layout ctx={props.ctx} title="Billing" wide>
			<h1>Billing report</h1>
			<BudgetBars budgets={billing.budgets} title="Budgets this month" />
			<BillingFilters billing={billing} csvHref={props.csvHref} />
			<p class="muted small">
				From {formatTime(billing.start, tz)} to {formatTime(billing.end, tz)} ({tz}).
			</p>
			{billing.rows.length === 0
				? (
					<EmptyState title="Nothing was billed in this range.">
						<p>Choose other dates or filters.</p>
					</EmptyState>
				)
				: <ReportTable rows={billing.rows} total={billing.total} headings={billing.headings} />}
			<div class="grid">
				<TotalsTable title="By user" totals={billing.byUser} />
				<TotalsTable title="By group" totals={billing.byGroup} />
				<TotalsTable title="By cost center" totals={billing.byCostCenter} />
			</div>
			<div class="grid">
				<div class="panel">
					<h2>Month to date by group</h2>
					<ChartIsland
						kind="bar"
						title="Month-to-date spend per group"
						labels={billing.monthToDate.map(([g]) => g)}
						values={billing.monthToDate.map(([, t]) => Number(t.cost.toFixed(4)))}
						unit="usd"
						format={(v) => `$${formatMoney(v)}`}
						empty="Nothing billed this month yet."
					/>
				</div>
				<div class="panel">
					<h2>Burning now</h2>
					<p>
						<span class="stat">{formatRate(billing.burn.total)}</span>
						{billing.burn.unpriced.length > 0
							? (
								<span class="muted">
									{` for what has a known price; it excludes ${billing.burn.unpriced.length} running at price unknown:`}
								</span>
							)
							: null}
					</p>
					<Unpriced unpriced={billing.burn.unpriced} />
					<ChartIsland
						kind="doughnut"
						title="Hourly burn per group"
						labels={billing.burn.byGroup.map(([g]) => g)}
						values={billing.burn.byGroup.map(([, v]) => v)}
						unit="usd-per-hour"
						format={(v) => formatRate(v)}
						empty={billing.burn.unpriced.length > 0 ? "Nothing with a known price is running." : "Nothing is running."}
					/>
				</div>
			</div>
			<CostComparison comparison={billing.comparison} userFiltered={billing.userFiltered} />
			{billing.chargeback && billing.chargeback.costCenters.length > 0 && <ChargebackForm form={billing.chargeback} />}
			{billing.savings && <SavingsSection savings={billing.savings} />}
			<p class="muted small">
				These costs are estimates: on-demand prices for {billing.region} from the pricing file
				{billing.discount > 0 ? `, less the ${(billing.discount * 100).toFixed(1)}% discount` : ""}, times the exact
				time each resource ran; volumes at{" "}
				{billing.region}'s EBS prices per GB-month (and provisioned IOPS), each calendar month's share by its own
				length; spot clusters at the spot price seen when they started. Your AWS bill is the authority.
			</p>
		</Layout>
	);
}
