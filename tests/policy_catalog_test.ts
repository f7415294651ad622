/**
 * Machine policies where admins and users set them, and the data the pages will show: the group and
 * configuration forms and the catalogue document; the launch form's choices and the later change;
 * keep-alive from the page; the next planned action of a row; the banner's notices and the users'
 * channels. A failed automated action is retried and reported (AWS failing on purpose: a fake, since
 * moto will not fail a StopInstances on demand).
 */
import assert from "node:assert/strict";
import { exportCatalog, importCatalog } from "../lib/catalog/document.ts";
import { getConfig, getGroup } from "../lib/db/catalog.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { machinePolicyOf, openPolicyActions } from "../lib/db/policies.ts";
import { AwsError, UserError } from "../lib/errors.ts";
import { changeMachinePolicy } from "../lib/policy/choices.ts";
import { keepMachineAlive } from "../lib/policy/signals.ts";
import { activeNotices, machinePolicyView, nextActions } from "../lib/views/policy.ts";
import { noticeChannels, setNoticeChannels } from "../lib/policy/notices.ts";
import { toViewer } from "../lib/auth/identify.ts";
import { groupIdsOf } from "../lib/db/users.ts";
import type { User } from "../lib/db/users.ts";
import type { Db } from "../lib/db/client.ts";
import { auditFor } from "../lib/db/audit.ts";
import { requestLaunch } from "../lib/launch/request.ts";
import { ACTIONS_ACCEPTED, fakeAws, inTurn } from "./_fakes/aws.ts";
import { rejection } from "./_helpers/assert.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { enforce, report, setPolicy } from "./_helpers/policies.ts";
import { addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

const TOKEN = "the-launch-token";
const ID = "i-0123456789abcdef0";

async function viewerOf(db: Db, user: User) {
	return toViewer(user, await groupIdsOf(db, user.id), []);
}

Deno.test("admins set policies on the group and configuration forms; bad values are marked on their fields", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const page = await (await request(deps.app, `/admin/groups/${world.science.id}`, { user: "ada" })).text();
	assert.match(page, /name="policy.idleMinutes"/);
	assert.match(page, /name="policy.workDays" value="mon"/);
	assert.match(page, /name="noticeWebhook"/);
	const bad = await request(deps.app, `/admin/groups/${world.science.id}`, {
		user: "ada",
		form: {
			name: "science",
			"policy.idleMinutes": "2",
			"policy.workDays": ["mon"],
			"policy.workStart": "19:00",
			"policy.workEnd": "08:00",
			noticeWebhook: "ftp://hooks",
		},
	});
	assert.equal(bad.status, 422);
	const html = await bad.text();
	assert.match(html, /At least 5 minutes/);
	assert.match(html, /After the beginning \(on the same day\)/);
	assert.match(html, /An http\(s\) URL/);
	const saved = await request(deps.app, `/admin/groups/${world.science.id}`, {
		user: "ada",
		form: {
			name: "science",
			"policy.idleMinutes": "60",
			"policy.idleMinMinutes": "30",
			"policy.idleMaxMinutes": "240",
			"policy.workDays": ["mon", "tue", "wed", "thu", "fri"],
			"policy.workStart": "08:00",
			"policy.workEnd": "19:00",
			"policy.workAutoStart": "on",
			noticeWebhook: "https://hooks.example.com/T/B/x",
		},
	});
	assert.equal(saved.status, 303);
	const group = (await getGroup(deps.db, world.science.id))!;
	assert.equal(group.noticeWebhook, "https://hooks.example.com/T/B/x");
	assert.deepEqual(
		[group.policy.idleMinutes, group.policy.idleMaxMinutes, group.policy.workEnd, group.policy.workAutoStart],
		[60, 240, "19:00", true],
	);
	const shown = await (await request(deps.app, `/admin/groups/${world.science.id}`, { user: "ada" })).text();
	assert.match(shown, /name="policy.idleMaxMinutes" type="number" value="240"/);
	assert.match(shown, /name="policy.workDays" value="fri" checked/);

	const config = await request(deps.app, `/admin/configs/${world.config.id}`, {
		user: "ada",
		form: {
			name: "Analyst",
			kind: "instance",
			amiId: world.config.amiId,
			templateBody: world.config.templateBody,
			compatibleTypes: [String(world.types["t2.micro"]!.id)],
			"policy.lifetimeHours": "72",
			"policy.dormancyDays": "14",
		},
	});
	assert.equal(config.status, 303, await config.text());
	const stored = (await getConfig(deps.db, world.config.id))!.policy;
	assert.deepEqual(stored, { lifetimeHours: 72, dormancyDays: 14 }, "what differs from the defaults");
});

