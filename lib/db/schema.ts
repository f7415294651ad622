/**
 * The portal's tables. TS keys are camelCase, SQL names snake_case, tables plural.
 * Times are stored as UTC epoch milliseconds and read back as `Date`.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const createdAt = () =>
	integer("created_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`);
const updatedAt = () =>
	integer("updated_at", { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`);

export const ROLES = ["user", "manager", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const users = sqliteTable("users", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	/** Case-normalised (lower case) so "Alice" and "alice" are one person. */
	username: text("username").notNull().unique(),
	firstName: text("first_name").notNull().default(""),
	lastName: text("last_name").notNull().default(""),
	email: text("email").notNull().default(""),
	/** Role given by an admin in the portal. */
	role: text("role", { enum: ROLES }).notNull().default("user"),
	/** Role derived from the directory at the last login; revoked when the directory stops granting it. */
	directoryRole: text("directory_role", { enum: ROLES }),
	lastLoginAt: integer("last_login_at", { mode: "timestamp_ms" }),
	/**
	 * The generation of the user's CSRF tokens: a new one at each sign-in refresh, and at a revocation
	 * (which also ends the previous one's grace). Tokens of the previous generation are accepted until
	 * `csrfPreviousUntil`, so a page opened just before a refresh still submits.
	 */
	csrfEpoch: integer("csrf_epoch").notNull().default(0),
	csrfPreviousUntil: integer("csrf_previous_until", { mode: "timestamp_ms" }),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
});

export const groups = sqliteTable("groups", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	name: text("name").notNull().unique(),
	/** Directory group (e.g. a memberOf DN or CN) whose members join this group automatically. */
	directoryName: text("directory_name"),
	/**
	 * Directory group (a DN or CN) whose members manage this group (team view, actions, bills, budgets
	 * and approvals of its members) without the global manager role; assigned at each sign-in.
	 */
	managerDirectoryName: text("manager_directory_name"),
	keyName: text("key_name").notNull().default(""),
	iamInstanceProfile: text("iam_instance_profile").notNull().default(""),
	nameOverride: text("name_override").notNull().default(""),
	ags: text("ags").notNull().default(""),
	costCenter: text("cost_center").notNull().default(""),
	sdlc: text("sdlc").notNull().default(""),
	emrAccess: integer("emr_access", { mode: "boolean" }).notNull().default(false),
	/** Free-form `key=value` lines; `cluster_auto_termination_minutes` is the one the portal reads. */
	settings: text("settings").notNull().default(""),
	/** The group's machine policy (lib/policy/spec.ts), working hours included; the stricter of it and the configuration's applies. */
	policy: text("policy", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
	/** A Slack-compatible incoming webhook that gets the notices of the group's machines; empty for none. */
	noticeWebhook: text("notice_webhook").notNull().default(""),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
});

export const MEMBERSHIP_SOURCES = ["directory", "manual"] as const;
export const memberships = sqliteTable("memberships", {
	userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
	groupId: integer("group_id").notNull().references(() => groups.id, { onDelete: "cascade" }),
	source: text("source", { enum: MEMBERSHIP_SOURCES }).notNull(),
	createdAt: createdAt(),
}, (t) => [primaryKey({ columns: [t.userId, t.groupId, t.source] }), index("memberships_group_idx").on(t.groupId)]);

/**
 * Who manages which group besides the global managers: assigned by the directory (the group's
 * manager directory group, synced at each sign-in) or by an admin (`manual`, audited).
 */
export const groupManagers = sqliteTable("group_managers", {
	userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
	groupId: integer("group_id").notNull().references(() => groups.id, { onDelete: "cascade" }),
	source: text("source", { enum: MEMBERSHIP_SOURCES }).notNull(),
	createdAt: createdAt(),
}, (t) => [primaryKey({ columns: [t.userId, t.groupId, t.source] }), index("group_managers_group_idx").on(t.groupId)]);

export const instanceTypes = sqliteTable("instance_types", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	/** The AWS name, e.g. `r4.4xlarge`. */
	name: text("name").notNull().unique(),
	description: text("description").notNull().default(""),
});

export const securityGroups = sqliteTable("security_groups", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	sgId: text("sg_id").notNull().unique(),
	name: text("name").notNull().default(""),
});

export const SG_KINDS = ["default", "optional"] as const;
export const groupSecurityGroups = sqliteTable("group_security_groups", {
	groupId: integer("group_id").notNull().references(() => groups.id, { onDelete: "cascade" }),
	securityGroupId: integer("security_group_id").notNull().references(() => securityGroups.id, {
		onDelete: "restrict",
	}),
	kind: text("kind", { enum: SG_KINDS }).notNull(),
}, (t) => [primaryKey({ columns: [t.groupId, t.securityGroupId, t.kind] })]);

export const groupExcludedTypes = sqliteTable("group_excluded_types", {
	groupId: integer("group_id").notNull().references(() => groups.id, { onDelete: "cascade" }),
	instanceTypeId: integer("instance_type_id").notNull().references(() => instanceTypes.id, {
		onDelete: "restrict",
	}),
}, (t) => [primaryKey({ columns: [t.groupId, t.instanceTypeId] })]);

export const CONFIG_KINDS = ["instance", "cluster"] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

