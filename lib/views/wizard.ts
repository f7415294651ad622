/**
 * The launch wizard's data, for every kind: the groups the viewer may launch into, a group's
 * configurations, the launch form of a configuration's kind (with its price panel, its machine
 * policy and, for clusters, the live estimate), and the confirmation of every kind's launch. Each checks the viewer's
 * entitlement first (lib/launch/entitlement.ts), so every step is refused as the launch would be.
 */
import type { Viewer } from "../auth/identify.ts";
import { clusterEstimate, costCenterOf, instanceRate, volumeRate } from "../billing/rates.ts";
import {
	groupSecurityGroupsOf,
	hasExtraVolume,
	launchableConfigs,
	launchableGroups,
	type SoftwareConfig,
	usableTypes,
} from "../db/catalog.ts";
import type { ConfigKind } from "../db/schema.ts";
import { displayName, listUsers } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { type ClusterOptions, defaultIdle, MAX_CORE_NODES, MIN_CORE_NODES, PURPOSE_MAX } from "../launch/cluster.ts";
import { checkInstanceType, type LaunchTarget, launchTarget } from "../launch/entitlement.ts";
import { defaultInstanceType } from "../launch/forms.ts";
import { sortInstanceTypes } from "../catalog/instance_types.ts";
import { listOf } from "../form_values.ts";
import { freeDefaultName } from "../machines/names.ts";
import { instanceNameFor, NAME_MAX } from "../machines/tags.ts";
import { MAX_SECURITY_GROUPS } from "../launch/instance.ts";
import { launchIdOfKey, type LaunchIds, newLaunchKey, recentLaunchOf, reviewLaunch } from "../launch/request.ts";
import { sanitizeDescription } from "../sanitize.ts";
import { estimateRate } from "./cluster.ts";
import type { Rate } from "./machines.ts";
import { type ConfirmedPolicy, confirmedPolicy, launchPolicyTerms, type PolicyTerms } from "./policy.ts";
import type { ApprovalRequired } from "../approvals/needs.ts";
import { launchFields } from "../approvals/requests.ts";
import { coveringStatuses } from "../budgets/status.ts";
import { budgetBar, type BudgetBarProps, type BudgetEffect, launchBudgetEffects } from "./budgets.ts";

/** A form's fields as submitted, for re-rendering: single values as text, repeated ones as lists. */
export type FormValues = Record<string, string | string[]>;

/** The group and configuration a step is about, as the step bar names them. */
export interface WizardTarget {
	group: { id: number; name: string };
	config: { id: number; name: string };
}

/** Step 1: the groups the viewer may launch into. */
export interface GroupsStepProps {
	groups: { id: number; name: string; costCenter: string; href: string }[];
	/** Whether the viewer is in any group (the empty state says which is missing). */
	member: boolean;
	/** Whom to ask, when there is no group to launch into. */
	contacts?: string;
}

/** A configuration on offer, with its sanitized description. */
export interface ConfigCard {
	id: number;
	name: string;
	descriptionHtml: string;
	href: string;
}

/** Step 2: a group's configurations, by kind. */
export interface ConfigsStepProps {
	group: { id: number; name: string };
	instance: ConfigCard[];
	cluster: ConfigCard[];
	/** Whom to ask, when the group offers nothing. */
	contacts?: string;
}

/** The price panel of an instance type in the configured region; for clusters with the EMR surcharge per node. */
export interface TypeInfoProps {
	type: string;
	prettyName: string | null;
	vcpu: number | null;
	memoryGib: number | null;
	gpus: number | null;
	/** EC2 compute units: a number, or the file's word for burstable types ("variable"); null when the file lacks it. */
	ecu: number | string | null;
	/** Whether the type is EBS-optimised (the original's "EBS Optimized"); null when the file does not say. */
	ebsOptimized: boolean | null;
	rate: Rate;
	region: string;
	os: string;
	emr?: Rate;
}

/** A cluster's cost estimate for the form's values; `rate` is null until they describe a cluster. */
export interface EstimateProps {
	rate: Rate | null;
	spot: boolean;
	discounted: boolean;
	minCoreNodes: number;
	maxCoreNodes: number;
}

/** An extra volume a configuration attaches. */
export interface ExtraVolume {
	sizeGb: number;
	device: string;
}