Deno.test("the catalogue document carries the policies and webhooks, and refuses a bad one naming where it is", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await setPolicy(deps.db, { group: world.science.id }, {
		idleMinutes: 45,
		workDays: ["mon"],
		workStart: "09:00",
		workEnd: "17:00",
	}, {
		noticeWebhook: "https://hooks.example.com/x",
	});
	await setPolicy(deps.db, { config: world.config.id }, { lifetimeHours: 24 });
	const doc = await exportCatalog(deps.db);
	const science = doc.groups!.find((g) => g.name === "science")!;
	assert.equal(science.noticeWebhook, "https://hooks.example.com/x");
	assert.equal((science.policy as Record<string, unknown>).idleMinutes, 45);
	assert.equal((doc.configs!.find((c) => c.name === "Analyst")!.policy as Record<string, unknown>).lifetimeHours, 24);

	await using copy = await createTestDeps();
	await importCatalog(copy.db, doc);
	const imported = (await exportCatalog(copy.db)).groups!.find((g) => g.name === "science")!;
	assert.deepEqual(imported.policy, science.policy, "exported, imported and exported again: the same");
	assert.equal(imported.noticeWebhook, science.noticeWebhook);

	const bad = structuredClone(doc);
	(bad.groups![1]!.policy as Record<string, unknown>).idleMinutes = "soon";
	const error = await rejection(importCatalog(copy.db, bad));
	assert.ok(error instanceof UserError && error.status === 422);
	assert.match(error.message, /groups\.1: policy\.idleMinutes: A number of minutes/);
});

Deno.test("users choose within the bounds at launch (the wizard without them still works) and change them later", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await seedWorld(deps.db);
	await setPolicy(deps.db, { group: world.science.id }, {
		idleMinutes: 60,
		idleMinMinutes: 30,
		idleMaxMinutes: 120,
		lifetimeHours: 48,
	});
	const launch = (form: Record<string, string>) =>
		request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
			user: "alice",
			form: { intent: "launch", instanceType: "t2.micro", ...form },
		});
	// The wizard's page shows these fields once the page work adds them; the request marks them already.
	const refused = await rejection(requestLaunch(deps, await viewerOf(deps.db, world.alice), {
		groupId: world.science.id,
		configId: world.config.id,
	}, { idleMinutes: "200", lifetimeHours: "49", instanceType: "" }));
	assert.ok(refused instanceof UserError && refused.status === 422);
	assert.deepEqual(refused.fields, {
		instanceType: "Choose an instance type",
		idleMinutes: "Between 30 and 120 minutes",
		lifetimeHours: "At most 48 hours",
	}, "the kind's fields and the policy's are marked together");
	assert.equal((await launch({ idleMinutes: "200" })).status, 422, "through the wizard's POST too");

	const plain = await launch({});
	assert.equal(plain.status, 303, "the wizard as it is, without choices");
	const plainLaunch = (await getLaunch(deps.db, plain.headers.get("Location")!.split("/").pop()!))!;
	assert.equal(plainLaunch.options.policy, undefined);
	const chosen = await launch({ idleMinutes: "90", lifetimeHours: "12" });
	assert.equal(chosen.status, 303);
	const launchId = chosen.headers.get("Location")!.split("/").pop()!;
	assert.deepEqual((await getLaunch(deps.db, launchId))!.options.policy, { idleMinutes: 90, lifetimeHours: 12 });
	await deps.background.idle();

	// Its instance follows the choices made at launch until its owner changes them.
	const launched = await getLaunch(deps.db, launchId);
	const { addInstance } = await import("./_helpers/world.ts");
	await addInstance(deps.db, {
		id: ID,
		ownerId: world.alice.id,
		groupId: world.science.id,
		launchId: launched!.id,
		launchedAt: deps.clock(),
	});
	const alice = await viewerOf(deps.db, world.alice);
	let view = await machinePolicyView(deps, alice, { kind: "instance", id: ID });
	assert.deepEqual(view.applied, { idleMinutes: 90, lifetimeHours: 12, autoStart: false });
	assert.equal(view.mayChange, true);
	assert.equal(view.next?.reason, "lifetime");
	assert.match(
		view.next!.summary,
		/^is terminated at 2025-03-02 00:00 UTC unless extended$/,
		"12 hours after its launch",
	);

	const bob = await viewerOf(deps.db, world.bob);
	assert.equal(
		(await rejection(changeMachinePolicy(deps, bob, { kind: "instance", id: ID }, { idleMinutes: "60" })) as UserError)
			.status,
		403,
		"a teammate may not",
	);
	assert.equal(
		(await rejection(
			changeMachinePolicy(deps, alice, { kind: "instance", id: ID }, { idleMinutes: "20" }),
		) as UserError).fields.idleMinutes,
		"Between 30 and 120 minutes",
	);
	assert.deepEqual(await changeMachinePolicy(deps, alice, { kind: "instance", id: ID }, { idleMinutes: "45" }), {
		idleMinutes: 45,
		lifetimeHours: 48,
		autoStart: false,
	}, "a field left empty is the policy's own value again");
	view = await machinePolicyView(deps, alice, { kind: "instance", id: ID });
	assert.equal(view.applied.idleMinutes, 45);
	assert.equal(
		(await auditFor(deps.db, ID)).find((e) => e.action === "policy")?.detail,
		"idle stop after 45 min, lifetime 48 h",
	);

	// Keep-alive from the page: anyone who may control it, within the policy's longest postponement.
	assert.equal(
		(await keepMachineAlive(deps, bob, { kind: "instance", id: ID }, { for: "2h" }))?.toISOString(),
		"2025-03-01T14:00:00.000Z",
	);
	const olga = await viewerOf(deps.db, world.olga);
	assert.equal(
		(await rejection(keepMachineAlive(deps, olga, { kind: "instance", id: ID }, { for: "2h" })) as UserError).status,
		403,
	);
	assert.match(
		(await rejection(keepMachineAlive(deps, alice, { kind: "instance", id: ID }, { for: "9h" })) as Error).message,
		/at most 8 h/,
	);
	assert.equal((await machinePolicyOf(deps.db, ID))?.keepAliveUntil?.toISOString(), "2025-03-01T14:00:00.000Z");
});

