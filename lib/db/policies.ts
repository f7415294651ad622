/**
 * Queries and writes of the machine policies: each machine's choices and postponements, its
 * workload signals, the policy actions from notice to outcome, users' notice channels, and the one
 * read of every machine the enforcer evaluates on each tick.
 */
import { and, desc, eq, gte, inArray, isNull, lte, or, sql } from "drizzle-orm";
import { type Db, jsonListOf, preparedFor } from "./client.ts";
import {
	type ActionReason,
	type ActivitySource,
	bills,
	type ConfigKind,
	groupManagers,
	groups,
	instances,
	launches,
	machineActivity,
	machinePolicies,
	memberships,
	noticeChannels,
	OPEN_POLICY_ACTION_STATUSES,
	policyActions,
	type PolicyReason,
	softwareConfigs,
	users,
} from "./schema.ts";
import { inTeamScope, type TeamScope } from "./scope.ts";
import { CLUSTER_ENDED_STATES, INSTANCE_ENDED_STATES } from "../machines/lifecycle.ts";

export type MachinePolicy = typeof machinePolicies.$inferSelect;
export type MachineActivity = typeof machineActivity.$inferSelect;
export type PolicyAction = typeof policyActions.$inferSelect;
export type NewPolicyAction = typeof policyActions.$inferInsert;

/** The column of each reason's postponement. */
export const POSTPONED_COLUMNS = {
	idle: "idlePostponedUntil",
	schedule: "schedulePostponedUntil",
	lifetime: "lifetimePostponedUntil",
	dormancy: "dormancyPostponedUntil",
} as const satisfies Record<PolicyReason, keyof MachinePolicy>;

export async function machinePolicyOf(db: Db, machineId: string): Promise<MachinePolicy | undefined> {
	return await db.query.machinePolicies.findFirst({ where: eq(machinePolicies.machineId, machineId) });
}

/** Writes some of a machine's policy columns, creating its row when it has none. */
export async function setMachinePolicy(
	db: Db,
	machine: { kind: ConfigKind; id: string },
	changes: Partial<Omit<MachinePolicy, "machineId" | "kind" | "updatedAt">>,
	at: Date,
): Promise<void> {
	await db.insert(machinePolicies).values({ machineId: machine.id, kind: machine.kind, ...changes, updatedAt: at })
		.onConflictDoUpdate({ target: machinePolicies.machineId, set: { ...changes, updatedAt: at } });
}

export async function activityOf(db: Db, machineId: string): Promise<MachineActivity | undefined> {
	return await db.query.machineActivity.findFirst({ where: eq(machineActivity.machineId, machineId) });
}

/** One source's word on a machine's workload: when, whether it was active, and the values it gave. */
export interface SignalReport {
	machineId: string;
	source: ActivitySource;
	at: Date;
	/** When a signal last was at or above its threshold, per this report (undefined: not in this report). */
	activeAt?: Date;
	/** The machine's own script reported (CloudWatch and EMR do not set it). */
	byAgent?: boolean;
	values?: Partial<
		Pick<MachineActivity, "cpuPercent" | "gpuPercent" | "kernelsBusy" | "sessions" | "networkBytesPerSecond">
	>;
}

/** Records signal reports, one statement each (the endpoint writes one, the sync a batch in one transaction). */
export async function recordSignals(db: Db, reports: readonly SignalReport[]): Promise<void> {
	const write = async (tx: Db) => {
		for (const r of reports) {
			const values = {
				cpuPercent: null,
				gpuPercent: null,
				kernelsBusy: null,
				sessions: null,
				networkBytesPerSecond: null,
				...r.values,
			};
			await tx.insert(machineActivity).values({
				machineId: r.machineId,
				source: r.source,
				signalAt: r.at,
				activeAt: r.activeAt ?? null,
				reportedAt: r.byAgent ? r.at : null,
				...values,
			}).onConflictDoUpdate({
				target: machineActivity.machineId,
				set: {
					source: r.source,
					signalAt: sql`max(${machineActivity.signalAt}, ${r.at.getTime()})`,
					// The latest activity any report showed: a late report never moves it back.
					activeAt: r.activeAt
						? sql`max(coalesce(${machineActivity.activeAt}, 0), ${r.activeAt.getTime()})`
						: sql`${machineActivity.activeAt}`,
					...(r.byAgent ? { reportedAt: r.at } : {}),
					...values,
				},
			});
		}
	};
	if (reports.length <= 1) await write(db);
	else await db.transaction((tx) => write(tx as unknown as Db));
}

