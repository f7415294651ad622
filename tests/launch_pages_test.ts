/** The launch wizard's pages and the launch page, as they render from the database. */
import assert from "node:assert/strict";
import { insertCluster, updateCluster } from "../lib/db/clusters.ts";
import { updateLaunch } from "../lib/db/launches.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addConfig, addLaunch, addMember, seedWorld } from "./_helpers/world.ts";

Deno.test("a configuration without an extra volume says so on the form and on the confirmation", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	for (const volumeDevice of ["No Volume", ""]) {
		const config = await addConfig(deps.db, `Plain ${volumeDevice || "empty"}`, {
			types: [world.types["t2.micro"]!.id],
			groups: [world.science.id],
			volumeDevice,
		});
		const path = `/launch/${world.science.id}/${config.id}`;
		const form = await (await request(deps.app, path, { user: "alice" })).text();
		assert.match(form, /No extra volume is attached\./, volumeDevice);
		const review = await request(deps.app, path, {
			user: "alice",
			form: { intent: "review", instanceType: "t2.micro" },
		});
		assert.equal(review.status, 200);
		const html = await review.text();
		assert.match(html, /<dt>Extra volume<\/dt><dd>none<\/dd>/, volumeDevice);
		assert.doesNotMatch(html, /GiB at/, volumeDevice);
	}
	const withVolume = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "review", instanceType: "t2.micro" },
	});
	assert.match(await withVolume.text(), /<dt>Extra volume<\/dt><dd>20 GiB at \/dev\/xvdz<\/dd>/);
});

Deno.test("a cluster launch's page follows the cluster and links to it when it is ready", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const spark = await addConfig(deps.db, "Spark", { kind: "cluster", types: [], groups: [world.science.id] });
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: spark.id,
		kind: "cluster",
		status: "creating",
		stackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/spark/1",
	});
	await insertCluster(deps.db, {
		id: "j-0123456789ABC",
		launchId: launch.id,
		ownerId: world.alice.id,
		groupId: world.science.id,
		instanceType: "m4.large",
		coreNodes: 2,
		state: "STARTING",
	});
	const creating = await (await request(deps.app, `/launches/${launch.id}/status`, { user: "alice", htmx: true }))
		.text();
	assert.match(creating, /<li class="done">Cluster j-0123456789ABC \(STARTING\) created<\/li>/);
	assert.match(creating, /<li class="now">Waiting for EMR to report the cluster ready<\/li>/);
	assert.doesNotMatch(creating, /instance/i);

	// The launcher completes a cluster launch when EMR says the cluster is up.
	await updateCluster(deps.db, "j-0123456789ABC", { state: "WAITING" });
	await updateLaunch(deps.db, launch.id, "creating", { status: "complete", finishedAt: deps.clock() });
	const page = await (await request(deps.app, `/launches/${launch.id}`, { user: "alice" })).text();
	assert.match(page, /<h1>Launched Spark<\/h1>/);
	assert.match(
		page,
		/Spark is ready\. <a href="\/">Go to your dashboard<\/a> or <a href="\/clusters\/j-0123456789ABC">/,
	);
	assert.doesNotMatch(page, /hx-trigger/, "a finished launch is not polled");
});

Deno.test("the launch page's poll answers a finished launch with a redirect and nothing to swap", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		status: "complete",
	});
	const res = await request(deps.app, `/launches/${launch.id}/status`, { user: "alice", htmx: true });
	assert.equal(res.status, 200);
	assert.equal(res.headers.get("HX-Redirect"), "/");
	assert.equal(await res.text(), "");
	assert.match(res.headers.get("Set-Cookie") ?? "", /mliy_flash=/, "the dashboard says the launch is ready");
});

Deno.test("the confirmation lists the security groups the launch will use, each once; a refused review or launch shows the form", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const path = `/launch/${world.science.id}/${world.config.id}`;
	const review = await request(deps.app, path, {
		user: "alice",
		form: {
			intent: "review",
			instanceType: "t2.micro",
			securityGroups: [world.sgOptional.sgId, world.sgOptional.sgId],
		},
	});
	assert.equal(review.status, 200);
	assert.match(
		await review.text(),
		new RegExp(`<dt>Security groups</dt><dd class="mono small">${world.sgDefault.sgId}, ${world.sgOptional.sgId}</dd>`),
	);
	for (const intent of ["review", "launch"]) {
		const refused = await request(deps.app, path, {
			user: "alice",
			form: { intent, instanceType: "t2.micro", securityGroups: ["sg-0000000000000000f"] },
		});
		assert.equal(refused.status, 422, intent);
		const html = await refused.text();
		assert.match(html, /Choose only security groups your group offers/, intent);
		assert.match(html, /not offered by science: sg-0000000000000000f/, intent);
	}
});

Deno.test("/launch lists the groups the viewer may launch into, and its navigation agrees", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const one = await request(deps.app, "/launch", { user: "alice" });
	assert.equal(one.status, 302);
	assert.equal(one.headers.get("Location"), `/launch/${world.science.id}`);

	await addMember(deps.db, world.alice.id, world.ops.id);
	await addConfig(deps.db, "Ops tools", { types: [world.types["t2.micro"]!.id], groups: [world.ops.id] });
	const two = await (await request(deps.app, "/launch", { user: "alice" })).text();
	assert.match(two, new RegExp(`<a class="card" href="/launch/${world.science.id}"><h3>science</h3>`));
	assert.match(two, new RegExp(`<a class="card" href="/launch/${world.ops.id}"><h3>ops</h3>`));
	assert.match(two, /<a href="\/launch" aria-current="page">Launch<\/a>/);

	const none = await (await request(deps.app, "/launch", { user: "mia" })).text();
	assert.match(none, /You cannot launch anything yet\./);
	assert.match(none, /<a href="\/launch" aria-current="page">Launch<\/a>/, "Launch is there; its page says why not");
	assert.doesNotMatch(none, /No launches authorized/);
});