/** An instance type a launch form offers. */
export interface OfferedType {
	name: string;
	/** The admin's description of the type; empty when there is none. */
	description: string;
}

/** What the launch form of every kind is rendered from. */
interface LaunchFormBase extends WizardTarget {
	/** Where the form posts. */
	action: string;
	/** The previous step. */
	back: string;
	/** What submitting asks for: a review when the kind is confirmed first, else the launch itself. */
	intent: "review" | "launch";
	/** The instance types offered, by family and size, with the admin's descriptions. */
	types: OfferedType[];
	values: FormValues;
	/** The name the machine gets when the form leaves it empty: the configuration's, free among the viewer's machines. */
	nameDefault: string;
	nameMax: number;
	errors: Record<string, string>;
	message?: string;
	typeInfo: TypeInfoProps;
	/** The machine policy of the group and configuration: its rules, and the choices within its bounds. */
	policy?: PolicyTerms;
}

/** An instance's launch form: the type, the optional security groups, the extra volume. */
export interface InstanceFormProps extends LaunchFormBase {
	kind: "instance";
	optionalSecurityGroups: { sgId: string; name: string }[];
	/** How many default security groups the group always adds. */
	defaultSecurityGroups: number;
	maxSecurityGroups: number;
	extraVolume: ExtraVolume | null;
}

/** A cluster's launch form: `values` start from the defaults (the group's idle time); the live estimate. */
export interface ClusterFormProps extends LaunchFormBase {
	kind: "cluster";
	values: Record<string, string>;
	estimate: EstimateProps;
	limits: { minCoreNodes: number; maxCoreNodes: number; purposeMax: number };
}

/** Step 3, of the configuration's kind. */
export type LaunchFormProps = InstanceFormProps | ClusterFormProps;

/** The viewer's launch of the same configuration a moment ago, which the confirmation asks about. */
export interface RecentLaunch {
	href: string;
	stackName: string;
	secondsAgo: number;
}

/** What a confirmation of every kind shows and posts. */
interface ConfirmBase extends WizardTarget {
	action: string;
	/** The form again, to change something. */
	back: string;
	costCenter: string;
	/** The machine's name (its Name tag). */
	machineName: string;
	instanceType: string;
	/** The one-time key of this confirmation: posting it again returns the launch it made. */
	launchKey: string;
	/** The launch of the same configuration the viewer made within the repeat window, if any. */
	recent: RecentLaunch | null;
	/** The form's values, posted again with the launch. */
	resubmit: { name: string; value: string }[];
	/** The machine policy with the values chosen, which are posted again with the launch. */
	policy?: ConfirmedPolicy;
	/** What the launch does to each budget over it, the soonest to run out first. */
	budgetEffects: BudgetEffect[];
}

/** Step 4 for instances: what will be launched, with its cost, before it is recorded. */
export interface InstanceConfirmProps extends ConfirmBase {
	kind: "instance";
	rate: Rate;
	securityGroupIds: string[];
	extraVolume: ExtraVolume | null;
}

/**
 * A launch refused until someone approves it: why (with a budget's figures), the budgets over it,
 * and the request form, which posts the launch's fields again.
 */
export interface ApprovalNeededProps extends WizardTarget {
	reasons: string[];
	budgets: BudgetBarProps[];
	/** The launch's fields as submitted, posted with the request as `launch.<name>`. */
	fields: Record<string, string | string[]>;
	/** The earliest day a time box may end (today), and the one the form suggests (the end of the month). */
	today: string;
	until: string;
}

/** Step 4 for clusters: the cluster, its nodes, pricing and idle time, with its estimate. */
export interface ClusterConfirmProps extends ConfirmBase {
	kind: "cluster";
	rate: Rate;
	purpose: string;
	coreNodes: number;
	market: "ON_DEMAND" | "SPOT";
	bidPrice: number | null;
	idleSeconds: number;
}

/** Step 4, of the configuration's kind. */
export type ConfirmStepProps = InstanceConfirmProps | ClusterConfirmProps;

/** The kinds whose launch is confirmed before it is recorded (step 4). */
const CONFIRMED_KINDS: readonly ConfigKind[] = ["instance", "cluster"];

