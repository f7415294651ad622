/**
 * Workload signals, and keep-alives. An instance reports its own activity every minute (CPU, GPU,
 * busy notebook kernels, active sessions, network) with its launch's token; where an instance
 * does not report, the sync asks CloudWatch for its CPUUtilization, and for a cluster EMR's IsIdle
 * (or its running steps), all the machines in one batched GetMetricData. Each report is judged
 * against the machine's thresholds when it arrives, so the enforcer reads only when a machine was
 * last active and whether its signals are fresh. A keep-alive ("keep running until…") holds the
 * idle and schedule stops, as far as the policy allows.
 */
import { z } from "zod";
import type { Viewer } from "../auth/identify.ts";
import { canTerminate, mayView } from "../auth/permissions.ts";
import type { MetricQuery } from "../aws/types.ts";
import type { ConfigKind } from "../db/schema.ts";
import {
	catalogPolicies,
	type PolicyMachine,
	policyMachines,
	recordSignals,
	setMachinePolicy,
	type SignalReport,
} from "../db/policies.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { INSTANCE_ID } from "../machines/ids.ts";
import { machineKind } from "../machines/kinds.ts";
import { instanceTokenMatches } from "../tokens.ts";
import { policyResolver } from "./evaluate.ts";
import { signalFreshMs } from "./plan.ts";
import { effectivePolicy, type IdleThresholds } from "./spec.ts";

/** What an instance's activity script reports (JSON), checked strictly: anything else is refused. */
const activitySchema = z.strictObject({
	/** CPU busy over the last interval, percent of all cores. */
	cpu: z.number({ error: "cpu must be a number (percent)" }).min(0, "cpu is 0 to 100").max(100, "cpu is 0 to 100"),
	/** The busiest GPU's utilisation; null or absent without GPUs. */
	gpu: z.number({ error: "gpu must be a number (percent) or null" }).min(0, "gpu is 0 to 100")
		.max(100, "gpu is 0 to 100").nullable().default(null),
	/** Notebook kernels executing now. */
	kernels: z.number({ error: "kernels must be a whole number" }).int("kernels must be a whole number")
		.min(0, "kernels is at least 0").max(100_000, "kernels is at most 100,000").default(0),
	/** Interactive sessions with input in the last minute. */
	sessions: z.number({ error: "sessions must be a whole number" }).int("sessions must be a whole number")
		.min(0, "sessions is at least 0").max(100_000, "sessions is at most 100,000").default(0),
	/** Network bytes in and out per second over the last interval. */
	network: z.number({ error: "network must be a whole number (bytes per second)" })
		.int("network must be a whole number (bytes per second)").min(0, "network is at least 0")
		.max(1e12, "network is at most 10^12 bytes per second").default(0),
});
export type ActivityReport = z.infer<typeof activitySchema>;

/** The largest report body read (a report is under 200 bytes). */
export const ACTIVITY_BODY_LIMIT = 4096;

/** Whether a report shows activity under the thresholds. */
export function isActive(report: ActivityReport, thresholds: IdleThresholds): boolean {
	return report.cpu >= thresholds.cpuPercent ||
		(report.gpu !== null && report.gpu >= thresholds.gpuPercent) ||
		report.kernels > 0 || report.sessions > 0 ||
		report.network / 1000 >= thresholds.networkKBps;
}

/** A call of the activity endpoint as the route received it. */
export interface InstanceCall {
	instanceId: string;
	/** The launch's token (the X-MLiy-Progress-Token header); null when missing. */
	token: string | null;
}

