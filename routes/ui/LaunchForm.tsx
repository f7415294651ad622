/**
 * What the launch forms of every kind share: the frame (the CSRF token, the intent — review when
 * the kind is confirmed first, else launch —, the refusal message, the machine's name, the submit
 * row with the way back) and the panels beside it.
 */
import type { ComponentChildren } from "preact";
import type { LaunchFormProps } from "../../lib/views/wizard.ts";
import { CsrfField, describedBy, Field } from "./components.tsx";
import { textOf } from "./forms.tsx";

export function LaunchForm(
	props: {
		form: LaunchFormProps;
		csrf: string;
		submit: ComponentChildren;
		aside: ComponentChildren;
		children: ComponentChildren;
	},
) {
	const { form } = props;
	return (
		<div class="grid">
			<form method="post" action={form.action} class="stack panel" novalidate>
				<CsrfField token={props.csrf} />
				<input type="hidden" name="intent" value={form.intent} />
				{form.message && <p class="error-box" role="alert">{form.message}</p>}
				<Field
					label="Name"
					name="name"
					error={form.errors.name}
					hint="How the portal and AWS (the Name tag) call it; unique among your machines. You can rename it later."
				>
					<input
						id="f-name"
						name="name"
						type="text"
						maxLength={form.nameMax}
						value={textOf(form.values, "name") || form.nameDefault}
						placeholder={form.nameDefault}
						{...describedBy("name", true, form.errors.name)}
					/>
				</Field>
				{props.children}
				<div class="row">
					{props.submit}
					<a href={form.back}>Back</a>
				</div>
			</form>
			{props.aside}
		</div>
	);
}
