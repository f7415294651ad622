/**
 * The refresh of one user's instances and clusters that opening the dashboard asks for: at most
 * once per USER_REFRESH_SECONDS across every process (a rate-limit lease in the database), so
 * page views cannot flood AWS. It runs in the background: the page neither waits for it nor fails
 * because of it, since the page shows what the database holds either way.
 */
import { takeRateLimit } from "../db/leases.ts";
import type { Deps } from "../deps.ts";
import { syncAll } from "./all.ts";

/** When each user's next refresh may be tried, per app: spares the database a write on every view. */
const nextRefresh = new WeakMap<Deps, Map<number, number>>();

/** Starts a background refresh of the user's resources unless one ran (or is running) lately. */
export function requestUserRefresh(deps: Deps, user: { id: number; username: string }): void {
	const now = deps.clock();
	const windowMs = deps.settings.USER_REFRESH_SECONDS * 1000;
	const local = nextRefresh.get(deps) ?? new Map<number, number>();
	nextRefresh.set(deps, local);
	if ((local.get(user.id) ?? 0) > now.getTime()) return;
	// Claimed here at once, so views arriving while the lease is asked for do not ask again.
	local.set(user.id, now.getTime() + windowMs);
	deps.background.run(`refresh ${user.username}`, async () => {
		let taken: boolean;
		try {
			taken = await takeRateLimit(deps.db, `refresh-user-${user.id}`, now, windowMs);
		} catch (error) {
			// The lease could not be asked for (a busy database): the next view may try again.
			local.delete(user.id);
			throw error;
		}
		if (taken) await syncAll(deps, { ownerId: user.id });
	});
}
