/** What a machine has cost so far, for every kind: this month and since launch; "unknown" when a price is. */
import type { Cost, CostSoFar as CostSoFarProps } from "../../lib/views/machines.ts";
import { formatMoney } from "./format.ts";

function money(cost: Cost): string {
	return cost.known ? `$${formatMoney(cost.usd)}` : "unknown";
}

/** The two figures as label/value pairs of a facts list. */
export function CostSoFarFacts(props: { soFar: CostSoFarProps }) {
	const { month, sinceLaunch } = props.soFar;
	return (
		<>
			<dt>Cost this month</dt>
			<dd data-cost="month" title={month.known ? undefined : month.reason}>{money(month)}</dd>
			<dt>Cost since launch</dt>
			<dd data-cost="since-launch" title={sinceLaunch.known ? undefined : sinceLaunch.reason}>
				{money(sinceLaunch)}
			</dd>
		</>
	);
}

/** A row's "Cost so far" cell: this month, and since launch under it. */
export function CostSoFarCell(props: { soFar?: CostSoFarProps }) {
	if (!props.soFar) return <td data-label="Cost so far" class="num">—</td>;
	const { month, sinceLaunch } = props.soFar;
	return (
		<td data-label="Cost so far" class="num" data-cost-so-far>
			<div>
				{money(month)} this month
				<div class="small muted">{money(sinceLaunch)} in all</div>
			</div>
		</td>
	);
}
