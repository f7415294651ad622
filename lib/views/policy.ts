/**
 * The machine policies as the pages show them, plain values for components: a machine's effective
 * policy with its owner's choices and the next planned action ("stops at 19:00 unless extended",
 * "idle for 12 min; stops after 30"), for a list of rows at once (the dashboard) or one machine in
 * full (the detail page's policy panel, with its forms), the policy in words for the wizard and
 * its confirmation, and the viewer's notices (the banner of every page).
 */
import type { Viewer } from "../auth/identify.ts";
import { catalogPolicies, openPolicyActions, type PolicyMachine, policyMachines } from "../db/policies.ts";
import { type ConfigKind, POLICY_REASONS } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { plansOf, type PolicyEntry, policyResolver } from "../policy/evaluate.ts";
import { activeNotices, noticeTime, type NoticeView } from "../policy/notices.ts";
import { explainPlan, noticeAt, type Plan, signalFreshMs } from "../policy/plan.ts";
import { machineUnderPolicy } from "../policy/signals.ts";
import {
	type EffectivePolicy,
	effectivePolicy,
	parseChoices,
	resolveChoices,
	type ResolvedPolicy,
} from "../policy/spec.ts";
import { machineKind } from "../machines/kinds.ts";

export type { NoticeView };
export { activeNotices };

/** The next action a machine's policy plans, as a row or a detail page shows it. */
export interface NextAction {
	reason: Plan["reason"];
	action: Plan["action"];
	at: Date;
	/** When its notice goes out (at or before `at`). */
	noticeAt: Date;
	/** "stops at 2025-03-01 19:00 UTC unless extended", "idle for 12 min; stops after 30". */
	summary: string;
	/** Why, in full. */
	why: string;
}

const VERB: Record<string, string> = { stop: "stops", start: "starts", terminate: "is terminated" };

/**
 * The plan in a few words, due `at`. An idle plan counts the idle minutes, unless a keep-alive
 * holds it (it counts from the keep-alive's end), or its time is set (an extend link postponed it,
 * or its notice is out): then the time is what matters.
 */
function summaryOf(plan: Plan, at: Date, now: Date, timeZone: string, noticed: boolean): string {
	const verb = VERB[plan.action] ?? plan.action;
	if (at.getTime() <= now.getTime()) return `${verb} now (due at ${noticeTime(at, timeZone)})`;
	const when = `${verb} at ${noticeTime(at, timeZone)}`;
	if (plan.reason === "idle") {
		const bare = verb.replace("is ", "");
		if (plan.since.getTime() > now.getTime()) {
			return `kept running until ${noticeTime(plan.since, timeZone)}; then ${bare} after ${plan.limit} idle min`;
		}
		const idle = Math.max(0, Math.floor((now.getTime() - plan.since.getTime()) / 60_000));
		const natural = plan.since.getTime() + (plan.limit ?? 0) * 60_000;
		if (noticed || at.getTime() > natural) {
			return `idle for ${idle} min; ${bare} at ${noticeTime(at, timeZone)} unless extended`;
		}
		return `idle for ${idle} min; ${bare} after ${plan.limit}`;
	}
	return `${when}${plan.action === "start" ? "" : " unless extended"}`;
}

/** Open notices' action times, by machine, reason, action and the deadline they were given for. */
type NoticedTimes = Map<string, Date>;

const noticedKey = (machineId: string, plan: { reason: string; action: string; deadline: Date }) =>
	`${machineId}|${plan.reason}|${plan.action}|${plan.deadline.getTime()}`;

/**
 * When the open notices of these machines act: a notice gives its whole lead time, so one that went
 * out late (the machine was started within it, its policy changed) acts after its plan's deadline.
 */
