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
import { getLaunch } from "../lib/db/launches.ts";
import { openBill } from "../lib/db/bills.ts";
import { insertPolicyNotice, machinePolicyOf, recordSignals, updatePolicyAction } from "../lib/db/policies.ts";
import type { PolicyReason } from "../lib/db/schema.ts";
import { sql } from "drizzle-orm";
import { groupIdsOf, updateUserProfile, type User } from "../lib/db/users.ts";
import { keepMachineAlive } from "../lib/policy/signals.ts";
import { publicUrl } from "../lib/settings.ts";
import { createTestDeps, testClock, type TestDeps } from "./_helpers/deps.ts";
import { csrfFor, request } from "./_helpers/http.ts";
import { enforce, report, setPolicy } from "./_helpers/policies.ts";
import { addCluster, addGroup, addLaunchedInstance, addMember, seedClusterWorld, seedWorld } from "./_helpers/world.ts";

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
	await report(deps, ID, TOKEN, { cpu: 1 });
	await enforce(deps);
}

/** Every machine's policy row, and every user's channels: what the policy forms write. */
async function policyRows(deps: TestDeps): Promise<string> {
	return JSON.stringify([
		await deps.db.all(sql`SELECT * FROM machine_policies ORDER BY machine_id`),
		await deps.db.all(sql`SELECT * FROM notice_channels ORDER BY user_id`),
	]);
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

Deno.test("the banner: a group's managers see the coming termination of its machines, with their own link; a teammate does not", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await idleWorld(deps, { idleMinutes: "", lifetimeHours: 24, lifetimeNoticeMinutes: 60 });
	await addMember(deps.db, world.mia.id, world.science.id);
	deps.clock.advance(23 * 60 * MINUTE); // 2025-03-02 11:00: an hour before its lifetime ends
	await enforce(deps);
	const termination = /will be terminated at 2025-03-02 12:00 UTC by its lifetime policy/;
	const owner = bannerOf(await page(deps, "/", "alice"));
	assert.ok(owner);
	assert.match(owner, termination);

	const manager = bannerOf(await page(deps, "/", "mia"));
	assert.ok(manager, "the manager of science has the banner");
	assert.match(manager, termination);
	assert.match(manager, /aria-label="Postpone the termination of i-0123456789abcdef0"/);
	const link = /href="(\/extend\/[^"]+)"/.exec(manager)![1]!;
	assert.notEqual(link, /href="(\/extend\/[^"]+)"/.exec(owner)![1], "a link of her own");
	assert.match(await page(deps, link, "mia"), /Postpone an automated action/, "which she may use");
	assert.equal((await request(deps.app, link, { user: "alice" })).status, 403, "and nobody else");

	assert.equal(bannerOf(await page(deps, "/", "bob")), undefined, "a teammate is not told");
	assert.equal(bannerOf(await page(deps, "/", "olga")), undefined, "nor anyone of another group");
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
	assert.equal(
		plannedOf(await page(deps, "/", "alice"), ID),
		`idle | ${why} | idle for 20 min; stops at 2025-03-01 12:30 UTC unless extended`,
		"once its notice is out, the row says when",
	);
	const link = /href="(\/extend\/[^"]+)"/.exec(bannerOf(await page(deps, "/", "alice"))!)![1]!;
	const postponed = await request(deps.app, link, { user: "alice", form: { minutes: "60" } });
	assert.equal(postponed.status, 303);
	assert.match(
		plannedOf(await page(deps, "/", "alice"), ID)!,
		/ \| idle for 20 min; stops at 2025-03-01 13:30 UTC unless extended$/,
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

	await report(deps, ID, TOKEN, { cpu: 1 });
	await keepMachineAlive(deps, await viewerOf(deps.db, world.alice), { kind: "instance", id: ID }, { for: "240m" });
	assert.match(
		plannedOf(await page(deps, "/", "alice"), ID)!,
		/^schedule \| .* \| stops at 2025-03-03 22:00 UTC unless extended$/,
		"a keep-alive holds the working hours' stop",
	);

	// A machine started within the notice's lead time gets the whole lead time: its row says so.
	deps.clock.set("2025-03-03T18:55:00Z"); // working hours' notice: 15 minutes, the default
	const late = await addLaunchedInstance(deps.db, world, "another-token", {
		id: "i-0fedcba9876543210",
		groupId: world.science.id,
		configId: world.config.id,
		launchedAt: deps.clock(),
		startedAt: deps.clock(),
	});
	assert.match(
		plannedOf(await page(deps, "/", "alice"), late.id)!,
		/ \| stops at 2025-03-03 19:00 UTC unless extended$/,
	);
	await enforce(deps); // 18:55: the notice goes out, for 19:10
	assert.match(
		plannedOf(await page(deps, "/", "alice"), late.id)!,
		/^schedule \| Why: working hours end at 2025-03-03 19:00 UTC \| stops at 2025-03-03 19:10 UTC unless extended$/,
	);
	deps.clock.set("2025-03-03T18:00:00Z");

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

/** The policy panel's section of a page or fragment. */
function policyPanelOf(html: string): string {
	const panel = /<section class="panel policy-panel"[\s\S]*?<\/section>/.exec(html)?.[0];
	assert.ok(panel, "the page has a policy panel");
	return panel;
}

Deno.test("the instance page's policy panel: the rules that apply, the signals, the plans; the owner's form and everyone's keep-alive", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	await idleWorld(deps, { idleMinMinutes: 15, idleMaxMinutes: 60, lifetimeHours: 48 });
	await idleFor(deps, 12);
	const panel = policyPanelOf(await page(deps, `/instances/${ID}`, "alice"));
	assert.match(
		panel,
		/<dt>Idle stop<\/dt><dd>Stopped after 30 min without activity \(15 min to 1 h may be chosen\), with a notice 10 min before.<\/dd>/,
	);
	assert.match(
		panel,
		/<dt>Lifetime<\/dt><dd>Terminated 48 h after its launch \(at most 48 h; fewer may be chosen\)/,
	);
	assert.match(
		panel,
		/<dt>Postponing<\/dt><dd>A notice's link or a keep-alive postpones an action by at most 8 h.<\/dd>/,
	);
	assert.match(panel, /Activity is CPU at or above 10%, a GPU at or above 10%, network at or above 50 kB\/s/);
	assert.match(panel, /<dt>Last signal<\/dt><dd>2025-03-01 12:12 \(0 s ago\), from its activity agent<\/dd>/);
	assert.match(panel, /<dt>Last activity<\/dt><dd>none seen<\/dd>/);
	assert.match(
		panel,
		/<li data-planned="idle"><strong>idle for 12 min; stops after 30<\/strong><div class="small muted">Because no activity above the thresholds since 2025-03-01 12:00 UTC; the idle stop comes after 30 minutes; notice at 2025-03-01 12:20./,
	);
	assert.match(panel, /<li data-planned="lifetime"><strong>is terminated at 2025-03-03 12:00 UTC unless extended/);
	assert.match(
		panel,
		/<form class="stack change-policy" novalidate data-policy-form="true" hx-post="\/instances\/i-0123456789abcdef0\/policy" hx-target="#instance-panel" hx-swap="outerHTML" hx-confirm="Change the policy of i-0123456789abcdef0\? A shorter lifetime can terminate it sooner \(after its notice\).">/,
	);
	assert.match(
		panel,
		/<input id="f-idleMinutes" name="idleMinutes" type="number" inputmode="numeric" min="15" max="60" step="1" value="30"/,
	);
	assert.match(
		panel,
		/<input id="f-lifetimeHours" name="lifetimeHours" type="number" inputmode="numeric" min="1" max="48" step="1" value="48"/,
	);
	assert.match(panel, /<option value="480m"\s*>8 hours<\/option>/, "keep-alive choices up to the longest postponement");
	assert.doesNotMatch(panel, /value="1440m"/);

	const bob = policyPanelOf(await page(deps, `/instances/${ID}`, "bob"));
	assert.match(bob, /data-keep-alive/, "a teammate may keep it running");
	assert.doesNotMatch(bob, /data-policy-form/, "but not change its policy");
	assert.equal((await request(deps.app, `/instances/${ID}`, { user: "olga" })).status, 403);

	// The owner changes it with htmx: the panel comes back with the outcome and the new plan.
	const saved = await request(deps.app, `/instances/${ID}/policy`, {
		user: "alice",
		htmx: true,
		form: { idleMinutes: "45", lifetimeHours: "", autoStart: "" },
	});
	assert.equal(saved.status, 200);
	const fragment = await saved.text();
	assert.match(fragment, /^<section id="instance-panel"/, "the panel, as the panel's actions answer");
	assert.match(
		fragment,
		/<p class="flash ok" role="status" data-policy-result>Policy saved: idle stop after 45 min, lifetime 48 h.<\/p>/,
	);
	assert.match(fragment, /<strong>idle for 12 min; stops after 45<\/strong>/);
	assert.match(
		fragment,
		/<td[^>]*>alice<\/td><td[^>]*>policy<\/td><td[^>]*><span class="badge ok">ok<\/span><span class="small muted">idle stop after 45 min, lifetime 48 h</,
		"audited",
	);

	// Outside the bounds: the panel again, at 422, the field marked and the value kept.
	const refused = await request(deps.app, `/instances/${ID}/policy`, {
		user: "alice",
		htmx: true,
		form: { idleMinutes: "5", lifetimeHours: "49" },
	});
	assert.equal(refused.status, 422);
	const marked = policyPanelOf(await refused.text());
	assert.match(marked, /<p class="flash error" role="alert" data-policy-result>Please correct the marked fields.<\/p>/);
	assert.match(marked, /value="5"[^>]*aria-describedby="f-idleMinutes-hint f-idleMinutes-error" aria-invalid="true"/);
	assert.match(marked, /<div class="error" id="f-idleMinutes-error" role="alert">Between 15 and 60 minutes<\/div>/);
	assert.match(marked, /<div class="error" id="f-lifetimeHours-error" role="alert">At most 48 hours<\/div>/);
	assert.equal((await machinePolicyOf(deps.db, ID))?.idleMinutes, 45, "nothing written");

	// A teammate may not; the refusal goes to the error region.
	const denied = await request(deps.app, `/instances/${ID}/policy`, {
		user: "bob",
		htmx: true,
		form: { idleMinutes: "60" },
	});
	assert.equal(denied.status, 403);
	assert.equal(denied.headers.get("HX-Retarget"), "#htmx-errors");
	assert.match(await denied.text(), /Only the owner or an admin may change this instance's policy/);
	assert.equal((await machinePolicyOf(deps.db, ID))?.idleMinutes, 45);

	// Without htmx: a redirect to the page, which says what was done; a refusal is the page with the marks.
	const plain = await request(deps.app, `/instances/${ID}/policy`, { user: "alice", form: { idleMinutes: "20" } });
	assert.equal(plain.status, 303);
	assert.equal(plain.headers.get("Location"), `/instances/${ID}`);
	const cookie = plain.headers.get("Set-Cookie")!.split(";")[0]!;
	const shown = await (await request(deps.app, `/instances/${ID}`, { user: "alice", headers: { Cookie: cookie } }))
		.text();
	assert.match(
		shown,
		/<div class="flash ok" role="status">Policy saved: idle stop after 20 min, lifetime 48 h.<\/div>/,
	);
	const plainRefused = await request(deps.app, `/instances/${ID}/policy`, {
		user: "alice",
		form: { idleMinutes: "x" },
	});
	assert.equal(plainRefused.status, 422);
	assert.match(
		await plainRefused.text(),
		/<!DOCTYPE html>[\s\S]*f-idleMinutes-error" role="alert">A number of minutes</,
	);
});

Deno.test("keep running until…: anyone who may control it, within the policy's longest postponement; it can be ended", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	await idleWorld(deps);
	await idleFor(deps, 12);
	const keep = (user: string, form: Record<string, string>) =>
		request(deps.app, `/instances/${ID}/keep-alive`, { user, htmx: true, form });

	const kept = await keep("bob", { for: "120m" });
	assert.equal(kept.status, 200);
	const panel = policyPanelOf(await kept.text());
	assert.match(panel, /data-policy-result>Kept running until 2025-03-01 14:12 UTC.<\/p>/);
	assert.match(panel, /<dt>Kept running until<\/dt><dd>2025-03-01 14:12<\/dd>/);
	assert.match(panel, /<strong>kept running until 2025-03-01 14:12 UTC; then stops after 30 idle min<\/strong>/);
	assert.match(
		panel,
		/hx-confirm="End the keep-alive of i-0123456789abcdef0\? Its idle stop applies again, after its notice./,
	);

	const tooLong = await keep("alice", { until: "23:00" });
	assert.equal(tooLong.status, 422);
	const marked = policyPanelOf(await tooLong.text());
	assert.match(marked, /data-policy-result>The policy keeps a machine running at most 8 h ahead<\/p>/);
	assert.match(marked, /value="23:00" aria-invalid="true" aria-describedby="f-keep-until-error"/);
	assert.match(marked, /<p class="inline-error" id="f-keep-until-error" role="alert">at most 8 h<\/p>/);
	const empty = await keep("alice", { until: "" });
	assert.equal(empty.status, 422);
	assert.match(await empty.text(), /Choose how long to keep it running, or until when/);

	const until = await keep("alice", { until: "18:00" });
	assert.match(await until.text(), /Kept running until 2025-03-01 18:00 UTC/);
	assert.equal((await keep("olga", { for: "1h" })).status, 403, "not someone outside the group");

	const ended = await keep("alice", { for: "0" });
	const after = policyPanelOf(await ended.text());
	assert.match(after, /data-policy-result>The keep-alive is ended.<\/p>/);
	assert.match(after, /<strong>idle for 12 min; stops after 30<\/strong>/);
	assert.doesNotMatch(after, /End the keep-alive/);
});

