/**
 * Bench data for the enforcer, over bench/seed.ts's instances: the group's policy (idle, working
 * hours on weekdays, a lifetime, a dormancy limit), each instance's times fixed around a Wednesday
 * 10:00 UTC so nothing is due then, fresh workload signals for every instance and choices for
 * half of them. Written through lib/db's writes; returns the moment to run the enforcer at.
 */
import { getGroupByName, inTransaction, upsertById } from "../lib/db/catalog.ts";
import type { Db } from "../lib/db/client.ts";
import { policyMachines, recordSignals, setMachinePolicy, type SignalReport } from "../lib/db/policies.ts";
import { updateInstance } from "../lib/db/instances.ts";
import { policySpecSchema, storedPolicy } from "../lib/policy/spec.ts";

export async function seedPolicies(db: Db): Promise<Date> {
	const now = new Date("2025-03-05T10:00:00Z");
	const hour = 3_600_000;
	const group = (await getGroupByName(db, "bench"))!;
	await upsertById(db, "groups", group.id, {
		name: group.name,
		policy: storedPolicy(policySpecSchema.parse({
			idleMinutes: 60,
			idleMinMinutes: 30,
			idleMaxMinutes: 240,
			lifetimeHours: 24 * 30,
			dormancyDays: 14,
			workDays: ["mon", "tue", "wed", "thu", "fri"],
			workStart: "08:00",
			workEnd: "19:00",
			workAutoStart: true,
		})),
	});
	const ids = (await policyMachines(db)).map((m) => ({ id: m.id, state: m.state }));
	for (let i = 0; i < ids.length; i += 500) {
		await inTransaction(db, async (tx) => {
			for (const [j, { id, state }] of ids.slice(i, i + 500).entries()) {
				await updateInstance(tx, id, {
					launchedAt: new Date(now.getTime() - 48 * hour),
					startedAt: new Date(now.getTime() - hour),
					stoppedAt: state === "stopped" ? new Date(now.getTime() - 24 * hour) : null,
				});
				if ((i + j) % 2 === 0) {
					await setMachinePolicy(tx, { kind: "instance", id }, { idleMinutes: 120, lifetimeHours: 24 * 20 }, now);
				}
			}
		});
		const reports: SignalReport[] = ids.slice(i, i + 500).map(({ id }) => ({
			machineId: id,
			source: "agent",
			at: new Date(now.getTime() - 60_000),
			activeAt: new Date(now.getTime() - 5 * 60_000),
			byAgent: true,
			values: { cpuPercent: 40 },
		}));
		await recordSignals(db, reports);
	}
	return now;
}
