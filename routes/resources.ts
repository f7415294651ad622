/** What the instance and cluster routes share: finding a resource the viewer may see. */
import type { Viewer } from "../lib/auth/identify.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { mayView } from "../lib/auth/permissions.ts";

/** The 404 for a resource id the portal does not know (or hides: archived, malformed). */
export function unknownResource(noun: "instance" | "cluster", id: string): UserError {
	return new UserError(404, `No ${noun} ${id.slice(0, 40)} is known to the portal`);
}

/**
 * The resource row (loaded by the caller, undefined when not found) if the viewer may see it: 404
 * when unknown or archived, 403 when it belongs to someone outside the viewer's groups.
 */
export async function visibleResource<Row extends { archived: boolean; ownerId: number }>(
	deps: Deps,
	viewer: Viewer,
	found: { noun: "instance" | "cluster"; id: string; row: Row | undefined },
): Promise<Row> {
	const { noun, id, row } = found;
	if (!row || row.archived) throw unknownResource(noun, id);
	if (!await mayView(deps.db, viewer, row)) {
		throw new UserError(403, `This ${noun} belongs to someone outside your groups.`);
	}
	return row;
}
