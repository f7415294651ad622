/** The options of a launch form's instance-type select: each type by name, with the admin's description. */
import type { OfferedType } from "../../lib/views/wizard.ts";

/** "m4.large — 2 vCPU, 8 GiB", or the bare name when the admin gave no description. */
export function typeLabel(type: OfferedType): string {
	return type.description ? `${type.name} — ${type.description}` : type.name;
}

export function TypeOptions(props: { types: OfferedType[]; selected: string }) {
	return (
		<>{props.types.map((t) => <option value={t.name} selected={t.name === props.selected}>{typeLabel(t)}</option>)}</>
	);
}
