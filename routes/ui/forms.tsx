/**
 * Labelled form controls that show server-side field errors, and the one renderer of a form
 * declared as data: a list of {@link FormItem}s, the submitted values and the errors.
 */
import type { ComponentChildren } from "preact";
import { listOf } from "../../lib/form_values.ts";
import { CsrfField, describedBy, Field } from "./components.tsx";

type Errors = Record<string, string>;
/** A form's values as submitted: repeated fields (checkbox lists) as lists. */
export type FormValues = Record<string, string | string[]>;
/** One option of a select or a checkbox list. */
export interface Choice {
	value: string;
	label: string;
}

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

export function Checkbox(props: { label: string; name: string; checked: boolean; hint?: string; error?: string }) {
	return (
		<div class={`field${props.error ? " invalid" : ""}`}>
			<div class="checks">
				<label>
					<input
						type="checkbox"
						name={props.name}
						checked={props.checked}
						value="on"
						{...describedBy(props.name, false, props.error)}
					/>{" "}
					{props.label}
				</label>
			</div>
			{props.hint && <small>{props.hint}</small>}
			{props.error && <div class="error" id={`f-${props.name}-error`} role="alert">{props.error}</div>}
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

/** One control, or a heading, a note or a grid of controls: a form is a list of these. */
export type FormItem =
	| {
		control: "text" | "number";
		name: string;
		label: string;
		hint?: string;
		required?: boolean;
		maxLength?: number;
		placeholder?: string;
		/** Shown when the value is empty. */
		fallback?: string;
	}
	| { control: "area"; name: string; label: string; hint?: string; rows?: number; prose?: boolean }
	| { control: "select"; name: string; label: string; hint?: string; options: Choice[]; fallback?: string }
	| { control: "checkbox"; name: string; label: string; hint?: string }
	| { control: "checks"; name: string; label: string; hint?: string; options: Choice[]; empty?: string }
	| { control: "file"; name: string; label: string; accept: string }
	| { heading: string }
	| { note: string }
	| { grid: FormItem[] };

/** A submit button; `intent` is posted as the `intent` field, to tell two buttons apart. */
export interface FormButton {
	label: string;
	intent?: string;
	primary?: boolean;
}

/** A single-valued field of the submitted values; empty when absent or repeated. */
export function textOf(values: FormValues, name: string): string {
	const value = values[name];
	return typeof value === "string" ? value : "";
}

function FormItemView(props: { item: FormItem; values: FormValues; errors: Errors }): ComponentChildren {
	const { item, values, errors } = props;
	if ("heading" in item) return <h3>{item.heading}</h3>;
	if ("note" in item) return <p class="muted small">{item.note}</p>;
	if ("grid" in item) {
		return (
			<div class="grid">{item.grid.map((inner) => <FormItemView item={inner} values={values} errors={errors} />)}</div>
		);
	}
	switch (item.control) {
		case "text":
		case "number": {
			const { control, fallback, ...rest } = item;
			return (
				<TextInput
					{...rest}
					type={control === "number" ? "number" : undefined}
					value={textOf(values, item.name) || fallback}
					errors={errors}
				/>
			);
		}
		case "area":
			return <TextArea {...item} value={textOf(values, item.name)} errors={errors} />;
		case "select":
			return <SelectField {...item} value={textOf(values, item.name) || item.fallback || ""} errors={errors} />;
		case "checkbox":
			return (
				<Checkbox
					label={item.label}
					name={item.name}
					hint={item.hint}
					checked={textOf(values, item.name) === "on"}
					error={errors[item.name]}
				/>
			);
		case "checks":
			return <CheckList {...item} selected={new Set(listOf(values[item.name]))} errors={errors} />;
		case "file":
			return (
				<Field label={item.label} name={item.name}>
					<input id={`f-${item.name}`} type="file" name={item.name} accept={item.accept} />
				</Field>
			);
	}
}

/** The form's controls, in order, each showing its value and error. */
export function FormFields(props: { items: readonly FormItem[]; values: FormValues; errors: Errors }) {
	return <>{props.items.map((item) => <FormItemView item={item} values={props.values} errors={props.errors} />)}</>;
}

/** The line above a refused form; a refusal of the whole form (`errors.form`) is said there too. */
export function FormMessage(props: { errors: Errors }) {
	return Object.keys(props.errors).length
		? (
			<p class="error-box" role="alert">
				Please correct the marked fields.{props.errors.form ? ` ${props.errors.form}` : ""}
			</p>
		)
		: null;
}

/** A server-validated form (posted as is, no browser checks): title, message, controls, buttons. */
export function DataForm(
	props: {
		action: string;
		csrf: string;
		items: readonly FormItem[];
		values: FormValues;
		errors: Errors;
		buttons: readonly FormButton[];
		/** Where "Cancel" goes; no cancel link without it. */
		cancel?: string;
		title?: string;
		/** More classes for the form (e.g. `wide`). */
		class?: string;
		multipart?: boolean;
	},
) {
	return (
		<form
			method="post"
			action={props.action}
			class={props.class ? `stack panel ${props.class}` : "stack panel"}
			novalidate
			enctype={props.multipart ? "multipart/form-data" : undefined}
		>
			<CsrfField token={props.csrf} />
			{props.title && <h3>{props.title}</h3>}
			<FormMessage errors={props.errors} />
			<FormFields items={props.items} values={props.values} errors={props.errors} />
			<div class="row">
				{props.buttons.map((b) => (
					<button
						type="submit"
						name={b.intent && "intent"}
						value={b.intent}
						class={b.primary ? "primary" : undefined}
					>
						{b.label}
					</button>
				))}
				{props.cancel && <a href={props.cancel}>Cancel</a>}
			</div>
		</form>
	);
}