/** The instance a call is from, once its token matched the launch's: a 404 or 403 otherwise, nothing written. */
async function callingInstance(deps: Pick<Deps, "reports" | "log">, call: InstanceCall) {
	if (!INSTANCE_ID.test(call.instanceId)) throw new UserError(404, `No instance ${call.instanceId.slice(0, 40)}`);
	const instance = await deps.reports.activityTarget(call.instanceId);
	if (!instance) throw new UserError(404, `No instance ${call.instanceId} is known to the portal`);
	const allowed = !!call.token && call.token.length <= 256 &&
		await instanceTokenMatches(instance.id, call.token, instance.tokenHash);
	if (!allowed) {
		deps.log.web.warn("refused activity call for {instanceId}", {
			instanceId: call.instanceId,
			withToken: !!call.token,
		});
		throw new UserError(403, "This call is not from the instance: its launch's token is missing or wrong");
	}
	if (machineKind("instance").endedStates.includes(instance.state)) {
		throw new UserError(409, `Instance ${call.instanceId} has ended`);
	}
	return instance;
}

/** Parses a JSON body, or a 400 saying it is not JSON. */
function jsonBody(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		throw new UserError(400, "The body must be a JSON object");
	}
}

/** Validates with a schema: a 422 naming every refused field of `what` (the report, the keep-alive). */
function parsed<T>(schema: z.ZodType<T>, value: unknown, what = "report"): T {
	const result = schema.safeParse(value);
	if (result.success) return result.data;
	const fields: Record<string, string> = {};
	for (const issue of result.error.issues) {
		const key = issue.code === "unrecognized_keys" ? issue.keys.join(", ") : String(issue.path[0] ?? "body");
		fields[key] ??= issue.code === "unrecognized_keys" ? "not a field of the report" : issue.message;
	}
	throw new UserError(
		422,
		`The ${what} is not valid: ${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join("; ")}`,
		{
			fields,
		},
	);
}

/**
 * Records an activity report of an instance; returns whether it counted as activity. The instance is
 * checked as the report queue caches it, and the report is written with the others of its window.
 */
export async function recordActivity(
	deps: Pick<Deps, "reports" | "clock" | "log">,
	call: InstanceCall & { body: string },
): Promise<{ active: boolean }> {
	const instance = await callingInstance(deps, call);
	const report = parsed(activitySchema, jsonBody(call.body));
	const { thresholds } = effectivePolicy(instance.groupPolicy ?? {}, instance.configPolicy ?? {});
	const now = deps.clock();
	const active = isActive(report, thresholds);
	deps.reports.activity({
		machineId: instance.id,
		at: now,
		activeAt: active ? now : undefined,
		values: {
			cpuPercent: report.cpu,
			gpuPercent: report.gpu,
			kernelsBusy: report.kernels,
			sessions: report.sessions,
			networkBytesPerSecond: report.network,
		},
	});
	return { active };
}

/** A keep-alive as asked: for a duration (`3h`, `90m`, `2d`; `0` ends it) or until a time (`18:00` in TIME_ZONE, or ISO). */
const keepAliveSchema = z.strictObject({
	for: z.string().regex(/^\d{1,5}\s*[mhd]?$/i, "a duration like 90m, 3h or 2d").optional(),
	until: z.string().max(40, "a time like 18:00, or a date and time").optional(),
}).refine((k) => (k.for === undefined) !== (k.until === undefined), "either for or until");

/** The instant a keep-alive asks for; null ends the keep-alive. */
export function keepAliveUntil(
	raw: { for?: string; until?: string },
	now: Date,
	timeZone: string,
): Date | null {
	if (raw.for !== undefined) {
		const match = /^(\d+)\s*([mhd]?)$/i.exec(raw.for.trim())!;
		const minutes = Number(match[1]) * ({ m: 1, h: 60, d: 1440 }[match[2]!.toLowerCase() || "m"] ?? 1);
		return minutes === 0 ? null : new Date(now.getTime() + minutes * 60_000);
	}
	const until = raw.until!.trim();
	const clock = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(until);
	if (clock) {
		const today = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(timeZone);
		let at = today.with({ hour: Number(clock[1]), minute: Number(clock[2]), second: 0, millisecond: 0 });
		if (at.epochMilliseconds <= now.getTime()) at = at.add({ days: 1 });
		return new Date(at.epochMilliseconds);
	}
	const at = new Date(until);
	if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(until)) {
		throw new UserError(422, "until must be a time like 18:00 or a date and time like 2025-03-01T18:00:00Z", {
			fields: { until: "a time like 18:00" },
		});
	}
	return at;
}