/** Who to ask when the viewer cannot launch: up to five admins, with their email. */
async function adminContacts(deps: Pick<Deps, "db" | "settings">): Promise<string> {
	const admins = (await listUsers(deps.db)).filter((u) =>
		u.role === "admin" || u.directoryRole === "admin" || deps.settings.ADMIN_USERNAMES.includes(u.username)
	);
	if (admins.length === 0) return "your portal administrator";
	return admins.slice(0, 5).map((u) => u.email ? `${displayName(u)} <${u.email}>` : displayName(u)).join(", ");
}

function wizardTarget(target: LaunchTarget): WizardTarget {
	return {
		group: { id: target.group.id, name: target.group.name },
		config: { id: target.config.id, name: target.config.name },
	};
}

function extraVolume(config: SoftwareConfig): ExtraVolume | null {
	return hasExtraVolume(config) ? { sizeGb: config.volumeSizeGb, device: config.volumeDevice } : null;
}

/** Step 1: the groups the viewer may launch into (in SQL), each with its cost center. */
export async function groupsStepView(deps: Deps, viewer: Viewer): Promise<GroupsStepProps> {
	const groups = await launchableGroups(deps.db, viewer.groupIds);
	return {
		groups: groups.map((g) => ({
			id: g.id,
			name: g.name,
			costCenter: costCenterOf(g, deps.settings.DEFAULT_CHARGE_CODE),
			href: `/launch/${g.id}`,
		})),
		member: viewer.groupIds.length > 0,
		contacts: groups.length === 0 ? await adminContacts(deps) : undefined,
	};
}

/** Step 2: the configurations a group the viewer may launch into offers, clusters only with EMR access. */
export async function configsStepView(
	deps: Deps,
	viewer: Viewer,
	groupId: number | undefined,
): Promise<ConfigsStepProps> {
	const { group } = await launchTarget(deps, viewer, { groupId });
	const configs = await launchableConfigs(deps.db, group.id);
	const cards = (kind: ConfigKind) =>
		configs.filter((cfg) => cfg.kind === kind).map((cfg) => ({
			id: cfg.id,
			name: cfg.name,
			descriptionHtml: sanitizeDescription(cfg.descriptionHtml),
			href: `/launch/${group.id}/${cfg.id}`,
		}));
	const instance = cards("instance");
	const cluster = group.emrAccess ? cards("cluster") : [];
	return {
		group: { id: group.id, name: group.name },
		instance,
		cluster,
		contacts: instance.length === 0 && cluster.length === 0 ? await adminContacts(deps) : undefined,
	};
}

function typeInfo(deps: Pick<Deps, "pricing" | "settings">, type: string, os: string, emr: boolean): TypeInfoProps {
	const info = deps.pricing.typeInfo(type);
	const region = deps.settings.AWS_REGION;
	return {
		type,
		prettyName: info?.prettyName ?? null,
		vcpu: info?.vcpu ?? null,
		memoryGib: info?.memoryGib ?? null,
		gpus: info?.gpus ?? null,
		ecu: info?.ecu ?? null,
		ebsOptimized: info?.ebsOptimized ?? null,
		rate: instanceRate(deps, { type, os }),
		region,
		os,
		...(emr ? { emr: deps.pricing.emrSurcharge(type, region) } : {}),
	};
}

/** The price panel of an instance type the configuration offers to the group. */
export async function typeInfoView(deps: Deps, viewer: Viewer, ids: LaunchIds, type: string): Promise<TypeInfoProps> {
	const target = await launchTarget(deps, viewer, ids);
	await checkInstanceType(deps, target, type);
	return typeInfo(deps, type, target.config.os, target.config.kind === "cluster");
}

function estimate(deps: Pick<Deps, "pricing" | "settings">, values: Record<string, string>): EstimateProps {
	const nodes = Number(values.coreNodes);
	const bid = Number(values.bidPrice);
	const spot = values.market === "SPOT";
	const valid = values.instanceType && Number.isInteger(nodes) && nodes >= MIN_CORE_NODES && nodes <= MAX_CORE_NODES;
	return {
		rate: valid
			? estimateRate(clusterEstimate(deps, {
				instanceType: values.instanceType!,
				coreNodes: nodes,
				market: values.market ?? "ON_DEMAND",
				bidPrice: spot && Number.isFinite(bid) && bid > 0 ? bid : undefined,
			}))
			: null,
		spot,
		discounted: deps.settings.AWS_DISCOUNT > 0,
		minCoreNodes: MIN_CORE_NODES,
		maxCoreNodes: MAX_CORE_NODES,
	};
}