async function noticedTimes(db: Deps["db"], ids: readonly string[]): Promise<NoticedTimes> {
	const times: NoticedTimes = new Map();
	for (const action of await openPolicyActions(db, { ids, reasons: POLICY_REASONS })) {
		times.set(
			noticedKey(action.machineId, {
				reason: action.reason,
				action: action.action as Plan["action"],
				deadline: action.deadline,
			}),
			action.actAt,
		);
	}
	return times;
}

function nextOf(
	machineId: string,
	plans: Plan[],
	now: Date,
	timeZone: string,
	noticed: NoticedTimes,
): NextAction | undefined {
	const plan = plans[0];
	if (!plan) return undefined;
	const actAt = noticed.get(noticedKey(machineId, plan));
	const at = actAt && actAt > plan.deadline ? actAt : plan.deadline;
	return {
		reason: plan.reason,
		action: plan.action,
		at,
		noticeAt: noticeAt(plan),
		summary: summaryOf(plan, at, now, timeZone, actAt !== undefined),
		why: explainPlan(plan, (t) => noticeTime(t, timeZone)),
	};
}

/** The next planned action of each of these machines (the dashboard's rows), by id; one read for all. */
export async function nextActions(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	ids: readonly string[],
): Promise<Map<string, NextAction>> {
	if (ids.length === 0) return new Map();
	const now = deps.clock();
	const [machines, catalog, noticed] = await Promise.all([
		policyMachines(deps.db, ids),
		catalogPolicies(deps.db),
		noticedTimes(deps.db, ids),
	]);
	const resolve = policyResolver(catalog, deps.settings.TIME_ZONE, now);
	const freshMs = signalFreshMs(deps.settings);
	const found = new Map<string, NextAction>();
	for (const machine of machines) {
		const next = nextOf(
			machine.id,
			plansOf(machine, resolve(machine.groupId, machine.configId), now, freshMs),
			now,
			deps.settings.TIME_ZONE,
			noticed,
		);
		if (next) found.set(machine.id, next);
	}
	return found;
}

/** A machine's policy in full, for its detail page. */
export interface MachinePolicyView {
	policy: EffectivePolicy;
	/** The values that apply (the owner's choices within the policy). */
	applied: ResolvedPolicy;
	keepAliveUntil: Date | null;
	signals: { at: Date | null; activeAt: Date | null; reportedAt: Date | null };
	next?: NextAction;
	/** Every planned action, soonest first. */
	plans: NextAction[];
	/** Whether the viewer may change the choices (the owner or an admin); everyone who sees it may keep it alive. */
	mayChange: boolean;
}

/** The policy view of one machine the viewer may see (a 403 or 404 otherwise). */
export async function machinePolicyView(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	viewer: Viewer,
	target: { kind: ConfigKind; id: string },
): Promise<MachinePolicyView> {
	const machine = await machineUnderPolicy(deps, viewer, target, false);
	const now = deps.clock();
	const entry: PolicyEntry = policyResolver(
		{
			groups: new Map(
				machine.groupId === null ? [] : [[machine.groupId, {
					policy: machine.groupPolicy,
					webhook: "",
					name: "",
				}]],
			),
			configs: new Map(machine.configId === null ? [] : [[machine.configId, machine.configPolicy]]),
		},
		deps.settings.TIME_ZONE,
		now,
	)(machine.groupId, machine.configId);
	const plans = plansOf(machine as PolicyMachine, entry, now, signalFreshMs(deps.settings));
	const noticed = await noticedTimes(deps.db, [machine.id]);
	const views = plans.map((p) => nextOf(machine.id, [p], now, deps.settings.TIME_ZONE, noticed)!);
	return {
		policy: entry.policy,
		applied: resolveChoices(entry.policy, {
			idleMinutes: machine.idleMinutes,
			lifetimeHours: machine.lifetimeHours,
			autoStart: machine.autoStart,
		}),
		keepAliveUntil: machine.keepAliveUntil && machine.keepAliveUntil > now ? machine.keepAliveUntil : null,
		signals: { at: machine.signalAt, activeAt: machine.activeAt, reportedAt: machine.reportedAt },
		next: views[0],
		plans: views,
		mayChange: viewer.id === machine.ownerId || viewer.role === "admin",
	};
}

