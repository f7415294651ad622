/** Queries and writes for users and their group memberships. */
import { and, asc, eq, inArray, isNotNull, or, sql } from "drizzle-orm";
import { type Db, preparedFor } from "./client.ts";
import { normaliseDirectoryName } from "../plugins/contract.ts";
import { groupManagers, groups, memberships, type Role, ROLES, users } from "./schema.ts";

export type User = typeof users.$inferSelect;
export type Membership = typeof memberships.$inferSelect;

const userStatements = preparedFor((db) => ({
	byUsername: db.select().from(users).where(eq(users.username, sql.placeholder("username"))).prepare(),
	groupIds: db.selectDistinct({ groupId: memberships.groupId }).from(memberships).where(
		eq(memberships.userId, sql.placeholder("userId")),
	).prepare(),
	managedGroupIds: db.selectDistinct({ groupId: groupManagers.groupId }).from(groupManagers).where(
		eq(groupManagers.userId, sql.placeholder("userId")),
	).prepare(),
}));

/** Returns the user, or `undefined`. Usernames are stored lower-case. */
export async function getUserByUsername(db: Db, username: string): Promise<User | undefined> {
	return await userStatements(db).byUsername.get({ username: username.toLowerCase() });
}

export async function getUser(db: Db, id: number): Promise<User | undefined> {
	return await db.query.users.findFirst({ where: eq(users.id, id) });
}

/** Creates the user, or returns the existing one when another request created it first. */
export async function ensureUser(
	db: Db,
	values: { username: string; firstName?: string; lastName?: string; email?: string },
): Promise<{ user: User; created: boolean }> {
	const username = values.username.toLowerCase();
	const existing = await getUserByUsername(db, username);
	if (existing) return { user: existing, created: false };
	const inserted = await db.insert(users).values({ ...values, username }).onConflictDoNothing().returning();
	if (inserted[0]) return { user: inserted[0], created: true };
	return { user: (await getUserByUsername(db, username))!, created: false };
}

/** Updates profile fields; writes only when something differs. */
export async function updateUserProfile(
	db: Db,
	user: User,
	changes: Partial<
		Pick<
			User,
			"firstName" | "lastName" | "email" | "directoryRole" | "lastLoginAt" | "role" | "csrfEpoch" | "csrfPreviousUntil"
		>
	>,
): Promise<User> {
	const differs = Object.entries(changes).some(([key, value]) => {
		const current = user[key as keyof User];
		return value instanceof Date
			? !(current instanceof Date) || current.getTime() !== value.getTime()
			: current !== value;
	});
	if (!differs) return user;
	const [updated] = await db.update(users).set({ ...changes, updatedAt: new Date() }).where(eq(users.id, user.id))
		.returning();
	return updated ?? user;
}

/**
 * Moves the user's CSRF tokens to a new generation and accepts none older: every page open
 * anywhere must be reloaded before it can change anything. Returns the new generation.
 */
export async function revokeCsrfTokens(db: Db, userId: number): Promise<number> {
	const [row] = await db.update(users).set({
		csrfEpoch: sql`${users.csrfEpoch} + 1`,
		csrfPreviousUntil: null,
		updatedAt: new Date(),
	}).where(eq(users.id, userId)).returning({ epoch: users.csrfEpoch });
	return row?.epoch ?? 0;
}

/** The highest of the roles; `undefined` entries are ignored. */
export function highestRole(...roles: (Role | null | undefined)[]): Role {
	let best = 0;
	for (const role of roles) if (role) best = Math.max(best, ROLES.indexOf(role));
	return ROLES[best]!;
}

/** Ids of the groups a user belongs to (any source). */
export async function groupIdsOf(db: Db, userId: number): Promise<number[]> {
	return (await userStatements(db).groupIds.all({ userId })).map((r) => r.groupId);
}

/** The CN of a DN (`CN=Data Science,OU=Teams,...` gives `data science`), else the name itself. */
function commonName(name: string): string {
	const match = /^cn=([^,]+)/.exec(normaliseDirectoryName(name));
	return match ? match[1]! : normaliseDirectoryName(name);
}

/**
 * Whether a directory entry the user belongs to matches a group's directory name. A DN matches only
 * the same full DN, so equal CNs in different OUs stay different teams; a bare name configured on
 * the group matches the entry's CN (or the entry itself).
 */
