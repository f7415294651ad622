/**
 * The data of the admin's machine pages: every instance, cluster, volume left behind and launch,
 * searched, filtered, sorted by a column and paged (lib/db/admin_browse.ts), as plain rows with their
 * tags, volumes and links; and one machine or volume with what the admin may do to its record.
 *
 * The URL is the state of a list (`?q=&state=&owner=&group=&config=&kind=&archived=&which=&sort=&dir=&page=`),
 * so a sorted, filtered page can be bookmarked and shared; a value that is not what it says is a
 * 400 that says which, never an empty page.
 */
import type { Viewer } from "../auth/identify.ts";
import { volumeRate } from "../billing/rates.ts";
import {
	BROWSE_SORTS,
	browseClusters,
	type BrowseFilter,
	browseInstances,
	browseLaunches,
	type BrowseList,
	type BrowseSort,
	browseVolumes,
	volumeDetail,
} from "../db/admin_browse.ts";
import { listConfigs, listGroups } from "../db/catalog.ts";
import { getClusterRow } from "../db/clusters.ts";
import { getInstanceRow } from "../db/instances.ts";
import { LAUNCH_STATUSES } from "../db/schema.ts";
import { volumesOf } from "../db/volumes.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { formatMoney } from "../format.ts";
import { CLUSTER_ENDED_STATES, INSTANCE_ENDED_STATES, VANISHED } from "../machines/lifecycle.ts";
import {
	type Choice,
	listHref,
	type ListSort,
	pagerFor,
	type PagerProps,
	parsePage,
	parseSort,
	type SortDirection,
	type SortHeading,
	sortHeadings,
	type SortOptions,
} from "./lists.ts";

/** Rows on one page. */
export const BROWSE_PAGE_SIZE = 50;

export type { BrowseList };

/** The states each list's filter offers (launches: their status), in their life's order. */
const STATES: Record<BrowseList, readonly string[]> = {
	instances: ["pending", "running", "stopping", "stopped", "shutting-down", "terminated", VANISHED],
	clusters: [
		"STARTING",
		"BOOTSTRAPPING",
		"RUNNING",
		"WAITING",
		"TERMINATING",
		"TERMINATED",
		"TERMINATED_WITH_ERRORS",
		VANISHED,
	],
	volumes: ["creating", "available", "in-use", "deleting", "deleted", VANISHED],
	launches: LAUNCH_STATUSES,
};

/** What each list is called, and the filters its form offers. */
const LISTS: Record<BrowseList, { title: string; filters: readonly (keyof BrowseValues)[] }> = {
	instances: { title: "Instances", filters: ["q", "state", "owner", "group", "config", "archived"] },
	clusters: { title: "Clusters", filters: ["q", "state", "owner", "group", "config", "archived"] },
	volumes: { title: "Volumes left behind", filters: ["q", "state", "owner", "group", "which"] },
	launches: { title: "Launches", filters: ["q", "state", "owner", "group", "config", "kind"] },
};

/** The column headings of each list, by sort key (a column without a key does not sort). */
const HEADINGS: { [L in BrowseList]: Record<BrowseSort<L>, string> } = {
	instances: {
		id: "Instance",
		name: "Name",
		owner: "Owner",
		group: "Group",
		config: "Configuration",
		type: "Type",
		state: "State",
		created: "Recorded",
		seen: "Last seen",
	},
	clusters: {
		id: "Cluster",
		name: "Name",
		owner: "Owner",
		group: "Group",
		config: "Configuration",
		type: "Type",
		state: "State",
		created: "Recorded",
	},
	volumes: {
		id: "Volume",
		instance: "Last attached to",
		owner: "Owner",
		size: "Size",
		type: "Type",
		state: "State",
		created: "Recorded",
	},
	launches: {
		id: "Launch",
		owner: "Launched by",
		group: "Group",
		config: "Configuration",
		kind: "Kind",
		type: "Type",
		status: "Status",
		created: "Requested",
	},
};

/** The filter form's fields, as typed (empty when not given). */
export interface BrowseValues {
	q: string;
	state: string;
	owner: string;
	group: string;
	config: string;
	kind: string;
	archived: string;
	which: string;
}

const FIELDS: readonly (keyof BrowseValues)[] = ["q", "state", "owner", "group", "config", "kind", "archived", "which"];

/** A list's query as the URL gives it, checked. */
export interface BrowseQuery {
	list: BrowseList;
	filter: BrowseFilter;
	sort: ListSort;
	page: number;
	values: BrowseValues;
}

