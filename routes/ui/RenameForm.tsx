/** The rename form of a machine's page, for every kind: posts the new name, the answer replaces the panel. */
import type { RenameForm as RenameFormProps } from "../../lib/views/machines.ts";

export function RenameForm(props: { rename: RenameFormProps | null; target: string }) {
	const { rename } = props;
	if (!rename) return null;
	return (
		<form
			class="row rename"
			novalidate
			hx-post={rename.url}
			hx-target={props.target}
			hx-swap="outerHTML"
			data-rename
		>
			<label for="f-rename">Name</label>
			<input id="f-rename" name="name" type="text" value={rename.name} maxLength={rename.max} required />
			<button type="submit">Rename</button>
		</form>
	);
}
