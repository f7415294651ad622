/**
 * The machine policies on the pages, through the HTTP app with a controlled clock: the notice
 * banner of every page (announced before, with the extend link; explained after), the next planned
 * action on the dashboard and team rows, the detail pages' policy panel with its two forms, the
 * wizard's policy fields and confirmation, the profile's notice channels, and the billing page's
 * savings (and its CSV).
 */
import assert from "node:assert/strict";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { toViewer } from "../lib/auth/identify.ts";
import type { Db } from "../lib/db/client.ts";
import { recordSignals } from "../lib/db/policies.ts";
import { groupIdsOf, type User } from "../lib/db/users.ts";
import { keepMachineAlive } from "../lib/policy/signals.ts";
import { createTestDeps, testClock, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { enforce, report, setPolicy } from "./_helpers/policies.ts";
import { addCluster, addGroup, addLaunchedInstance, addMember, seedWorld } from "./_helpers/world.ts";

const TOKEN = "the-launch-token";
const ID = "i-0123456789abcdef0";
const MINUTE = 60_000;

async function viewerOf(db: Db, user: User) {
	return toViewer(user, await groupIdsOf(db, user.id), []);
}

/** Alice's instance under science's 30-minute idle policy (10 minutes' notice), launched at the clock's now. */
async function idleWorld(deps: TestDeps, policy: Record<string, unknown> = {}) {
	const world = await seedWorld(deps.db);
	await setPolicy(deps.db, { group: world.science.id }, { idleMinutes: 30, idleNoticeMinutes: 10, ...policy });
	const now = deps.clock();
	await addLaunchedInstance(deps.db, world, TOKEN, {
		groupId: world.science.id,
		configId: world.config.id,
		launchedAt: now,
		startedAt: now,
	});
	return world;
}

/** Moves the clock by `minutes`, the instance reporting no activity, then runs the enforcer. */
async function idleFor(deps: TestDeps, minutes: number) {
	deps.clock.advance(minutes * MINUTE);
	await report(deps.app, ID, TOKEN, { cpu: 1 });
	await enforce(deps);
}

async function page(deps: TestDeps, path: string, user: string): Promise<string> {
	const res = await request(deps.app, path, { user });
	assert.equal(res.status, 200, `${path} as ${user}`);
	return await res.text();
}

/** The banner's section of a page, or undefined when it has none. */
function bannerOf(html: string): string | undefined {
	return /<section class="policy-notices"[\s\S]*?<\/section>/.exec(html)?.[0];
}

Deno.test("the banner: every page of the owner announces the stop with its extend link, then explains what was done", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await idleWorld(deps);
	await idleFor(deps, 15);
	assert.equal(bannerOf(await page(deps, "/", "alice")), undefined, "no banner before the notice");

	await idleFor(deps, 5); // 12:20, the notice goes out 10 minutes ahead
	for (const path of ["/", "/team", "/billing", "/profile", `/instances/${ID}`, `/launch/${world.science.id}`]) {
		const banner = bannerOf(await page(deps, path, "alice"));
		assert.ok(banner, `${path} has the banner`);
		assert.match(banner, /data-phase="warning"/);
		assert.match(banner, /Instance i-0123456789abcdef0 will be stopped at 2025-03-01 12:30 UTC by its idle policy/);
		assert.match(banner, /<a class="btn primary" href="\/extend\/[^"]+" aria-label="Postpone the stop of i-/);
		assert.match(banner, new RegExp(`href="/instances/${ID}"`));
	}
	const link = /href="(\/extend\/[^"]+)"/.exec(bannerOf(await page(deps, "/", "alice"))!)![1]!;
	assert.match(await page(deps, link, "alice"), /Postpone an automated action/, "the link is alice's own");
	assert.equal(bannerOf(await page(deps, "/", "bob")), undefined, "a teammate gets no notice of it");

	await idleFor(deps, 10); // 12:30: stopped
	const after = bannerOf(await page(deps, "/", "alice"));
	assert.ok(after);
	assert.match(after, /data-phase="done"/);
	assert.match(after, /was stopped at 2025-03-01 12:30 UTC by its idle policy: no activity above the thresholds/);
	assert.doesNotMatch(after, /\/extend\//, "nothing left to postpone");
});

