/**
 * The machine policies on the pages, through the HTTP app with a controlled clock: the notice
 * banner of every page (announced before, with the extend link; explained after), the next planned
 * action on the dashboard and team rows, the detail pages' policy panel with its two forms, the
 * wizard's policy fields and confirmation, the profile's notice channels, and the billing page's
 * savings (and its CSV).
 */
import assert from "node:assert/strict";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { enforce, report, setPolicy } from "./_helpers/policies.ts";
import { addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

const TOKEN = "the-launch-token";
const ID = "i-0123456789abcdef0";
const MINUTE = 60_000;

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
