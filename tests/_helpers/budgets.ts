/**
 * For the budget and approval tests: one tick of the budgets' job as its cron runs it, budgets set
 * and requests decided through the HTTP app, and machines really running in moto that the portal
 * bills (recorded as their launches would leave them, then seen by the sync).
 */
import assert from "node:assert/strict";
import type { Deps } from "../../lib/deps.ts";
import { runJob } from "../../lib/jobs.ts";
import { syncAll } from "../../lib/sync/all.ts";
import { enforceBudgetsJob } from "../../jobs/enforce_budgets.ts";
import type { TestDeps } from "./deps.ts";
import { request } from "./http.ts";
import type { Moto } from "./moto.ts";
import { addInstance, addLaunch, type seedWorld } from "./world.ts";

/** Runs the budgets' job once, after the background work in flight, and waits for what it started (notices). */
export async function enforceBudgets(deps: Deps): Promise<void> {
	await deps.background.idle();
	const outcome = await runJob(deps, enforceBudgetsJob, { scheduled: false });
	if (outcome !== "ok") throw new Error(`the budgets' tick was ${outcome}`);
	await deps.background.idle();
}

/** Sets a budget through the budgets page's form as `user`; returns its id. */
export async function setBudget(deps: TestDeps, user: string, fields: Record<string, string>): Promise<number> {
	const res = await request(deps.app, "/budgets", { user, form: fields });
	assert.equal(res.status, 303, `setting a budget as ${user}: ${res.status} ${await res.clone().text()}`);
	return Number(/#budget-(\d+)$/.exec(res.headers.get("Location") ?? "")?.[1]);
}

/**
 * Instances of `owner` in science (or `groupId`), really running in moto (one per type), recorded
 * as their launches left them, and billed from now on (the sync sees them running).
 */
export async function billedInstances(
	deps: TestDeps,
	moto: Moto,
	world: Awaited<ReturnType<typeof seedWorld>>,
	types: readonly string[],
	owner = world.alice,
	groupId = world.science.id,
): Promise<string[]> {
	const ids: string[] = [];
	const now = deps.clock();
	for (const type of types) {
		const [id] = await moto.runInstances(1, { LaunchedBy: "MLIY", userid: owner.username }, type);
		const launch = await addLaunch(deps.db, {
			userId: owner.id,
			groupId,
			configId: world.config.id,
			instanceType: type,
			status: "complete",
		});
		await addInstance(deps.db, {
			id: id!,
			ownerId: owner.id,
			launchId: launch.id,
			groupId,
			configId: world.config.id,
			instanceType: type,
			launchedAt: now,
			startedAt: now,
			lastSeenAt: now,
		});
		ids.push(id!);
	}
	await syncAll(deps);
	return ids;
}

/** Moves the clock by `minutes`, running the budgets' job every `every` minutes. */
export async function minutesPass(deps: TestDeps, minutes: number, every = 30): Promise<void> {
	for (let m = 0; m < minutes; m += every) {
		deps.clock.advance(Math.min(every, minutes - m) * 60_000);
		await enforceBudgets(deps);
	}
}