Deno.test("the dashboard's rows get their next planned action; the banner shows the viewer's notices, as their channels say", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await seedWorld(deps.db);
	await setPolicy(deps.db, { group: world.science.id }, { idleMinutes: 30, idleNoticeMinutes: 10 });
	const now = deps.clock();
	await addLaunchedInstance(deps.db, world, TOKEN, {
		groupId: world.science.id,
		configId: world.config.id,
		startedAt: now,
		launchedAt: now,
	});
	assert.deepEqual(await nextActions(deps, [ID]), new Map(), "no signal yet: nothing is known, nothing planned");
	deps.clock.advance(12 * 60_000);
	await report(deps, ID, TOKEN, { cpu: 1 });
	const next = (await nextActions(deps, [ID])).get(ID)!;
	assert.equal(next.summary, "idle for 12 min; stops after 30");
	assert.equal(next.at.toISOString(), "2025-03-01T12:30:00.000Z");
	assert.equal(next.noticeAt.toISOString(), "2025-03-01T12:20:00.000Z");

	deps.clock.advance(8 * 60_000);
	await report(deps, ID, TOKEN, { cpu: 1 });
	await enforce(deps);
	const alice = await viewerOf(deps.db, world.alice);
	const [notice] = await activeNotices(deps, alice);
	assert.equal(notice?.phase, "warning");
	assert.match(
		notice.message,
		/^Instance i-0123456789abcdef0 will be stopped at 2025-03-01 12:30 UTC by its idle policy/,
	);
	assert.match(notice.extendPath!, /^\/extend\/\d+\.\d+\.\d+\./);
	assert.equal(
		(await request(deps.app, notice.extendPath!, { user: "alice" })).status,
		200,
		"the banner's link is alice's",
	);
	assert.deepEqual(await activeNotices(deps, await viewerOf(deps.db, world.bob)), [], "a teammate gets none");

	assert.deepEqual(await noticeChannels(deps, world.alice.id), { banner: true, email: true });
	assert.deepEqual(await setNoticeChannels(deps, alice, { email: "on" }), { banner: false, email: true });
	assert.deepEqual(await activeNotices(deps, alice), [], "banner off");
	await setNoticeChannels(deps, alice, { banner: "on", email: "on" });
	deps.clock.advance(10 * 60_000);
	await report(deps, ID, TOKEN, { cpu: 1 });
	await enforce(deps);
	const [done] = await activeNotices(deps, alice);
	assert.equal(done?.phase, "done");
	assert.match(done.message, /was stopped at 2025-03-01 12:30 UTC by its idle policy/);
	assert.equal(done.extendPath, undefined);
	deps.clock.advance(25 * 3_600_000);
	assert.deepEqual(await activeNotices(deps, alice), [], "a day later it is gone from the banner");
});

