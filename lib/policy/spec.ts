/**
 * Machine policies as admins write them on a group and on a configuration, the effective policy of
 * a machine (the stricter of the two, rule by rule), and the values a user may choose within its
 * bounds, at launch and later. Plain values and zod schemas: the catalogue forms and import, the
 * launch request, the "change my machine's policy" call and the enforcer all read them from here.
 */
import { z } from "zod";
import { UserError } from "../errors.ts";

/** Days of the week as the forms and the document write them; index + 1 is ISO's (and Temporal's) day number. */
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const MINUTES_PER_DAY = 24 * 60;
const WEEK_MINUTES = 7 * MINUTES_PER_DAY;

/** An empty form field is "not set": the schema's default (or null) applies. */
const blankIsUnset = (value: unknown) =>
	value === "" || value === undefined || (typeof value === "string" && value.trim() === "") ? undefined : value;

const wholeNumber = (min: number, max: number, unit: string) =>
	z.coerce.number({ error: `A number of ${unit}` }).int(`A whole number of ${unit}`)
		.min(min, `At least ${min} ${unit}`).max(max, `At most ${max} ${unit}`);
/** A whole number in [min, max], `fallback` when not given. */
const whole = (min: number, max: number, unit: string, fallback: number) =>
	z.preprocess(blankIsUnset, wholeNumber(min, max, unit).default(fallback));
const percent = (fallback: number) =>
	z.preprocess(
		blankIsUnset,
		z.coerce.number({ error: "A percentage" }).min(0, "0 to 100").max(100, "0 to 100").default(fallback),
	);
/** A rule's limit: unset (null) means the rule is off. */
const limit = (min: number, max: number, unit: string) =>
	z.preprocess((v) => blankIsUnset(v) ?? null, wholeNumber(min, max, unit).nullable());
const clock = z.preprocess(
	(v) => blankIsUnset(v) ?? null,
	z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "A time like 08:00 or 19:30").nullable(),
);
const flag = z.preprocess((v) => v === true || v === "on" || v === "true" || v === "1", z.boolean());

/**
 * A policy as stored on a group or a configuration. Every limit is optional (null: the rule is
 * off there); lead times are how long before the action its notice goes out. Working hours are a
 * group's only (a configuration's are ignored).
 */
