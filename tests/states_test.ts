/**
 * States that read true: a failed launch's page says it failed, its dashboard notice can be
 * dismissed, an ended row shows no hourly cost and no stale progress text, removing the last
 * instance leaves the empty state, and the "launch record" link is shown only to those who may
 * open the launch.
 */
import assert from "node:assert/strict";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addInstance, addLaunch, seedWorld } from "./_helpers/world.ts";

async function setup() {
	const deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	return { deps, world: await seedWorld(deps.db) };
}

Deno.test("a failed launch's page says it failed, not that it is launching", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		status: "failed",
		reason: "CloudFormation refused the stack: the key pair does not exist",
		finishedAt: deps.clock(),
	});
	const page = await (await request(deps.app, `/launches/${launch.id}`, { user: "alice" })).text();
	assert.match(page, /<h1>The launch of Analyst failed<\/h1>/);
	assert.match(page, /The launch failed\.<\/strong> CloudFormation refused the stack: the key pair does not exist/);
	assert.doesNotMatch(page, /Launching|the launch goes on/);
});

Deno.test("a failed launch's notice on the dashboard can be dismissed by its owner or an admin, leaving the empty state", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	const failedLaunch = () =>
		addLaunch(deps.db, {
			userId: world.alice.id,
			groupId: world.science.id,
			configId: world.config.id,
			status: "failed",
			reason: "the key pair does not exist",
			finishedAt: deps.clock(),
		});
	const [first, second] = [await failedLaunch(), await failedLaunch()];
	const notices = async () =>
		[...(await (await request(deps.app, "/", { user: "alice" })).text()).matchAll(/data-failed-launch="([^"]+)"/g)]
			.map((m) => m[1]).sort();
	assert.deepEqual(await notices(), [first.id, second.id].sort());
	const dismiss = (id: string, user: string) =>
		request(deps.app, `/launches/${id}/dismiss`, { user, form: {}, htmx: true });

	assert.equal((await dismiss(first.id, "bob")).status, 404, "a teammate does not know the launch");
	const manager = await dismiss(first.id, "mia");
	assert.equal(manager.status, 403, "a manager may follow it, not dismiss it");
	assert.match(await manager.text(), /Only the user who launched it or an admin may dismiss this notice/);
	assert.deepEqual(await notices(), [first.id, second.id].sort(), "refusals change nothing");

	assert.equal((await dismiss(first.id, "ada")).status, 200, "an admin may");
	assert.deepEqual(await notices(), [second.id]);
	const res = await dismiss(second.id, "alice");
	assert.equal(res.status, 200);
	const fragment = await res.text();
	assert.match(fragment, /^<section id="my-instances"/);
	assert.doesNotMatch(fragment, /data-failed-launch/);
	assert.match(fragment, /You do not have any instances\./, "the empty state once the notice was all it showed");
	assert.deepEqual(await notices(), []);

	const complete = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		status: "complete",
	});
	const notFailed = await dismiss(complete.id, "alice");
	assert.equal(notFailed.status, 409);
	assert.match(await notFailed.text(), /Only the notice of a failed launch can be dismissed/);
});

Deno.test("an ended row shows no hourly cost and no stale progress text; removing the last one leaves the empty state", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	await addInstance(deps.db, {
		id: "i-0123456789abcdef0",
		ownerId: world.alice.id,
		configId: world.config.id,
		state: "terminated",
		progressText: "done",
		progressPercent: null,
		setupState: "done",
		stoppedAt: deps.clock(),
	});
	const html = await (await request(deps.app, "/", { user: "alice" })).text();
	const row = html.match(/<tr id="row-i-0123456789abcdef0"[\s\S]*?<\/tr>/)![0];
	assert.match(row, /<td data-label="Hourly cost" class="num">—<\/td>/);
	assert.doesNotMatch(row, /\$[\d.]+\/h|>done</, "no cost, no 'terminated done'");

	const res = await request(deps.app, "/ajax/instance/i-0123456789abcdef0/archive?view=dashboard", {
		user: "alice",
		form: {},
		htmx: true,
	});
	assert.equal(res.status, 200);
	assert.equal(res.headers.get("HX-Retarget"), "#my-instances");
	assert.equal(res.headers.get("HX-Reswap"), "outerHTML");
	const fragment = await res.text();
	assert.match(fragment, /You do not have any instances\./, "the empty state, not a bare table header");
	assert.doesNotMatch(fragment, /<table/);
});

Deno.test("the launch record link is shown only to those who may open the launch", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		status: "complete",
	});
	await addInstance(deps.db, {
		id: "i-0123456789abcdef0",
		ownerId: world.alice.id,
		groupId: world.science.id,
		launchId: launch.id,
	});
	const link = `<a href="/launches/${launch.id}">launch record</a>`;
	for (const [user, shown] of [["alice", true], ["bob", false], ["mia", true], ["ada", true]] as const) {
		const page = await (await request(deps.app, "/instances/i-0123456789abcdef0", { user })).text();
		assert.equal(page.includes(link), shown, user);
		const opened = await request(deps.app, `/launches/${launch.id}`, { user });
		await opened.body?.cancel();
		assert.equal(opened.status === 200, shown, `${user} may open it exactly when the link is shown`);
	}
});