Deno.test("the cluster page's policy panel: its idle rule terminates, so changing it asks first; an ended machine has no panel", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await seedWorld(deps.db);
	const emr = await addGroup(deps.db, "sparkers", { emrAccess: true });
	await addMember(deps.db, world.alice.id, emr.id);
	await setPolicy(deps.db, { group: emr.id }, {
		idleMinutes: 30,
		idleMinMinutes: 10,
		idleMaxMinutes: 120,
		dormancyDays: 7,
		workDays: "mon,tue,wed,thu,fri",
		workStart: "08:00",
		workEnd: "19:00",
	});
	await addCluster(deps.db, { id: "j-ABCDEF", ownerId: world.alice.id, groupId: emr.id, startedAt: deps.clock() });
	await recordSignals(deps.db, [{ machineId: "j-ABCDEF", source: "emr", at: deps.clock() }]);
	const panel = policyPanelOf(await page(deps, "/clusters/j-ABCDEF", "alice"));
	assert.match(panel, /<dt>Idle termination<\/dt><dd>Terminated after 30 min without activity/);
	assert.doesNotMatch(panel, /Working hours|Dormancy/, "a cluster is never stopped: neither applies");
	assert.match(panel, /Activity is a running step, or EMR's IsIdle metric saying it is busy./);
	assert.match(panel, /from EMR<\/dd>/);
	assert.match(panel, /<label for="f-idleMinutes">Idle minutes before it is terminated<\/label>/);
	assert.match(panel, /hx-confirm="Change the policy of j-ABCDEF\? A shorter idle limit can terminate it sooner/);
	assert.match(panel, /Holds its idle termination. At most 8 hours ahead./);
	const saved = await request(deps.app, "/clusters/j-ABCDEF/policy", {
		user: "alice",
		htmx: true,
		form: { idleMinutes: "90" },
	});
	assert.match(
		await saved.text(),
		/^<section id="cluster-panel"[\s\S]*Policy saved: idle termination after 1 h 30 min./,
	);

	await addCluster(deps.db, { id: "j-ENDED", ownerId: world.alice.id, groupId: emr.id, state: "TERMINATED" });
	assert.doesNotMatch(await page(deps, "/clusters/j-ENDED", "alice"), /policy-panel/);
	assert.equal(
		(await request(deps.app, "/clusters/j-ENDED/keep-alive", { user: "alice", form: { for: "1h" } })).status,
		404,
	);
});

Deno.test("the wizard asks for the policy choices within the bounds, marks bad ones on their fields, confirms them and launches with them", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await seedWorld(deps.db);
	await setPolicy(deps.db, { group: world.science.id }, {
		idleMinutes: 60,
		idleMinMinutes: 30,
		idleMaxMinutes: 120,
		lifetimeHours: 48,
		workDays: "mon,tue,wed,thu,fri",
		workStart: "08:00",
		workEnd: "19:00",
		workAutoStart: "on",
	});
	await setPolicy(deps.db, { config: world.config.id }, {
		idleMinutes: 90,
		idleMinMinutes: 15,
		idleMaxMinutes: 90,
		dormancyDays: 14,
	});
	const url = `/launch/${world.science.id}/${world.config.id}`;
	const form =
		/<fieldset class="field policy-choices" data-policy-choices>[\s\S]*?<\/fieldset>\s*<p class="small muted">/
			.exec(await page(deps, url, "alice"))?.[0];
	assert.ok(form, "the form has its policy section");
	// The stricter of the group's and the configuration's, rule by rule.
	assert.match(
		form,
		/<dt>Idle stop<\/dt><dd>Stopped after 1 h without activity \(30 min to 1 h 30 min may be chosen\)/,
	);
	assert.match(
		form,
		/<dt>Working hours<\/dt><dd>Mon–Fri 08:00–19:00 UTC: stopped when they end, started when they begin/,
	);
	assert.match(form, /<dt>Lifetime<\/dt><dd>Terminated 48 h after its launch/);
	assert.match(form, /<dt>Dormancy<\/dt><dd>Terminated after 14 days stopped, with a notice 1 day before.<\/dd>/);
	assert.match(form, /min="30" max="90" step="1" value placeholder="60"/);
	assert.match(form, /30 to 90 minutes; empty: the policy's 60.<\/small>/);
	assert.match(form, /max="48" step="1" value placeholder="48"/);
	assert.match(form, /<input type="radio" name="autoStart" value="on" checked\/?> Yes/);

	const refused = await request(deps.app, url, {
		user: "alice",
		form: { intent: "review", instanceType: "t2.micro", idleMinutes: "200", lifetimeHours: "0", autoStart: "off" },
	});
	assert.equal(refused.status, 422);
	const marked = await refused.text();
	assert.match(marked, /<div class="error" id="f-idleMinutes-error" role="alert">Between 30 and 90 minutes<\/div>/);
	assert.match(
		marked,
		/<div class="error" id="f-lifetimeHours-error" role="alert">At least 1 hours<\/div>/,
		"both at once",
	);
	assert.match(marked, /value="200"/, "the values are kept");
	assert.match(marked, /<input type="radio" name="autoStart" value="off" checked\/?> No/);

	const review = await request(deps.app, url, {
		user: "alice",
		form: { intent: "review", instanceType: "t2.micro", idleMinutes: "45", lifetimeHours: "12", autoStart: "off" },
	});
	assert.equal(review.status, 200);
	const confirm = await review.text();
	assert.match(confirm, /<dt>Machine policy<\/dt><dd data-confirmed-policy><ul class="policy-list">/);
	assert.match(confirm, /<li><strong>Idle stop:<\/strong> Stopped after 45 min without activity/);
	assert.match(
		confirm,
		/<li><strong>Working hours:<\/strong> Mon–Fri 08:00–19:00 UTC: stopped when they end, with a notice/,
	);
	assert.match(confirm, /<li><strong>Lifetime:<\/strong> Terminated 12 h after its launch/);
	for (const [name, value] of [["idleMinutes", "45"], ["lifetimeHours", "12"], ["autoStart", "off"]]) {
		assert.match(confirm, new RegExp(`<input type="hidden" name="${name}" value="${value}"`), name);
	}
	const launched = await request(deps.app, url, {
		user: "alice",
		form: { intent: "launch", instanceType: "t2.micro", idleMinutes: "45", lifetimeHours: "12", autoStart: "off" },
	});
	assert.equal(launched.status, 303);
	const launch = await getLaunch(deps.db, launched.headers.get("Location")!.split("/").pop()!);
	assert.deepEqual(launch!.options.policy, { idleMinutes: 45, lifetimeHours: 12, autoStart: false });
});

Deno.test("the cluster form asks for the cluster's policy too: its idle rule terminates; without a policy it says none applies", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await seedClusterWorld(deps.db);
	const url = `/launch/${world.emrGroup.id}/${world.spark.id}`;
	assert.match(
		await page(deps, url, "alice"),
		/No machine policy applies to this group and configuration: nothing stops or terminates it automatically./,
	);
	await setPolicy(deps.db, { group: world.emrGroup.id }, { idleMinutes: 60, idleMinMinutes: 15, idleMaxMinutes: 240 });
	const html = await page(deps, url, "alice");
	assert.match(html, /<dt>Idle termination<\/dt><dd>Terminated after 1 h without activity/);
	assert.match(html, /<label for="f-idleMinutes">Idle minutes before it is terminated<\/label>/);
	assert.doesNotMatch(html, /name="autoStart"/, "a cluster is not started by working hours");
	const refused = await request(deps.app, url, {
		user: "alice",
		form: {
			instanceType: "m4.large",
			purpose: "Churn",
			coreNodes: "2",
			market: "ON_DEMAND",
			autoTerminateHours: "1",
			autoTerminateMinutes: "0",
			idleMinutes: "5",
		},
	});
	assert.equal(refused.status, 422);
	assert.match(await refused.text(), /id="f-idleMinutes-error" role="alert">Between 15 and 240 minutes</);
});