export const policySpecSchema = z.object({
	/** Idle minutes before a stop (a cluster: terminate); the users' default. */
	idleMinutes: limit(5, WEEK_MINUTES, "minutes"),
	/** The least and most idle minutes a user may choose; unset: the default itself. */
	idleMinMinutes: limit(5, WEEK_MINUTES, "minutes"),
	idleMaxMinutes: limit(5, WEEK_MINUTES, "minutes"),
	idleNoticeMinutes: whole(0, MINUTES_PER_DAY, "minutes", 10),
	/** Signals below these (and no busy kernel, no active session) count as idle. */
	idleCpuPercent: percent(10),
	idleGpuPercent: percent(10),
	idleNetworkKBps: z.preprocess(
		blankIsUnset,
		z.coerce.number({ error: "A number of kB/s" }).min(0, "At least 0").max(1_000_000, "At most 1,000,000")
			.default(50),
	),
	/** Hours after launch after which the machine is terminated; users may choose fewer. */
	lifetimeHours: limit(1, 24 * 3650, "hours"),
	lifetimeNoticeMinutes: whole(0, 7 * MINUTES_PER_DAY, "minutes", 24 * 60),
	/** Days a machine may stay stopped before it is terminated. */
	dormancyDays: limit(1, 3650, "days"),
	dormancyNoticeMinutes: whole(0, 7 * MINUTES_PER_DAY, "minutes", 24 * 60),
	/** The longest one extend link or keep-alive postpones an action (and lifetime and dormancy in all). */
	maxPostponeMinutes: whole(15, WEEK_MINUTES, "minutes", 8 * 60),
	/** Working days (empty: no working hours), and the window in TIME_ZONE. */
	workDays: z.preprocess(
		(v) => typeof v === "string" ? v.split(/[\s,]+/).filter(Boolean) : Array.isArray(v) ? v : v ?? [],
		z.array(z.enum(WEEKDAYS, { error: `Days as ${WEEKDAYS.join(", ")}` })),
	).transform((days) => WEEKDAYS.filter((d) => days.includes(d))).default([]),
	workStart: clock,
	workEnd: clock,
	/** Start the machines the schedule stopped when working hours begin. */
	workAutoStart: flag,
	scheduleNoticeMinutes: whole(0, MINUTES_PER_DAY, "minutes", 15),
}).superRefine((p, ctx) => {
	if (p.idleMinutes === null && (p.idleMinMinutes !== null || p.idleMaxMinutes !== null)) {
		ctx.addIssue({ code: "custom", path: ["idleMinutes"], message: "Set a default to give users a range" });
	}
	if (p.idleMinutes !== null) {
		if (p.idleMinMinutes !== null && p.idleMinMinutes > p.idleMinutes) {
			ctx.addIssue({ code: "custom", path: ["idleMinMinutes"], message: "At most the default" });
		}
		if (p.idleMaxMinutes !== null && p.idleMaxMinutes < p.idleMinutes) {
			ctx.addIssue({ code: "custom", path: ["idleMaxMinutes"], message: "At least the default" });
		}
	}
	const hours = [p.workStart, p.workEnd];
	if (p.workDays.length > 0 || hours.some((h) => h !== null)) {
		if (p.workDays.length === 0) {
			ctx.addIssue({ code: "custom", path: ["workDays"], message: "Choose the working days" });
		}
		if (p.workStart === null) {
			ctx.addIssue({ code: "custom", path: ["workStart"], message: "When working hours begin" });
		}
		if (p.workEnd === null) ctx.addIssue({ code: "custom", path: ["workEnd"], message: "When working hours end" });
		if (p.workStart !== null && p.workEnd !== null && p.workEnd <= p.workStart) {
			ctx.addIssue({ code: "custom", path: ["workEnd"], message: "After the beginning (on the same day)" });
		}
	}
});
export type PolicySpec = z.infer<typeof policySpecSchema>;

const DEFAULTS: PolicySpec = policySpecSchema.parse({});

/**
 * A policy as a catalogue row stores it (and the document shows it): only what differs from the
 * defaults, so a group without a policy stores `{}` and a document names only the rules it sets.
 */
export function storedPolicy(spec: PolicySpec): Record<string, unknown> {
	return Object.fromEntries(
		Object.entries(spec).filter(([key, value]) =>
			JSON.stringify(value) !== JSON.stringify(DEFAULTS[key as keyof PolicySpec])
		),
	);
}

/** The policy a stored value (a catalogue row's JSON, perhaps from an older version) holds; every rule off when unreadable. */
export function readPolicySpec(stored: unknown): PolicySpec {
	const parsed = policySpecSchema.safeParse(stored ?? {});
	return parsed.success ? parsed.data : policySpecSchema.parse({});
}

/** The fields of a policy, as a form names them: `policy.idleMinutes` and so on. */
export const POLICY_FIELD_PREFIX = "policy.";

/** The policy in a submitted form's `policy.*` fields (an import gives the object itself). */
export function policyFromForm(values: Record<string, unknown>): Record<string, unknown> {
	const policy: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(values)) {
		if (key.startsWith(POLICY_FIELD_PREFIX)) policy[key.slice(POLICY_FIELD_PREFIX.length)] = value;
	}
	return policy;
}

/** A stored policy as the form's `policy.*` values. */
export function policyFormValues(stored: unknown): Record<string, string | string[]> {
	const spec = readPolicySpec(stored);
	const values: Record<string, string | string[]> = {};
	for (const [key, value] of Object.entries(spec)) {
		const name = `${POLICY_FIELD_PREFIX}${key}`;
		if (Array.isArray(value)) values[name] = value;
		else if (typeof value === "boolean") values[name] = value ? "on" : "";
		else values[name] = value === null ? "" : String(value);
	}
	return values;
}

/** What counts as activity: a signal at or above one of these, a busy kernel or an active session. */
export interface IdleThresholds {
	cpuPercent: number;
	gpuPercent: number;
	networkKBps: number;
}

