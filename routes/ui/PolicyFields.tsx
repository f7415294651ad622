/**
 * A machine policy's rules in words and the fields of a user's choices within its bounds: the
 * wizard's form, its confirmation and the machine page's "change its policy" form share them.
 */
import type { ConfirmedPolicy, PolicyChoiceFields, PolicyRule, PolicyTerms } from "../../lib/views/policy.ts";
import { describedBy, Field } from "./components.tsx";
import { type FormValues, textOf } from "./forms.tsx";

/** The rules as a definition list; `empty` when none applies. */
export function PolicyRules(props: { rules: readonly PolicyRule[]; empty: string }) {
	if (props.rules.length === 0) return <p class="muted">{props.empty}</p>;
	return (
		<dl class="facts policy-rules">
			{props.rules.map((rule) => (
				<>
					<dt>{rule.name}</dt>
					<dd>{rule.text}</dd>
				</>
			))}
		</dl>
	);
}

/**
 * The choices a user may make (idle minutes, lifetime hours, a start with working hours), each
 * with its bounds and error. `blank` says what an empty field means (the wizard: the policy's own
 * value); none when nothing can be chosen.
 */
export function PolicyChoiceInputs(
	props: { fields: PolicyChoiceFields; values: FormValues; errors: Record<string, string>; blank?: boolean },
) {
	const { fields, values, errors } = props;
	const { idle, lifetime } = fields;
	return (
		<>
			{idle && (
				<Field
					label={idle.label}
					name="idleMinutes"
					error={errors.idleMinutes}
					hint={`${idle.min} to ${idle.max} minutes${props.blank ? `; empty: the policy's ${idle.default}` : ""}.`}
				>
					<input
						id="f-idleMinutes"
						name="idleMinutes"
						type="number"
						inputMode="numeric"
						min={idle.min}
						max={idle.max}
						step={1}
						value={textOf(values, "idleMinutes")}
						placeholder={String(idle.default)}
						{...describedBy("idleMinutes", true, errors.idleMinutes)}
					/>
				</Field>
			)}
			{lifetime && (
				<Field
					label="Lifetime in hours (it is terminated then)"
					name="lifetimeHours"
					error={errors.lifetimeHours}
					hint={`At most ${lifetime.max} hours after its launch${
						props.blank ? `; empty: the policy's ${lifetime.max}` : ""
					}.`}
				>
					<input
						id="f-lifetimeHours"
						name="lifetimeHours"
						type="number"
						inputMode="numeric"
						min={1}
						max={lifetime.max}
						step={1}
						value={textOf(values, "lifetimeHours")}
						placeholder={String(lifetime.max)}
						{...describedBy("lifetimeHours", true, errors.lifetimeHours)}
					/>
				</Field>
			)}
			{fields.autoStart && (
				<fieldset class={`field${errors.autoStart ? " invalid" : ""}`}>
					<legend>
						<strong>Start it when working hours begin</strong>
					</legend>
					<div class="checks">
						<label>
							<input type="radio" name="autoStart" value="on" checked={textOf(values, "autoStart") !== "off"} /> Yes
						</label>
						<label>
							<input type="radio" name="autoStart" value="off" checked={textOf(values, "autoStart") === "off"} /> No
						</label>
					</div>
					<small>When the working hours stopped it, it is started again the next working day.</small>
					{errors.autoStart && <div class="error" id="f-autoStart-error" role="alert">{errors.autoStart}</div>}
				</fieldset>
			)}
		</>
	);
}

/** The launch form's policy: what applies to the group and configuration, and the choices within its bounds. */
export function PolicyFieldset(
	props: { policy: PolicyTerms; values: FormValues; errors: Record<string, string> },
) {
	const { policy } = props;
	const chooses = !!(policy.fields.idle || policy.fields.lifetime || policy.fields.autoStart);
	return (
		<fieldset class="field policy-choices" data-policy-choices>
			<legend>
				<strong>Machine policy</strong>
			</legend>
			<PolicyRules
				rules={policy.rules}
				empty="No machine policy applies to this group and configuration: nothing stops or terminates it automatically."
			/>
			{policy.activity && <small>{policy.activity}</small>}
			{chooses && (
				<>
					<small>Leave a field empty for the policy's own value; you can change these later on its page.</small>
					<PolicyChoiceInputs fields={policy.fields} values={props.values} errors={props.errors} blank />
				</>
			)}
		</fieldset>
	);
}

/** The confirmation's policy: the rules with the values chosen, and those choices as the fields posted again. */
export function ConfirmedPolicyList(props: { policy: ConfirmedPolicy }) {
	const { policy } = props;
	return (
		<>
			{policy.rules.length === 0 ? "none applies" : (
				<ul class="policy-list">
					{policy.rules.map((rule) => (
						<li>
							<strong>{rule.name}:</strong> {rule.text}
						</li>
					))}
				</ul>
			)}
		</>
	);
}

/** The choices as hidden fields, for a form that posts them again. */
export function PolicyChoicesHidden(props: { policy: ConfirmedPolicy }) {
	return <>{props.policy.choices.map(([name, value]) => <input type="hidden" name={name} value={value} />)}</>;
}