/** A notice as the banner of every page shows it: what will be done (or was, and why), with the way to postpone it. */
export interface BannerNotice {
	id: number;
	phase: NoticeView["phase"];
	/** "Instance i-… will be stopped at … by its idle policy: …", or what was done and why. */
	message: string;
	/** The machine's page. */
	machineHref: string;
	machineId: string;
	/** "stop", "terminate", …: what the extend link postpones. */
	action: string;
	/** The viewer's extend page, while the action can still be postponed. */
	extendPath?: string;
}

/** The machine page of a kind's machine. */
export function machineHref(kind: string, id: string): string {
	return `/${kind === "cluster" ? "clusters" : "instances"}/${id}`;
}

/** The viewer's notices for the banner (none when their banner channel is off). */
export async function bannerNotices(
	deps: Pick<Deps, "db" | "clock" | "settings" | "secret">,
	viewer: Viewer,
): Promise<BannerNotice[]> {
	return (await activeNotices(deps, viewer)).map((n) => ({
		id: n.id,
		phase: n.phase,
		message: n.message,
		machineHref: machineHref(n.kind, n.machineId),
		machineId: n.machineId,
		action: n.action,
		extendPath: n.extendPath,
	}));
}

/** A rule of a policy in words, as the wizard, the confirmation and the machine's page list them. */
export interface PolicyRule {
	name: string;
	text: string;
}

/** The values a user may choose for a machine, with their bounds; a rule that leaves no choice has no field. */
export interface PolicyChoiceFields {
	idle?: { min: number; max: number; default: number; label: string };
	lifetime?: { max: number };
	/** Whether the machine may be started when working hours begin (a yes or no). */
	autoStart: boolean;
}

/** The effective policy of a group and configuration for a kind of machine, as the pages show it. */
export interface PolicyTerms {
	/** Each rule that applies, with the values chosen (or the defaults); empty when none applies. */
	rules: PolicyRule[];
	fields: PolicyChoiceFields;
	/** What counts as activity, when an idle rule applies. */
	activity: string | null;
}

/** `30 min`, `2 h`, `1 h 30 min`, `3 days`. */
export function minutesText(minutes: number): string {
	if (minutes >= 1440 && minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? "" : "s"}`;
	if (minutes >= 60 && minutes % 60 === 0) return `${minutes / 60} h`;
	if (minutes > 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
	return `${minutes} min`;
}

/** `48 h`, or `5 days` from three days up. */
function hoursText(hours: number): string {
	return hours >= 72 && hours % 24 === 0 ? `${hours / 24} days` : `${hours} h`;
}

const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** ISO day numbers as `Mon–Fri`, or `Mon, Wed, Fri` when they are not a run. */
function daysText(days: readonly number[]): string {
	const sorted = [...days].sort((a, b) => a - b);
	const run = sorted.length > 2 && sorted.every((d, i) => i === 0 || d === sorted[i - 1]! + 1);
	const name = (d: number) => DAY_NAMES[d - 1] ?? String(d);
	return run ? `${name(sorted[0]!)}–${name(sorted.at(-1)!)}` : sorted.map(name).join(", ");
}

function clockText(minute: number): string {
	return `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
}

/**
 * The policy's rules in words for a kind, with `resolved` values where a machine (or a launch)
 * has them: a cluster cannot be stopped (its idle rule terminates it; working hours and dormancy
 * do not apply to it).
 */
