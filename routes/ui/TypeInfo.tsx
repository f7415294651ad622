/** The instance-type panel of the launch forms: vCPU, memory and the hourly price in the configured region. */
import { instanceRate } from "../../lib/billing/rates.ts";
import type { Deps } from "../../lib/deps.ts";
import { formatRate } from "./format.ts";

/** The panel for one instance type; for clusters it adds the EMR surcharge per node. */
export function TypeInfo(props: { deps: Deps; type: string; os: string; emr?: boolean }) {
	const info = props.deps.pricing.typeInfo(props.type);
	const rate = instanceRate(props.deps, { type: props.type, os: props.os });
	return (
		<div id="type-info" class="panel">
			<h3>{info?.prettyName ?? props.type}</h3>
			<dl class="facts">
				<dt>Instance type</dt>
				<dd class="mono">{props.type}</dd>
				<dt>vCPU</dt>
				<dd>{info?.vcpu ?? "unknown"}</dd>
				<dt>Memory</dt>
				<dd>{info?.memoryGib !== null && info?.memoryGib !== undefined ? `${info.memoryGib} GiB` : "unknown"}</dd>
				{info?.gpus
					? (
						<>
							<dt>GPUs</dt>
							<dd>{info.gpus}</dd>
						</>
					)
					: null}
				<dt>Price per hour</dt>
				<dd>
					{rate.known ? formatRate(rate.hourly) : <span title={rate.reason}>price unknown</span>}{" "}
					<span class="muted small">({props.deps.settings.AWS_REGION}, {props.os})</span>
				</dd>
				{props.emr && (() => {
					const surcharge = props.deps.pricing.emrSurcharge(props.type, props.deps.settings.AWS_REGION);
					return (
						<>
							<dt>EMR price per node</dt>
							<dd>
								{surcharge.known ? formatRate(surcharge.hourly) : <span title={surcharge.reason}>price unknown</span>}
							</dd>
						</>
					);
				})()}
			</dl>
		</div>
	);
}