const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,63}$/;
const NUMBER = /^[1-9]\d{0,9}$/;

/**
 * The sorts of a list: each column first clicked sorts newest (or largest) first for times and
 * sizes, A→Z for the rest; newest first when none is asked.
 */
function sortOptions(list: BrowseList): SortOptions<string> {
	const first = (sort: string): SortDirection =>
		sort === "created" || sort === "seen" || sort === "size" ? "desc" : "asc";
	const sorts: readonly string[] = BROWSE_SORTS[list];
	return {
		columns: Object.fromEntries(sorts.map((sort) => [sort, first(sort)])),
		default: { column: "created", dir: "desc" },
	};
}

/**
 * Reads a list's query: every filter is optional, and one that is given must be what it says (a
 * state of the list, a username, a group's or configuration's number, a kind, yes/no/any, a sort
 * column of the list, asc or desc, a page number: lists.ts's parseSort and parsePage, as on every
 * list); anything else is a 400 that says which.
 */
export function parseBrowseQuery(list: BrowseList, query: Record<string, string | undefined>): BrowseQuery {
	const values = Object.fromEntries(
		FIELDS.map((name) => [name, (query[name] ?? "").trim()]),
	) as unknown as BrowseValues;
	const offered = LISTS[list].filters;
	for (const name of FIELDS) {
		if (values[name] && !offered.includes(name)) {
			throw new UserError(400, `The ${LISTS[list].title.toLowerCase()} cannot be filtered by ${name}.`);
		}
	}
	const filter: BrowseFilter = {};
	if (values.q) {
		if (values.q.length > 100) throw new UserError(400, "The search text must be at most 100 characters.");
		filter.search = values.q;
	}
	if (values.state) {
		if (!STATES[list].includes(values.state)) {
			throw new UserError(400, `The state filter must be one of ${STATES[list].join(", ")}.`);
		}
		filter.state = values.state;
	}
	if (values.owner) {
		const owner = values.owner.toLowerCase();
		if (!USERNAME.test(owner)) {
			throw new UserError(400, "The owner filter must be a username (letters, digits and . _ @ + -), at most 64 long.");
		}
		filter.owner = owner;
	}
	if (values.group) {
		if (!NUMBER.test(values.group)) throw new UserError(400, "The group filter must be one of the groups.");
		filter.groupId = Number(values.group);
	}
	if (values.config) {
		if (!NUMBER.test(values.config)) {
			throw new UserError(400, "The configuration filter must be one of the configurations.");
		}
		filter.configId = Number(values.config);
	}
	if (values.kind) {
		if (values.kind !== "instance" && values.kind !== "cluster") {
			throw new UserError(400, "The kind filter must be instance or cluster.");
		}
		filter.kind = values.kind;
	}
	if (offered.includes("archived")) {
		const archived = { "": false, no: false, yes: true, any: undefined } as const;
		if (!Object.hasOwn(archived, values.archived)) {
			throw new UserError(400, "The archived filter must be no, yes or any.");
		}
		filter.archived = archived[values.archived as keyof typeof archived];
	}
	if (offered.includes("which")) {
		if (!["", "left", "all"].includes(values.which)) {
			throw new UserError(400, "The volumes filter must be left (left behind) or all.");
		}
		filter.leftBehind = values.which !== "all";
	}
	return { list, filter, sort: parseSort(query, sortOptions(list)), page: parsePage(query), values };
}

/** A machine's tags, sorted by key. */
export type TagList = [string, string][];

/** An instance as the admin list shows it. */
export interface AdminInstanceRow {
	id: string;
	href: string;
	name: string;
	owner: string;
	group: string;
	config: string;
	type: string;
	state: string;
	pendingAction: string | null;
	archived: boolean;
	/** Why its controls are locked, or null. */
	locked: string | null;
	tags: TagList;
	volumes: number;
	createdAt: Date;
	lastSeenAt: Date | null;
}

/** A cluster as the admin list shows it. */
export interface AdminClusterRow {
	id: string;
	href: string;
	name: string;
	owner: string;
	group: string;
	config: string;
	type: string;
	coreNodes: number;
	state: string;
	pendingAction: string | null;
	archived: boolean;
	tags: TagList;
	createdAt: Date;
}