/** An instance as the activity endpoint checks it: its launch's token hash and the policies over it. */
export type ActivityTarget = NonNullable<Awaited<ReturnType<typeof instanceForActivity>>>;

/** The {@link ActivityTarget} of an instance, or undefined when it is unknown. */
export async function instanceForActivity(db: Db, id: string) {
	const [row] = await activityStatements(db).instance.all({ id });
	return row;
}

/** Prepared once: the activity callback's read of its instance. */
const activityStatements = preparedFor((db) => ({
	instance: db.select({
		id: instances.id,
		state: instances.state,
		ownerId: instances.ownerId,
		tokenHash: launches.progressTokenHash,
		groupPolicy: groups.policy,
		configPolicy: softwareConfigs.policy,
	}).from(instances)
		.leftJoin(launches, eq(launches.id, instances.launchId))
		.leftJoin(groups, eq(groups.id, instances.groupId))
		.leftJoin(softwareConfigs, eq(softwareConfigs.id, instances.configId))
		.where(eq(instances.id, sql.placeholder("id"))).prepare(),
}));

/** Prepared once: every page with machines reads the catalogue's policies and the machines' open notices. */
const policyStatements = preparedFor((db) => ({
	groups: db.select({ id: groups.id, name: groups.name, policy: groups.policy, webhook: groups.noticeWebhook })
		.from(groups).prepare(),
	configs: db.select({ id: softwareConfigs.id, policy: softwareConfigs.policy }).from(softwareConfigs).prepare(),
	openOfMachines: db.select().from(policyActions).where(and(
		inArray(policyActions.status, [...OPEN_POLICY_ACTION_STATUSES]),
		inArray(policyActions.reason, jsonListOf("reasons")),
		inArray(policyActions.machineId, jsonListOf("ids")),
	)).prepare(),
}));

/** The policies of every group and configuration, by id (small tables, read once per tick). */
export async function catalogPolicies(db: Db): Promise<{
	groups: Map<number, { policy: unknown; webhook: string; name: string }>;
	configs: Map<number, unknown>;
}> {
	const statements = policyStatements(db);
	const [g, c] = await Promise.all([statements.groups.all(), statements.configs.all()]);
	return {
		groups: new Map(g.map((r) => [r.id, { policy: r.policy, webhook: r.webhook, name: r.name }])),
		configs: new Map(c.map((r) => [r.id, r.policy])),
	};
}

/** A machine of either kind as the enforcer reads it, with its policy row and signals. */
export interface PolicyMachine {
	kind: ConfigKind;
	id: string;
	name: string;
	ownerId: number;
	groupId: number | null;
	configId: number | null;
	state: string;
	pendingAction: string | null;
	pendingSince: Date | null;
	launchedAt: Date;
	startedAt: Date | null;
	stoppedAt: Date | null;
	/** Its controls are locked (an instance whose image expired): only a termination is possible. */
	locked: boolean;
	idleMinutes: number | null;
	lifetimeHours: number | null;
	autoStart: boolean | null;
	keepAliveUntil: Date | null;
	idlePostponedUntil: Date | null;
	schedulePostponedUntil: Date | null;
	lifetimePostponedUntil: Date | null;
	dormancyPostponedUntil: Date | null;
	scheduleStoppedAt: Date | null;
	signalAt: Date | null;
	activeAt: Date | null;
	/** The last report of the machine's own activity script. */
	reportedAt: Date | null;
}

const listOf = (states: readonly string[]) => sql.join(states.map((s) => sql`${s}`), sql`, `);