export const softwareConfigs = sqliteTable("software_configs", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	name: text("name").notNull().unique(),
	kind: text("kind", { enum: CONFIG_KINDS }).notNull().default("instance"),
	amiId: text("ami_id").notNull().default(""),
	templateBody: text("template_body").notNull(),
	userDataBody: text("user_data_body").notNull().default(""),
	instanceName: text("instance_name").notNull().default(""),
	/** Sanitized when saved; rendered as HTML. */
	descriptionHtml: text("description_html").notNull().default(""),
	hasProgressBar: integer("has_progress_bar", { mode: "boolean" }).notNull().default(false),
	/**
	 * Progress stages, besides `failed` and `error`, that mean the bootstrap failed (comma-separated,
	 * as the script sends them, e.g. `mount_failed, no_license`).
	 */
	failureStages: text("failure_stages").notNull().default(""),
	/** Operating system key in the pricing file: linux, rhel, sles, mswin, ... */
	os: text("os").notNull().default("linux"),
	volumeDevice: text("volume_device").notNull().default(""),
	volumeSizeGb: integer("volume_size_gb").notNull().default(10),
	volumeType: text("volume_type").notNull().default("gp2"),
	volumeKmsKey: text("volume_kms_key").notNull().default(""),
	/** `{{{token}}}` replacements (user data) or extra template parameters (clusters), as a JSON object. */
	params: text("params", { mode: "json" }).$type<Record<string, string>>().notNull().default({}),
	/**
	 * The machine's application links (Jupyter, RStudio, Spark UI…), one a line as `Label | format`
	 * (a line without a label is the cluster's "Connection"); `{{{ URL }}}` becomes the DNS name or
	 * address (lib/machines/connect.ts).
	 */
	customUrlFormat: text("custom_url_format").notNull().default(""),
	/** The user the SSH command signs in as (the AMI's login user: ec2-user, ubuntu, hadoop…). */
	loginUser: text("login_user").notNull().default("ec2-user"),
	/** EMR: managed and additional security groups, as sg ids. */
	emrMasterSecurityGroup: text("emr_master_security_group").notNull().default(""),
	emrSlaveSecurityGroup: text("emr_slave_security_group").notNull().default(""),
	emrAdditionalMasterSecurityGroups: text("emr_additional_master_security_groups").notNull().default(""),
	emrAdditionalSlaveSecurityGroups: text("emr_additional_slave_security_groups").notNull().default(""),
	/** The configuration's machine policy (lib/policy/spec.ts); the stricter of it and the group's applies. */
	policy: text("policy", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
});

export const configInstanceTypes = sqliteTable("config_instance_types", {
	configId: integer("config_id").notNull().references(() => softwareConfigs.id, { onDelete: "cascade" }),
	instanceTypeId: integer("instance_type_id").notNull().references(() => instanceTypes.id, {
		onDelete: "restrict",
	}),
}, (t) => [primaryKey({ columns: [t.configId, t.instanceTypeId] })]);

export const configGroups = sqliteTable("config_groups", {
	configId: integer("config_id").notNull().references(() => softwareConfigs.id, { onDelete: "cascade" }),
	groupId: integer("group_id").notNull().references(() => groups.id, { onDelete: "cascade" }),
}, (t) => [primaryKey({ columns: [t.configId, t.groupId] }), index("config_groups_group_idx").on(t.groupId)]);

export const params = sqliteTable("params", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	token: text("token").notNull().unique(),
	/** The replacement; for a secret param, the value sealed by lib/sealed.ts (never the plain text). */
	value: text("value").notNull().default(""),
	description: text("description").notNull().default(""),
	/** Kept encrypted, never shown, passed to a launch only as a NoEcho template parameter of its name. */
	secret: integer("secret", { mode: "boolean" }).notNull().default(false),
});

export const LAUNCH_STATUSES = ["queued", "creating", "complete", "failed"] as const;
export type LaunchStatus = (typeof LAUNCH_STATUSES)[number];