/** A volume as the admin list shows it. */
export interface AdminVolumeRow {
	id: string;
	href: string;
	instanceId: string | null;
	instanceHref: string | null;
	instanceState: string | null;
	owner: string;
	group: string;
	sizeGb: number;
	device: string;
	/** Type with its provisioned performance: "gp3, 3000 IOPS". */
	type: string;
	state: string;
	createdAt: Date;
	lastSeenAt: Date | null;
}

/** A launch as the admin list shows it. */
export interface AdminLaunchRow {
	id: string;
	href: string;
	owner: string;
	group: string;
	config: string;
	kind: string;
	type: string;
	status: string;
	step: string;
	createdAt: Date;
}

/** The rows of each list. */
export interface BrowseRows {
	instances: AdminInstanceRow[];
	clusters: AdminClusterRow[];
	volumes: AdminVolumeRow[];
	launches: AdminLaunchRow[];
}

/** What a list page shows. */
export interface BrowseView<L extends BrowseList = BrowseList> {
	list: L;
	title: string;
	url: string;
	rows: BrowseRows[L];
	sort: ListSort;
	/** Each sort's label: the column headings, and the choices of the form's "Sort by". */
	sortChoices: Choice[];
	/** The sortable headings' links and aria-sort, by sort key. */
	headings: Partial<Record<string, SortHeading>>;
	pager: PagerProps;
	values: BrowseValues;
	/** The filters this list's form offers. */
	filters: readonly (keyof BrowseValues)[];
	states: Choice[];
	groups: Choice[];
	configs: Choice[];
	/** The first shown row's number and the last's (1-based), for "51–100 of 10,000". */
	from: number;
	to: number;
}

/** Parses stored tags (JSON), sorted by key; anything unreadable shows as no tags. */
function tagList(stored: string): TagList {
	try {
		const value = JSON.parse(stored);
		if (!value || typeof value !== "object") return [];
		return Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)] as [string, string]).sort((
			[a],
			[b],
		) => a < b ? -1 : a > b ? 1 : 0);
	} catch {
		return [];
	}
}

function volumeType(v: { volumeType: string; iops: number | null; throughput: number | null }): string {
	const extra = [
		v.iops && ["io1", "io2", "gp3"].includes(v.volumeType) ? `${v.iops} IOPS` : "",
		v.throughput && v.volumeType === "gp3" ? `${v.throughput} MB/s` : "",
	].filter(Boolean);
	return [v.volumeType, ...extra].join(", ");
}

const enc = encodeURIComponent;

/** A list's address: the filters that are set (in the form's order), with the sort and page. */
function browseHref(url: string, values: BrowseValues, sort: ListSort, page = 1): string {
	return listHref(url, {
		...Object.fromEntries(FIELDS.map((name) => [name, values[name]])),
		sort: sort.column,
		dir: sort.dir,
		page,
	});
}

function adminOnly(viewer: Viewer): void {
	if (viewer.role !== "admin") throw new UserError(403, "Only admins may browse every machine.");
}

async function pageOf(deps: Pick<Deps, "db">, query: BrowseQuery) {
	const page = { offset: (query.page - 1) * BROWSE_PAGE_SIZE, limit: BROWSE_PAGE_SIZE };
	const { filter } = query;
	const { column, dir } = query.sort;
	switch (query.list) {
		case "instances": {
			const { rows, total } = await browseInstances(deps.db, filter, column as BrowseSort<"instances">, dir, page);
			return {
				total,
				rows: rows.map((r): AdminInstanceRow => ({
					id: r.id,
					href: `/admin/instances/${enc(r.id)}`,
					name: r.name,
					owner: r.ownerUsername,
					group: r.groupName ?? "",
					config: r.configName ?? "",
					type: r.instanceType,
					state: r.state,
					pendingAction: r.pendingAction,
					archived: r.archived,
					locked: r.manualLockReason ??
						(r.controlsLocked ? (r.controlsLockedReason ?? "locked by the display plugin") : null),
					tags: tagList(r.tags),
					volumes: r.volumes,
					createdAt: r.createdAt,
					lastSeenAt: r.lastSeenAt,
				})),
			};
		}
		case "clusters": {
			const { rows, total } = await browseClusters(deps.db, filter, column as BrowseSort<"clusters">, dir, page);
			return {
				total,
				rows: rows.map((r): AdminClusterRow => ({
					id: r.id,
					href: `/admin/clusters/${enc(r.id)}`,
					name: r.name,
					owner: r.ownerUsername,
					group: r.groupName ?? "",
					config: r.configName ?? "",
					type: r.instanceType,
					coreNodes: r.coreNodes,
					state: r.state,
					pendingAction: r.pendingAction,
					archived: r.archived,
					tags: tagList(r.tags),
					createdAt: r.createdAt,
				})),
			};
		}
		case "volumes": {
			const { rows, total } = await browseVolumes(deps.db, filter, column as BrowseSort<"volumes">, dir, page);
			return { total, rows: rows.map(volumeRow) };
		}
		case "launches": {
			const { rows, total } = await browseLaunches(deps.db, filter, column as BrowseSort<"launches">, dir, page);
			return {
				total,
				rows: rows.map((r): AdminLaunchRow => ({
					id: r.id,
					href: `/launches/${enc(r.id)}`,
					owner: r.ownerUsername,
					group: r.groupName ?? "",
					config: r.configName ?? "",
					kind: r.kind,
					type: r.instanceType,
					status: r.status,
					step: r.step,
					createdAt: r.createdAt,
				})),
			};
		}
	}
}

