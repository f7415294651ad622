/**
 * What the pages of every kind of machine share: finding a machine the viewer may see (404/403),
 * its activity as the audit trail records it, and how prices and links are handed to components.
 */
import type { Viewer } from "../auth/identify.ts";
import { mayView } from "../auth/permissions.ts";
import { auditFor } from "../db/audit.ts";
import type { ConfigKind } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { CLUSTER_ID, INSTANCE_ID } from "../machines/ids.ts";
import { ENDED_VISIBLE_MS } from "../machines/lifecycle.ts";
import { NAME_MAX } from "../machines/tags.ts";
import type { Price } from "../pricing.ts";

export type { AppLink, Connection } from "../machines/connect.ts";
export type { Cost, CostSoFar } from "../billing/so_far.ts";

/** An hourly price, or why it is unknown. */
export type Rate = Price;

/** A link to what runs on a machine. */
export interface WebLink {
	href: string;
	label: string;
}

/**
 * How long a machine's name (its Name tag, anyone's to write) may be on a page: a longer one is
 * cut, so it cannot push a row's actions out of sight. Names are also kept without hidden
 * characters (lib/text.ts), here for rows recorded before that rule.
 */
export const NAME_SHOWN = 100;

/** The rename form of a machine's page: where it posts, the current name and the longest one. */
export interface RenameForm {
	url: string;
	name: string;
	max: number;
}

/** The rename form of a machine that still exists (anyone who may see it may control and rename it). */
export function renameForm(kind: ConfigKind, id: string, name: string, ended: boolean): RenameForm | null {
	return ended ? null : { url: `/${kind}s/${id}/rename`, name, max: NAME_MAX };
}

/** One event of a machine's activity. */
export interface AuditEntry {
	at: Date;
	actor: string;
	action: string;
	/** "sent": asked of AWS, the outcome not known yet (an action whose call timed out, being confirmed). */
	outcome: "ok" | "refused" | "error" | "sent";
	detail: string;
}

const ID_PATTERNS: Record<ConfigKind, RegExp> = { instance: INSTANCE_ID, cluster: CLUSTER_ID };

/** The 404 for a machine id the portal does not know (or hides: archived, malformed). */
function unknownMachine(kind: ConfigKind, id: string): UserError {
	return new UserError(404, `No ${kind} ${id.slice(0, 40)} is known to the portal`);
}

/** Refuses (404) an id that is not one of the kind's, before anything looks it up. */
export function checkMachineId(kind: ConfigKind, id: string): void {
	if (!ID_PATTERNS[kind].test(id)) throw unknownMachine(kind, id);
}

/**
 * The row of a machine the viewer may see, loaded by `load`: 404 when the id is malformed, unknown
 * or archived, 403 when it belongs to someone outside the viewer's groups.
 */
export async function visibleMachine<Row extends { archived: boolean; ownerId: number }>(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	machine: { kind: ConfigKind; id: string; load: (id: string) => Promise<Row | undefined> },
): Promise<Row> {
	const { kind, id } = machine;
	checkMachineId(kind, id);
	const row = await machine.load(id);
	if (!row || row.archived) throw unknownMachine(kind, id);
	if (!await mayView(deps.db, viewer, row)) {
		throw new UserError(403, `This ${kind} belongs to someone outside your groups.`);
	}
	return row;
}

/** The machine's recent activity, newest first. */
export async function activityOf(deps: Pick<Deps, "db">, id: string, limit: number): Promise<AuditEntry[]> {
	return (await auditFor(deps.db, id, limit)).map((e) => ({
		at: e.at,
		actor: e.actor,
		action: e.action,
		outcome: e.outcome,
		detail: e.detail,
	}));
}

/** Since when an ended machine is still listed on the dashboard and the team view. */
export function endedVisibleSince(now: Date): Date {
	return new Date(now.getTime() - ENDED_VISIBLE_MS);
}

/** How long a machine has been up at `now`, or null when it is not up. */
export function uptimeMs(startedAt: Date | null, up: boolean, now: Date): number | null {
	return up && startedAt ? now.getTime() - startedAt.getTime() : null;
}