export const launches = sqliteTable("launches", {
	id: text("id").primaryKey(),
	userId: integer("user_id").notNull().references(() => users.id),
	groupId: integer("group_id").notNull().references(() => groups.id),
	configId: integer("config_id").notNull().references(() => softwareConfigs.id),
	kind: text("kind", { enum: CONFIG_KINDS }).notNull().default("instance"),
	instanceType: text("instance_type").notNull(),
	/** Launch choices: optional security groups; for clusters the form's values. */
	options: text("options", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
	stackName: text("stack_name").notNull(),
	stackId: text("stack_id"),
	status: text("status", { enum: LAUNCH_STATUSES }).notNull().default("queued"),
	/** What the launch is doing now, in words the user understands. */
	step: text("step").notNull().default("Waiting to start"),
	reason: text("reason"),
	/**
	 * SHA-256 of the progress token the bootstrap script sends back; the token itself is never stored.
	 * Empty for a cluster launch, whose nodes report no progress.
	 */
	progressTokenHash: text("progress_token_hash").notNull(),
	attempts: integer("attempts").notNull().default(0),
	/**
	 * The process moving this launch, which holds it until `claimedUntil` and renews that while it
	 * works, so two processes never move it at once and a crashed one's claim soon lapses.
	 */
	claimedBy: text("claimed_by"),
	claimedUntil: integer("claimed_until", { mode: "timestamp_ms" }),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
	submittedAt: integer("submitted_at", { mode: "timestamp_ms" }),
	finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
	/** When the owner dismissed the failed launch's notice on the dashboard. */
	dismissedAt: integer("dismissed_at", { mode: "timestamp_ms" }),
}, (t) => [index("launches_status_idx").on(t.status), index("launches_user_idx").on(t.userId)]);

/**
 * Where the bootstrap's setup is, as its progress reports say: `running` while it reports, `done`
 * after a report at 100, `failed` after a failure stage, `stalled` after no report for
 * PROGRESS_TIMEOUT_MINUTES. Null while nothing says (no progress bar, no report yet).
 */
export const SETUP_STATES = ["running", "done", "failed", "stalled"] as const;
export type SetupState = (typeof SETUP_STATES)[number];

export const instances = sqliteTable("instances", {
	id: text("id").primaryKey(),
	launchId: text("launch_id").references(() => launches.id),
	stackId: text("stack_id"),
	stackName: text("stack_name"),
	ownerId: integer("owner_id").notNull().references(() => users.id),
	groupId: integer("group_id").references(() => groups.id),
	configId: integer("config_id").references(() => softwareConfigs.id),
	name: text("name").notNull().default(""),
	instanceType: text("instance_type").notNull(),
	amiId: text("ami_id").notNull().default(""),
	availabilityZone: text("availability_zone").notNull().default(""),
	/** AWS state name (pending, running, stopping, stopped, shutting-down, terminated) or `vanished`. */
	state: text("state").notNull().default("pending"),
	privateIp: text("private_ip"),
	publicIp: text("public_ip"),
	/** The IP the DNS record points at, so a changed IP is noticed. */
	dnsIp: text("dns_ip"),
	dnsName: text("dns_name"),
	progressText: text("progress_text"),
	progressPercent: integer("progress_percent"),
	progressUpdatedAt: integer("progress_updated_at", { mode: "timestamp_ms" }),
	setupState: text("setup_state", { enum: SETUP_STATES }),
	/** When the setup ended (done, failed or stalled). */
	setupEndedAt: integer("setup_ended_at", { mode: "timestamp_ms" }),
	/**
	 * The last lines of the instance's console output (decoded, bounded, sanitised), fetched by the
	 * sync or a background job when the setup failed or is slow, never on a page request.
	 */
	consoleTail: text("console_tail"),
	consoleTailAt: integer("console_tail_at", { mode: "timestamp_ms" }),
	/** The control action in flight (start, stop, restart, terminate), cleared when AWS shows its effect. */
	pendingAction: text("pending_action"),
	pendingSince: integer("pending_since", { mode: "timestamp_ms" }),
	launchedAt: integer("launched_at", { mode: "timestamp_ms" }),
	startedAt: integer("started_at", { mode: "timestamp_ms" }),
	stoppedAt: integer("stopped_at", { mode: "timestamp_ms" }),
	lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }),
	archived: integer("archived", { mode: "boolean" }).notNull().default(false),
	controlsLocked: integer("controls_locked", { mode: "boolean" }).notNull().default(false),
	/** Why the controls are locked, in the words of whoever locked them (shown on the rows and the page). */
	controlsLockedReason: text("controls_locked_reason"),
	/**
	 * Who locked them: `display plugin` when the display plugin did (the sync may then unlock them
	 * again), else whoever else did; the sync never lifts a lock it did not set.
	 */
	controlsLockedBy: text("controls_locked_by"),
	/**
	 * The display plugin's extra columns for this instance, by column key, as the last sync computed
	 * them (pages read them here, never ask the plugin).
	 */
	displayValues: text("display_values", { mode: "json" }).$type<Record<string, string>>().notNull().default({}),
	/**
	 * Why an admin locked the controls by hand (the admin machine pages), or null: a manual lock,
	 * lifted only by an admin; locks set by plugins keep their own reason elsewhere.
	 */
	manualLockReason: text("manual_lock_reason"),
	/** The instance's tags as the sync last saw them in AWS (bounded), as JSON sorted by key: shown to admins. */
	tags: text("tags").notNull().default("{}"),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
}, (t) => [
	// An owner's instances newest first, ties by id: the dashboard and a team view of few owners stop at the page.
	index("instances_owner_idx").on(t.ownerId, t.archived, t.createdAt, t.id),
	// The team view's orders by state, type and name walk these and stop at the page (db/instances.ts teamOrder).
	index("instances_state_idx").on(t.archived, t.state, t.id),
	index("instances_type_idx").on(t.archived, t.instanceType, t.id),
	index("instances_name_idx").on(t.archived, sql`coalesce(nullif(${t.name}, ''), ${t.id}) COLLATE NOCASE`, t.id),
	index("instances_group_idx").on(t.groupId),
	index("instances_listing_idx").on(t.archived, t.createdAt, t.id),
	// instancesOfLaunch runs every launcher tick and on every poll of an open launch page.
	index("instances_launch_idx").on(t.launchId),
	// The admin machine list sorts the whole table by these and by instances_type_idx (lib/db/admin_browse.ts).
	index("instances_admin_state_idx").on(t.archived, t.state, t.createdAt),
	index("instances_admin_name_idx").on(t.archived, t.name, t.id),
]);

