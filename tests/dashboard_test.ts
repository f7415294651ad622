/** The dashboard and its polled fragment: launches on the way, launches that failed, the empty state. */
import assert from "node:assert/strict";
import { updateLaunch } from "../lib/db/launches.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { holdWriteLock } from "./_helpers/db_lock.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { addConfig, addLaunch, seedWorld } from "./_helpers/world.ts";

Deno.test("when a user's only launch fails, the polled fragment shows the failure instead of the empty state", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		stackName: "MLiyAnalyst-MLIY-fails",
	});
	const page = await (await request(deps.app, "/", { user: "alice" })).text();
	assert.match(page, /launching<\/span> MLiyAnalyst-MLIY-fails/);
	assert.match(page, /hx-get="\/dashboard\/instances" hx-trigger="every 5s"/);

	await updateLaunch(deps.db, launch.id, "queued", {
		status: "failed",
		reason: "The stack rolled back: the key pair does not exist",
		finishedAt: deps.clock(),
	});
	const fragment = await (await request(deps.app, "/dashboard/instances", { user: "alice", htmx: true })).text();
	assert.match(
		fragment,
		/launch failed<\/span> MLiyAnalyst-MLIY-fails: The stack rolled back: the key pair does not exist/,
	);
	assert.match(fragment, new RegExp(`href="/launches/${launch.id}"`));
	assert.doesNotMatch(fragment, /hx-trigger/, "nothing is left to poll for");
	assert.doesNotMatch(fragment, /not in a group that can launch/);

	deps.clock.advance(25 * 3_600_000);
	const dayLater = await (await request(deps.app, "/dashboard/instances", { user: "alice", htmx: true })).text();
	assert.doesNotMatch(dayLater, /launch failed/, "a day later the failure is no longer news");
	assert.match(
		dayLater,
		new RegExp(`<a class="btn primary" href="/launch/${world.science.id}">Launch an instance</a>`),
	);
});

Deno.test("the fragment's empty state offers a launch when the user may launch, and says why not otherwise", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const alice = await (await request(deps.app, "/dashboard/instances", { user: "alice", htmx: true })).text();
	assert.match(alice, new RegExp(`href="/launch/${world.science.id}">Launch an instance</a>`));
	const olga = await (await request(deps.app, "/dashboard/instances", { user: "olga", htmx: true })).text();
	assert.match(olga, /You are not in a group that can launch instances yet/);
});

Deno.test("the dashboard lists only the viewer's own instance launches", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const cluster = await addConfig(deps.db, "Spark", { kind: "cluster", types: [], groups: [world.science.id] });
	const base = { groupId: world.science.id, configId: world.config.id };
	await addLaunch(deps.db, { ...base, userId: world.alice.id, stackName: "alices-instance" });
	await addLaunch(deps.db, { ...base, userId: world.bob.id, stackName: "bobs-instance" });
	await addLaunch(deps.db, {
		...base,
		userId: world.alice.id,
		configId: cluster.id,
		kind: "cluster",
		stackName: "alices-cluster",
	});
	const fragment = await (await request(deps.app, "/dashboard/instances", { user: "alice", htmx: true })).text();
	assert.match(fragment, /alices-instance/);
	assert.doesNotMatch(fragment, /bobs-instance|alices-cluster/);
});

Deno.test("the dashboard answers while its refresh cannot take its lease (a busy database); the next view asks again", async () => {
	const aws = fakeAws({
		ec2: { describeInstances: () => Promise.resolve([]), describeVolumes: () => Promise.resolve([]) },
	});
	await using deps = await createTestDeps({
		aws,
		settings: { DATABASE_BUSY_TIMEOUT_MS: 100, USER_REFRESH_SECONDS: 60 },
	});
	await seedWorld(deps.db);
	const started: string[] = [];
	const run = deps.background.run;
	deps.background.run = (name, task) => {
		started.push(name);
		run(name, task);
	};
	assert.equal((await request(deps.app, "/", { user: "alice" })).status, 200);
	await deps.background.idle();
	assert.equal(aws.calls.filter((c) => c === "ec2.describeInstances").length, 1);

	deps.clock.advance(61_000);
	const lock = await holdWriteLock(`${deps.dir}/test.db`, 1500);
	const res = await request(deps.app, "/", { user: "alice" });
	assert.equal(res.status, 200, "the refresh is optional: the page does not fail with it");
	await deps.background.idle();
	await lock.released;
	assert.equal(aws.calls.filter((c) => c === "ec2.describeInstances").length, 1, "no refresh without the lease");

	assert.deepEqual(started, ["refresh alice", "refresh alice"]);
	assert.equal((await request(deps.app, "/", { user: "alice" })).status, 200);
	assert.deepEqual(started, ["refresh alice", "refresh alice", "refresh alice"], "the next view asks again");
	await deps.background.idle();
});