Deno.test("an automated action that fails is reported and retried until it succeeds", async () => {
	const aws = fakeAws({
		...ACTIONS_ACCEPTED,
		ec2: {
			...ACTIONS_ACCEPTED.ec2,
			stopInstances: inTurn(
				new AwsError("StopInstances", "unavailable", "StopInstances: simulated outage"),
				new AwsError("StopInstances", "unavailable", "StopInstances: simulated outage"),
				undefined,
			),
		},
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	await setPolicy(deps.db, { group: world.science.id }, { idleMinutes: 30, idleNoticeMinutes: 10 });
	const now = deps.clock();
	await addLaunchedInstance(deps.db, world, TOKEN, { groupId: world.science.id, startedAt: now, launchedAt: now });
	const step = async (minutes: number) => {
		deps.clock.advance(minutes * 60_000);
		await report(deps, ID, TOKEN, { cpu: 0 });
		await enforce(deps);
	};
	await step(20);
	await step(10); // 12:30: the first attempt fails
	const [failed] = await openPolicyActions(deps.db);
	assert.equal(failed?.status, "failed");
	assert.equal(failed.lastError, "AWS did not answer; try again in a minute.");
	const alice = await viewerOf(deps.db, world.alice);
	assert.match(
		(await activeNotices(deps, alice))[0]!.message,
		/could not be stopped by its idle policy \(AWS did not answer/,
	);
	await step(1);
	assert.equal((await openPolicyActions(deps.db))[0]?.attempts, 2, "retried a minute later");
	await step(1);
	assert.equal((await openPolicyActions(deps.db))[0]?.status, "failed", "the second retry waits two minutes");
	await step(1);
	assert.deepEqual(await openPolicyActions(deps.db), []);
	assert.equal(aws.calls.filter((c) => c === "ec2.stopInstances").length, 3);
	const stops = (await auditFor(deps.db, ID)).filter((e) => e.action === "stop").map((e) => e.outcome);
	assert.deepEqual(stops, ["ok", "error", "error"], "each attempt audited, newest first");
});

Deno.test("a locked instance is never stopped by a policy (it would be refused every minute), and a crashed claim blocks nothing", async () => {
	const aws = fakeAws(ACTIONS_ACCEPTED);
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	await setPolicy(deps.db, { group: world.science.id }, { idleMinutes: 30, idleNoticeMinutes: 10 });
	const now = deps.clock();
	await addLaunchedInstance(deps.db, world, TOKEN, {
		groupId: world.science.id,
		startedAt: now,
		launchedAt: now,
		controlsLocked: true,
	});
	const step = async (minutes: number, cpu = 0) => {
		deps.clock.advance(minutes * 60_000);
		await report(deps, ID, TOKEN, { cpu });
		await enforce(deps);
	};
	await step(20);
	await step(15);
	assert.deepEqual(await openPolicyActions(deps.db), [], "no notice for a stop its controls refuse");
	assert.equal(aws.calls.filter((c) => c === "ec2.stopInstances").length, 0);

	const { updateInstance } = await import("../lib/db/instances.ts");
	await updateInstance(deps.db, ID, { controlsLocked: false });
	await step(1); // 12:36: idle since 12:00, the stop was due at 12:30: noticed now, 10 minutes ahead
	const [noticed] = await openPolicyActions(deps.db);
	assert.equal(noticed?.actAt.toISOString(), "2025-03-01T12:46:00.000Z");
	// A process claims it and dies before acting; the machine is used again meanwhile.
	const { claimPolicyAction } = await import("../lib/db/policies.ts");
	assert.ok(await claimPolicyAction(deps.db, noticed.id, deps.clock(), new Date(deps.clock().getTime() + 5 * 60_000)));
	await step(2, 90);
	assert.equal((await openPolicyActions(deps.db))[0]?.status, "acting", "within the claim nobody else touches it");
	await step(5, 0);
	assert.deepEqual(await openPolicyActions(deps.db), [], "after the claim ran out it is re-evaluated: cancelled");
	await step(25);
	assert.equal((await openPolicyActions(deps.db))[0]?.status, "noticed", "and the machine gets its next notice");
});
