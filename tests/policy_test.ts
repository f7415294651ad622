/**
 * Machine policies as plain values: the catalogue's policy schema, the stricter of a group's and a
 * configuration's policy, the users' choices within the bounds, working hours across a week and a
 * DST change, and what the planner makes of a machine's facts.
 */
import assert from "node:assert/strict";
import { UserError } from "../lib/errors.ts";
import { explainPlan, type MachineFacts, planActions, type PolicyStates } from "../lib/policy/plan.ts";
import { WorkCalendar } from "../lib/policy/schedule.ts";
import {
	effectivePolicy,
	parseChoices,
	policyFormValues,
	policyFromForm,
	policySpecSchema,
	resolveChoices,
} from "../lib/policy/spec.ts";

const INSTANCE: PolicyStates = {
	running: ["running"],
	stopped: ["stopped"],
	stop: "stop",
	start: "start",
	live: ["pending", "running", "stopping", "stopped"],
};
const CLUSTER: PolicyStates = { running: ["WAITING"], stopped: [], stop: "terminate", live: ["WAITING"] };

function facts(extra: Partial<MachineFacts> = {}): MachineFacts {
	return {
		state: "running",
		pendingAction: null,
		launchedAt: new Date("2025-03-03T08:00:00Z"),
		startedAt: new Date("2025-03-03T08:00:00Z"),
		stoppedAt: null,
		choices: {},
		keepAliveUntil: null,
		postponed: {},
		scheduleStoppedAt: null,
		signalAt: new Date("2025-03-03T08:55:00Z"),
		activeAt: null,
		...extra,
	};
}
const at = (iso: string) => new Date(iso);
const FRESH = 10 * 60_000;

