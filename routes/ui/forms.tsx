/** Labelled form controls that show server-side field errors (used by the admin pages). */
import { describedBy, Field } from "./components.tsx";

type Errors = Record<string, string>;

export function TextInput(
	props: {
		label: string;
		name: string;
		value?: string | number | null;
		errors: Errors;
		hint?: string;
		type?: "text" | "number" | "email" | "date";
		required?: boolean;
		maxLength?: number;
		placeholder?: string;
	},
) {
	return (
		<Field label={props.label} name={props.name} error={props.errors[props.name]} hint={props.hint}>
			<input
				id={`f-${props.name}`}
				name={props.name}
				type={(props.type ?? "text") as "text"}
				value={props.value === null || props.value === undefined ? "" : String(props.value)}
				required={props.required}
				maxLength={props.maxLength}
				placeholder={props.placeholder}
				{...describedBy(props.name, !!props.hint, props.errors[props.name])}
			/>
		</Field>
	);
}

export function TextArea(
	props: {
		label: string;
		name: string;
		value?: string | null;
		errors: Errors;
		hint?: string;
		rows?: number;
		prose?: boolean;
	},
) {
	return (
		<Field label={props.label} name={props.name} error={props.errors[props.name]} hint={props.hint}>
			<textarea
				id={`f-${props.name}`}
				name={props.name}
				rows={props.rows ?? 8}
				class={props.prose ? "prose" : undefined}
				spellcheck={props.prose ? undefined : false}
				{...describedBy(props.name, !!props.hint, props.errors[props.name])}
			>
				{props.value ?? ""}
			</textarea>
		</Field>
	);
}

export function Checkbox(props: { label: string; name: string; checked: boolean; hint?: string }) {
	return (
		<div class="field">
			<div class="checks">
				<label>
					<input type="checkbox" name={props.name} checked={props.checked} value="on" /> {props.label}
				</label>
			</div>
			{props.hint && <small>{props.hint}</small>}
		</div>
	);
}

export function CheckList(
	props: {
		label: string;
		name: string;
		options: { value: string; label: string }[];
		selected: ReadonlySet<string>;
		errors: Errors;
		hint?: string;
		empty?: string;
	},
) {
	const error = props.errors[props.name];
	return (
		<fieldset class={`field${error ? " invalid" : ""}`}>
			<legend>
				<strong>{props.label}</strong>
			</legend>
			{props.options.length === 0
				? <p class="muted small">{props.empty ?? "Nothing to choose from yet."}</p>
				: (
					<div class="checks">
						{props.options.map((o) => (
							<label>
								<input type="checkbox" name={props.name} value={o.value} checked={props.selected.has(o.value)} />{" "}
								{o.label}
							</label>
						))}
					</div>
				)}
			{props.hint && <small>{props.hint}</small>}
			{error && <div class="error" id={`f-${props.name}-error`} role="alert">{error}</div>}
		</fieldset>
	);
}

export function SelectField(
	props: {
		label: string;
		name: string;
		options: { value: string; label: string }[];
		value: string;
		errors: Errors;
		hint?: string;
	},
) {
	return (
		<Field label={props.label} name={props.name} error={props.errors[props.name]} hint={props.hint}>
			<select
				id={`f-${props.name}`}
				name={props.name}
				{...describedBy(props.name, !!props.hint, props.errors[props.name])}
			>
				{props.options.map((o) => <option value={o.value} selected={o.value === props.value}>{o.label}</option>)}
			</select>
		</Field>
	);
}
