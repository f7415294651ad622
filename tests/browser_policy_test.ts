/**
 * The machine policies in real Chromium, against the app on 127.0.0.1 with a controlled clock (no
 * AWS is asked: the enforcer only gives notices here, and the fake refuses every call, so a stop it
 * tried would fail; the dashboard's background refresh is refused too): the notice banner on the
 * dashboard, its extend link's page postponing the stop, the row showing the new time, the enforcer
 * keeping to it; then screenshots at 1280 and 390 px of the dashboard with
 * its banner and planned actions, the instance's policy panel, the wizard's policy fields, the
 * profile's notice channels and the billing page's savings (tests/.output/screenshots).
 */
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { openBill } from "../lib/db/bills.ts";
import { acquireLease, releaseLease } from "../lib/db/leases.ts";
import { insertPolicyNotice, openPolicyActions, recordSignals, updatePolicyAction } from "../lib/db/policies.ts";
import { SYNC_JOB_NAME } from "../lib/sync/all.ts";
import { browserSettings, browserTest, launchBrowser, SCREENSHOTS, serve, signedIn } from "./_helpers/browser.ts";
import { createTestDeps, testClock, type TestDeps } from "./_helpers/deps.ts";
import { enforce, setPolicy } from "./_helpers/policies.ts";
import { addCluster, addGroup, addInstance, addLaunch, addMember, seedWorld } from "./_helpers/world.ts";

await Deno.mkdir(SCREENSHOTS, { recursive: true });

const BOX = "i-0a0a0a0a0a0a0a0a1";

/** Monday 3 March 2025, 18:45 UTC: a quarter of an hour before science's working hours end. */
const MONDAY_EVENING = "2025-03-03T18:45:00Z";

const WORKING_HOURS = {
	workDays: "mon,tue,wed,thu,fri",
	workStart: "08:00",
	workEnd: "19:00",
	workAutoStart: "on",
	scheduleNoticeMinutes: 15,
};

/** The portal on `deps`, served and opened in Chromium; disposing it stops and closes all of it. */
async function running(deps: TestDeps) {
	const server = serve(deps);
	const browser = await launchBrowser();
	return {
		deps,
		server,
		browser,
		async [Symbol.asyncDispose]() {
			await browser.close();
			await server.close();
			await deps[Symbol.asyncDispose]();
		},
	};
}

/** Records that the AWS sync ran a minute ago, so pages show no "out of date" notice. */
async function synced(deps: TestDeps) {
	const now = deps.clock();
	const holder = "screenshots";
	await acquireLease(deps.db, { name: SYNC_JOB_NAME, holder, now, expiresAt: new Date(now.getTime() + 60_000) });
	await releaseLease(deps.db, SYNC_JOB_NAME, holder, { finishedAt: new Date(now.getTime() - 60_000) });
}

/** An instance of the owner's, from a launch into the group (so it has a configuration and its policy). */
async function machine(
	deps: TestDeps,
	world: Awaited<ReturnType<typeof seedWorld>>,
	values: { id: string; name: string; state?: string; startedAt: Date; stoppedAt?: Date; instanceType?: string },
) {
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		status: "complete",
		createdAt: values.startedAt,
	});
	await addInstance(deps.db, {
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		launchId: launch.id,
		launchedAt: values.startedAt,
		lastSeenAt: deps.clock(),
		state: "running",
		...values,
	});
}