Deno.test("a policy from a form: blank fields are unset (rules off, lead times at their defaults), bad ones are named", () => {
	const blank = policySpecSchema.parse(policyFromForm({ "policy.idleMinutes": "", "policy.idleNoticeMinutes": "" }));
	assert.equal(blank.idleMinutes, null);
	assert.equal(blank.idleNoticeMinutes, 10);
	assert.equal(blank.maxPostponeMinutes, 480);
	const set = policySpecSchema.parse(policyFromForm({
		name: "ignored",
		"policy.idleMinutes": "30",
		"policy.workDays": ["mon", "fri"],
		"policy.workStart": "08:00",
		"policy.workEnd": "19:00",
		"policy.workAutoStart": "on",
	}));
	assert.equal(set.idleMinutes, 30);
	assert.deepEqual(set.workDays, ["mon", "fri"]);
	assert.equal(set.workAutoStart, true);
	assert.deepEqual(policySpecSchema.parse(policyFromForm(policyFormValues(set))), set, "the form shows what is stored");
	const bad = policySpecSchema.safeParse({ idleMinutes: "2", workDays: ["mon"], workStart: "19:00", workEnd: "08:00" });
	assert.deepEqual(bad.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`), [
		"idleMinutes: At least 5 minutes",
		"workEnd: After the beginning (on the same day)",
	]);
});

Deno.test("the stricter rule wins: the shorter limit with its lead, the users' range where both meet, the higher thresholds", () => {
	const policy = effectivePolicy(
		{ idleMinutes: 60, idleMinMinutes: 30, idleMaxMinutes: 120, lifetimeHours: 48, maxPostponeMinutes: 120 },
		{ idleMinutes: 45, idleMaxMinutes: 90, idleCpuPercent: 20, lifetimeHours: 24, lifetimeNoticeMinutes: 30 },
	);
	assert.deepEqual(
		policy.idle,
		{ defaultMinutes: 45, minMinutes: 45, maxMinutes: 90, noticeMinutes: 10 },
		"unset bounds are the default",
	);
	assert.deepEqual(policy.thresholds, { cpuPercent: 20, gpuPercent: 10, networkKBps: 50 });
	assert.deepEqual(policy.lifetime, { maxHours: 24, noticeMinutes: 30 });
	assert.equal(policy.dormancy, undefined);
	assert.equal(policy.maxPostponeMinutes, 120);
	// Ranges that do not meet: the stricter side's.
	const apart = effectivePolicy({ idleMinutes: 30, idleMaxMinutes: 40 }, { idleMinutes: 60, idleMinMinutes: 60 });
	assert.deepEqual(apart.idle, { defaultMinutes: 30, minMinutes: 30, maxMinutes: 40, noticeMinutes: 10 });
	// Working hours are the group's alone.
	assert.equal(effectivePolicy({}, { workDays: ["mon"], workStart: "08:00", workEnd: "18:00" }).schedule, undefined);
	assert.deepEqual(effectivePolicy({ workDays: ["mon", "tue"], workStart: "08:30", workEnd: "18:00" }, {}).schedule, {
		days: [1, 2],
		startMinute: 510,
		endMinute: 1080,
		autoStart: false,
		noticeMinutes: 15,
	});
});

Deno.test("users choose within the bounds: a 422 names each field outside them, the policy's own values otherwise", () => {
	const policy = effectivePolicy({ idleMinutes: 60, idleMinMinutes: 30, idleMaxMinutes: 120, lifetimeHours: 24 }, {});
	assert.deepEqual(parseChoices(policy, {}), { idleMinutes: null, lifetimeHours: null, autoStart: null });
	assert.deepEqual(parseChoices(policy, { idleMinutes: "90", lifetimeHours: "12" }), {
		idleMinutes: 90,
		lifetimeHours: 12,
		autoStart: null,
	});
	for (
		const [raw, field, message] of [
			[{ idleMinutes: "20" }, "idleMinutes", "Between 30 and 120 minutes"],
			[{ lifetimeHours: "25" }, "lifetimeHours", "At most 24 hours"],
			[{ autoStart: "on" }, "autoStart", "The group's working hours do not start machines"],
			[{ idleMinutes: "x" }, "idleMinutes", "A number of minutes"],
		] as const
	) {
		assert.throws(() => parseChoices(policy, raw), (e: unknown) => {
			assert.ok(e instanceof UserError && e.status === 422);
			assert.equal(e.fields[field], message);
			return true;
		});
	}
	assert.throws(() => parseChoices(effectivePolicy({}, {}), { idleMinutes: "30" }), /correct/);
	// A choice the policy has since narrowed is kept within the new bounds.
	assert.deepEqual(resolveChoices(policy, { idleMinutes: 500, lifetimeHours: 100 }), {
		idleMinutes: 120,
		lifetimeHours: 24,
		autoStart: false,
	});
});

Deno.test("working hours: the next end and beginning of a working day, weekends skipped, exact across a DST change", () => {
	const weekdays = {
		days: [1, 2, 3, 4, 5],
		startMinute: 8 * 60,
		endMinute: 19 * 60,
		autoStart: true,
		noticeMinutes: 15,
	};
	const utc = new WorkCalendar(weekdays, "UTC", at("2025-03-05T12:00:00Z"));
	assert.deepEqual(utc.endAfter(at("2025-03-05T10:00:00Z")), at("2025-03-05T19:00:00Z"));
	assert.deepEqual(utc.endAfter(at("2025-03-05T19:00:00Z")), at("2025-03-06T19:00:00Z"), "an end is after, not at");
	assert.deepEqual(utc.endAfter(at("2025-03-07T20:00:00Z")), at("2025-03-10T19:00:00Z"), "Friday evening: Monday");
	assert.deepEqual(utc.startAfter(at("2025-03-07T19:00:00Z")), at("2025-03-10T08:00:00Z"));
	// Far from now, computed day by day with the same answer.
	assert.deepEqual(utc.endAfter(at("2024-01-06T10:00:00Z")), at("2024-01-08T19:00:00Z"));
	// New York moves to summer time on Sunday 9 March 2025: 08:00 local is 13:00Z before, 12:00Z after.
	const ny = new WorkCalendar(weekdays, "America/New_York", at("2025-03-08T12:00:00Z"));
	assert.deepEqual(ny.startAfter(at("2025-03-07T12:00:00Z")), at("2025-03-07T13:00:00Z"));
	assert.deepEqual(ny.startAfter(at("2025-03-07T14:00:00Z")), at("2025-03-10T12:00:00Z"));
});

Deno.test("the planner: idle from the last activity or keep-alive when signals are fresh; stale signals stop nothing", () => {
	const policy = effectivePolicy({ idleMinutes: 30, idleNoticeMinutes: 10 }, {});
	const now = at("2025-03-03T08:55:00Z");
	const [idle] = planActions(facts(), INSTANCE, policy, { now, freshMs: FRESH });
	assert.equal(idle?.reason, "idle");
	assert.equal(idle?.action, "stop");
	assert.deepEqual(idle?.deadline, at("2025-03-03T08:30:00Z"));
	assert.equal(
		explainPlan(idle!, (t) => t.toISOString().slice(11, 16)),
		"no activity above the thresholds since 08:00; the idle stop comes after 30 minutes",
	);
	const active = planActions(facts({ activeAt: at("2025-03-03T08:50:00Z") }), INSTANCE, policy, {
		now,
		freshMs: FRESH,
	});
	assert.deepEqual(active[0]?.deadline, at("2025-03-03T09:20:00Z"));
	const kept = planActions(facts({ keepAliveUntil: at("2025-03-03T12:00:00Z") }), INSTANCE, policy, {
		now,
		freshMs: FRESH,
	});
	assert.deepEqual(kept[0]?.deadline, at("2025-03-03T12:30:00Z"));
	const postponed = planActions(facts({ postponed: { idle: at("2025-03-03T10:00:00Z") } }), INSTANCE, policy, {
		now,
		freshMs: FRESH,
	});
	assert.deepEqual(postponed[0]?.deadline, at("2025-03-03T10:00:00Z"));
	assert.deepEqual(
		planActions(facts({ signalAt: at("2025-03-03T08:40:00Z") }), INSTANCE, policy, { now, freshMs: FRESH }),
		[],
	);
	assert.deepEqual(planActions(facts({ pendingAction: "stop" }), INSTANCE, policy, { now, freshMs: FRESH }), []);
	const cluster = planActions(facts({ state: "WAITING" }), CLUSTER, policy, { now, freshMs: FRESH });
	assert.equal(cluster[0]?.action, "terminate", "a cluster's idle policy terminates it");
});

Deno.test("the planner: working hours stop at their end and start what they stopped; lifetime and dormancy terminate", () => {
	const policy = effectivePolicy({
		workDays: ["mon", "tue", "wed", "thu", "fri"],
		workStart: "08:00",
		workEnd: "19:00",
		workAutoStart: true,
		lifetimeHours: 72,
		dormancyDays: 2,
	}, {});
	const now = at("2025-03-07T18:00:00Z"); // a Friday
	const calendar = new WorkCalendar(policy.schedule!, "UTC", now);
	const context = { now, calendar, freshMs: FRESH };
	const running = planActions(
		facts({ startedAt: at("2025-03-07T08:00:00Z"), signalAt: null }),
		INSTANCE,
		policy,
		context,
	);
	assert.deepEqual(
		running.map((p) => [p.reason, p.action, p.deadline.toISOString()]),
		[
			["schedule", "stop", "2025-03-07T19:00:00.000Z"],
			["lifetime", "terminate", "2025-03-06T08:00:00.000Z"],
		].sort((a, b) => a[2]!.localeCompare(b[2]!)),
	);
	const weekend = { ...context, now: at("2025-03-08T12:00:00Z") };
	const stopped = planActions(
		facts({
			state: "stopped",
			launchedAt: at("2025-03-07T08:00:00Z"),
			startedAt: at("2025-03-07T08:00:00Z"),
			stoppedAt: at("2025-03-07T19:00:00Z"),
			scheduleStoppedAt: at("2025-03-07T19:00:00Z"),
		}),
		INSTANCE,
		policy,
		weekend,
	);
	assert.deepEqual(stopped.map((p) => [p.reason, p.action, p.deadline.toISOString()]), [
		["schedule", "start", "2025-03-10T08:00:00.000Z"],
		["lifetime", "terminate", "2025-03-10T08:00:00.000Z"],
	], "Monday morning; no dormancy while the schedule will start it");
	const byHand = planActions(
		facts({ state: "stopped", stoppedAt: at("2025-03-07T12:00:00Z"), launchedAt: at("2025-03-07T08:00:00Z") }),
		INSTANCE,
		policy,
		weekend,
	);
	assert.deepEqual(
		byHand.map((p) => [p.reason, p.deadline.toISOString()]),
		[
			["lifetime", "2025-03-10T08:00:00.000Z"],
			["dormancy", "2025-03-09T12:00:00.000Z"],
		].sort((a, b) => a[1]!.localeCompare(b[1]!)),
	);
});