export function policyTerms(
	policy: EffectivePolicy,
	kind: ConfigKind,
	timeZone: string,
	resolved: ResolvedPolicy = resolveChoices(policy, undefined),
): PolicyTerms {
	const states = machineKind(kind).policy;
	const rules: PolicyRule[] = [];
	const { idle, schedule, lifetime, dormancy } = policy;
	const canStop = states.stop === "stop";
	const canStart = !!states.start;
	if (idle) {
		const range = idle.minMinutes < idle.maxMinutes
			? ` (${minutesText(idle.minMinutes)} to ${minutesText(idle.maxMinutes)} may be chosen)`
			: "";
		rules.push({
			name: canStop ? "Idle stop" : "Idle termination",
			text: `${canStop ? "Stopped" : "Terminated"} after ${
				minutesText(resolved.idleMinutes ?? idle.defaultMinutes)
			} without activity${range}, with a notice ${minutesText(idle.noticeMinutes)} before.`,
		});
	}
	if (schedule && canStop) {
		const starts = canStart && resolved.autoStart ? ", started when they begin" : "";
		rules.push({
			name: "Working hours",
			text: `${daysText(schedule.days)} ${clockText(schedule.startMinute)}–${
				clockText(schedule.endMinute)
			} ${timeZone}: stopped when they end${starts}, with a notice ${minutesText(schedule.noticeMinutes)} before.`,
		});
	}
	if (lifetime) {
		rules.push({
			name: "Lifetime",
			text: `Terminated ${hoursText(resolved.lifetimeHours ?? lifetime.maxHours)} after its launch${
				lifetime.maxHours > 1 ? ` (at most ${hoursText(lifetime.maxHours)}; fewer may be chosen)` : ""
			}, with a notice ${minutesText(lifetime.noticeMinutes)} before.`,
		});
	}
	if (dormancy && states.stopped.length > 0) {
		rules.push({
			name: "Dormancy",
			text: `Terminated after ${minutesText(dormancy.days * 1440)} stopped, with a notice ${
				minutesText(dormancy.noticeMinutes)
			} before.`,
		});
	}
	if (rules.length > 0) {
		rules.push({
			name: "Postponing",
			text: `A notice's link${idle || (schedule && canStop) ? " or a keep-alive" : ""} postpones an action by at most ${
				minutesText(policy.maxPostponeMinutes)
			}.`,
		});
	}
	const t = policy.thresholds;
	return {
		rules,
		fields: {
			idle: idle && idle.minMinutes < idle.maxMinutes
				? {
					min: idle.minMinutes,
					max: idle.maxMinutes,
					default: idle.defaultMinutes,
					label: `Idle minutes before it ${canStop ? "stops" : "is terminated"}`,
				}
				: undefined,
			lifetime: lifetime && lifetime.maxHours > 1 ? { max: lifetime.maxHours } : undefined,
			autoStart: !!schedule?.autoStart && canStop && canStart,
		},
		activity: !idle
			? null
			: kind === "cluster"
			? "Activity is a running step, or EMR's IsIdle metric saying it is busy."
			: `Activity is CPU at or above ${t.cpuPercent}%, a GPU at or above ${t.gpuPercent}%, network at or above ${t.networkKBps} kB/s, a busy notebook kernel or an active session.`,
	};
}

/** The policy a launch into the group with the configuration falls under, for the wizard's form. */
export function launchPolicyTerms(
	target: { group: { policy: unknown }; config: { policy: unknown; kind: ConfigKind } },
	timeZone: string,
): PolicyTerms {
	return policyTerms(effectivePolicy(target.group.policy, target.config.policy), target.config.kind, timeZone);
}

/** What the confirmation shows of a launch's policy, and the choices it posts again. */
export interface ConfirmedPolicy {
	rules: PolicyRule[];
	/** The choices made, as the form's fields. */
	choices: [name: string, value: string][];
}