/**
 * How many instances that are not archived each owner has in each state and group, kept by
 * triggers on `instances` (migration 0022) in the transaction of every write, whichever process or
 * hand-written SQL makes it. The team view's counts and its chart sum these few rows instead of
 * counting 10,000 instances (lib/db/instances.ts). `group_key` is the instance's group, 0 for none
 * (a key column cannot be null). Rows that fall to 0 stay: there are at most owners × groups × states.
 */
export const instanceTallies = sqliteTable("instance_tallies", {
	ownerId: integer("owner_id").notNull(),
	groupKey: integer("group_key").notNull(),
	state: text("state").notNull(),
	n: integer("n").notNull(),
}, (t) => [primaryKey({ columns: [t.ownerId, t.groupKey, t.state] })]);

/**
 * Every progress report an instance's bootstrap made, in the order it made them: the stages of its
 * boot timeline, and (by configuration) the samples a stage's usual duration is the median of.
 * `instances` keeps only the latest report.
 */
export const progressReports = sqliteTable("progress_reports", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	instanceId: text("instance_id").notNull(),
	/** The instance's configuration when it reported (the median is per configuration). */
	configId: integer("config_id"),
	stage: text("stage").notNull(),
	percent: integer("percent").notNull(),
	at: integer("at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [
	index("progress_reports_instance_idx").on(t.instanceId, t.at),
	index("progress_reports_config_idx").on(t.configId, t.at),
]);

/** One CloudFormation event of a launch's stack, as stored for the pages (newest first, as AWS lists them). */
export interface StoredStackEvent {
	logicalId: string;
	type: string;
	status: string;
	reason: string | null;
	/** Epoch milliseconds. */
	at: number;
}

/**
 * The CloudFormation events of a launch's stack, stored by the launcher when the launch completes
 * or fails, so the pages show them without asking AWS.
 */
export const stackEvents = sqliteTable("stack_events", {
	launchId: text("launch_id").primaryKey().references(() => launches.id, { onDelete: "cascade" }),
	stackId: text("stack_id").notNull(),
	events: text("events", { mode: "json" }).$type<StoredStackEvent[]>().notNull(),
	storedAt: integer("stored_at", { mode: "timestamp_ms" }).notNull(),
});

export const RESIZE_STEPS = ["stopping", "starting"] as const;
export type ResizeStep = (typeof RESIZE_STEPS)[number];

/**
 * A "stop, resize, start" of a running instance on its way: asked for by `requestedBy`, moved on by
 * the resize job (and right after the request) until the instance runs with `toType`, so a restart
 * of the portal in between does not leave it stopped.
 */
export const instanceResizes = sqliteTable("instance_resizes", {
	instanceId: text("instance_id").primaryKey(),
	fromType: text("from_type").notNull(),
	toType: text("to_type").notNull(),
	requestedBy: integer("requested_by").notNull().references(() => users.id),
	step: text("step", { enum: RESIZE_STEPS }).notNull().default("stopping"),
	/** The audit record of the request ("sent"), completed when the instance runs again or the sequence is given up. */
	auditId: integer("audit_id"),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
});

export const volumes = sqliteTable("volumes", {
	id: text("id").primaryKey(),
	instanceId: text("instance_id"),
	launchId: text("launch_id").references(() => launches.id),
	ownerId: integer("owner_id").notNull().references(() => users.id),
	groupId: integer("group_id").references(() => groups.id),
	sizeGb: integer("size_gb").notNull().default(0),
	device: text("device").notNull().default(""),
	volumeType: text("volume_type").notNull().default("gp2"),
	/** Provisioned IOPS and throughput (MB/s) as AWS reports them (io1/io2/gp3), priced on top of the size. */
	iops: integer("iops"),
	throughput: integer("throughput"),
	/** AWS volume state (creating, available, in-use, deleting, deleted) or `vanished`. */
	state: text("state").notNull().default("creating"),
	lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
}, (t) => [index("volumes_instance_idx").on(t.instanceId), index("volumes_state_idx").on(t.state, t.createdAt)]);

export const MARKETS = ["ON_DEMAND", "SPOT"] as const;
export type Market = (typeof MARKETS)[number];