Deno.test("the profile: the notice channels as a form; saving says what was chosen, and the banner follows it", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await idleWorld(deps);
	await idleFor(deps, 20); // a notice is out
	const channels = () =>
		page(deps, "/profile", "alice").then((html) =>
			/<section class="panel" aria-labelledby="notices-heading" data-notice-channels>[\s\S]*?<\/section>/.exec(html)![0]
		);
	const before = await channels();
	assert.match(before, /<form method="post" action="\/profile\/notices" class="stack" novalidate>/);
	assert.match(before, /<input type="checkbox" name="banner" checked value="on"\/?> On my pages/);
	assert.match(before, /<input type="checkbox" name="email" checked value="on"\/?> By email/);
	assert.match(before, /You have no email address on record, so no email can reach you./);

	const saved = await request(deps.app, "/profile/notices", { user: "alice", form: { email: "on" } });
	assert.equal(saved.status, 303);
	assert.equal(saved.headers.get("Location"), "/profile");
	const cookie = saved.headers.get("Set-Cookie")!.split(";")[0]!;
	const shown = await (await request(deps.app, "/profile", { user: "alice", headers: { Cookie: cookie } })).text();
	assert.match(shown, /<div class="flash ok" role="status">Notices saved: you get them by email.<\/div>/);
	assert.match(shown, /<input type="checkbox" name="banner"\s+value="on"\/?>/, "the banner is off");
	assert.equal(bannerOf(await page(deps, "/", "alice")), undefined, "and no page shows it");

	const none = await request(deps.app, "/profile/notices", { user: "alice", form: {} });
	assert.equal(none.status, 303);
	const refused = await request(deps.app, "/profile/notices", { user: "alice", form: { banner: "maybe" } });
	assert.equal(refused.status, 422);
	assert.match(
		await refused.text(),
		/<p class="error-box" role="alert">Please correct the marked fields: On my pages: On or off.<\/p>/,
	);

	// With an address and a mail server, email reaches the user: no note.
	await updateUserProfile(deps.db, world.bob, { email: "bob@example.com" });
	await using mail = await createTestDeps({ settings: { SMTP_HOST: "127.0.0.1" } });
	const mailWorld = await seedWorld(mail.db);
	await updateUserProfile(mail.db, mailWorld.bob, { email: "bob@example.com" });
	assert.doesNotMatch(await page(mail, "/profile", "bob"), /no email can reach you|not set up to send email/);
	assert.match(await page(deps, "/profile", "bob"), /The portal is not set up to send email \(no SMTP server\)/);
});

