/** Step 3 for instance configurations: the instance type (with its price panel) and the optional security groups. */
import type { InstanceFormProps } from "../../lib/views/wizard.ts";
import { listOf } from "../../lib/form_values.ts";
import { describedBy, Field, LiveRegion } from "./components.tsx";
import { LaunchForm } from "./LaunchForm.tsx";
import { PolicyFieldset } from "./PolicyFields.tsx";
import { textOf } from "./forms.tsx";
import { TypeInfo } from "./TypeInfo.tsx";
import { TypeOptions } from "./TypeOptions.tsx";

export function InstanceForm(props: { form: InstanceFormProps; csrf: string }) {
	const { form } = props;
	const selected = textOf(form.values, "instanceType");
	const chosen = new Set(listOf(form.values.securityGroups));
	return (
		<LaunchForm
			form={form}
			csrf={props.csrf}
			submit={<button type="submit" class="primary">Review launch</button>}
			aside={
				<LiveRegion>
					<TypeInfo info={form.typeInfo} />
				</LiveRegion>
			}
		>
			<Field
				label="Instance type"
				name="instanceType"
				error={form.errors.instanceType}
				hint="The price panel shows what it costs."
			>
				<select
					id="f-instanceType"
					name="instanceType"
					required
					hx-get={`${form.action}/type-info`}
					hx-trigger="change"
					hx-target="#type-info"
					hx-swap="outerHTML"
					{...describedBy("instanceType", true, form.errors.instanceType)}
				>
					<TypeOptions types={form.types} selected={selected} />
				</select>
			</Field>
			{form.optionalSecurityGroups.length > 0 && (
				<fieldset class={`field${form.errors.securityGroups ? " invalid" : ""}`}>
					<legend>
						<strong>Optional security groups</strong>
					</legend>
					<div class="checks">
						{form.optionalSecurityGroups.map((sg) => (
							<label>
								<input type="checkbox" name="securityGroups" value={sg.sgId} checked={chosen.has(sg.sgId)} />
								{sg.name} <span class="mono muted small">{sg.sgId}</span>
							</label>
						))}
					</div>
					<small>
						Your group always adds {form.defaultSecurityGroups}{" "}
						default group{form.defaultSecurityGroups === 1 ? "" : "s"}; AWS allows {form.maxSecurityGroups} in all.
					</small>
					{form.errors.securityGroups && <div class="error" role="alert">{form.errors.securityGroups}</div>}
				</fieldset>
			)}
			{form.policy && <PolicyFieldset policy={form.policy} values={form.values} errors={form.errors} />}
			<p class="small muted">
				{form.extraVolume
					? `An encrypted ${form.extraVolume.sizeGb} GiB volume is attached at ${form.extraVolume.device}.`
					: "No extra volume is attached."}
			</p>
		</LaunchForm>
	);
}