/** Waits until `locator` says exactly `text` (a row may be swapped by htmx meanwhile), and asserts it. */
async function says(locator: Locator, text: string, message?: string): Promise<void> {
	const exact = new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`);
	await locator.filter({ hasText: exact }).first().waitFor().catch(() => {});
	assert.equal((await locator.first().textContent())?.trim(), text, message);
}

browserTest(
	"a notice banner appears on the dashboard; its extend link's page postpones the stop; the row shows the new time",
	async () => {
		const deps = await createTestDeps({ clock: testClock(MONDAY_EVENING), settings: browserSettings() });
		await using portal = await running(deps);
		const { server, browser } = portal;
		const world = await seedWorld(deps.db);
		await setPolicy(deps.db, { group: world.science.id }, WORKING_HOURS);
		await machine(deps, world, { id: BOX, name: "analysis-box", startedAt: new Date("2025-03-03T09:00:00Z") });
		await enforce(deps); // 18:45: the notice of the 19:00 stop is out (15 minutes ahead)

		const { page, errors } = await signedIn(browser, "alice");
		await page.goto(`${server.url}/`);
		const banner = page.locator("[data-policy-notices]");
		const notice = banner.locator('li[data-phase="warning"]');
		await says(
			notice.locator(".text"),
			"Instance i-0a0a0a0a0a0a0a0a1 will be stopped at 2025-03-03 19:00 UTC by its schedule policy: working hours end at 2025-03-03 19:00 UTC.",
		);
		const planned = page.locator(`tr[data-instance="${BOX}"] [data-planned="schedule"]`);
		await says(planned, "stops at 2025-03-03 19:00 UTC unless extended", "the row's planned stop");

		await notice.getByRole("link", { name: `Postpone the stop of ${BOX}` }).click();
		await page.getByRole("heading", { name: "Postpone an automated action" }).waitFor();
		await page.getByLabel("Postpone it by").selectOption({ label: "1 hour" });
		await page.getByRole("button", { name: "Postpone" }).click();
		await page.waitForURL(`${server.url}/instances/${BOX}`);
		await page.locator(".flash.ok").getByText("Postponed: now not before 2025-03-03 20:00 UTC.").waitFor();

		await page.getByRole("link", { name: "← My dashboard" }).click();
		await page.waitForURL(`${server.url}/`);
		await says(planned, "stops at 2025-03-03 20:00 UTC unless extended", "the row's new time");
		assert.equal(await banner.count(), 0, "nothing is left to announce: the notice was used");

		// The enforcer keeps to it: nothing happens at 19:00 (the fake AWS refuses every call, so a
		// stop would fail and say so); at 19:45 the next notice announces the stop at 20:00.
		deps.clock.set("2025-03-03T19:00:00Z");
		await enforce(deps);
		assert.deepEqual(await openPolicyActions(deps.db), [], "no stop tried, no notice yet");
		deps.clock.set("2025-03-03T19:45:00Z");
		await enforce(deps);
		await page.reload();
		await says(
			notice.locator(".text"),
			"Instance i-0a0a0a0a0a0a0a0a1 will be stopped at 2025-03-03 20:00 UTC by its schedule policy: working hours end at 2025-03-03 19:00 UTC.",
		);
		await says(planned, "stops at 2025-03-03 20:00 UTC unless extended");
		assert.deepEqual(errors, [], "no console errors");
	},
);

/**
 * The world of the screenshots: a Monday evening with two notices out (working hours end, a cluster
 * idles), a machine stopped by hand since Friday (its lifetime comes next), an idle stop done this
 * afternoon, and savings since February.
 */
async function screenshotWorld(deps: TestDeps) {
	const world = await seedWorld(deps.db);
	const now = deps.clock();
	const minutes = (n: number) => new Date(now.getTime() - n * 60_000);
	await setPolicy(deps.db, { group: world.science.id }, {
		...WORKING_HOURS,
		idleMinutes: 60,
		idleMinMinutes: 30,
		idleMaxMinutes: 120,
		lifetimeHours: 168,
		dormancyDays: 14,
	});
	await machine(deps, world, { id: BOX, name: "analysis-box", startedAt: new Date("2025-03-03T09:00:00Z") });
	await recordSignals(deps.db, [{
		machineId: BOX,
		source: "agent",
		at: minutes(1),
		activeAt: minutes(20),
		byAgent: true,
	}]);
	await machine(deps, world, {
		id: "i-0a0a0a0a0a0a0a0a2",
		name: "gpu-trainer",
		state: "stopped",
		instanceType: "m4.large",
		startedAt: new Date("2025-02-28T08:00:00Z"),
		stoppedAt: new Date("2025-02-28T19:00:00Z"),
	});

	const emr = await addGroup(deps.db, "sparkers", { emrAccess: true });
	await addMember(deps.db, world.alice.id, emr.id);
	await setPolicy(deps.db, { group: emr.id }, { idleMinutes: 30, idleNoticeMinutes: 10 });
	await addCluster(deps.db, {
		id: "j-2AB3CD4EF5GH",
		name: "MLiySpark",
		purpose: "Churn model",
		ownerId: world.alice.id,
		groupId: emr.id,
		startedAt: minutes(20),
	});
	await recordSignals(deps.db, [{ machineId: "j-2AB3CD4EF5GH", source: "emr", at: minutes(2) }]);

	// What the policies did before: an idle stop this afternoon (in the banner for a day), savings since February.
	const acted = async (
		machineId: string,
		reason: "idle" | "schedule" | "lifetime",
		action: string,
		done: Date,
		rate: number,
		owner = world.alice,
		groupId = world.science.id,
	) => {
		const row = await insertPolicyNotice(deps.db, {
			machineId,
			kind: "instance",
			ownerId: owner.id,
			groupId,
			reason,
			action,
			deadline: done,
			actAt: done,
			noticedAt: new Date(done.getTime() - 10 * 60_000),
			stateAtNotice: "running",
			detail: reason === "idle"
				? "no activity above the thresholds since 11:40 UTC; the idle stop comes after 60 minutes"
				: "working hours end",
		});
		await updatePolicyAction(deps.db, row!.id, { status: "done", endedAt: done, hourlyRate: rate });
	};
	await acted("i-0a0a0a0a0a0a0a0a3", "idle", "stop", new Date("2025-03-03T12:40:00Z"), 0.0116);
	await acted("i-0a0a0a0a0a0a0a0a4", "schedule", "stop", new Date("2025-02-14T19:00:00Z"), 0.1);
	await acted("i-0a0a0a0a0a0a0a0a5", "schedule", "stop", new Date("2025-02-21T19:00:00Z"), 0.1);
	await acted(
		"i-0a0a0a0a0a0a0a0a6",
		"lifetime",
		"terminate",
		new Date("2025-02-25T00:00:00Z"),
		0.2,
		world.olga,
		world.ops.id,
	);
	// The two stopped by working hours ran again the next Monday, a working day each (their bills).
	const mondays = [["i-0a0a0a0a0a0a0a0a4", "2025-02-17T08:00:00Z"], ["i-0a0a0a0a0a0a0a0a5", "2025-02-24T08:00:00Z"]];
	for (const [id, start] of mondays as [string, string][]) {
		await openBill(deps.db, {
			resourceKind: "instance",
			resourceId: id,
			userId: world.alice.id,
			groupId: world.science.id,
			costCenter: "CC-science",
			description: "m4.large",
			hourlyRate: 0.1,
			startedAt: new Date(start),
			endedAt: new Date(new Date(start).getTime() + 11 * 3_600_000),
		});
	}
	await synced(deps);
	await enforce(deps);
	return world;
}

/** Full-page screenshots of `path` as `user` at 1280 and 390 px, after `ready` shows on each. */
async function screenshots(
	browser: Awaited<ReturnType<typeof launchBrowser>>,
	url: string,
	user: string,
	name: string,
	ready: (page: Page) => Promise<unknown>,
): Promise<string[]> {
	const errors: string[] = [];
	for (const [width, height, suffix] of [[1280, 900, ""], [390, 844, "-narrow"]] as const) {
		const session = await signedIn(browser, user, { width, height });
		await session.page.goto(url);
		await ready(session.page);
		const overflow = await session.page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
		assert.equal(overflow, 0, `${name} at ${width} px: nothing wider than the window`);
		await session.page.screenshot({ path: `${SCREENSHOTS}${name}${suffix}.png`, fullPage: true });
		errors.push(...session.errors);
		await session.context.close();
	}
	return errors;
}

browserTest(
	"screenshots: the dashboard with its banner and planned actions, the policy panel, the wizard, the profile, the savings",
	async () => {
		const deps = await createTestDeps({ clock: testClock(MONDAY_EVENING), settings: browserSettings() });
		await using portal = await running(deps);
		const { server, browser } = portal;
		const world = await screenshotWorld(deps);
		const errors: string[] = [];
		errors.push(
			...await screenshots(browser, `${server.url}/`, "alice", "policy-dashboard", async (page) => {
				await page.locator('[data-policy-notices] [data-phase="warning"]').first().waitFor();
				assert.equal(await page.locator("[data-policy-notices] li").count(), 3, "two coming, one done");
				assert.equal(await page.locator("[data-planned]").count(), 3, "every machine's next action");
			}),
			...await screenshots(browser, `${server.url}/instances/${BOX}`, "alice", "policy-instance", async (page) => {
				await page.locator("[data-policy-panel]").waitFor();
				assert.equal(await page.locator("[data-policy-panel] ol.plans li").count(), 3, "working hours, idle, lifetime");
			}),
			...await screenshots(
				browser,
				`${server.url}/launch/${world.science.id}/${world.config.id}`,
				"alice",
				"policy-wizard",
				(page) => page.locator("[data-policy-choices]").waitFor(),
			),
			...await screenshots(
				browser,
				`${server.url}/profile`,
				"alice",
				"policy-profile",
				(page) => page.locator("[data-notice-channels]").waitFor(),
			),
			...await screenshots(
				browser,
				`${server.url}/billing?from=2025-02-01&to=2025-03-03`,
				"ada",
				"policy-billing",
				async (page) => {
					await page.locator("[data-savings] tr[data-savings-row]").first().waitFor();
					await page.locator('[data-savings] [data-island="Chart"] canvas').waitFor();
				},
			),
		);
		assert.deepEqual(errors, [], "no console errors");
	},
);