/** The columns of a machine of either kind, in the order of {@link MACHINE_FIELDS}. */
const machineColumns = (t: "i" | "c") =>
	sql.raw(`'${t === "i" ? "instance" : "cluster"}', ${t}.id, ${t}.name, ${t}.owner_id, ${t}.group_id, ${t}.config_id,
	${t}.state, ${t}.pending_action, ${t}.pending_since,
	${t === "i" ? "coalesce(i.launched_at, i.created_at)" : "coalesce(c.started_at, c.created_at)"}, ${t}.started_at,
	${t === "i" ? "i.stopped_at" : "NULL"}, ${
		t === "i" ? "(i.controls_locked OR i.manual_lock_reason IS NOT NULL)" : "0"
	},
	coalesce(p.idle_minutes, json_extract(l.options, '$.policy.idleMinutes')),
	coalesce(p.lifetime_hours, json_extract(l.options, '$.policy.lifetimeHours')),
	coalesce(p.auto_start, json_extract(l.options, '$.policy.autoStart')),
	p.keep_alive_until, p.idle_postponed_until, p.schedule_postponed_until,
	coalesce(p.lifetime_postponed_until, json_extract(l.options, '$.lifetimeUntil')),
	p.dormancy_postponed_until, p.schedule_stopped_at, a.signal_at, a.active_at, a.reported_at`);

/**
 * What {@link policyMachines} reads of each machine, in order. A choice made since the launch
 * (machine_policies) wins over the one made at launch (the launch's options); neither means the
 * policy's own value. A lifetime beyond the policy's maximum that an approval granted is the
 * launch's `lifetimeUntil`, read as the lifetime's postponement.
 */
const MACHINE_FIELDS = [
	"kind",
	"id",
	"name",
	"ownerId",
	"groupId",
	"configId",
	"state",
	"pendingAction",
	"pendingSince",
	"launchedAt",
	"startedAt",
	"stoppedAt",
	"locked",
	"idleMinutes",
	"lifetimeHours",
	"autoStart",
	"keepAliveUntil",
	"idlePostponedUntil",
	"schedulePostponedUntil",
	"lifetimePostponedUntil",
	"dormancyPostponedUntil",
	"scheduleStoppedAt",
	"signalAt",
	"activeAt",
	"reportedAt",
] as const satisfies readonly (keyof PolicyMachine)[];
const TIME_FIELDS: ReadonlySet<string> = new Set(
	MACHINE_FIELDS.filter((f) => f.endsWith("At") || f.endsWith("Until") || f === "pendingSince"),
);

/**
 * Every machine the policies may act on (not archived, not ended), of both kinds, with its policy
 * row, launch choices and signals: one statement, however many machines there are. SQLite hands
 * them over as one JSON value: every value crossing from the driver one by one costs more than
 * the whole evaluation (bench/RESULTS.md, "Enforcer"). `ids` narrows it to some machines.
 */
export async function policyMachines(db: Db, ids?: readonly string[]): Promise<PolicyMachine[]> {
	// The ids as one JSON array: one SQL text for any number of them, prepared once by the driver.
	// Given ids, `+` keeps SQLite off the (archived, state) index, which made it read every live
	// machine and filter by id (≈1 ms over 10,000 instances) instead of looking each id up (≈20 µs).
	const list = ids ? JSON.stringify(ids) : null;
	const only = (column: string) => list ? sql`AND ${sql.raw(column)} IN (SELECT value FROM json_each(${list}))` : sql``;
	const live = list ? sql.raw("+") : sql``;
	const [row] = await db.all<{ machines: string }>(sql`
		SELECT json_group_array(json(m)) AS machines FROM (
			SELECT json_array(${machineColumns("i")}) AS m
			FROM instances i
			LEFT JOIN launches l ON l.id = i.launch_id
			LEFT JOIN machine_policies p ON p.machine_id = i.id
			LEFT JOIN machine_activity a ON a.machine_id = i.id
			WHERE ${live}i.archived = 0 AND i.state NOT IN (${listOf(INSTANCE_ENDED_STATES)}) ${only("i.id")}
			UNION ALL
			SELECT json_array(${machineColumns("c")}) AS m
			FROM clusters c
			LEFT JOIN launches l ON l.id = c.launch_id
			LEFT JOIN machine_policies p ON p.machine_id = c.id
			LEFT JOIN machine_activity a ON a.machine_id = c.id
			WHERE ${live}c.archived = 0 AND c.state NOT IN (${listOf(CLUSTER_ENDED_STATES)}) ${only("c.id")}
		)`);
	const rows = JSON.parse(row?.machines ?? "[]") as (string | number | null)[][];
	return rows.map((values) => {
		const machine: Record<string, unknown> = {};
		for (let i = 0; i < MACHINE_FIELDS.length; i++) {
			const field = MACHINE_FIELDS[i]!;
			const value = values[i] ?? null;
			machine[field] = value !== null && TIME_FIELDS.has(field) ? new Date(value as number) : value;
		}
		machine.name ??= "";
		machine.locked = Boolean(machine.locked);
		if (machine.autoStart !== null) machine.autoStart = Boolean(machine.autoStart);
		return machine as unknown as PolicyMachine;
	});
}

