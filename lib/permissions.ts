/**
 * Who may see and do what. Checked on the server for every request; hidden buttons are only a
 * courtesy. "Teammate" means sharing at least one group with the resource's owner.
 */
import type { Viewer } from "./auth.ts";
import type { TeamScope } from "./db/scope.ts";

/** Managers and admins see and control every team's resources. */
export function seesEverything(viewer: Viewer): boolean {
	return viewer.role === "manager" || viewer.role === "admin";
}

function isAdmin(viewer: Viewer): boolean {
	return viewer.role === "admin";
}

/** Whether the viewer shares a group with an owner whose group ids are given. */
export function isTeammate(viewer: Viewer, ownerGroupIds: readonly number[]): boolean {
	return ownerGroupIds.some((id) => viewer.groupIds.includes(id));
}

/** View, start, stop and restart: the owner, a teammate, a manager or an admin. */
export function canControl(viewer: Viewer, ownerId: number, ownerGroupIds: readonly number[]): boolean {
	return viewer.id === ownerId || seesEverything(viewer) || isTeammate(viewer, ownerGroupIds);
}

/** Terminate (and remove records): the owner or an admin only. */
export function canTerminate(viewer: Viewer, ownerId: number): boolean {
	return viewer.id === ownerId || isAdmin(viewer);
}

/** Whose resources and bills the viewer's team and billing pages cover. */
export function viewerScope(viewer: Viewer): TeamScope {
	return { everyone: seesEverything(viewer), viewerId: viewer.id, groupIds: viewer.groupIds };
}