function volumeRow(r: Awaited<ReturnType<typeof browseVolumes>>["rows"][number]): AdminVolumeRow {
	return {
		id: r.id,
		href: `/admin/volumes/${enc(r.id)}`,
		instanceId: r.instanceId,
		instanceHref: r.instanceId && r.instanceState !== null ? `/admin/instances/${enc(r.instanceId)}` : null,
		instanceState: r.instanceState,
		owner: r.ownerUsername,
		group: r.groupName ?? "",
		sizeGb: r.sizeGb,
		device: r.device,
		type: volumeType(r),
		state: r.state,
		createdAt: r.createdAt,
		lastSeenAt: r.lastSeenAt,
	};
}

/** One page of a list for the query, with its headings' sort links, its pager and its filters' choices. */
export async function browseView<L extends BrowseList>(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	query: BrowseQuery & { list: L },
): Promise<BrowseView<L>> {
	adminOnly(viewer);
	const url = `/admin/${query.list}`;
	const filters = LISTS[query.list].filters;
	const [{ rows, total }, groups, configs] = await Promise.all([
		pageOf(deps, query),
		filters.includes("group") ? listGroups(deps.db) : Promise.resolve([]),
		filters.includes("config") ? listConfigs(deps.db) : Promise.resolve([]),
	]);
	const pages = Math.max(1, Math.ceil(total / BROWSE_PAGE_SIZE));
	const offset = (query.page - 1) * BROWSE_PAGE_SIZE;
	// A page past the end stays the page asked for (empty); its "previous" goes to the last page.
	const shown = { page: query.page, pages, offset, limit: BROWSE_PAGE_SIZE };
	const pager = pagerFor(shown, total, (page) => browseHref(url, query.values, query.sort, Math.min(page, pages)));
	const labels = HEADINGS[query.list] as Record<string, string>;
	const headings = sortHeadings(
		Object.keys(labels),
		query.sort,
		sortOptions(query.list),
		(sort) => browseHref(url, query.values, sort),
	);
	const from = total === 0 ? 0 : Math.min(total, offset + 1);
	return {
		list: query.list,
		title: LISTS[query.list].title,
		url,
		rows: rows as BrowseRows[L],
		sort: query.sort,
		sortChoices: Object.entries(labels).map(([value, label]) => ({ value, label })),
		headings,
		pager,
		values: query.values,
		filters,
		states: STATES[query.list].map((s) => ({ value: s, label: s })),
		groups: groups.map((g) => ({ value: g.id, label: g.name })),
		configs: configs.map((c) => ({ value: c.id, label: `${c.name} (${c.kind})` })),
		from,
		to: Math.min(total, from + rows.length - 1),
	};
}

/** What the admin may do to a machine's record now. */
export interface RecordActions {
	archive: boolean;
	unarchive: boolean;
	/** Instances: lock by hand, or lift a manual lock. */
	lock: boolean;
	unlock: boolean;
	reassign: boolean;
}

/** One machine as its admin page shows it. */
export interface AdminMachine {
	kind: "instance" | "cluster";
	noun: string;
	id: string;
	/** Its admin page, and its ordinary page (absent when archived: that page hides archived ones). */
	href: string;
	pageHref: string | null;
	name: string;
	owner: string;
	group: string;
	config: string;
	type: string;
	state: string;
	archived: boolean;
	locked: string | null;
	/** Whether the lock was set by hand (an admin may lift it) or by a plugin. */
	lockedByHand: boolean;
	launchHref: string | null;
	tags: TagList;
	volumes: AdminVolumeRow[];
	auditHref: string;
	actions: RecordActions;
	createdAt: Date;
	lastSeenAt: Date | null;
}