/** A cluster's estimate for the form's current values, for a viewer who may launch the configuration. */
export async function estimateView(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	values: Record<string, string>,
): Promise<EstimateProps> {
	await launchTarget(deps, viewer, ids);
	return estimate(deps, values);
}

/** The last value of each field, as the single-valued cluster form shows it. */
function singleValues(values: FormValues): Record<string, string> {
	return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1) ?? "" : v]));
}

/** Step 3: the launch form of the configuration's kind, with the values and errors of a refused submission. */
export async function launchFormView(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	form: { values: FormValues; errors: Record<string, string>; message?: string },
): Promise<LaunchFormProps> {
	const target = await launchTarget(deps, viewer, ids);
	const { group, config } = target;
	const types = sortInstanceTypes(await usableTypes(deps.db, config.id, group.id))
		.map((t) => ({ name: t.name, description: t.description }));
	// Preselected: the configuration's default type when it is offered, else the first.
	const preferred = defaultInstanceType(config);
	const preselected = types.find((t) => t.name === preferred)?.name ?? types[0]?.name ?? "";
	const base: Omit<LaunchFormBase, "values" | "typeInfo"> = {
		...wizardTarget(target),
		policy: launchPolicyTerms(target, deps.settings.TIME_ZONE),
		action: `/launch/${group.id}/${config.id}`,
		back: `/launch/${group.id}`,
		intent: CONFIRMED_KINDS.includes(config.kind) ? "review" : "launch",
		types,
		nameDefault: await freeDefaultName(deps, viewer.id, instanceNameFor(group, config)),
		nameMax: NAME_MAX,
		errors: form.errors,
		message: form.message,
	};
	if (config.kind === "cluster") {
		const idle = defaultIdle(group);
		const values = {
			instanceType: preselected,
			coreNodes: "2",
			market: "ON_DEMAND",
			bidPrice: "",
			autoTerminateHours: String(idle.hours),
			autoTerminateMinutes: String(idle.minutes),
			purpose: "",
			...singleValues(form.values),
		};
		return {
			...base,
			kind: "cluster",
			values,
			typeInfo: typeInfo(deps, values.instanceType, "linux", true),
			estimate: estimate(deps, values),
			limits: { minCoreNodes: MIN_CORE_NODES, maxCoreNodes: MAX_CORE_NODES, purposeMax: PURPOSE_MAX },
		};
	}
	const [optional, defaults] = await Promise.all([
		groupSecurityGroupsOf(deps.db, group.id, "optional"),
		groupSecurityGroupsOf(deps.db, group.id, "default"),
	]);
	const chosen = form.values.instanceType;
	const selected = (typeof chosen === "string" ? chosen : undefined) ?? preselected;
	return {
		...base,
		kind: "instance",
		values: { ...form.values, instanceType: selected },
		typeInfo: typeInfo(deps, selected, config.os, false),
		optionalSecurityGroups: optional.map((sg) => ({ sgId: sg.sgId, name: sg.name })),
		defaultSecurityGroups: defaults.length,
		maxSecurityGroups: MAX_SECURITY_GROUPS,
		extraVolume: extraVolume(config),
	};
}

/** The form fields of each kind that the confirmation posts again. */
const RESUBMITTED: Record<ConfigKind, readonly string[]> = {
	instance: ["name", "instanceType", "securityGroups"],
	cluster: [
		"name",
		"instanceType",
		"purpose",
		"coreNodes",
		"market",
		"bidPrice",
		"autoTerminateHours",
		"autoTerminateMinutes",
	],
};

/**
 * Step 4: checks the launch as it would be recorded and returns its confirmation, with its launch
 * key (the one posted, when it is still unused, else a new one) and the viewer's launch of the same
 * configuration a moment ago, if any; undefined for a kind that launches without one. Throws as the
 * launch would (400 for a key not given to the viewer, 403, 404, 422 with field messages).
 */