/** The planned-action line of a machine's row in a page. */
function plannedOf(html: string, id: string): string | undefined {
	const row = new RegExp(`<tr[^>]*data-(?:instance|cluster)="${id}"[\\s\\S]*?</tr>`).exec(html)?.[0];
	return row &&
		/<div class="planned[^"]*" data-planned="(\w+)" title="([^"]*)">([^<]*)<\/div>/.exec(row)?.slice(1).join(" | ");
}

Deno.test("rows: the dashboard, team and row fragment show the next planned action, and its new time once postponed", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await idleWorld(deps);
	assert.equal(plannedOf(await page(deps, "/", "alice"), ID), undefined, "no signal yet: nothing is planned");
	await idleFor(deps, 12);
	const why = "Why: no activity above the thresholds since 2025-03-01 12:00 UTC; the idle stop comes after 30 minutes";
	assert.equal(plannedOf(await page(deps, "/", "alice"), ID), `idle | ${why} | idle for 12 min; stops after 30`);
	assert.equal(
		plannedOf(await page(deps, "/team", "bob"), ID),
		`idle | ${why} | idle for 12 min; stops after 30`,
		"a teammate's team view too",
	);
	const fragment = await (await request(deps.app, `/instances/${ID}/row?view=team`, { user: "bob", htmx: true }))
		.text();
	assert.equal(plannedOf(fragment, ID), `idle | ${why} | idle for 12 min; stops after 30`, "the polled row too");

	await idleFor(deps, 8); // the notice; alice postpones it by an hour through the banner's link
	const link = /href="(\/extend\/[^"]+)"/.exec(bannerOf(await page(deps, "/", "alice"))!)![1]!;
	const postponed = await request(deps.app, link, { user: "alice", form: { minutes: "60" } });
	assert.equal(postponed.status, 303);
	assert.match(
		plannedOf(await page(deps, "/", "alice"), ID)!,
		/ \| idle for 20 min; postponed: stops at 2025-03-01 13:30 UTC unless extended$/,
	);

	await keepMachineAlive(deps, await viewerOf(deps.db, world.bob), { kind: "instance", id: ID }, { for: "4h" });
	assert.match(
		plannedOf(await page(deps, "/", "alice"), ID)!,
		/ \| kept running until 2025-03-01 16:20 UTC; then stops after 30 idle min$/,
		"a teammate's keep-alive holds the idle stop",
	);
});

Deno.test("rows: working hours say when the machine stops; a keep-alive says how long it holds; a cluster's idle rule terminates", async () => {
	// Monday 3 March 2025, 18:00 UTC: an hour before working hours end.
	await using deps = await createTestDeps({
		aws: fakeAws(ACTIONS_ACCEPTED),
		clock: testClock("2025-03-03T18:00:00Z"),
	});
	const world = await seedWorld(deps.db);
	await setPolicy(deps.db, { group: world.science.id }, {
		workDays: "mon,tue,wed,thu,fri",
		workStart: "08:00",
		workEnd: "19:00",
		idleMinutes: 30,
	});
	const now = deps.clock();
	await addLaunchedInstance(deps.db, world, TOKEN, {
		groupId: world.science.id,
		configId: world.config.id,
		launchedAt: now,
		startedAt: now,
	});
	assert.match(
		plannedOf(await page(deps, "/", "alice"), ID)!,
		/^schedule \| Why: working hours end at 2025-03-03 19:00 UTC \| stops at 2025-03-03 19:00 UTC unless extended$/,
	);

	await report(deps.app, ID, TOKEN, { cpu: 1 });
	await keepMachineAlive(deps, await viewerOf(deps.db, world.alice), { kind: "instance", id: ID }, { for: "240m" });
	assert.match(
		plannedOf(await page(deps, "/", "alice"), ID)!,
		/^schedule \| .* \| stops at 2025-03-03 22:00 UTC unless extended$/,
		"a keep-alive holds the working hours' stop",
	);

	const emr = await addGroup(deps.db, "sparkers", { emrAccess: true });
	await addMember(deps.db, world.alice.id, emr.id);
	await setPolicy(deps.db, { group: emr.id }, { idleMinutes: 30 });
	await addCluster(deps.db, { id: "j-ABCDEF", ownerId: world.alice.id, groupId: emr.id, startedAt: now });
	deps.clock.advance(12 * MINUTE);
	await recordSignals(deps.db, [{ machineId: "j-ABCDEF", source: "emr", at: deps.clock() }]);
	assert.match(
		plannedOf(await page(deps, "/", "alice"), "j-ABCDEF")!,
		/^idle \| .* \| idle for 12 min; terminated after 30$/,
	);
});