/**
 * Actions still to happen (noticed, acting, failed), every machine's; `only` narrows them to some
 * reasons (the policies' or the budgets') and to some machines.
 */
export async function openPolicyActions(
	db: Db,
	only: { reasons?: readonly ActionReason[]; ids?: readonly string[] } = {},
): Promise<PolicyAction[]> {
	if (only.reasons && only.ids) {
		return await policyStatements(db).openOfMachines.all({
			reasons: JSON.stringify(only.reasons),
			ids: JSON.stringify(only.ids),
		});
	}
	return await db.select().from(policyActions).where(and(
		inArray(policyActions.status, [...OPEN_POLICY_ACTION_STATUSES]),
		only.reasons ? inArray(policyActions.reason, [...only.reasons]) : undefined,
		only.ids ? inArray(policyActions.machineId, [...only.ids]) : undefined,
	));
}

export async function getPolicyAction(db: Db, id: number): Promise<PolicyAction | undefined> {
	return await db.query.policyActions.findFirst({ where: eq(policyActions.id, id) });
}

/**
 * Records a notice: the action's row, unless one is open for the machine and reason (another
 * process, or an earlier tick, gave it). Returns the row when this call recorded it.
 */
export async function insertPolicyNotice(db: Db, action: NewPolicyAction): Promise<PolicyAction | undefined> {
	const [row] = await db.insert(policyActions).values(action).onConflictDoNothing().returning();
	return row;
}

/**
 * Claims a due action for this process until `until` (noticed; failed and due for its retry; or
 * claimed by a process that has not finished it by its claim's end): only one caller gets it.
 * Returns whether this one did.
 */
export async function claimPolicyAction(db: Db, id: number, now: Date, until: Date): Promise<boolean> {
	const rows = await db.update(policyActions).set({
		status: "acting",
		attempts: sql`${policyActions.attempts} + 1`,
		nextAttemptAt: until,
	}).where(and(
		eq(policyActions.id, id),
		or(
			eq(policyActions.status, "noticed"),
			and(
				inArray(policyActions.status, ["failed", "acting"]),
				or(isNull(policyActions.nextAttemptAt), lte(policyActions.nextAttemptAt, now)),
			),
		),
	)).returning({ id: policyActions.id });
	return rows.length === 1;
}

export async function updatePolicyAction(db: Db, id: number, changes: Partial<NewPolicyAction>): Promise<void> {
	await db.update(policyActions).set(changes).where(eq(policyActions.id, id));
}

/**
 * Ends open actions the policy no longer plans (cancelled), unless a process is acting on them
 * (one whose claim ran out without an outcome crashed: its action is cancelled too).
 */
export async function cancelPolicyActions(db: Db, ids: readonly number[], at: Date): Promise<void> {
	if (ids.length === 0) return;
	await db.update(policyActions).set({ status: "cancelled", endedAt: at }).where(and(
		inArray(policyActions.id, [...ids]),
		or(
			inArray(policyActions.status, ["noticed", "failed"]),
			and(eq(policyActions.status, "acting"), lte(policyActions.nextAttemptAt, at)),
		),
	));
}

/**
 * Marks a noticed (or failed) action postponed by `userId`, once: returns false when it was already
 * postponed, taken or ended.
 */
export async function markPostponed(db: Db, id: number, userId: number, at: Date): Promise<boolean> {
	const rows = await db.update(policyActions).set({ status: "postponed", postponedBy: userId, endedAt: at }).where(
		and(eq(policyActions.id, id), inArray(policyActions.status, ["noticed", "failed"])),
	).returning({ id: policyActions.id });
	return rows.length === 1;
}