/** One instance for its admin page, or undefined when the portal knows no such instance. */
export async function adminInstance(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	id: string,
): Promise<AdminMachine | undefined> {
	adminOnly(viewer);
	const row = await getInstanceRow(deps.db, id);
	if (!row) return undefined;
	const attached = await volumesOf(deps.db, id);
	const ended = INSTANCE_ENDED_STATES.includes(row.state);
	const volumes = await Promise.all(attached.map(async (v) => {
		const detail = await volumeDetail(deps.db, v.id);
		return volumeRow(detail!);
	}));
	return {
		kind: "instance",
		noun: "instance",
		id,
		href: `/admin/instances/${enc(id)}`,
		pageHref: row.archived ? null : `/instances/${enc(id)}`,
		name: row.name,
		owner: row.ownerUsername,
		group: row.groupName ?? "",
		config: row.configName ?? "",
		type: row.instanceType,
		state: row.state,
		archived: row.archived,
		locked: row.manualLockReason ??
			(row.controlsLocked ? (row.controlsLockedReason ?? "locked by the display plugin") : null),
		lockedByHand: row.manualLockReason !== null,
		launchHref: row.launchId ? `/launches/${enc(row.launchId)}` : null,
		tags: tagList(row.tags),
		volumes,
		auditHref: `/admin/audit?machine=${enc(id)}`,
		actions: {
			archive: ended && !row.archived,
			unarchive: row.archived,
			lock: row.manualLockReason === null && !row.archived && !ended,
			unlock: row.manualLockReason !== null,
			reassign: true,
		},
		createdAt: row.createdAt,
		lastSeenAt: row.lastSeenAt,
	};
}

/** One cluster for its admin page, or undefined when the portal knows no such cluster. */
export async function adminCluster(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	id: string,
): Promise<AdminMachine | undefined> {
	adminOnly(viewer);
	const row = await getClusterRow(deps.db, id);
	if (!row) return undefined;
	const ended = CLUSTER_ENDED_STATES.includes(row.state);
	return {
		kind: "cluster",
		noun: "cluster",
		id,
		href: `/admin/clusters/${enc(id)}`,
		pageHref: row.archived ? null : `/clusters/${enc(id)}`,
		name: row.name,
		owner: row.ownerUsername,
		group: row.groupName ?? "",
		config: row.configName ?? "",
		type: `${row.instanceType} × ${row.coreNodes + 1}`,
		state: row.state,
		archived: row.archived,
		locked: null,
		lockedByHand: false,
		launchHref: row.launchId ? `/launches/${enc(row.launchId)}` : null,
		tags: tagList(row.tags),
		volumes: [],
		auditHref: `/admin/audit?machine=${enc(id)}`,
		actions: { archive: ended && !row.archived, unarchive: row.archived, lock: false, unlock: false, reassign: true },
		createdAt: row.createdAt,
		lastSeenAt: row.lastSeenAt,
	};
}

/** A volume for its admin page and its delete confirmation, with what it costs a month. */
export interface AdminVolume extends AdminVolumeRow {
	leftBehind: boolean;
	/** "$8.00 a month", or "unknown (why)" when the price is not known — never $0. */
	monthlyCost: string;
	deleteHref: string;
	auditHref: string;
}

/** One volume, or undefined when the portal knows no such volume. */
export async function adminVolume(
	deps: Pick<Deps, "db" | "settings" | "clock">,
	viewer: Viewer,
	id: string,
): Promise<AdminVolume | undefined> {
	adminOnly(viewer);
	const volume = await volumeDetail(deps.db, id);
	if (!volume) return undefined;
	const { rate, monthly } = volumeRate(deps.settings, volume, deps.clock());
	return {
		...volumeRow(volume),
		leftBehind: volume.leftBehind,
		monthlyCost: monthly === null
			? `unknown (${rate.known ? "no monthly price" : rate.reason})`
			: `$${formatMoney(monthly)} a month`,
		deleteHref: `/admin/volumes/${enc(id)}/delete`,
		auditHref: `/admin/audit?machine=${enc(id)}`,
	};
}
