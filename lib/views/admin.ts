/**
 * The data of the admin pages, as plain values for their components: rows with what the tables
 * show (member counts, a user's groups), the choices a form offers, and a stored item with its links.
 */
import {
	getConfig,
	getGroup,
	type Group,
	type InstanceType,
	linkedIds,
	listConfigs,
	listGroups,
	listInstanceTypes,
	listParams,
	listSecurityGroups,
	type SecurityGroup,
	type SoftwareConfig,
} from "../db/catalog.ts";
import type { Db } from "../db/client.ts";
import { countRecordedMachines } from "../db/admin_browse.ts";
import { opensWith, SECRET_SET } from "../catalog/secrets.ts";
import { getUser, listMemberships, listUsers, type User } from "../db/users.ts";
import type { Deps } from "../deps.ts";

/** The catalogue's items as the admin pages show them: the stored rows. */
export type { Group, InstanceType, SecurityGroup, SoftwareConfig, User };

/** How many items each admin section holds. */
export interface AdminCounts {
	groups: number;
	configs: number;
	instanceTypes: number;
	securityGroups: number;
	params: number;
	users: number;
	/** Instances and clusters not archived. */
	machines: number;
}

/** How many items each section holds, for the overview. */
export async function adminCounts(db: Db): Promise<AdminCounts> {
	const [groups, configs, instanceTypes, securityGroups, params, users, machines] = await Promise.all([
		listGroups(db),
		listConfigs(db),
		listInstanceTypes(db),
		listSecurityGroups(db),
		listParams(db),
		listUsers(db),
		countRecordedMachines(db),
	]);
	return {
		groups: groups.length,
		configs: configs.length,
		instanceTypes: instanceTypes.length,
		securityGroups: securityGroups.length,
		params: params.length,
		users: users.length,
		machines,
	};
}

/** The configurations table: every configuration, by name. */
export async function configRows(db: Db): Promise<SoftwareConfig[]> {
	return await listConfigs(db);
}

/** The simple lists of the catalogue, by their URL under /admin. */
export type SimpleList = "instance-types" | "security-groups" | "params";

/** An item of a simple list, as its form and its table row show it: the values of its fields. */
export interface ListRow {
	id: number;
	values: Record<string, string>;
	/** What the table shows instead of a value (a secret's "set"), by field. */
	shown?: Record<string, string>;
	/** Why the item needs attention (a secret this portal's key cannot decrypt), by field. */
	problems?: Record<string, string>;
}

/**
 * The items of a simple list. A secret param's value is never in them: its form value is empty (an
 * empty value keeps it) and the table says it is set, or that this portal's key cannot decrypt it.
 */
export async function listRows(db: Db, list: SimpleList, secret = ""): Promise<ListRow[]> {
	switch (list) {
		case "instance-types":
			return (await listInstanceTypes(db)).map((t) => ({
				id: t.id,
				values: { name: t.name, description: t.description },
			}));
		case "security-groups":
			return (await listSecurityGroups(db)).map((s) => ({ id: s.id, values: { sgId: s.sgId, name: s.name } }));
		case "params":
			return await Promise.all((await listParams(db)).map(async (p) => {
				if (!p.secret) {
					return { id: p.id, values: { token: p.token, value: p.value, description: p.description, secret: "" } };
				}
				const readable = await opensWith(secret, p.token, p.value);
				return {
					id: p.id,
					values: { token: p.token, value: "", description: p.description, secret: "on" },
					shown: { value: readable ? SECRET_SET : "set, but cannot be decrypted with this portal's key" },
					problems: readable ? undefined : {
						value:
							"The saved value cannot be decrypted with this portal's key (it was saved under another): enter it again",
					},
				};
			}));
	}
}

/** A group in the groups table. */
export interface GroupRow extends Group {
	/** Distinct members, from any source. */
	members: number;
}

export async function groupRows(db: Db): Promise<GroupRow[]> {
	const [groups, memberships] = await Promise.all([listGroups(db), listMemberships(db)]);
	return groups.map((g) => ({
		...g,
		members: new Set(memberships.filter((m) => m.groupId === g.id).map((m) => m.userId)).size,
	}));
}

/** A stored group with the ids it links to. */
export interface GroupWithLinks {
	group: Group;
	defaultSecurityGroups: number[];
	optionalSecurityGroups: number[];
	excludedTypes: number[];
}

/** What a group's form offers, and the group being edited (undefined when there is none with the id). */
export async function groupForm(db: Db, id?: number): Promise<{
	securityGroups: SecurityGroup[];
	instanceTypes: InstanceType[];
	stored?: GroupWithLinks;
}> {
	const [securityGroups, instanceTypes, stored] = await Promise.all([
		listSecurityGroups(db),
		listInstanceTypes(db),
		id === undefined ? undefined : groupWithLinks(db, id),
	]);
	return { securityGroups, instanceTypes, stored };
}

