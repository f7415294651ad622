/**
 * The billing page's estimates against the bill: per month, the portal's estimate beside what AWS
 * billed (Cost Explorer), the gap in dollars and percent, and the days whose gap is above the
 * threshold; a plain sentence instead when Cost Explorer is off, the tags are not activated or
 * nothing was read yet.
 */
import type { CostComparison as Comparison, DayComparison } from "../../lib/views/billing.ts";
import { formatMoney } from "./format.ts";

/** "+$4.46" or "−$0.23": a gap with its sign. */
export function signedMoney(amount: number): string {
	const rounded = Math.round(amount * 100) / 100;
	return `${rounded < 0 ? "−" : rounded > 0 ? "+" : ""}$${formatMoney(Math.abs(rounded))}`;
}

/** "+17.5 %", or "no estimate" when the portal estimated nothing. */
export function signedPercent(percent: number | null): string {
	if (percent === null) return "no estimate";
	const rounded = Math.round(percent * 10) / 10;
	return `${rounded < 0 ? "−" : rounded > 0 ? "+" : ""}${Math.abs(rounded).toFixed(1)} %`;
}

function DayRows(props: { days: DayComparison[] }) {
	return (
		<>
			{props.days.map((d) => (
				<tr data-flagged-day={d.day}>
					<td data-label="Day">{d.day}</td>
					<td data-label="Estimate" class="num">${formatMoney(d.estimate)}</td>
					<td data-label="Billed" class="num">${formatMoney(d.actual)}</td>
					<td data-label="Gap" class="num">{signedMoney(d.gap)}</td>
					<td data-label="Gap %" class="num">{signedPercent(d.gapPercent)}</td>
				</tr>
			))}
		</>
	);
}

export function CostComparison(props: { comparison: Comparison; userFiltered: boolean }) {
	const { comparison } = props;
	const note = comparison.message
		? (
			<p class={comparison.months.length ? "muted small" : "notice"} data-cost-explorer={comparison.state}>
				{comparison.message}
			</p>
		)
		: null;
	return (
		<section class="panel" aria-labelledby="h-actuals">
			<h2 id="h-actuals">Estimates against the bill</h2>
			{props.userFiltered
				? <p class="muted small">AWS bills per group and cost center, not per user: this compares your groups' cost.</p>
				: null}
			{note}
			{comparison.months.length === 0 ? null : (
				<div class="table-wrap">
					<table class="responsive" data-cost-comparison>
						<thead>
							<tr>
								<th scope="col">Month (UTC days)</th>
								<th scope="col" class="num">Estimate</th>
								<th scope="col" class="num">Billed by AWS</th>
								<th scope="col" class="num">Gap</th>
								<th scope="col" class="num">Gap %</th>
							</tr>
						</thead>
						<tbody>
							{comparison.months.map((m) => (
								<tr data-month={m.month}>
									<td data-label="Month">
										{m.month} <span class="muted small">({m.fromDay} to {m.toDay}, not included)</span>
										{m.unknown
											? <span class="muted small">; {m.unknown} period(s) of unknown price left out</span>
											: null}
									</td>
									<td data-label="Estimate" class="num">${formatMoney(m.estimate)}</td>
									<td data-label="Billed" class="num">${formatMoney(m.actual)}</td>
									<td data-label="Gap" class="num">{signedMoney(m.gap)}</td>
									<td data-label="Gap %" class="num">{signedPercent(m.gapPercent)}</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
			{comparison.months.some((m) => m.flagged.length) && (
				<>
					<h3>Days off by more than {comparison.thresholdPercent} %</h3>
					<div class="table-wrap">
						<table class="responsive" data-flagged-days>
							<thead>
								<tr>
									<th scope="col">Day (UTC)</th>
									<th scope="col" class="num">Estimate</th>
									<th scope="col" class="num">Billed by AWS</th>
									<th scope="col" class="num">Gap</th>
									<th scope="col" class="num">Gap %</th>
								</tr>
							</thead>
							<tbody>
								{comparison.months.map((m) => <DayRows days={m.flagged} />)}
							</tbody>
						</table>
					</div>
				</>
			)}
		</section>
	);
}
