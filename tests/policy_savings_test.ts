/**
 * The policies' savings per group and month: hours stopped by a policy, until the machine was
 * billed again (or, terminated, until the end of the range), at the rate it was billed at.
 */
import assert from "node:assert/strict";
import { policySavings } from "../lib/billing/savings.ts";
import { openBill } from "../lib/db/bills.ts";
import { insertPolicyNotice, updatePolicyAction } from "../lib/db/policies.ts";
import type { PolicyReason } from "../lib/db/schema.ts";
import { createTestDeps, testClock } from "./_helpers/deps.ts";
import { seedWorld } from "./_helpers/world.ts";

Deno.test("savings: per group and month, hours stopped by a policy at the machines' rates, and which policies acted", async () => {
	await using deps = await createTestDeps({ clock: testClock("2025-04-30T00:00:00Z") });
	const world = await seedWorld(deps.db);
	const at = (iso: string) => new Date(iso);
	/** A policy action taken at `done` on a machine billed at `rate` (null: it was not billed). */
	const acted = async (
		machineId: string,
		reason: PolicyReason,
		action: string,
		done: string,
		rate: number | null,
		extra: { groupId?: number; ownerId?: number; status?: "done" | "cancelled" } = {},
	) => {
		const row = await insertPolicyNotice(deps.db, {
			machineId,
			kind: "instance",
			ownerId: extra.ownerId ?? world.alice.id,
			groupId: extra.groupId ?? world.science.id,
			reason,
			action,
			deadline: at(done),
			actAt: at(done),
			noticedAt: at(done),
			stateAtNotice: "running",
		});
		await updatePolicyAction(deps.db, row!.id, { status: extra.status ?? "done", endedAt: at(done), hourlyRate: rate });
	};
	const billedFrom = (resourceId: string, start: string) =>
		openBill(deps.db, {
			resourceKind: "instance",
			resourceId,
			userId: world.alice.id,
			costCenter: "CC",
			description: "t2.micro",
			hourlyRate: 0.1,
			startedAt: at(start),
			endedAt: at(start),
		});
	// Stopped for idleness at 10:00, started again at 18:00: 8 hours at $0.10.
	await acted("i-1", "idle", "stop", "2025-03-10T10:00:00Z", 0.1);
	await billedFrom("i-1", "2025-03-10T18:00:00Z");
	// Stopped at the end of working hours on 31 March, started at 08:00 the next day: 5 hours in March, 8 in April.
	await acted("i-2", "schedule", "stop", "2025-03-31T19:00:00Z", 0.2);
	await billedFrom("i-2", "2025-04-01T08:00:00Z");
	// Terminated at the end of its lifetime: saves until the end of the range (now), 240 hours at $1.
	await acted("i-3", "lifetime", "terminate", "2025-04-20T00:00:00Z", 1, {
		groupId: world.ops.id,
		ownerId: world.olga.id,
	});
	// Terminated while stopped (dormancy): it was not billed, so nothing is saved, but it counts as an action.
	await acted("i-4", "dormancy", "terminate", "2025-04-02T00:00:00Z", null);
	// Cancelled: nothing happened.
	await acted("i-5", "idle", "stop", "2025-04-05T00:00:00Z", 5, { status: "cancelled" });

	const everyone = { everyone: true, viewerId: world.ada.id, groupIds: [] };
	const rows = await policySavings(deps, { from: "2025-03", to: "2025-04", scope: everyone });
	const none = { idle: 0, schedule: 0, lifetime: 0, dormancy: 0 };
	assert.deepEqual(rows.map((r) => ({ ...r, dollars: Math.round(r.dollars * 100) / 100 })), [
		{
			month: "2025-03",
			groupId: world.science.id,
			groupName: "science",
			hours: 13,
			dollars: 1.8,
			actions: { ...none, idle: 1, schedule: 1 },
		},
		{
			month: "2025-04",
			groupId: world.ops.id,
			groupName: "ops",
			hours: 240,
			dollars: 240,
			actions: { ...none, lifetime: 1 },
		},
		{
			month: "2025-04",
			groupId: world.science.id,
			groupName: "science",
			hours: 8,
			dollars: 1.6,
			actions: { ...none, dormancy: 1 },
		},
	]);
	const alice = { everyone: false, viewerId: world.alice.id, groupIds: [world.science.id] };
	const scoped = await policySavings(deps, { from: "2025-04", to: "2025-04", scope: alice });
	assert.deepEqual(scoped.map((r) => r.groupName), ["science"], "alice sees her team's savings only");
	assert.equal(scoped[0]!.hours, 8);

	// Months are the portal's time zone's: in Tokyo (UTC+9) the 31 March 19:00Z stop is on 1 April.
	await using tokyo = await createTestDeps({
		clock: testClock("2025-04-30T00:00:00Z"),
		settings: { TIME_ZONE: "Asia/Tokyo" },
	});
	const byMonth = await policySavings({ ...tokyo, db: deps.db }, { from: "2025-03", to: "2025-04", scope: everyone });
	assert.deepEqual(
		byMonth.filter((r) => r.groupName === "science").map((r) => [r.month, r.hours, r.actions.schedule]),
		[["2025-03", 8, 0], ["2025-04", 13, 1]],
	);
});