/** The policy of a reviewed launch (its choices already checked), with the values that will apply. */
export function confirmedPolicy(
	target: { group: { policy: unknown }; config: { policy: unknown; kind: ConfigKind } },
	raw: Record<string, unknown>,
	timeZone: string,
): ConfirmedPolicy {
	const policy = effectivePolicy(target.group.policy, target.config.policy);
	const made = parseChoices(policy, raw);
	const choices: [string, string][] = [];
	if (made.idleMinutes !== null) choices.push(["idleMinutes", String(made.idleMinutes)]);
	if (made.lifetimeHours !== null) choices.push(["lifetimeHours", String(made.lifetimeHours)]);
	if (made.autoStart !== null) choices.push(["autoStart", made.autoStart ? "on" : "off"]);
	return {
		rules: policyTerms(policy, target.config.kind, timeZone, resolveChoices(policy, made)).rules,
		choices,
	};
}

/** The owner's (or an admin's) form to change the machine's choices. */
export interface PolicyChangeForm {
	url: string;
	fields: PolicyChoiceFields;
	values: Record<string, string>;
	errors: Record<string, string>;
	/** The question asked first when the change may terminate the machine sooner. */
	confirm?: string;
}

/** The "keep running" control: how long, bounded by the policy. */
export interface KeepAliveForm {
	url: string;
	/** `for` values with their labels (`120m`, "2 hours"), at most the policy's longest postponement. */
	choices: { value: string; label: string }[];
	/** The longest, in words. */
	longest: string;
	/** What it holds: "its idle stop", "its idle and working-hours stops". */
	holds: string;
	/** Whether a keep-alive is on (it can be ended, after this question). */
	active: boolean;
	endConfirm: string;
	values: Record<string, string>;
	errors: Record<string, string>;
}

/** Which of the panel's forms a submission came from, what it said, and what came of it. */
export interface PolicySubmission {
	form: "change" | "keepAlive";
	values?: Record<string, string>;
	errors?: Record<string, string>;
	result: { tone: "ok" | "error"; text: string };
}

/** A machine's policy on its detail page. */
export interface PolicyPanelProps {
	kind: ConfigKind;
	id: string;
	/** The rules with the values that apply to this machine; empty when no rule applies. */
	rules: PolicyRule[];
	activity: string | null;
	/** Its last workload signal, the last one showing activity, and where they come from. */
	signals: { at: Date | null; activeAt: Date | null; source: string | null };
	keepAliveUntil: Date | null;
	/** Every planned action, soonest first. */
	plans: NextAction[];
	/** Null for a viewer who may not change it (not the owner or an admin), or when nothing can be chosen. */
	change: PolicyChangeForm | null;
	/** Null when nothing a keep-alive holds applies (no idle rule, no working hours), or the machine is not running. */
	keepAlive: KeepAliveForm | null;
	/** The outcome of the last submission of one of the forms. */
	result?: PolicySubmission["result"] & { form: PolicySubmission["form"] };
	timeZone: string;
	now: Date;
}

/** The keep-alive durations offered, in minutes; those beyond the policy's longest postponement are left out. */
const KEEP_ALIVE_STEPS = [30, 60, 120, 240, 480, 24 * 60, 3 * 24 * 60, 7 * 24 * 60];

function durationLabel(minutes: number): string {
	if (minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? "" : "s"}`;
	if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? "" : "s"}`;
	return `${minutes} minutes`;
}

/**
 * The policy panel of a machine the viewer may see, or null when it has ended (no policy applies
 * to it any more). `submitted` is a form's submission to show again (its values, errors, outcome).
 */