/** EMR clusters launched from cluster configurations, followed like instances. */
export const clusters = sqliteTable("clusters", {
	/** The EMR cluster id, `j-…`. */
	id: text("id").primaryKey(),
	launchId: text("launch_id").references(() => launches.id),
	stackId: text("stack_id"),
	stackName: text("stack_name"),
	ownerId: integer("owner_id").notNull().references(() => users.id),
	groupId: integer("group_id").references(() => groups.id),
	configId: integer("config_id").references(() => softwareConfigs.id),
	name: text("name").notNull().default(""),
	purpose: text("purpose").notNull().default(""),
	instanceType: text("instance_type").notNull(),
	coreNodes: integer("core_nodes").notNull(),
	market: text("market", { enum: MARKETS }).notNull().default("ON_DEMAND"),
	bidPrice: real("bid_price"),
	idleSeconds: integer("idle_seconds").notNull().default(0),
	/** EMR state: STARTING, BOOTSTRAPPING, RUNNING, WAITING, TERMINATING, TERMINATED, TERMINATED_WITH_ERRORS, or `vanished`. */
	state: text("state").notNull().default("STARTING"),
	stateReason: text("state_reason"),
	masterDns: text("master_dns"),
	masterIp: text("master_ip"),
	dnsName: text("dns_name"),
	dnsIp: text("dns_ip"),
	nodesRunning: integer("nodes_running").notNull().default(0),
	nodesRequested: integer("nodes_requested").notNull().default(0),
	/** Spot price seen when billing started (spot clusters). */
	spotPrice: real("spot_price"),
	availabilityZone: text("availability_zone").notNull().default(""),
	pendingAction: text("pending_action"),
	pendingSince: integer("pending_since", { mode: "timestamp_ms" }),
	startedAt: integer("started_at", { mode: "timestamp_ms" }),
	endedAt: integer("ended_at", { mode: "timestamp_ms" }),
	lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }),
	archived: integer("archived", { mode: "boolean" }).notNull().default(false),
	/** The cluster's tags as the sync last saw them in EMR (bounded), as JSON sorted by key: shown to admins. */
	tags: text("tags").notNull().default("{}"),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
}, (t) => [
	index("clusters_owner_idx").on(t.ownerId, t.archived, t.createdAt),
	index("clusters_listing_idx").on(t.archived, t.createdAt, t.id),
	index("clusters_launch_idx").on(t.launchId),
]);

/**
 * Machines the sync found in AWS with the portal's tags but without proof that a portal launch made
 * them (see lib/sync/observe.ts): nobody's, so nobody but an admin can act on them, until an admin
 * adopts one for a user. What AWS showed of them is kept bounded, since anyone able to tag a
 * machine in the account writes it.
 */
export const foundMachines = sqliteTable("found_machines", {
	/** The AWS id: `i-…` for an instance, `j-…` for a cluster. */
	id: text("id").primaryKey(),
	kind: text("kind", { enum: CONFIG_KINDS }).notNull(),
	name: text("name").notNull().default(""),
	instanceType: text("instance_type").notNull().default(""),
	state: text("state").notNull(),
	/** The tags AWS showed, bounded in number and length (lib/machines/tags.ts boundedTags). */
	tags: text("tags", { mode: "json" }).$type<Record<string, string>>().notNull().default({}),
	/** Why the sync did not adopt it, in an admin's words. */
	reason: text("reason").notNull(),
	/** The portal launch its launch-id tag names, when there is one: the launch it may have been copied from. */
	claimedLaunchId: text("claimed_launch_id"),
	/** What it would be billed as, and the estimated $/hour from the pricing index (null when unknown). */
	costDescription: text("cost_description").notNull().default(""),
	hourlyRate: real("hourly_rate"),
	launchedAt: integer("launched_at", { mode: "timestamp_ms" }),
	firstSeenAt: integer("first_seen_at", { mode: "timestamp_ms" }).notNull(),
	lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [index("found_machines_kind_idx").on(t.kind, t.lastSeenAt)]);

export const RESOURCE_KINDS = ["instance", "volume", "cluster"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

export const bills = sqliteTable("bills", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	resourceKind: text("resource_kind", { enum: RESOURCE_KINDS }).notNull(),
	resourceId: text("resource_id").notNull(),
	userId: integer("user_id").notNull().references(() => users.id),
	groupId: integer("group_id").references(() => groups.id),
	costCenter: text("cost_center").notNull(),
	/** What is billed: an instance type, `gp2 100 GiB`, or `SPOT r4.xlarge x 11`. */
	description: text("description").notNull(),
	/**
	 * USD per hour after discount, full double precision; null when the price is unknown. For what
	 * AWS prices by the month (volumes), the rate in the month the period opened.
	 */
	hourlyRate: real("hourly_rate"),
	/**
	 * USD per calendar month after discount, for what AWS prices by the month (EBS volumes): the
	 * period's cost is each month's share by that month's length (lib/billing/ebs.ts proratedCost).
	 */
	monthlyRate: real("monthly_rate"),
	startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
	endedAt: integer("ended_at", { mode: "timestamp_ms" }),
}, (t) => [
	uniqueIndex("bills_one_open_per_resource").on(t.resourceId).where(sql`ended_at IS NULL`),
	index("bills_period_idx").on(t.startedAt, t.endedAt),
	index("bills_user_idx").on(t.userId),
]);

/** "sent": the action was asked of AWS and its outcome is not known yet (written before the call). */
export const AUDIT_OUTCOMES = ["ok", "refused", "error", "sent"] as const;
/** Why a machine policy acts: the reason codes of its audit events and notices. */
export const POLICY_REASONS = ["idle", "schedule", "lifetime", "dormancy"] as const;
export type PolicyReason = (typeof POLICY_REASONS)[number];
/** Why an automated actor acts: a machine policy's reason, or a budget at its hard limit. */
export const ACTION_REASONS = [...POLICY_REASONS, "budget"] as const;
export type ActionReason = (typeof ACTION_REASONS)[number];
export const auditEvents = sqliteTable("audit_events", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	at: integer("at", { mode: "timestamp_ms" }).notNull(),
	/** Null for the system (jobs) and for instances calling back. */
	actorId: integer("actor_id").references(() => users.id),
	actor: text("actor").notNull(),
	action: text("action").notNull(),
	resourceKind: text("resource_kind").notNull(),
	resourceId: text("resource_id").notNull(),
	outcome: text("outcome", { enum: AUDIT_OUTCOMES }).notNull(),
	detail: text("detail").notNull().default(""),
	/** Why a policy or a budget acted (idle, schedule, lifetime, dormancy, budget); null for what a person or the sync did. */
	reason: text("reason", { enum: ACTION_REASONS }),
}, (t) => [index("audit_resource_idx").on(t.resourceId, t.at)]);

