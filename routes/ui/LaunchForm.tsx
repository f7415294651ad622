/**
 * What the launch forms of every kind share: the frame (the CSRF token, the intent — review when
 * the kind is confirmed first, else launch —, the refusal message, the submit row with the way
 * back) and the panels beside it.
 */
import type { ComponentChildren } from "preact";
import type { LaunchFormProps } from "../../lib/views/wizard.ts";
import { CsrfField } from "./components.tsx";

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
