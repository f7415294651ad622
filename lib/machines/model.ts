/**
 * One model of a managed machine. A kind (an EC2 instance, an EMR cluster, later others) says how
 * it is launched, observed in AWS, controlled and priced; the launcher, the sync and the control
 * path run the same steps for every kind through this interface (registered in kinds.ts), so a
 * rule they share is written once and a policy can act on "a machine" whatever its kind.
 */
import type { Group, SoftwareConfig } from "../db/catalog.ts";
import type { Launch } from "../db/launches.ts";
import type { ActionClaim } from "../db/machines.ts";
import type { ConfigKind } from "../db/schema.ts";
import type { User } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import type { Charge } from "../billing/periods.ts";
import type { LaunchContext, StackContext, StackInput } from "../launch/stacks.ts";
import type { PolicyStates } from "../policy/plan.ts";
import type { DnsIntent } from "./dns.ts";

/** The columns every kind's row has. */
export interface MachineRow {
	id: string;
	launchId: string | null;
	stackId: string | null;
	stackName: string | null;
	ownerId: number;
	groupId: number | null;
	configId: number | null;
	/** Its name: the `Name` tag the portal set (at launch or a rename). */
	name: string;
	state: string;
	dnsIp: string | null;
	dnsName: string | null;
	pendingAction: string | null;
	pendingSince: Date | null;
	lastSeenAt: Date | null;
	createdAt: Date;
	archived: boolean;
}

/** A row as the sync reads it: with whether a billed period is open (unknown when not read with the row). */
export type Tracked<Row> = Row & { billed?: boolean };

/** A machine as AWS shows it: at least its id, state and tags. */
export interface SeenMachine {
	id: string;
	state: string;
	tags: Record<string, string>;
}

/** What the kind makes of what AWS shows (or of AWS showing nothing), for the shared diff step. */
export interface Observation<Row> {
	/** The state AWS shows; "vanished" when it shows nothing. */
	state: string;
	/** The row's columns as AWS shows them; only those that differ from the row are written. */
	fields: Partial<Row>;
	/** When a billed period opens (unless one is open) and when it closes; a cluster seen ended at once does both. */
	bill: { open?: Date; close?: Date };
	/** What the machine's DNS record should be. */
	dns: DnsIntent;
}

/** A machine as a refresh left it: its row after the observation, and what AWS showed. */
export interface Refreshed<Row, Seen> {
	row: Row;
	/** Undefined when AWS did not show the machine (the row is then vanished, or within its grace). */
	seen?: Seen;
}

/**
 * Whose a machine the portal did not record yet becomes: the portal launch proven to have made it
 * (the sync's adoption), or the user an admin adopts it for (no launch).
 */
export interface Adoption {
	/** The portal launch it belongs to. */
	launch?: Launch;
	group?: Group;
	config?: SoftwareConfig;
	/** The columns every kind's row takes from that: launch, owner, group, configuration and stack. */
	row: Pick<MachineRow, "launchId" | "ownerId" | "groupId" | "configId" | "stackId" | "stackName">;
}

/** The table a kind keeps its machines in. */
export interface MachineRows<Row> {
	get(deps: Pick<Deps, "db">, id: string): Promise<Row | undefined>;
	byIds(deps: Pick<Deps, "db">, ids: readonly string[]): Promise<Row[]>;
	/** The machines a launch made. */
	ofLaunch(deps: Pick<Deps, "db">, launchId: string): Promise<Row[]>;
	/** Rows the sync follows (not archived, not ended), each with whether a billed period is open. */
	tracked(deps: Pick<Deps, "db">, ownerId?: number): Promise<Tracked<Row>[]>;
	/** Inserts the row unless it is recorded; returns whether it was new. */
	insert(deps: Pick<Deps, "db">, row: Partial<Row> & { id: string }): Promise<boolean>;
	update(deps: Pick<Deps, "db">, id: string, changes: Partial<Row>): Promise<void>;
	/** One write recording that AWS listed these machines. */
	markSeen(deps: Pick<Deps, "db">, ids: readonly string[], at: Date): Promise<void>;
	/** Marks an action in flight (the one claim contract: state guard, stale and superseded actions). */
	claim(deps: Pick<Deps, "db">, claim: ActionClaim): Promise<boolean>;
}

/** How a kind is launched. */
export interface MachineLaunch<
	Row,
	Seen extends SeenMachine = SeenMachine,
	Form extends { instanceType: string } = { instanceType: string },
> {
	/** Why a group may not launch this kind at all (a 403), or undefined when it may. */
	refusal(group: Group): string | undefined;
	/** The kind's launch form, validated (a 422 with field messages). */
	parseForm(raw: Record<string, unknown>): Form;
	/**
	 * The launch row's fields for an entitled request, after the kind's own checks (a 422): the
	 * stack name, the options stored with the launch, the progress-token hash, with the parameters
	 * already checked against CloudFormation's size limit.
	 */
	plan(deps: Deps, request: LaunchRequest<Form>): Promise<PlannedLaunch>;
	/** The stack a queued launch creates. */
	stack(deps: Deps, launch: Launch, context: StackContext): Promise<StackInput>;
	/** Follows a creating launch one step: records what its stack made; completes or fails it. */
	follow(deps: Deps, launch: Launch, context: FollowContext<Row, Seen>): Promise<void>;
}

/** An entitled launch request with its validated form. */
export interface LaunchRequest<Form> {
	user: User;
	group: Group;
	config: SoftwareConfig;
	form: Form;
	launchId: string;
}

