/** The team scope the team and billing pages share, as one SQL condition. */
import { type Column, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import { memberships } from "./schema.ts";

/** Whose resources and bills a viewer sees: everyone's, or their own and everyone's sharing one of their groups. */
export interface TeamScope {
	everyone: boolean;
	viewerId: number;
	groupIds: readonly number[];
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
