/**
 * The instance-type panel of the launch forms: vCPU, memory, ECU, EBS optimisation and the hourly
 * price in the configured region; what the pricing file does not say reads "unknown".
 */
import type { TypeInfoProps } from "../../lib/views/wizard.ts";
import { formatRate } from "./format.ts";
import type { Rate } from "../../lib/views/machines.ts";

function Price(props: { rate: Rate }) {
	return props.rate.known ? <>{formatRate(props.rate.hourly)}</> : <span title={props.rate.reason}>price unknown</span>;
}

/** The panel for one instance type; for clusters it adds the EMR surcharge per node. */
export function TypeInfo(props: { info: TypeInfoProps }) {
	const { info } = props;
	return (
		<div id="type-info" class="panel">
			<h3>{info.prettyName ?? info.type}</h3>
			<dl class="facts">
				<dt>Instance type</dt>
				<dd class="mono">{info.type}</dd>
				<dt>vCPU</dt>
				<dd>{info.vcpu ?? "unknown"}</dd>
				<dt>Memory</dt>
				<dd>{info.memoryGib !== null ? `${info.memoryGib} GiB` : "unknown"}</dd>
				<dt>
					<abbr title="EC2 compute units">ECU</abbr>
				</dt>
				<dd>{info.ecu ?? "unknown"}</dd>
				<dt>EBS-optimised</dt>
				<dd>{info.ebsOptimized === null ? "unknown" : info.ebsOptimized ? "yes" : "no"}</dd>
				{info.gpus
					? (
						<>
							<dt>GPUs</dt>
							<dd>{info.gpus}</dd>
						</>
					)
					: null}
				<dt>Price per hour</dt>
				<dd>
					<Price rate={info.rate} /> <span class="muted small">({info.region}, {info.os})</span>
				</dd>
				{info.emr && (
					<>
						<dt>EMR price per node</dt>
						<dd>
							<Price rate={info.emr} />
						</dd>
					</>
				)}
			</dl>
		</div>
	);
}
