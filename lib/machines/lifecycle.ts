/**
 * What every kind of machine shares about its life: the states after which it no longer exists,
 * how long AWS may not list a machine before it counts as vanished, when an action in flight is
 * forgotten, and how observed times are kept in the past. Plain values: the database layer uses
 * the state lists in its queries, the sync and the control path use the rules.
 */

/** The state of a machine or volume AWS no longer knows at all. */
export const VANISHED = "vanished";

/** States after which an instance no longer exists in AWS. */
export const INSTANCE_ENDED_STATES: readonly string[] = ["terminated", VANISHED];

/** EMR states after which a cluster no longer exists. */
export const CLUSTER_ENDED_STATES: readonly string[] = ["TERMINATED", "TERMINATED_WITH_ERRORS", VANISHED];

/** Volume states that mean the volume no longer exists (and is no longer billed). */
export const VOLUME_GONE_STATES: readonly string[] = ["deleted", VANISHED];

/** Ended instances and clusters stay on the dashboard and team view this long, then only billing and admin show them. */
export const ENDED_VISIBLE_MS = 24 * 3_600_000;

/** A row not seen in AWS for this long after it was recorded is vanished (AWS listings lag launches). */
const VANISH_GRACE_MS = 10 * 60_000;

/**
 * Whether a row AWS did not return is still within the grace of {@link VANISH_GRACE_MS} since it
 * was last seen (or recorded): AWS's listings lag a launch, so such a row is left alone for now.
 */
export function withinVanishGrace(row: { lastSeenAt: Date | null; createdAt: Date }, now: Date): boolean {
	return now.getTime() - (row.lastSeenAt ?? row.createdAt).getTime() < VANISH_GRACE_MS;
}

/** An action still marked in flight after this long is forgotten. */
export const ACTION_STALE_MS = 15 * 60_000;

/** Whether an action marked in flight at `pendingSince` is so old that it is forgotten. */
export function actionStale(pendingSince: Date | null, now: Date): boolean {
	return pendingSince !== null && now.getTime() - pendingSince.getTime() > ACTION_STALE_MS;
}

/** `at`, kept between `notBefore` and `now`: AWS's clocks and a lagging listing never put a change in the future. */
export function clampToPast(at: Date | undefined, notBefore: Date | null | undefined, now: Date): Date {
	if (!at || at.getTime() > now.getTime()) return now;
	if (notBefore && at.getTime() < notBefore.getTime()) return notBefore;
	return at;
}
