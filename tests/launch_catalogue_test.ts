/**
 * What the launch wizard offers a group is its catalogue, and nothing else opens: a group whose
 * only configuration is a cluster configuration it may not launch (no EMR access) is not offered a
 * launch anywhere, and a configuration the group's catalogue hides is not there by URL either (404).
 */
import assert from "node:assert/strict";
import { CLUSTER_TEMPLATE } from "../fixtures/mod.ts";
import { launches } from "../lib/db/schema.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { addConfig, addGroup, addMember, excludeType, seedWorld } from "./_helpers/world.ts";

Deno.test("a group whose only configuration is a cluster it may not launch is offered no launch", async () => {
	await using deps = await createTestDeps({ aws: fakeAws() });
	const world = await seedWorld(deps.db);
	// olga's only group, ops, has one configuration: a cluster, and ops has no EMR access.
	const spark = await addConfig(deps.db, "Spark", {
		kind: "cluster",
		templateBody: CLUSTER_TEMPLATE,
		types: [world.types["m4.large"]!.id],
		groups: [world.ops.id],
	});

	// The wizard has no group for her, and says why; the navigation leads only there.
	const wizard = await request(deps.app, "/launch", { user: "olga" });
	assert.equal(wizard.status, 200, "not a redirect into ops' wizard");
	const page = await wizard.text();
	assert.match(page, /You cannot launch anything yet\./);
	assert.match(page, /None of your groups has a software configuration you may launch\./);
	assert.doesNotMatch(page, new RegExp(`href="/launch/${world.ops.id}`));
	const dashboard = await (await request(deps.app, "/", { user: "olga" })).text();
	assert.doesNotMatch(dashboard, new RegExp(`href="/launch/${world.ops.id}`), "no Launch entry into ops");
	assert.match(dashboard, /<a href="\/launch" >Launch<\/a>/, "Launch leads to the page that says why");
	assert.match(dashboard, /You are not in a group that can launch instances yet/);

	// Its catalogue is empty, and the cluster's form is not there by URL.
	const catalogue = await (await request(deps.app, `/launch/${world.ops.id}`, { user: "olga" })).text();
	assert.doesNotMatch(catalogue, new RegExp(`/launch/${world.ops.id}/${spark.id}`));
	for (
		const path of [
			`/launch/${world.ops.id}/${spark.id}`,
			`/launch/${world.ops.id}/${spark.id}/type-info?instanceType=m4.large`,
			`/launch/${world.ops.id}/${spark.id}/estimate?instanceType=m4.large&coreNodes=2`,
		]
	) {
		const res = await request(deps.app, path, { user: "olga" });
		assert.equal(res.status, 404, path);
		assert.match(
			await res.text(),
			/There is no such configuration in the catalogue of &quot;ops&quot;\. &quot;ops&quot; has no access to EMR clusters\./,
		);
	}
	const posted = await request(deps.app, `/launch/${world.ops.id}/${spark.id}`, {
		user: "olga",
		headers: { Accept: "application/json" },
		form: { intent: "launch", instanceType: "m4.large", purpose: "x", coreNodes: "2", market: "ON_DEMAND" },
	});
	assert.equal(posted.status, 404);
	assert.equal((await deps.db.select().from(launches)).length, 0);

	// With EMR access the same group is offered it, and the Launch entry goes there.
	const sparkers = await addGroup(deps.db, "sparkers", { emrAccess: true });
	await addMember(deps.db, world.olga.id, sparkers.id);
	await addConfig(deps.db, "Spark for sparkers", {
		kind: "cluster",
		templateBody: CLUSTER_TEMPLATE,
		types: [world.types["m4.large"]!.id],
		groups: [sparkers.id],
	});
	const offered = await request(deps.app, "/launch", { user: "olga" });
	assert.equal(offered.status, 302);
	assert.equal(offered.headers.get("Location"), `/launch/${sparkers.id}`);
});

Deno.test("a configuration the group's catalogue hides cannot be opened by URL (404 in our words)", async () => {
	await using deps = await createTestDeps({ aws: fakeAws() });
	const world = await seedWorld(deps.db);
	const url = (configId: number) => `/launch/${world.science.id}/${configId}`;
	// Hidden because every one of its types is excluded for science.
	const big = await addConfig(deps.db, "Big", { types: [world.types["t2.nano"]!.id], groups: [world.science.id] });
	await excludeType(deps.db, world.science.id, world.types["t2.nano"]!.id);
	// Hidden because it is not permitted to science.
	const opsOnly = await addConfig(deps.db, "Ops tool", {
		types: [world.types["t2.micro"]!.id],
		groups: [world.ops.id],
	});

	const catalogue = await (await request(deps.app, `/launch/${world.science.id}`, { user: "alice" })).text();
	assert.match(catalogue, new RegExp(`href="${url(world.config.id)}"`), "the visible one is offered");
	for (
		const [config, why] of [[big, / None of its instance types is offered to the group\./], [opsOnly, /\.</]] as const
	) {
		assert.doesNotMatch(catalogue, new RegExp(`href="${url(config.id)}"`), config.name);
		const res = await request(deps.app, url(config.id), { user: "alice" });
		assert.equal(res.status, 404, config.name);
		const text = await res.text();
		assert.match(text, /There is no such configuration in the catalogue of &quot;science&quot;\./, config.name);
		assert.match(text, why, config.name);
		const json = await request(deps.app, url(config.id), {
			user: "alice",
			headers: { Accept: "application/json" },
			form: { intent: "review", instanceType: "t2.micro" },
		});
		assert.equal(json.status, 404, `${config.name} posted`);
	}
	// A configuration that does not exist reads the same; one of another group's members is still a 403.
	assert.equal((await request(deps.app, url(99999), { user: "alice" })).status, 404);
	assert.equal((await request(deps.app, url(world.config.id), { user: "olga" })).status, 403);
	assert.equal((await request(deps.app, url(world.config.id), { user: "alice" })).status, 200);
	assert.equal((await deps.db.select().from(launches)).length, 0);
});