export async function policyPanelView(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	viewer: Viewer,
	target: { kind: ConfigKind; id: string; state: string },
	submitted?: PolicySubmission,
): Promise<PolicyPanelProps | null> {
	const kind = machineKind(target.kind);
	if (kind.endedStates.includes(target.state)) return null;
	const view = await machinePolicyView(deps, viewer, target);
	const tz = deps.settings.TIME_ZONE;
	const now = deps.clock();
	const terms = policyTerms(view.policy, target.kind, tz, view.applied);
	const base = target.kind === "cluster" ? "clusters" : "instances";
	const { fields } = terms;
	const mine = (form: PolicySubmission["form"]) => submitted?.form === form ? submitted : undefined;
	const changing = mine("change");
	const holding = mine("keepAlive");
	const chooses = !!(fields.idle || fields.lifetime || fields.autoStart);
	const terminates = !!fields.lifetime || (!!fields.idle && kind.policy.stop === "terminate");
	const holdsIdle = !!view.policy.idle;
	const holdsHours = !!view.policy.schedule && kind.policy.stop === "stop";
	const idleStop = kind.policy.stop === "stop" ? "its idle stop" : "its idle termination";
	const holds = holdsIdle && holdsHours
		? "its idle and working-hours stops"
		: holdsIdle
		? idleStop
		: "its working-hours stop";
	const fresh = view.signals.reportedAt &&
		now.getTime() - view.signals.reportedAt.getTime() <= signalFreshMs(deps.settings);
	const steps = KEEP_ALIVE_STEPS.filter((m) => m <= view.policy.maxPostponeMinutes);
	if (!steps.includes(view.policy.maxPostponeMinutes)) steps.push(view.policy.maxPostponeMinutes);
	return {
		kind: target.kind,
		id: target.id,
		rules: terms.rules,
		activity: terms.activity,
		signals: {
			at: view.signals.at,
			activeAt: view.signals.activeAt,
			source: !view.signals.at
				? null
				: fresh
				? "its activity agent"
				: target.kind === "cluster"
				? "EMR"
				: "CloudWatch (its activity agent does not report)",
		},
		keepAliveUntil: view.keepAliveUntil,
		plans: view.plans,
		change: view.mayChange && chooses
			? {
				url: `/${base}/${target.id}/policy`,
				fields,
				values: changing?.values ?? {
					idleMinutes: view.applied.idleMinutes === undefined ? "" : String(view.applied.idleMinutes),
					lifetimeHours: view.applied.lifetimeHours === undefined ? "" : String(view.applied.lifetimeHours),
					autoStart: view.applied.autoStart ? "on" : "off",
				},
				errors: changing?.errors ?? {},
				confirm: terminates
					? `Change the policy of ${target.id}? A shorter ${
						fields.lifetime ? "lifetime" : "idle limit"
					} can terminate it sooner (after its notice).`
					: undefined,
			}
			: null,
		keepAlive: (holdsIdle || holdsHours) && kind.policy.running.includes(target.state)
			? {
				url: `/${base}/${target.id}/keep-alive`,
				choices: steps.map((m) => ({ value: `${m}m`, label: durationLabel(m) })),
				longest: durationLabel(view.policy.maxPostponeMinutes),
				holds,
				endConfirm: `End the keep-alive of ${target.id}? ${holds.replace("its", "Its")} ${
					holdsIdle && holdsHours ? "apply again, after their notice" : "applies again, after its notice"
				}.`,
				active: view.keepAliveUntil !== null,
				values: holding?.values ?? {},
				errors: holding?.errors ?? {},
			}
			: null,
		result: submitted ? { ...submitted.result, form: submitted.form } : undefined,
		timeZone: tz,
		now,
	};
}

/** What a saved change of a machine's choices says. */
export function policySavedText(resolved: ResolvedPolicy, kind: ConfigKind): string {
	const stops = machineKind(kind).policy.stop === "stop" ? "idle stop" : "idle termination";
	const parts = [
		resolved.idleMinutes !== undefined ? `${stops} after ${minutesText(resolved.idleMinutes)}` : "",
		resolved.lifetimeHours !== undefined ? `lifetime ${hoursText(resolved.lifetimeHours)}` : "",
	].filter(Boolean);
	return `Policy saved${parts.length ? `: ${parts.join(", ")}` : ""}.`;
}

/** What a keep-alive set (or ended) from the machine's page says. */
export function keepAliveText(until: Date | null, timeZone: string): string {
	return until ? `Kept running until ${noticeTime(until, timeZone)}.` : "The keep-alive is ended.";
}