async function groupWithLinks(db: Db, id: number): Promise<GroupWithLinks | undefined> {
	const group = await getGroup(db, id);
	if (!group) return undefined;
	const [defaultSecurityGroups, optionalSecurityGroups, excludedTypes] = await Promise.all([
		linkedIds(db, "defaultSecurityGroups", id),
		linkedIds(db, "optionalSecurityGroups", id),
		linkedIds(db, "excludedTypes", id),
	]);
	return { group, defaultSecurityGroups, optionalSecurityGroups, excludedTypes };
}

/** A stored configuration with the ids it links to. */
export interface ConfigWithLinks {
	config: SoftwareConfig;
	compatibleTypes: number[];
	permittedGroups: number[];
}

/**
 * What a configuration's form offers — with the instance types the pricing file has no price
 * for — and the configuration being edited.
 */
export async function configForm(deps: Pick<Deps, "db" | "pricing">, id?: number): Promise<{
	instanceTypes: InstanceType[];
	groups: Group[];
	unpricedTypes: string[];
	/**
	 * The operating systems the loaded pricing file prices, and the configuration's own when the
	 * file no longer has it (so that editing something else does not change it).
	 */
	operatingSystems: { value: string; label: string }[];
	stored?: ConfigWithLinks;
}> {
	const [instanceTypes, groups, stored] = await Promise.all([
		listInstanceTypes(deps.db),
		listGroups(deps.db),
		id === undefined ? undefined : configWithLinks(deps.db, id),
	]);
	const unpricedTypes = instanceTypes.filter((t) => !deps.pricing.typeInfo(t.name)).map((t) => t.name);
	const platforms = deps.pricing.platforms();
	const current = stored?.config.os;
	const operatingSystems = [
		...platforms.map((os) => ({ value: os, label: os })),
		...(current && !platforms.includes(current)
			? [{ value: current, label: `${current} (not in the pricing file)` }]
			: []),
	];
	return { instanceTypes, groups, unpricedTypes, operatingSystems, stored };
}

async function configWithLinks(db: Db, id: number): Promise<ConfigWithLinks | undefined> {
	const config = await getConfig(db, id);
	if (!config) return undefined;
	const [compatibleTypes, permittedGroups] = await Promise.all([
		linkedIds(db, "compatibleTypes", id),
		linkedIds(db, "permittedGroups", id),
	]);
	return { config, compatibleTypes, permittedGroups };
}

/** A user in the users table (not their security tokens' generation: nothing an admin reads). */
export interface UserRow extends Omit<User, "csrfEpoch" | "csrfPreviousUntil"> {
	/** An admin through ADMIN_USERNAMES, whatever the role. */
	adminBySettings: boolean;
	/** Each group with the membership's source: "science (manual)". */
	groups: string[];
}

export async function userRows(deps: Pick<Deps, "db" | "settings">): Promise<UserRow[]> {
	const [users, memberships, groups] = await Promise.all([
		listUsers(deps.db),
		listMemberships(deps.db),
		listGroups(deps.db),
	]);
	const groupName = new Map(groups.map((g) => [g.id, g.name]));
	return users.map((u) => ({
		...u,
		adminBySettings: deps.settings.ADMIN_USERNAMES.includes(u.username),
		groups: memberships.filter((m) => m.userId === u.id).map((m) => `${groupName.get(m.groupId)} (${m.source})`),
	}));
}

/** A user's form: the user, the groups to choose from, the manual and the directory's memberships. */
export async function userForm(db: Db, id: number): Promise<
	| {
		user: User;
		groups: Group[];
		manualGroups: number[];
		directoryGroups: string[];
		/** The groups an admin has the user manage. */
		managedGroups: number[];
		/** The names of the groups the directory has the user manage (not editable here). */
		directoryManaged: string[];
	}
	| undefined
> {
	const user = await getUser(db, id);
	if (!user) return undefined;
	const [groups, manualGroups, directory, managedGroups, directoryManagedIds] = await Promise.all([
		listGroups(db),
		linkedIds(db, "manualMemberships", id),
		linkedIds(db, "directoryMemberships", id),
		linkedIds(db, "manualManagement", id),
		linkedIds(db, "directoryManagement", id),
	]);
	const nameOf = (groupId: number) => groups.find((g) => g.id === groupId)?.name ?? "";
	return {
		user,
		groups,
		manualGroups,
		directoryGroups: directory.map(nameOf),
		managedGroups,
		directoryManaged: directoryManagedIds.map(nameOf),
	};
}