/**
 * The notices a viewer sees: actions on their machines, and for a manager the terminations in
 * their groups, open or ended since `endedSince` (what was done and why), newest first.
 */
export async function noticesFor(
	db: Db,
	viewer: { id: number; manager: boolean; groupIds: readonly number[] },
	endedSince: Date,
	limit = 20,
): Promise<PolicyAction[]> {
	const mine = viewer.manager && viewer.groupIds.length
		? or(
			eq(policyActions.ownerId, viewer.id),
			and(eq(policyActions.action, "terminate"), inArray(policyActions.groupId, [...viewer.groupIds])),
		)
		: eq(policyActions.ownerId, viewer.id);
	return await db.select().from(policyActions).where(and(
		mine,
		or(
			inArray(policyActions.status, [...OPEN_POLICY_ACTION_STATUSES]),
			and(eq(policyActions.status, "done"), gte(policyActions.endedAt, endedSince)),
		),
	)).orderBy(desc(policyActions.noticedAt), desc(policyActions.id)).limit(limit);
}

/** The users' notice channels; a user without a row has both. */
export async function channelsOf(
	db: Db,
	userIds: readonly number[],
): Promise<Map<number, { banner: boolean; email: boolean }>> {
	const found = userIds.length
		? await db.select().from(noticeChannels).where(inArray(noticeChannels.userId, [...userIds]))
		: [];
	const byUser = new Map(found.map((r) => [r.userId, { banner: r.banner, email: r.email }]));
	return new Map(userIds.map((id) => [id, byUser.get(id) ?? { banner: true, email: true }]));
}

export async function setChannels(db: Db, userId: number, channels: { banner: boolean; email: boolean }, at: Date) {
	await db.insert(noticeChannels).values({ userId, ...channels, updatedAt: at }).onConflictDoUpdate({
		target: noticeChannels.userId,
		set: { ...channels, updatedAt: at },
	});
}

/**
 * Who gets a machine's notices by email: the owner and, for a termination, the managers of its group
 * (the global managers among its members and the users assigned to manage it).
 */
export async function noticeRecipients(
	db: Db,
	machine: { ownerId: number; groupId: number | null },
	withManagers: boolean,
): Promise<{ id: number; username: string; email: string; firstName: string }[]> {
	const managerIds = withManagers && machine.groupId !== null
		? db.select({ id: memberships.userId }).from(memberships).where(eq(memberships.groupId, machine.groupId))
		: undefined;
	return await db.selectDistinct({
		id: users.id,
		username: users.username,
		email: users.email,
		firstName: users.firstName,
	}).from(users).where(
		managerIds
			? or(
				eq(users.id, machine.ownerId),
				and(inArray(users.id, managerIds), or(eq(users.role, "manager"), eq(users.directoryRole, "manager"))),
				inArray(
					users.id,
					db.select({ id: groupManagers.userId }).from(groupManagers).where(
						eq(groupManagers.groupId, machine.groupId!),
					),
				),
			)
			: eq(users.id, machine.ownerId),
	);
}

/** Policy stops and terminations done before `end`, within the scope. */
export async function policyActionsDone(db: Db, end: Date, scope: TeamScope): Promise<PolicyAction[]> {
	return await db.select().from(policyActions).where(and(
		eq(policyActions.status, "done"),
		inArray(policyActions.action, ["stop", "terminate"]),
		lte(policyActions.endedAt, end),
		inTeamScope(policyActions.ownerId, scope),
	));
}

/** When each machine's billed periods started, by machine, in order (for when billing began again after a stop). */
export async function billingStarts(db: Db, machineIds: readonly string[]): Promise<Map<string, Date[]>> {
	const ids = [...new Set(machineIds)];
	const starts = new Map<string, Date[]>();
	for (let i = 0; i < ids.length; i += 500) {
		const rows = await db.select({ id: bills.resourceId, startedAt: bills.startedAt }).from(bills).where(
			inArray(bills.resourceId, ids.slice(i, i + 500)),
		).orderBy(bills.startedAt);
		for (const r of rows) starts.set(r.id, [...starts.get(r.id) ?? [], r.startedAt]);
	}
	return starts;
}
