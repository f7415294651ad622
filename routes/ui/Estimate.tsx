/** A cluster's live cost estimate beside its launch form. */
import type { EstimateProps } from "../../lib/views/wizard.ts";
import { formatRate } from "./format.ts";

export function Estimate(props: { estimate: EstimateProps }) {
	const { rate, spot, discounted, minCoreNodes, maxCoreNodes } = props.estimate;
	return (
		<div id="cluster-estimate" class="panel">
			<h3>Cost estimate*</h3>
			{!rate ? <p class="muted">Choose a type and {minCoreNodes}–{maxCoreNodes} core nodes.</p> : !rate.known
				? (
					<p>
						<strong>Price unknown</strong>
						<span class="muted small">
							{" "}
							({rate.reason})
						</span>
					</p>
				)
				: (
					<p>
						<span class="stat" data-estimate={rate.hourly.toFixed(4)}>{formatRate(rate.hourly)}</span>
					</p>
				)}
			<p class="muted small">
				* (EMR price +{" "}
				{spot ? "spot bid (capped at on demand)" : "on-demand price"}) × (core nodes + 1 master){discounted
					? ", less the discount"
					: ""}. Spot clusters are charged the spot price, which is usually below the bid; if the spot price rises above
				the bid, the nodes are taken away.
			</p>
		</div>
	);
}
