/** Step 3 for cluster configurations: type, purpose, nodes, pricing and idle time, with the live estimate. */
import type { ClusterFormProps } from "../../lib/views/wizard.ts";
import { describedBy, Field, LiveRegion } from "./components.tsx";
import { Estimate } from "./Estimate.tsx";
import { LaunchForm } from "./LaunchForm.tsx";
import { PolicyFieldset } from "./PolicyFields.tsx";
import { TypeInfo } from "./TypeInfo.tsx";
import { TypeOptions } from "./TypeOptions.tsx";

export function ClusterForm(props: { form: ClusterFormProps; csrf: string }) {
	const { form } = props;
	const v = form.values;
	const e = form.errors;
	const { minCoreNodes, maxCoreNodes, purposeMax } = form.limits;
	const estimateAttrs = {
		"hx-get": `${form.action}/estimate`,
		"hx-trigger": "change, input delay:300ms",
		"hx-target": "#cluster-estimate",
		"hx-swap": "outerHTML",
		"hx-include": "closest form",
	};
	return (
		<LaunchForm
			form={form}
			csrf={props.csrf}
			submit={<button type="submit" class="primary">Review launch</button>}
			aside={
				<div>
					<LiveRegion>
						<Estimate estimate={form.estimate} />
					</LiveRegion>
					<LiveRegion>
						<TypeInfo info={form.typeInfo} />
					</LiveRegion>
				</div>
			}
		>
			<Field label="Instance type (master and core nodes)" name="instanceType" error={e.instanceType}>
				<select
					id="f-instanceType"
					name="instanceType"
					{...estimateAttrs}
					{...describedBy("instanceType", false, e.instanceType)}
				>
					<TypeOptions types={form.types} selected={v.instanceType} />
				</select>
			</Field>
			<Field
				label="Purpose"
				name="purpose"
				error={e.purpose}
				hint={`What the cluster is for (at most ${purposeMax} characters); it becomes a tag.`}
			>
				<textarea
					id="f-purpose"
					name="purpose"
					class="prose"
					rows={2}
					maxLength={purposeMax}
					required
					{...describedBy("purpose", true, e.purpose)}
				>
					{v.purpose}
				</textarea>
			</Field>
			<Field
				label="Core nodes"
				name="coreNodes"
				error={e.coreNodes}
				hint={`${minCoreNodes} to ${maxCoreNodes}, plus one master node`}
			>
				<input
					id="f-coreNodes"
					name="coreNodes"
					type="number"
					min={minCoreNodes}
					max={maxCoreNodes}
					value={v.coreNodes}
					{...estimateAttrs}
					{...describedBy("coreNodes", true, e.coreNodes)}
				/>
			</Field>
			<fieldset class={`field${e.market ? " invalid" : ""}`}>
				<legend>
					<strong>Pricing</strong>
				</legend>
				{e.market && <div class="error" role="alert">{e.market}</div>}
				<div class="checks">
					<label>
						<input type="radio" name="market" value="ON_DEMAND" checked={v.market !== "SPOT"} {...estimateAttrs} />{" "}
						On demand
					</label>
					<label>
						<input type="radio" name="market" value="SPOT" checked={v.market === "SPOT"} {...estimateAttrs} /> Spot
					</label>
				</div>
			</fieldset>
			<Field
				label="Spot bid price ($ per node-hour)"
				name="bidPrice"
				error={e.bidPrice}
				hint="Only for spot clusters"
			>
				<input
					id="f-bidPrice"
					name="bidPrice"
					type="number"
					step="0.001"
					min="0.001"
					max="100"
					value={v.bidPrice}
					{...estimateAttrs}
					{...describedBy("bidPrice", true, e.bidPrice)}
				/>
			</Field>
			<fieldset class={`field${e.autoTerminateHours || e.autoTerminateMinutes ? " invalid" : ""}`}>
				<legend>
					<strong>Auto-terminate when idle</strong>
				</legend>
				<div class="row">
					<label class="small">
						Hours{" "}
						<input
							name="autoTerminateHours"
							type="number"
							min="0"
							max="71"
							value={v.autoTerminateHours}
							class="narrow"
						/>
					</label>
					<label class="small">
						Minutes{" "}
						<input
							name="autoTerminateMinutes"
							type="number"
							min="0"
							max="59"
							value={v.autoTerminateMinutes}
							class="narrow"
						/>
					</label>
				</div>
				<small>
					The cluster terminates itself when Livy and JupyterHub have been idle this long; 0:0 disables it.
				</small>
				{(e.autoTerminateHours || e.autoTerminateMinutes) && (
					<div class="error" role="alert">{e.autoTerminateHours ?? e.autoTerminateMinutes}</div>
				)}
			</fieldset>
			{form.policy && <PolicyFieldset policy={form.policy} values={form.values} errors={form.errors} />}
		</LaunchForm>
	);
}