Deno.test("billing: per group and month, the hours stopped by policy and what they would have cost, in the CSV too; admins see which policies acted most", async () => {
	await using deps = await createTestDeps({ clock: testClock("2025-04-30T00:00:00Z") });
	const world = await seedWorld(deps.db);
	const acted = async (
		machineId: string,
		reason: PolicyReason,
		action: string,
		done: string,
		rate: number | null,
		owner = world.alice,
		groupId = world.science.id,
	) => {
		const at = new Date(done);
		const row = await insertPolicyNotice(deps.db, {
			machineId,
			kind: "instance",
			ownerId: owner.id,
			groupId,
			reason,
			action,
			deadline: at,
			actAt: at,
			noticedAt: at,
			stateAtNotice: "running",
		});
		await updatePolicyAction(deps.db, row!.id, { status: "done", endedAt: at, hourlyRate: rate });
	};
	// Stopped for idleness at 10:00 on 10 March, billed again at 18:00: 8 hours at $0.10; another on
	// 20 March, never started again: 278 hours in March, and April to now (the 30th).
	await acted("i-1", "idle", "stop", "2025-03-10T10:00:00Z", 0.1);
	await openBill(deps.db, {
		resourceKind: "instance",
		resourceId: "i-1",
		userId: world.alice.id,
		costCenter: "CC",
		description: "t2.micro",
		hourlyRate: 0.1,
		startedAt: new Date("2025-03-10T18:00:00Z"),
		endedAt: new Date("2025-03-10T18:00:00Z"),
	});
	await acted("i-2", "idle", "stop", "2025-03-20T10:00:00Z", 0.1);
	await acted("i-3", "lifetime", "terminate", "2025-04-20T00:00:00Z", 1, world.olga, world.ops.id);
	const range = "from=2025-03-01&to=2025-04-29";

	const alice = await page(deps, `/billing?${range}`, "alice");
	const section = /<section aria-labelledby="savings-heading" data-savings>[\s\S]*?<\/section>/.exec(alice)![0];
	assert.match(section, /\(2025-03 to 2025-04, whole months\)/);
	assert.match(
		section,
		/<tr data-savings-row="2025-03 science"><td data-label="Month">2025-03<\/td><td data-label="Group">science<\/td><td data-label="Hours stopped" class="num">286.0<\/td><td data-label="Not spent" class="num">\$28.60<\/td><td data-label="Actions" class="small">Idle 2<\/td><\/tr>/,
	);
	assert.doesNotMatch(section, /ops/, "alice sees her team's savings only");
	assert.doesNotMatch(section, /Which policies acted most/, "the ranking is for admins");

	const ada = await page(deps, `/billing?${range}`, "ada");
	assert.match(
		ada,
		/<tr data-savings-row="2025-04 ops">.*?240.0<\/td><td data-label="Not spent" class="num">\$240.00<\/td><td data-label="Actions" class="small">Lifetime 1<\/td>/,
	);
	assert.match(
		ada,
		/<h3>Which policies acted most<\/h3><table>.*?<tbody><tr><td>science<\/td><td>Idle<\/td><td class="num">2<\/td><\/tr><tr><td>ops<\/td><td>Lifetime<\/td><td class="num">1<\/td><\/tr><\/tbody>/,
	);
	assert.match(ada, /data-island="Chart" data-props="[^"]*Policy actions by reason[^"]*&quot;values&quot;:\[2,0,1,0\]/);
	assert.match(
		await page(deps, `/billing?${range}&group=${world.ops.id}`, "ada"),
		/<td colspan="2">Total<\/td><td data-label="Hours stopped" class="num">240.0<\/td><td data-label="Not spent" class="num">\$240.00<\/td><td data-label="Actions">1 action<\/td>/,
		"the group filter narrows the savings",
	);
	assert.match(
		await page(deps, `/billing?${range}&user=${world.alice.id}`, "ada"),
		/the user and cost-center filters do not narrow them/,
	);

	const csv = await (await request(deps.app, `/billing.csv?${range}`, { user: "ada" })).text();
	const [report, saved] = csv.split("\r\n\r\n");
	assert.match(report!, /^resource,kind,owner/);
	assert.equal(
		saved,
		[
			"savings_month,group,hours_stopped_by_policy,usd_not_spent,idle_actions,schedule_actions,lifetime_actions,dormancy_actions",
			"2025-03,science,286.0000,28.6000,2,0,0,0",
			"2025-04,ops,240.0000,240.0000,0,0,1,0",
			"2025-04,science,696.0000,69.6000,0,0,0,0",
			"",
		].join("\r\n"),
	);
	const none = await page(deps, "/billing?from=2025-01-01&to=2025-01-31", "alice");
	assert.match(none, /No policy stopped or terminated anything in these months./);
});

Deno.test("CSRF: the policy forms take the page's token as htmx sends it (a header), not another user's, nor a cross-site post", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	await idleWorld(deps);
	await idleFor(deps, 5);
	const [alice, bob] = [await csrfFor(deps.app, { user: "alice" }), await csrfFor(deps.app, { user: "bob" })];
	const post = (path: string, form: Record<string, string>, headers: Record<string, string>) =>
		deps.app.request(path, {
			method: "POST",
			headers: {
				REMOTE_USER: "alice",
				"HX-Request": "true",
				"Content-Type": "application/x-www-form-urlencoded",
				...headers,
			},
			body: new URLSearchParams(form).toString(),
		}, { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" } });
	for (
		const [path, form] of [
			[`/instances/${ID}/policy`, { idleMinutes: "30" }],
			[`/instances/${ID}/keep-alive`, { for: "60m" }],
			["/profile/notices", { banner: "on" }],
		] as const
	) {
		const before = await policyRows(deps);
		const refused = [
			await post(path, form, { "X-CSRF-Token": bob }),
			await post(path, form, { "X-CSRF-Token": alice, "Sec-Fetch-Site": "cross-site" }),
			await post(path, form, { "X-CSRF-Token": alice, Origin: "https://attacker.example" }),
			await post(path, { ...form, _csrf: bob }, {}),
		];
		for (const res of refused) {
			assert.equal(res.status, 403, path);
			await res.body?.cancel();
		}
		assert.equal(await policyRows(deps), before, `${path}: nothing written`);
		const accepted = await post(path, form, { "X-CSRF-Token": alice, Origin: publicUrl(deps.settings) });
		assert.ok(accepted.status === 200 || accepted.status === 303, `${path} → ${accepted.status}`);
		await accepted.body?.cancel();
	}
});