export const jobLeases = sqliteTable("job_leases", {
	name: text("name").primaryKey(),
	holder: text("holder"),
	expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
	lastStartedAt: integer("last_started_at", { mode: "timestamp_ms" }),
	lastFinishedAt: integer("last_finished_at", { mode: "timestamp_ms" }),
	lastSuccessAt: integer("last_success_at", { mode: "timestamp_ms" }),
	/** The last run's error as thrown, for operators: AWS messages can hold ARNs and account ids. */
	lastError: text("last_error"),
	/** What users may be told about the last run's error: a classified sentence, never the raw message. */
	lastErrorNotice: text("last_error_notice"),
	/** The schedule tick the last cron run belonged to, so each tick runs once across processes. */
	lastTick: integer("last_tick"),
	runs: integer("runs").notNull().default(0),
});

/** Small process-shared values, e.g. the generated secret that signs CSRF and progress tokens. */
export const appState = sqliteTable("app_state", {
	key: text("key").primaryKey(),
	value: text("value").notNull(),
});

/**
 * Per machine (instance or cluster): what its owner chose within the policy's bounds, a keep-alive,
 * and how far each automated action was postponed. A machine without a row has the policy's defaults.
 */
export const machinePolicies = sqliteTable("machine_policies", {
	machineId: text("machine_id").primaryKey(),
	kind: text("kind", { enum: CONFIG_KINDS }).notNull(),
	/** Idle minutes before the idle stop; null: the policy's default. */
	idleMinutes: integer("idle_minutes"),
	/** Hours after launch before the machine is terminated; null: the policy's maximum. */
	lifetimeHours: integer("lifetime_hours"),
	/** Whether the schedule starts it at the beginning of working hours; null: as the group says. */
	autoStart: integer("auto_start", { mode: "boolean" }),
	/** The idle and schedule stops wait until then. */
	keepAliveUntil: integer("keep_alive_until", { mode: "timestamp_ms" }),
	/** An extend link's postponement: the action of each reason is not due before then. */
	idlePostponedUntil: integer("idle_postponed_until", { mode: "timestamp_ms" }),
	schedulePostponedUntil: integer("schedule_postponed_until", { mode: "timestamp_ms" }),
	lifetimePostponedUntil: integer("lifetime_postponed_until", { mode: "timestamp_ms" }),
	dormancyPostponedUntil: integer("dormancy_postponed_until", { mode: "timestamp_ms" }),
	/** When the schedule last stopped the machine: only such a machine is started when working hours begin. */
	scheduleStoppedAt: integer("schedule_stopped_at", { mode: "timestamp_ms" }),
	updatedAt: updatedAt(),
});

export const ACTIVITY_SOURCES = ["agent", "cloudwatch", "emr"] as const;
export type ActivitySource = (typeof ACTIVITY_SOURCES)[number];

/**
 * A machine's workload signals as last reported: by its activity script, else CloudWatch (the sync),
 * or EMR for a cluster. One row per machine, overwritten: the idle rule needs only when the machine
 * was last active and whether the signals are fresh.
 */
export const machineActivity = sqliteTable("machine_activity", {
	machineId: text("machine_id").primaryKey(),
	/** The last report of the machine's own activity script. */
	reportedAt: integer("reported_at", { mode: "timestamp_ms" }),
	/** The last time any source said anything about the machine's workload. */
	signalAt: integer("signal_at", { mode: "timestamp_ms" }).notNull(),
	/** The last time a signal was at or above its threshold. */
	activeAt: integer("active_at", { mode: "timestamp_ms" }),
	source: text("source", { enum: ACTIVITY_SOURCES }).notNull(),
	cpuPercent: real("cpu_percent"),
	gpuPercent: real("gpu_percent"),
	kernelsBusy: integer("kernels_busy"),
	sessions: integer("sessions"),
	networkBytesPerSecond: integer("network_bytes_per_second"),
});

export const POLICY_ACTION_STATUSES = ["noticed", "acting", "done", "failed", "cancelled", "postponed"] as const;
export type PolicyActionStatus = (typeof POLICY_ACTION_STATUSES)[number];
/** The statuses of an action still to happen (at most one per machine and reason). */
export const OPEN_POLICY_ACTION_STATUSES = ["noticed", "acting", "failed"] as const;