export async function confirmStepView(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	raw: Record<string, unknown>,
): Promise<ConfirmStepProps | undefined> {
	const reviewed = await reviewLaunch(deps, viewer, ids, raw);
	const { group, config, planned } = reviewed;
	if (!CONFIRMED_KINDS.includes(config.kind)) return undefined;
	const posted = await launchIdOfKey(deps, viewer, raw.launchKey);
	const launchKey = posted && typeof raw.launchKey === "string" ? raw.launchKey : await newLaunchKey(deps, viewer);
	const previous = await recentLaunchOf(deps, viewer, config.id, posted);
	const now = deps.clock().getTime();
	const base: Omit<ConfirmBase, "budgetEffects"> = {
		...wizardTarget(reviewed),
		action: `/launch/${group.id}/${config.id}`,
		back: `/launch/${group.id}/${config.id}`,
		costCenter: costCenterOf(group, deps.settings.DEFAULT_CHARGE_CODE),
		machineName: String(planned.options.machineName ?? ""),
		instanceType: planned.instanceType,
		launchKey,
		recent: previous
			? {
				href: `/launches/${previous.id}`,
				stackName: previous.stackName,
				secondsAgo: Math.max(0, Math.round((now - previous.createdAt.getTime()) / 1000)),
			}
			: null,
		resubmit: RESUBMITTED[config.kind].flatMap((name) =>
			listOf(raw[name]).map((value) => ({ name, value: value.slice(0, 300) }))
		),
		policy: confirmedPolicy(reviewed, raw, deps.settings.TIME_ZONE),
	};
	const effects = (hourly: number | null) => launchBudgetEffects(deps, { group, userId: viewer.id, hourly });
	if (config.kind === "cluster") {
		const options = planned.options as unknown as ClusterOptions;
		const rate = estimateRate(clusterEstimate(deps, {
			instanceType: planned.instanceType,
			coreNodes: options.coreNodes,
			market: options.market,
			bidPrice: options.bidPrice ?? undefined,
		}));
		return {
			...base,
			kind: "cluster",
			rate,
			budgetEffects: await effects(rate.known ? rate.hourly : null),
			purpose: options.purpose,
			coreNodes: options.coreNodes,
			market: options.market,
			bidPrice: options.bidPrice,
			idleSeconds: options.idleSeconds,
		};
	}
	const rate = instanceRate(deps, { type: planned.instanceType, os: config.os });
	const volume = extraVolume(config);
	const volumeHourlyRate = volume ? volumeHourly(deps, config) : 0;
	return {
		...base,
		kind: "instance",
		rate,
		securityGroupIds: listOf(planned.options.securityGroupIds),
		extraVolume: volume,
		budgetEffects: await effects(rate.known && volumeHourlyRate !== null ? rate.hourly + volumeHourlyRate : null),
	};
}

/** The extra volume's $/hour, or null when its price is unknown. */
function volumeHourly(deps: Pick<Deps, "settings" | "clock">, config: SoftwareConfig): number | null {
	const volume = { volumeType: config.volumeType, sizeGb: config.volumeSizeGb };
	const { rate } = volumeRate(deps.settings, volume, deps.clock());
	return rate.known ? rate.hourly : null;
}

/** The refusal of a launch that needs an approval, with what the request form posts again. */
export async function approvalNeededView(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	refusal: ApprovalRequired,
	raw: Record<string, unknown>,
): Promise<ApprovalNeededProps> {
	const target = await launchTarget(deps, viewer, ids);
	const tz = deps.settings.TIME_ZONE;
	const today = Temporal.Instant.fromEpochMilliseconds(deps.clock().getTime()).toZonedDateTimeISO(tz).toPlainDate();
	const statuses = await coveringStatuses(deps, {
		groupId: target.group.id,
		userId: viewer.id,
		costCenter: costCenterOf(target.group, deps.settings.DEFAULT_CHARGE_CODE),
	});
	return {
		...wizardTarget(target),
		reasons: refusal.needs.map((n) => n.text),
		budgets: statuses.map((s) => budgetBar(s, tz)),
		fields: launchFields(raw),
		today: today.toString(),
		until: today.with({ day: today.daysInMonth }).toString(),
	};
}