/** What a kind records in a launch row. */
export interface PlannedLaunch {
	instanceType: string;
	options: Record<string, unknown>;
	stackName: string;
	/** The hash of the launch's progress token; empty for a kind whose machines report no progress. */
	progressTokenHash: string;
}

/** What the launcher gives a kind's follow step: the launch's context and the kind's own refresh. */
export interface FollowContext<Row, Seen = SeenMachine> extends LaunchContext {
	/** Observes machines the launch recorded, through the kind's sync. */
	refresh(ids: readonly string[]): Promise<Refreshed<Row, Seen>[]>;
	/** Observes volumes the launch recorded. */
	refreshVolumes(ids: readonly string[]): Promise<void>;
}

/** How a kind is observed in AWS. */
export interface MachineSync<Row, Seen extends SeenMachine> {
	/**
	 * The one listing of a run: every machine of the kind with the portal's tags (or one owner's).
	 * `tracked` are the rows the run follows.
	 */
	list(deps: Deps, scope: SyncScope, tracked: readonly Row[]): Promise<Seen[]>;
	/** The machines with these ids, for followed rows the listing left out (ended, or re-tagged). */
	lookup(deps: Deps, ids: readonly string[]): Promise<Seen[]>;
	/** What the listing does not say, for the machines that need it; `row` is undefined for an unknown machine. */
	detail?(deps: Deps, row: Row | undefined, seen: Seen): Promise<Seen>;
	/** What the row should hold given what AWS shows; `seen` is undefined when AWS shows nothing. */
	observe(deps: Deps, row: Tracked<Row>, seen: Seen | undefined, now: Date): Promise<Observation<Row>>;
	/** Whether a machine with the portal's tags is one of the kind's own (an EMR cluster's EC2 nodes are not instances). */
	owns(seen: Seen): boolean;
	/** The row to record for a machine adopted from `from`. */
	adopted(seen: Seen, from: Adoption, now: Date): Partial<Row> & { id: string };
	/** What the admins are shown of a machine found with the portal's tags that nobody owns. */
	found(deps: Deps, seen: Seen): FoundFacts;
	/** What the kind syncs with its machines (an instance's volumes); returns how many it followed. */
	syncParts?(deps: Deps, scope: SyncScope, now: Date): Promise<number>;
}

/** What is known of a machine found with the portal's tags but no proven launch, besides its id, state and tags. */
export interface FoundFacts {
	name: string;
	instanceType: string;
	launchedAt?: Date;
	/** What it would be billed as, at the pricing index's rate. */
	charge: Charge;
}

/** Whose machines a sync covers: everyone's, or one owner's (the dashboard refresh). */
export interface SyncScope {
	ownerId?: number;
	/** The owner's username, when the scope is one owner. */
	username?: string;
}

/** One action on a kind of machine. */
export interface ActionRule<Row> {
	/** The states it may start from. */
	from: readonly string[];
	/** Only the owner or an admin may take it (they may also while the controls are locked). */
	ownerOnly: boolean;
	/** The verb of its 403 for others ("Only the owner or an admin may … this instance"). */
	verb: string;
	/** Why it cannot start from `state`. */
	refusal(state: string): string;
	/** Actions in flight it may overrule. */
	supersedes?: readonly string[];
	/** The AWS call. */
	perform(deps: Deps, row: Row): Promise<void>;
	/** Once AWS accepted: the row's changes (state, times, DNS), the bill's, and the audit's detail. */
	settle(deps: Deps, row: Row, now: Date): Promise<{ changes: Partial<Row>; detail: string }>;
	/** Whether the machine should be observed again soon after (its state moves on its own). */
	refresh: boolean;
	/** Whether a state the sync sees finishes the action in flight since `since`. */
	done(state: string, since: Date | null, now: Date): boolean;
	/**
	 * For an action AWS may have carried out although its call timed out (a terminate): asks AWS
	 * whether it did: true, false, or undefined when it cannot tell. With it, a timeout keeps the
	 * action in flight and the user is told it is being confirmed, instead of "try again".
	 */
	confirm?(deps: Deps, row: Row): Promise<boolean | undefined>;
}

/** How a kind is controlled. */
export interface MachineControl<Row> {
	/** The actions, in the order buttons show them. */
	actions: readonly string[];
	/** The rule of `action` for this row, or undefined when the kind has no such action. */
	ruleFor(action: string, row: Row): ActionRule<Row> | undefined;
	/** Why the row's controls are locked (only owner-only actions remain), or undefined. */
	locked(row: Row): string | undefined;
}

/** A kind of managed machine. */
export interface MachineKind<Row extends MachineRow = MachineRow, Seen extends SeenMachine = SeenMachine> {
	/** The kind's name in launches, bills, audit events and configurations. */
	name: ConfigKind;
	/** How messages name one machine of the kind. */
	noun: string;
	/** States after which the machine no longer exists. */
	endedStates: readonly string[];
	rows: MachineRows<Row>;
	launch: MachineLaunch<Row, Seen>;
	sync: MachineSync<Row, Seen>;
	control: MachineControl<Row>;
	/** How the machine policies (idle, working hours, lifetime, dormancy) see the kind's states and actions. */
	policy: PolicyStates;
	/** Sets tags on the machine in AWS (a rename's `Name`). */
	tag(deps: Deps, id: string, tags: Record<string, string>): Promise<void>;
	/** What a billed period of the machine charges; `changes` are recorded when the period opens (a spot price). */
	price(deps: Deps, row: Row): Promise<Charge & { changes?: Partial<Row> }>;
}