/**
 * The automated actions of the policies, each from its notice to its outcome: noticed (the owner
 * was told), acting (one process claimed it), done, failed (retried), cancelled (re-evaluated: no
 * longer due) or postponed (an extend link). The notice banner, the extend links, exactly-once
 * acting and the savings report all read it. A budget at its hard limit stops machines through the
 * same rows (reason `budget`), planned by the budget job instead of the policies.
 */
export const policyActions = sqliteTable("policy_actions", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	machineId: text("machine_id").notNull(),
	kind: text("kind", { enum: CONFIG_KINDS }).notNull(),
	ownerId: integer("owner_id").notNull().references(() => users.id),
	groupId: integer("group_id").references(() => groups.id),
	reason: text("reason", { enum: ACTION_REASONS }).notNull(),
	/** The control action taken: stop, start or terminate. */
	action: text("action").notNull(),
	/** When the policy makes the action due. */
	deadline: integer("deadline", { mode: "timestamp_ms" }).notNull(),
	/** When it is taken: the deadline, or later when the notice went out late (its lead time is always given). */
	actAt: integer("act_at", { mode: "timestamp_ms" }).notNull(),
	noticedAt: integer("noticed_at", { mode: "timestamp_ms" }).notNull(),
	status: text("status", { enum: POLICY_ACTION_STATUSES }).notNull().default("noticed"),
	/** Why, in the owner's words: "idle for 30 minutes (no activity above the thresholds)". */
	detail: text("detail").notNull().default(""),
	/** The machine's state when the notice went out. */
	stateAtNotice: text("state_at_notice").notNull(),
	attempts: integer("attempts").notNull().default(0),
	nextAttemptAt: integer("next_attempt_at", { mode: "timestamp_ms" }),
	/** Why the last attempt failed, in words users may be told. */
	lastError: text("last_error"),
	/** When it ended: done, cancelled or postponed. */
	endedAt: integer("ended_at", { mode: "timestamp_ms" }),
	/** The machine's hourly rate when a stop or terminate took it off billing (the savings report). */
	hourlyRate: real("hourly_rate"),
	postponedBy: integer("postponed_by").references(() => users.id),
}, (t) => [
	uniqueIndex("policy_actions_one_open").on(t.machineId, t.reason).where(
		sql`status IN ('noticed', 'acting', 'failed')`,
	),
	index("policy_actions_status_idx").on(t.status),
	index("policy_actions_owner_idx").on(t.ownerId, t.noticedAt),
	index("policy_actions_group_idx").on(t.groupId, t.endedAt),
]);

/** How a user wants notices: on the portal's pages and by email. A user without a row gets both. */
export const noticeChannels = sqliteTable("notice_channels", {
	userId: integer("user_id").primaryKey().references(() => users.id, { onDelete: "cascade" }),
	banner: integer("banner", { mode: "boolean" }).notNull().default(true),
	email: integer("email", { mode: "boolean" }).notNull().default(true),
	updatedAt: updatedAt(),
});

export const BUDGET_SCOPES = ["group", "user", "cost_center"] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];

/**
 * Monthly budgets (months in TIME_ZONE), in dollars, of a group, a user or a cost center: what the
 * billed periods of its scope may cost, with its graded ladder (a warning share, refusal of new
 * launches at 100 %, a hard limit that stops the scope's machines after a notice).
 */
export const budgets = sqliteTable("budgets", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	scope: text("scope", { enum: BUDGET_SCOPES }).notNull(),
	/** What it limits, `group:3`, `user:5` or `cost_center:CC-1`: one budget per group, user or cost center. */
	target: text("target").notNull().unique(),
	groupId: integer("group_id").references(() => groups.id, { onDelete: "cascade" }),
	userId: integer("user_id").references(() => users.id, { onDelete: "cascade" }),
	costCenter: text("cost_center"),
	/** Dollars a month. */
	amount: real("amount").notNull(),
	/** The share of the budget spent when the warning notice goes out (0.8: at 80 %). */
	warnShare: real("warn_share").notNull().default(0.8),
	/** The hard limit, a share above 1 (1.2: at 120 %) or an amount in dollars; neither: no hard limit. */
	hardShare: real("hard_share"),
	hardAmount: real("hard_amount"),
	/** How long before the hard limit's stops their notice goes out. */
	noticeMinutes: integer("notice_minutes").notNull().default(60),
	createdBy: integer("created_by").references(() => users.id),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
});

export const APPROVAL_SUBJECTS = ["instance_type", "config", "volume"] as const;
export type ApprovalSubject = (typeof APPROVAL_SUBJECTS)[number];

/** What admins marked as needing approval: an instance type, a configuration, or extra volumes from a size up. */
export const approvalRules = sqliteTable("approval_rules", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	subject: text("subject", { enum: APPROVAL_SUBJECTS }).notNull(),
	instanceType: text("instance_type"),
	configId: integer("config_id").references(() => softwareConfigs.id, { onDelete: "cascade" }),
	minVolumeGb: integer("min_volume_gb"),
	/** Why, for the people it refuses ("GPU types: ask your manager"). */
	note: text("note").notNull().default(""),
	createdAt: createdAt(),
});

