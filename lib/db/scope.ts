/** The team scope the team and billing pages share, as one SQL condition. */
import { type Column, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import { memberships } from "./schema.ts";

/** Whose resources and bills a viewer sees: everyone's, or their own and everyone's sharing one of their groups. */
export interface TeamScope {
	everyone: boolean;
	viewerId: number;
	groupIds: readonly number[];
}

/** The kinds of scope a statement is prepared for: the condition differs, the values are placeholders. */
export type ScopeShape = "everyone" | "own" | "groups";

export function scopeShape(scope: TeamScope): ScopeShape {
	return scope.everyone ? "everyone" : scope.groupIds.length === 0 ? "own" : "groups";
}

/**
 * {@link inTeamScope} for a statement prepared once per {@link scopeShape}: the viewer and their
 * groups are the placeholders `viewerId` and `groupIds` (a JSON array), given by {@link scopeValues}.
 */
export function inPreparedScope(userColumn: Column, shape: ScopeShape): SQL | undefined {
	if (shape === "everyone") return undefined;
	if (shape === "own") return eq(userColumn, sql.placeholder("viewerId"));
	return or(
		eq(userColumn, sql.placeholder("viewerId")),
		inArray(
			userColumn,
			sql`(SELECT ${memberships.userId} FROM ${memberships} WHERE ${memberships.groupId} IN (SELECT value FROM json_each(${
				sql.placeholder("groupIds")
			})))`,
		),
	);
}

/** The placeholders' values of {@link inPreparedScope}. */
export function scopeValues(scope: TeamScope): { viewerId: number; groupIds: string } {
	return { viewerId: scope.viewerId, groupIds: JSON.stringify(scope.groupIds) };
}

/** Limits `userColumn` (an owner or payer id) to the scope; undefined when the scope is everyone. */
export function inTeamScope(userColumn: Column, scope: TeamScope): SQL | undefined {
	if (scope.everyone) return undefined;
	if (scope.groupIds.length === 0) return eq(userColumn, scope.viewerId);
	return or(
		eq(userColumn, scope.viewerId),
		inArray(
			userColumn,
			sql`(SELECT ${memberships.userId} FROM ${memberships} WHERE ${
				inArray(memberships.groupId, [...scope.groupIds])
			})`,
		),
	);
}
