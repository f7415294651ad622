/**
 * Who may see and do what. Checked on the server for every request; hidden buttons are only a
 * courtesy. "Teammate" means sharing at least one group with the resource's owner.
 *
 * Managers come in two kinds. The global manager role (given by an admin or the directory's
 * LDAP_MANAGER_GROUP) manages every group, as it always has: it is the role for whoever oversees the
 * whole portal. A scoped manager is assigned groups (`Viewer.managedGroupIds`: by the group's manager
 * directory group at sign-in, or by an admin) and manages only those: their team view, actions on
 * their members' machines, bills, user budgets and approvals. Neither kind may terminate someone
 * else's machine: that stays with the owner and the admins.
 */
import type { Db } from "../db/client.ts";
import type { Launch } from "../db/launches.ts";
import type { TeamScope } from "../db/scope.ts";
import { anyAdminUser, groupIdsOf } from "../db/users.ts";
import type { Settings } from "../settings.ts";
import type { Viewer } from "./identify.ts";

/** Global managers and admins see and control every team's resources. */
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

/** The groups whose members' machines and bills the viewer sees: their own and those they manage. */
export function scopeGroupIds(viewer: Viewer): number[] {
	return [...new Set([...viewer.groupIds, ...viewer.managedGroupIds])];
}

/** View, start, stop and restart: the owner, a teammate, a manager of one of the owner's groups, or an admin. */
export function canControl(viewer: Viewer, ownerId: number, ownerGroupIds: readonly number[]): boolean {
	return viewer.id === ownerId || seesEverything(viewer) || isTeammate(viewer, ownerGroupIds) ||
		ownerGroupIds.some((id) => viewer.managedGroupIds.includes(id));
}

/** Whether the viewer may see (and so control) a machine: {@link canControl}, with its owner's groups. */
export async function mayView(db: Db, viewer: Viewer, machine: { ownerId: number }): Promise<boolean> {
	return canControl(viewer, machine.ownerId, await groupIdsOf(db, machine.ownerId));
}

/** Whether the viewer may follow a launch: the launcher, a manager of its group or an admin. */
export function mayFollowLaunch(viewer: Viewer, launch: Pick<Launch, "userId" | "groupId">): boolean {
	return launch.userId === viewer.id || managesGroup(viewer, launch.groupId);
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
	return { everyone: seesEverything(viewer), viewerId: viewer.id, groupIds: scopeGroupIds(viewer) };
}

/** Whether the viewer manages a group: an admin, a global manager, or a manager assigned to it. */
export function managesGroup(viewer: Viewer, groupId: number | null): boolean {
	if (isAdmin(viewer)) return true;
	if (groupId === null) return false;
	return viewer.role === "manager" || viewer.managedGroupIds.includes(groupId);
}

/** The groups the viewer manages: every group (`all`), or these. */
export function managedGroups(viewer: Viewer): { all: boolean; groupIds: readonly number[] } {
	if (seesEverything(viewer)) return { all: true, groupIds: [] };
	return { all: false, groupIds: viewer.managedGroupIds };
}

/** Whether the viewer manages any group at all (a global or a scoped manager, or an admin). */
export function managesAnyGroup(viewer: Viewer): boolean {
	return seesEverything(viewer) || viewer.managedGroupIds.length > 0;
}

/**
 * Who may set a budget: a group's or a cost center's, an admin; a user's, an admin or a manager of
 * one of the user's groups (`userGroupIds`).
 */
export function maySetBudget(
	viewer: Viewer,
	target: { scope: "group" | "user" | "cost_center"; userGroupIds?: readonly number[] },
): boolean {
	if (isAdmin(viewer)) return true;
	if (target.scope !== "user") return false;
	return (target.userGroupIds ?? []).some((groupId) => managesGroup(viewer, groupId));
}

/**
 * Who decides a request: an admin, or a manager of its group (the admins alone when it has none),
 * never its own requester: an exception needs someone else's consent.
 */
export function mayDecide(viewer: Viewer, request: { requesterId: number; groupId: number | null }): boolean {
	if (viewer.id === request.requesterId) return false;
	return request.groupId === null ? isAdmin(viewer) : managesGroup(viewer, request.groupId);
}

/** Who sees a request: its requester and whoever may decide it. */
export function maySeeRequest(viewer: Viewer, request: { requesterId: number; groupId: number | null }): boolean {
	return viewer.id === request.requesterId || mayDecide(viewer, request);
}

/** Who marks types, configurations and volume sizes as needing approval: the admins. */
export function maySetApprovalRules(viewer: Viewer): boolean {
	return isAdmin(viewer);
}
