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

/** The two figures on one line, under a row's hourly cost. */
export function CostSoFarLine(props: { soFar?: CostSoFarProps }) {
	if (!props.soFar) return null;
	const { month, sinceLaunch } = props.soFar;
	return (
		<div class="small muted" data-cost-so-far>
			{money(month)} this month · {money(sinceLaunch)} in all
		</div>
	);
}