export const APPROVAL_KINDS = ["launch", "budget"] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];
export const APPROVAL_STATUSES = ["pending", "approved", "denied", "cancelled", "expired"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/**
 * Requests for an exception and the grants they become: a launch the portal refused (a type,
 * configuration or volume needing approval, an exhausted budget, a lifetime beyond the policy's
 * maximum), recorded on its own once approved; or a budget increase. A grant is time-boxed: it
 * holds until `grantUntil`, then the request is expired.
 */
export const approvals = sqliteTable("approvals", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	kind: text("kind", { enum: APPROVAL_KINDS }).notNull(),
	status: text("status", { enum: APPROVAL_STATUSES }).notNull().default("pending"),
	requesterId: integer("requester_id").notNull().references(() => users.id),
	/** The group whose managers decide; null: the admins (a cost center's or a user's budget outside any group). */
	groupId: integer("group_id").references(() => groups.id, { onDelete: "set null" }),
	budgetId: integer("budget_id").references(() => budgets.id, { onDelete: "set null" }),
	/** Why the portal refused, as the requester was told: one line per rule. */
	reasons: text("reasons", { mode: "json" }).$type<string[]>().notNull().default([]),
	/** What each reason is: type, config, volume, budget, lifetime. */
	needs: text("needs", { mode: "json" }).$type<string[]>().notNull().default([]),
	/** The launch asked for: its group, configuration and form, recorded as it is once approved. */
	launch: text("launch", { mode: "json" }).$type<
		{ groupId: number; configId: number; form: Record<string, string | string[]> }
	>(),
	/** A budget increase: the dollars asked for. */
	amount: real("amount"),
	/** Until when the requester asks for it. */
	until: integer("until", { mode: "timestamp_ms" }).notNull(),
	note: text("note").notNull().default(""),
	decidedBy: integer("decided_by").references(() => users.id),
	decidedAt: integer("decided_at", { mode: "timestamp_ms" }),
	comment: text("comment").notNull().default(""),
	/** What was granted: dollars (a budget increase) and until when. */
	grantAmount: real("grant_amount"),
	grantUntil: integer("grant_until", { mode: "timestamp_ms" }),
	/** The launch recorded when it was approved. */
	launchId: text("launch_id").references(() => launches.id),
	/** What became of an approved launch when it could not be recorded, in the requester's words. */
	outcome: text("outcome"),
	createdAt: createdAt(),
	updatedAt: updatedAt(),
}, (t) => [
	index("approvals_status_idx").on(t.status, t.grantUntil),
	index("approvals_requester_idx").on(t.requesterId, t.createdAt),
	index("approvals_launch_idx").on(t.launchId),
]);

export const NOTICE_TOPICS = ["budget", "approval"] as const;

/**
 * Notices to one user about a budget or a request (the banner's, besides the policies' actions):
 * each event once per recipient, whatever reads it again: the key names it (`budget:3:2025-03:warning`).
 */
export const userNotices = sqliteTable("user_notices", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
	topic: text("topic", { enum: NOTICE_TOPICS }).notNull(),
	key: text("key").notNull(),
	message: text("message").notNull(),
	/** Where the notice leads (the request, the budgets), a path of the portal. */
	href: text("href").notNull().default(""),
	at: integer("at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [uniqueIndex("user_notices_once").on(t.userId, t.key), index("user_notices_user_idx").on(t.userId, t.at)]);

/**
 * What AWS billed, from Cost Explorer: per UTC day, cost center and launch (the cost allocation
 * tags `Cost Center` and `mliy:launch-id`), with the group of that launch. Replaced day by day
 * as the daily job reads them again (AWS revises recent days).
 */
export const actualCosts = sqliteTable("actual_costs", {
	/** `2025-03-01`: Cost Explorer's days are UTC days. */
	day: text("day").notNull(),
	costCenter: text("cost_center").notNull(),
	/** Empty for portal-tagged cost without a launch id (tags not activated, or not on that resource). */
	launchId: text("launch_id").notNull(),
	groupId: integer("group_id").references(() => groups.id, { onDelete: "set null" }),
	amount: real("amount").notNull(),
	/** Whether AWS still calls the day's figure an estimate. */
	estimated: integer("estimated", { mode: "boolean" }).notNull().default(false),
	fetchedAt: integer("fetched_at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [primaryKey({ columns: [t.day, t.costCenter, t.launchId] }), index("actual_costs_group_idx").on(t.groupId)]);

/**
 * Personal API tokens (`Authorization: Bearer` on /api/): only the SHA-256 of each is kept (see
 * lib/auth/api_tokens.ts for why a plain hash is enough), with the first characters to tell
 * them apart on the profile. `admin` lets the token use its user's admin rights (admins only);
 * without it the token acts at most as a manager. Revoked tokens are kept for the record.
 */
export const apiTokens = sqliteTable("api_tokens", {
	id: integer("id").primaryKey({ autoIncrement: true }),
	userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
	name: text("name").notNull(),
	/** SHA-256 of the whole token, lower-case hex. */
	tokenHash: text("token_hash").notNull().unique(),
	/** The token's first characters (`mliy_AbC1`), shown on the profile to tell tokens apart. */
	prefix: text("prefix").notNull(),
	admin: integer("admin", { mode: "boolean" }).notNull().default(false),
	expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
	lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
	revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
	createdAt: createdAt(),
}, (t) => [index("api_tokens_user_idx").on(t.userId, t.createdAt)]);