export function directoryNameMatches(groupDirectoryName: string, userEntry: string): boolean {
	const configured = normaliseDirectoryName(groupDirectoryName);
	if (!configured) return false;
	if (configured.includes("=")) return configured === normaliseDirectoryName(userEntry);
	return configured === commonName(userEntry);
}

/**
 * Makes the user's directory memberships equal to the groups matching `directoryEntries`: adds the
 * missing ones and removes those the directory no longer grants. Manual memberships are untouched.
 */
export async function syncDirectoryMemberships(
	db: Db,
	userId: number,
	directoryEntries: readonly string[],
): Promise<{ added: number[]; removed: number[] }> {
	return await syncDirectoryRows(db, memberships, groups.directoryName, userId, directoryEntries);
}

/**
 * Makes the groups the directory has the user manage equal to those whose manager directory group
 * matches one of `directoryEntries`, as {@link syncDirectoryMemberships} does for memberships.
 * Assignments an admin made are untouched.
 */
export async function syncDirectoryManagement(
	db: Db,
	userId: number,
	directoryEntries: readonly string[],
): Promise<{ added: number[]; removed: number[] }> {
	return await syncDirectoryRows(db, groupManagers, groups.managerDirectoryName, userId, directoryEntries);
}

async function syncDirectoryRows(
	db: Db,
	table: typeof memberships | typeof groupManagers,
	directoryColumn: typeof groups.directoryName | typeof groups.managerDirectoryName,
	userId: number,
	directoryEntries: readonly string[],
): Promise<{ added: number[]; removed: number[] }> {
	const candidates = await db.select({ id: groups.id, directoryName: directoryColumn }).from(groups).where(
		isNotNull(directoryColumn),
	);
	const wanted = new Set(
		candidates.filter((g) => directoryEntries.some((entry) => directoryNameMatches(g.directoryName!, entry))).map((g) =>
			g.id
		),
	);
	const current = new Set(
		(await db.select({ groupId: table.groupId }).from(table).where(
			and(eq(table.userId, userId), eq(table.source, "directory")),
		)).map((r) => r.groupId),
	);
	const added = [...wanted].filter((id) => !current.has(id));
	const removed = [...current].filter((id) => !wanted.has(id));
	if (added.length > 0) {
		await db.insert(table).values(added.map((groupId) => ({ userId, groupId, source: "directory" as const })))
			.onConflictDoNothing();
	}
	if (removed.length > 0) {
		await db.delete(table).where(
			and(eq(table.userId, userId), eq(table.source, "directory"), inArray(table.groupId, removed)),
		);
	}
	return { added, removed };
}

/** Ids of the groups a user manages by assignment (directory or admin), not by the global manager role. */
export async function managedGroupIdsOf(db: Db, userId: number): Promise<number[]> {
	return (await userStatements(db).managedGroupIds.all({ userId })).map((r) => r.groupId);
}

/** Whether any user holds the admin role, given by an admin or by the directory. */
export async function anyAdminUser(db: Db): Promise<boolean> {
	const found = await db.select({ id: users.id }).from(users)
		.where(or(eq(users.role, "admin"), eq(users.directoryRole, "admin"))).limit(1);
	return found.length > 0;
}

/** Every user, by username. */
export async function listUsers(db: Db): Promise<User[]> {
	return await db.select().from(users).orderBy(asc(users.username));
}

/** Users sharing at least one group with `userId` (including that user). */
export async function teammateIds(db: Db, groupIds: readonly number[]): Promise<number[]> {
	if (groupIds.length === 0) return [];
	const rows = await db.selectDistinct({ userId: memberships.userId }).from(memberships).where(
		inArray(memberships.groupId, [...groupIds]),
	);
	return rows.map((r) => r.userId);
}

/** Memberships of every user, for the admin page. */
export async function listMemberships(db: Db): Promise<Membership[]> {
	return await db.select().from(memberships);
}

/** The columns of a user joined to a row as its owner (or payer), named once for every row select. */
export function personColumns(person: typeof users) {
	return { username: person.username, firstName: person.firstName, lastName: person.lastName };
}

/** A display name: "First Last", else the username. */
export function displayName(user: Pick<User, "firstName" | "lastName" | "username">): string {
	const name = `${user.firstName} ${user.lastName}`.trim();
	return name || user.username;
}
