/**
 * What the machine tables (`instances`, `clusters`) share: one claim contract for control actions
 * (with a state guard), reads by id, the batched "seen" write of a sync, and the "billed" flag the
 * sync reads with its rows.
 */
import {
	and,
	eq,
	getTableName,
	gt,
	inArray,
	isNull,
	lt,
	notInArray,
	or,
	type Placeholder,
	type SQL,
	sql,
} from "drizzle-orm";
import type { Db } from "./client.ts";
import type { clusters, instances } from "./schema.ts";

/** A table of machines: both have the columns the shared statements use. */
export type MachineTable = typeof instances | typeof clusters;

/** An action to mark in flight; see {@link claimAction}. */
export interface ActionClaim {
	id: string;
	action: string;
	/** The states the action may start from. */
	states: readonly string[];
	now: Date;
	/** An action in flight since before this is forgotten. */
	staleBefore: Date;
	/** Actions in flight this one may overrule. */
	supersedes?: readonly string[];
}

/** The columns of either table, typed once (the tables declare them alike). */
function columns(table: MachineTable): typeof instances {
	return table as typeof instances;
}

/**
 * Marks an action as in flight if the machine is in one of `states` and no other action is (or
 * the other one is older than `staleBefore`, or is one of `supersedes`). Guards double clicks and
 * racing processes; returns whether this caller got the claim.
 */
export async function claimAction(db: Db, table: MachineTable, claim: ActionClaim): Promise<boolean> {
	const t = columns(table);
	const { id, action, states, now, staleBefore, supersedes = [] } = claim;
	const rows = await db.update(t).set({ pendingAction: action, pendingSince: now, updatedAt: now })
		.where(and(
			eq(t.id, id),
			inArray(t.state, [...states]),
			or(
				isNull(t.pendingAction),
				lt(t.pendingSince, staleBefore),
				supersedes.length ? inArray(t.pendingAction, [...supersedes]) : undefined,
			),
		)).returning({ id: t.id });
	return rows.length === 1;
}

/**
 * Visible on lists: not archived, and not ended more than `endedVisibleSince` ago (a date, or the
 * placeholder of a prepared statement that is given one).
 */
export function listable(
	table: MachineTable,
	endedStates: readonly string[],
	endedVisibleSince: Date | Placeholder,
): SQL {
	const t = columns(table);
	return and(eq(t.archived, false), or(notInArray(t.state, [...endedStates]), gt(t.updatedAt, endedVisibleSince)))!;
}

/** Ids per statement, well under SQLite's limit on bound parameters. */
const IDS_PER_STATEMENT = 500;

/** The rows with these ids, in statements of at most {@link IDS_PER_STATEMENT} ids. */
export async function machinesByIds<Row>(db: Db, table: MachineTable, ids: readonly string[]): Promise<Row[]> {
	const t = columns(table);
	const found: Row[] = [];
	for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
		found.push(...await db.select().from(t).where(inArray(t.id, ids.slice(i, i + IDS_PER_STATEMENT))) as Row[]);
	}
	return found;
}

/** Records that AWS listed these machines at `at`: one write for a whole sync, not one per machine. */
export async function markMachinesSeen(db: Db, table: MachineTable, ids: readonly string[], at: Date): Promise<void> {
	const t = columns(table);
	for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
		await db.update(t).set({ lastSeenAt: at }).where(inArray(t.id, ids.slice(i, i + IDS_PER_STATEMENT)));
	}
}

/**
 * Whether a billed period of the table's machine is open, as a column of a select from `table`. The
 * names are written out whole: in a select of one table drizzle leaves columns unqualified, and
 * `id` inside the subquery would then be the bill's.
 */
export function billedFlag(table: MachineTable): SQL<number> {
	const id = sql.raw(`"${getTableName(table)}"."id"`);
	return sql<number>`exists (SELECT 1 FROM "bills" WHERE "bills"."resource_id" = ${id} AND "bills"."ended_at" IS NULL)`;
}