/** Sets a machine's keep-alive within its policy's limit; returns until when (null: ended). */
async function keepAlive(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	machine: { kind: ConfigKind; id: string; groupPolicy: unknown; configPolicy: unknown },
	raw: unknown,
): Promise<Date | null> {
	const ask = parsed(keepAliveSchema, raw, "keep-alive");
	const now = deps.clock();
	const until = keepAliveUntil(ask, now, deps.settings.TIME_ZONE);
	const { maxPostponeMinutes } = effectivePolicy(machine.groupPolicy, machine.configPolicy);
	if (until && until.getTime() <= now.getTime()) {
		throw new UserError(422, "The keep-alive must end in the future", { fields: { until: "in the future" } });
	}
	if (until && until.getTime() > now.getTime() + maxPostponeMinutes * 60_000) {
		throw new UserError(
			422,
			`The policy keeps a machine running at most ${formatMinutes(maxPostponeMinutes)} ahead`,
			{ fields: { [ask.for !== undefined ? "for" : "until"]: `at most ${formatMinutes(maxPostponeMinutes)}` } },
		);
	}
	await setMachinePolicy(deps.db, machine, { keepAliveUntil: until }, now);
	return until;
}

function formatMinutes(minutes: number): string {
	return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

/** The activity endpoint's keep-alive (`mliy-keepalive`): the instance's token, a JSON body. */
export async function keepAliveFromInstance(
	deps: Pick<Deps, "db" | "reports" | "clock" | "settings" | "log">,
	call: InstanceCall & { body: string },
): Promise<Date | null> {
	const instance = await callingInstance(deps, call);
	return await keepAlive(deps, {
		kind: "instance",
		id: instance.id,
		groupPolicy: instance.groupPolicy ?? {},
		configPolicy: instance.configPolicy ?? {},
	}, jsonBody(call.body));
}

/**
 * "Keep running until…" on a machine's page, for whoever may control it (owner, teammate, manager,
 * admin): `raw` is `{ for }` or `{ until }` as the endpoint takes them.
 */
export async function keepMachineAlive(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	viewer: Viewer,
	target: { kind: ConfigKind; id: string },
	raw: Record<string, unknown>,
): Promise<Date | null> {
	const machine = await machineUnderPolicy(deps, viewer, target, false);
	const ask: Record<string, unknown> = {};
	for (const key of ["for", "until"]) if (typeof raw[key] === "string" && raw[key] !== "") ask[key] = raw[key];
	if (Object.keys(ask).length === 0) {
		throw new UserError(422, "Choose how long to keep it running, or until when.", {
			fields: { until: "A time like 18:00" },
		});
	}
	return await keepAlive(deps, machine, ask);
}

/**
 * A machine with its group's and configuration's policies, if the viewer may see it (and, with
 * `ownerOnly`, is its owner or an admin): a 404 or 403 otherwise.
 */
export async function machineUnderPolicy(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	target: { kind: ConfigKind; id: string },
	ownerOnly: boolean,
): Promise<PolicyMachine & { groupPolicy: unknown; configPolicy: unknown }> {
	const kind = machineKind(target.kind);
	const [machine] = await policyMachines(deps.db, [target.id]);
	if (!machine || machine.kind !== target.kind) {
		throw new UserError(404, `No ${kind.noun} ${target.id.slice(0, 40)} is known to the portal`);
	}
	if (!await mayView(deps.db, viewer, machine)) {
		throw new UserError(403, `This ${kind.noun} belongs to someone outside your groups.`);
	}
	if (ownerOnly && !canTerminate(viewer, machine.ownerId)) {
		throw new UserError(403, `Only the owner or an admin may change this ${kind.noun}'s policy.`);
	}
	const catalog = await catalogPolicies(deps.db);
	return {
		...machine,
		groupPolicy: machine.groupId === null ? {} : catalog.groups.get(machine.groupId)?.policy ?? {},
		configPolicy: machine.configId === null ? {} : catalog.configs.get(machine.configId) ?? {},
	};
}

/** The period of the CloudWatch datapoints asked for (EC2's basic monitoring is every 5 minutes). */
const PERIOD_SECONDS = 300;
/** How far back a sync looks: a few periods, since CloudWatch publishes with a delay. */
const LOOKBACK_MS = 15 * 60_000;

/**
 * The sync's signal step: for running machines under an idle rule whose own script does not
 * report, CPUUtilization (instances) and IsIdle (clusters) from CloudWatch in one batched
 * GetMetricData; a cluster without IsIdle datapoints is asked for its steps. Returns how many
 * machines it got a signal for.
 */
export async function syncSignals(deps: Deps): Promise<number> {
	const now = deps.clock();
	const [machines, catalog] = await Promise.all([policyMachines(deps.db), catalogPolicies(deps.db)]);
	const resolve = policyResolver(catalog, deps.settings.TIME_ZONE, now);
	const freshMs = signalFreshMs(deps.settings);
	const watched: { machine: PolicyMachine; thresholds: IdleThresholds; query: MetricQuery }[] = [];
	for (const machine of machines) {
		const { policy } = resolve(machine.groupId, machine.configId);
		if (!policy.idle || !machineKind(machine.kind).policy.running.includes(machine.state)) continue;
		if (machine.reportedAt && now.getTime() - machine.reportedAt.getTime() <= freshMs) continue;
		watched.push({
			machine,
			thresholds: policy.thresholds,
			query: machine.kind === "cluster"
				? {
					namespace: "AWS/ElasticMapReduce",
					metric: "IsIdle",
					dimensions: { JobFlowId: machine.id },
					stat: "Minimum",
					periodSeconds: PERIOD_SECONDS,
				}
				: {
					namespace: "AWS/EC2",
					metric: "CPUUtilization",
					dimensions: { InstanceId: machine.id },
					stat: "Maximum",
					periodSeconds: PERIOD_SECONDS,
				},
		});
	}
	if (watched.length === 0) return 0;
	const series = await deps.aws.cloudWatch.getMetricData(watched.map((w) => w.query), {
		start: new Date(now.getTime() - LOOKBACK_MS),
		end: now,
	});
	const reports: SignalReport[] = [];
	const endOf = (at: Date) => new Date(Math.min(at.getTime() + PERIOD_SECONDS * 1000, now.getTime()));
	for (const [i, { machine, thresholds }] of watched.entries()) {
		const points = series[i] ?? [];
		if (machine.kind === "cluster") {
			if (points.length === 0) {
				// No IsIdle datapoints: a pending or running step is activity.
				const steps = await deps.aws.emr.listSteps(machine.id);
				const busy = steps.some((s) => s.state === "PENDING" || s.state === "RUNNING");
				reports.push({ machineId: machine.id, source: "emr", at: now, activeAt: busy ? now : undefined });
				continue;
			}
			const busy = points.filter((p) => p.value < 1).at(-1);
			reports.push({ machineId: machine.id, source: "emr", at: now, activeAt: busy ? endOf(busy.at) : undefined });
			continue;
		}
		if (points.length === 0) continue;
		const busy = points.filter((p) => p.value >= thresholds.cpuPercent).at(-1);
		reports.push({
			machineId: machine.id,
			source: "cloudwatch",
			at: now,
			activeAt: busy ? endOf(busy.at) : undefined,
			values: { cpuPercent: points.at(-1)!.value },
		});
	}
	await recordSignals(deps.db, reports);
	return reports.length;
}