/** The effective policy of a machine: each rule present only when one side sets it. */
export interface EffectivePolicy {
	idle?: { defaultMinutes: number; minMinutes: number; maxMinutes: number; noticeMinutes: number };
	thresholds: IdleThresholds;
	schedule?: {
		/** ISO day numbers: 1 Monday … 7 Sunday. */
		days: number[];
		/** Minutes after midnight in TIME_ZONE. */
		startMinute: number;
		endMinute: number;
		autoStart: boolean;
		noticeMinutes: number;
	};
	lifetime?: { maxHours: number; noticeMinutes: number };
	dormancy?: { days: number; noticeMinutes: number };
	maxPostponeMinutes: number;
}

/** Whether a policy has any rule at all (a machine under none is skipped by the enforcer). */
export function hasRules(policy: EffectivePolicy): boolean {
	return !!(policy.idle || policy.schedule || policy.lifetime || policy.dormancy);
}

function minuteOfDay(time: string): number {
	return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/** The idle rule of one side: its default, bounds and lead. */
function idleRule(p: PolicySpec) {
	if (p.idleMinutes === null) return undefined;
	return {
		defaultMinutes: p.idleMinutes,
		minMinutes: p.idleMinMinutes ?? p.idleMinutes,
		maxMinutes: p.idleMaxMinutes ?? p.idleMinutes,
		noticeMinutes: p.idleNoticeMinutes,
	};
}

/** Of two rules of one kind, the stricter (smaller `key`); on a tie the one that warns earlier. */
function stricter<R extends { noticeMinutes: number }>(a: R | undefined, b: R | undefined, key: (r: R) => number) {
	if (!a || !b) return a ?? b;
	if (key(a) !== key(b)) return key(a) < key(b) ? a : b;
	return a.noticeMinutes >= b.noticeMinutes ? a : b;
}

/**
 * The policy that applies to a machine of the group and configuration: for each rule the stricter
 * of the two (a shorter limit, with that side's lead time); the users' idle range is where both
 * ranges meet (the stricter side's range when they do not); thresholds are the higher of the two sides
 * that have an idle rule; working hours are the group's.
 */
export function effectivePolicy(groupPolicy: unknown, configPolicy: unknown): EffectivePolicy {
	const group = readPolicySpec(groupPolicy);
	const config = readPolicySpec(configPolicy);
	const [gi, ci] = [idleRule(group), idleRule(config)];
	let idle = stricter(gi, ci, (r) => r.defaultMinutes);
	if (gi && ci && idle) {
		const maxMinutes = Math.min(gi.maxMinutes, ci.maxMinutes);
		const minMinutes = Math.max(gi.minMinutes, ci.minMinutes);
		// Ranges that do not meet leave the stricter side's as it is.
		if (minMinutes <= maxMinutes) {
			idle = { ...idle, minMinutes, maxMinutes, defaultMinutes: clamp(idle.defaultMinutes, minMinutes, maxMinutes) };
		}
	}
	const idleSides = [gi ? group : undefined, ci ? config : undefined].filter((p) => p !== undefined);
	const sides = idleSides.length ? idleSides : [group, config];
	const thresholds: IdleThresholds = {
		cpuPercent: Math.max(...sides.map((p) => p.idleCpuPercent)),
		gpuPercent: Math.max(...sides.map((p) => p.idleGpuPercent)),
		networkKBps: Math.max(...sides.map((p) => p.idleNetworkKBps)),
	};
	const lifetime = stricter(
		group.lifetimeHours === null
			? undefined
			: { maxHours: group.lifetimeHours, noticeMinutes: group.lifetimeNoticeMinutes },
		config.lifetimeHours === null
			? undefined
			: { maxHours: config.lifetimeHours, noticeMinutes: config.lifetimeNoticeMinutes },
		(r) => r.maxHours,
	);
	const dormancy = stricter(
		group.dormancyDays === null ? undefined : { days: group.dormancyDays, noticeMinutes: group.dormancyNoticeMinutes },
		config.dormancyDays === null
			? undefined
			: { days: config.dormancyDays, noticeMinutes: config.dormancyNoticeMinutes },
		(r) => r.days,
	);
	const schedule = group.workDays.length && group.workStart && group.workEnd
		? {
			days: group.workDays.map((d) => WEEKDAYS.indexOf(d) + 1),
			startMinute: minuteOfDay(group.workStart),
			endMinute: minuteOfDay(group.workEnd),
			autoStart: group.workAutoStart,
			noticeMinutes: group.scheduleNoticeMinutes,
		}
		: undefined;
	return {
		idle,
		thresholds,
		schedule,
		lifetime,
		dormancy,
		maxPostponeMinutes: Math.min(group.maxPostponeMinutes, config.maxPostponeMinutes),
	};
}

function clamp(value: number, min: number, max: number): number {
	return Math.min(max, Math.max(min, value));
}

/** What a user chose for one machine (null: the policy's own value). */
export interface PolicyChoices {
	idleMinutes: number | null;
	lifetimeHours: number | null;
	autoStart: boolean | null;
}

/** The choices of a form (the launch wizard's or the machine page's); every field optional. */
const choicesSchema = z.object({
	idleMinutes: limit(5, WEEK_MINUTES, "minutes"),
	lifetimeHours: limit(1, 24 * 3650, "hours"),
	autoStart: z.preprocess(
		(v) => v === undefined || v === "" || v === null ? null : v === true || v === "on" || v === "true" || v === "1",
		z.boolean().nullable(),
	),
});

/**
 * Validates a user's choices against the machine's effective policy: a 422 naming each field
 * that is not a value of its kind, outside its bounds, or set for a rule the policy does not have
 * (all of them at once: the fields that do read are checked against the bounds too).
 */
export function parseChoices(policy: EffectivePolicy, raw: Record<string, unknown>): PolicyChoices {
	const parsed = choicesSchema.safeParse(raw);
	const fields: Record<string, string> = {};
	if (!parsed.success) {
		for (const issue of parsed.error.issues) fields[String(issue.path[0])] ??= issue.message;
	}
	const readable = Object.fromEntries(Object.entries(raw).filter(([key]) => !(key in fields)));
	const rest = parsed.success ? parsed : choicesSchema.safeParse(readable);
	const choices: PolicyChoices = rest.success ? rest.data : { idleMinutes: null, lifetimeHours: null, autoStart: null };
	const { idle, lifetime, schedule } = policy;
	if (choices.idleMinutes !== null) {
		if (!idle) fields.idleMinutes = "This machine has no idle stop to set";
		else if (choices.idleMinutes < idle.minMinutes || choices.idleMinutes > idle.maxMinutes) {
			fields.idleMinutes = idle.minMinutes === idle.maxMinutes
				? `The policy sets ${idle.minMinutes} minutes`
				: `Between ${idle.minMinutes} and ${idle.maxMinutes} minutes`;
		}
	}
	if (choices.lifetimeHours !== null) {
		if (!lifetime) fields.lifetimeHours = "This machine has no lifetime to set";
		else if (choices.lifetimeHours > lifetime.maxHours) fields.lifetimeHours = `At most ${lifetime.maxHours} hours`;
	}
	if (choices.autoStart === true && !schedule?.autoStart) {
		fields.autoStart = "The group's working hours do not start machines";
	}
	if (Object.keys(fields).length) throw new UserError(422, "Please correct the marked fields.", { fields });
	return choices;
}

/** The values that apply to one machine: its owner's choices, kept within the policy as it is now. */
export interface ResolvedPolicy {
	idleMinutes?: number;
	lifetimeHours?: number;
	autoStart: boolean;
}

export function resolveChoices(policy: EffectivePolicy, choices: Partial<PolicyChoices> | undefined): ResolvedPolicy {
	const { idle, lifetime, schedule } = policy;
	return {
		idleMinutes: idle
			? clamp(choices?.idleMinutes ?? idle.defaultMinutes, idle.minMinutes, idle.maxMinutes)
			: undefined,
		lifetimeHours: lifetime ? Math.min(choices?.lifetimeHours ?? lifetime.maxHours, lifetime.maxHours) : undefined,
		autoStart: !!schedule?.autoStart && (choices?.autoStart ?? true),
	};
}
