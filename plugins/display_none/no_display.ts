/** The default display plugin: no extra columns, no locks, no launch tokens of its own. */
import type { DisplayColumn } from "../../lib/plugins/contract.ts";

export function instanceColumns(): DisplayColumn[] {
	return [];
}
