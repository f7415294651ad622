/**
 * Who may see and do what. Checked on the server for every request; hidden buttons are only a
 * courtesy. "Teammate" means sharing at least one group with the resource's owner.
 */
import type { Db } from "../db/client.ts";
import type { Launch } from "../db/launches.ts";
import type { TeamScope } from "../db/scope.ts";
import { anyAdminUser, groupIdsOf } from "../db/users.ts";
import type { Settings } from "../settings.ts";
import type { Viewer } from "./identify.ts";

/** Managers and admins see and control every team's resources. */
export function seesEverything(viewer: Viewer): boolean {
	return viewer.role === "manager" || viewer.role === "admin";
}

function isAdmin(viewer: Viewer): boolean {
	return viewer.role === "admin";
}

/**
 * Why the viewer may not use the admin pages (a 403). On a portal that has no admin at all yet (a
 * fresh start: nobody is listed in ADMIN_USERNAMES or has the role), it says how to make the first.
 */
export async function adminPagesRefusal(
	deps: { db: Db; settings: Pick<Settings, "ADMIN_USERNAMES"> },
	viewer: Viewer,
): Promise<string> {
	const refusal = "Only admins may use the admin pages.";
	if (deps.settings.ADMIN_USERNAMES.length > 0 || await anyAdminUser(deps.db)) return refusal;
	return `${refusal} This portal has no admin yet: list the first admins' usernames in the setting ADMIN_USERNAMES ` +
		`and restart the portal, e.g. MLIY_ADMIN_USERNAMES=${viewer.username} ./mliy start (see "Settings" in the README). ` +
		"An admin can then give others the admin role under Admin → Users.";
}

/** Whether the viewer shares a group with an owner whose group ids are given. */
export function isTeammate(viewer: Viewer, ownerGroupIds: readonly number[]): boolean {
	return ownerGroupIds.some((id) => viewer.groupIds.includes(id));
}

/** View, start, stop and restart: the owner, a teammate, a manager or an admin. */
export function canControl(viewer: Viewer, ownerId: number, ownerGroupIds: readonly number[]): boolean {
	return viewer.id === ownerId || seesEverything(viewer) || isTeammate(viewer, ownerGroupIds);
}

/** Whether the viewer may see (and so control) a machine: {@link canControl}, with its owner's groups. */
export async function mayView(db: Db, viewer: Viewer, machine: { ownerId: number }): Promise<boolean> {
	return canControl(viewer, machine.ownerId, await groupIdsOf(db, machine.ownerId));
}

/** Whether the viewer may follow a launch: the launcher, a manager or an admin. */
export function mayFollowLaunch(viewer: Viewer, launch: Pick<Launch, "userId">): boolean {
	return launch.userId === viewer.id || seesEverything(viewer);
}

/** Whether the viewer may dismiss a failed launch's notice: the launcher or an admin (not a manager). */
export function mayDismissLaunch(viewer: Viewer, launch: Pick<Launch, "userId">): boolean {
	return canTerminate(viewer, launch.userId);
}

/** Terminate (and remove records): the owner or an admin only. */
export function canTerminate(viewer: Viewer, ownerId: number): boolean {
	return viewer.id === ownerId || isAdmin(viewer);
}

/** Whose resources and bills the viewer's team and billing pages cover. */
export function viewerScope(viewer: Viewer): TeamScope {
	return { everyone: seesEverything(viewer), viewerId: viewer.id, groupIds: viewer.groupIds };
}
