/**
 * "Launch again": from an instance's page (live or ended) or a failed launch's page, the wizard
 * opens with the same group, configuration, type and options and the name with a suffix, ready to
 * confirm through the usual confirmation and its one-time launch key.
 */
import assert from "node:assert/strict";
import { nextName } from "../lib/launch/again.ts";
import { instancesOfLaunch, updateInstance } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { fakeAws, stack, STACK_ID } from "./_fakes/aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addCluster, addClusterLaunch, addLaunch, seedClusterWorld, seedWorld } from "./_helpers/world.ts";

/** The href of the page's "Launch again" link, decoded. */
function launchAgainOf(page: string): string {
	const href = /<a class="btn(?: primary)?" href="([^"]+)">Launch again<\/a>/.exec(page)?.[1];
	assert.ok(href, "the page offers to launch again");
	return href.replaceAll("&amp;", "&");
}

Deno.test("the next name counts on from a numeric suffix", () => {
	assert.equal(nextName("analysis"), "analysis-2");
	assert.equal(nextName("analysis-2"), "analysis-3");
	assert.equal(nextName("run-9"), "run-10");
	assert.equal(nextName("x-"), "x--2");
});

motoTest(
	"launch again from an instance, live or ended, opens the wizard with its type, security groups and next name",
	async (moto) => {
		const subnet = await moto.subnet("us-east-1a");
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: subnet },
		});
		const world = await seedWorld(deps.db);
		const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
			user: "alice",
			form: { intent: "launch", instanceType: "m4.large", securityGroups: [world.sgOptional.sgId] },
		});
		assert.equal(res.status, 303, await res.clone().text());
		const launchId = res.headers.get("Location")!.slice("/launches/".length);
		for (let i = 0; i < 5 && (await getLaunch(deps.db, launchId))!.status !== "complete"; i++) await tick(deps);
		const [instance] = await instancesOfLaunch(deps.db, launchId);
		assert.ok(instance, "the launch made an instance");
		await updateInstance(deps.db, instance.id, { name: "churn-model" });

		for (const state of ["running", "terminated"]) {
			await updateInstance(deps.db, instance.id, { state });
			const page = await (await request(deps.app, `/instances/${instance.id}`, { user: "alice" })).text();
			const href = launchAgainOf(page);
			const url = new URL(href, "http://portal");
			assert.equal(url.pathname, `/launch/${world.science.id}/${world.config.id}`, state);
			assert.equal(url.searchParams.get("instanceType"), "m4.large", state);
			assert.ok(url.searchParams.getAll("securityGroups").includes(world.sgOptional.sgId), state);
			assert.equal(url.searchParams.get("name"), "churn-model-2", state);

			const form = await (await request(deps.app, href, { user: "alice" })).text();
			assert.match(form, /<option value="m4\.large" selected>/, `${state}: the type is chosen`);
			assert.match(
				form,
				new RegExp(`<input type="checkbox" name="securityGroups" value="${world.sgOptional.sgId}" checked`),
				`${state}: the optional security group is ticked`,
			);
			assert.match(form, /<input id="f-name" name="name" type="text"[^>]* value="churn-model-2"/, `${state}: the name`);
		}
		// A teammate may launch into the group too; someone outside it sees no such instance.
		assert.ok(launchAgainOf(await (await request(deps.app, `/instances/${instance.id}`, { user: "bob" })).text()));
		assert.equal((await request(deps.app, `/instances/${instance.id}`, { user: "olga" })).status, 403);

		// Submitting the pre-filled form is the usual review: the confirmation, with a fresh launch key.
		const review = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
			user: "alice",
			form: { intent: "review", instanceType: "m4.large", securityGroups: [world.sgOptional.sgId] },
		});
		assert.equal(review.status, 200);
		const confirm = await review.text();
		assert.match(confirm, /name="launchKey" value="[^"]+"/);
		assert.match(confirm, /m4\.large/);
	},
);

Deno.test("launch again from a failed launch: the instance form and the cluster form are pre-filled as it was", async () => {
	// A failed stack is what moto cannot produce: CloudFormation is stubbed with a rolled-back stack.
	const aws = fakeAws({
		cloudFormation: {
			describeStack: () => Promise.resolve(stack("ROLLBACK_COMPLETE", { statusReason: "Instance failed" })),
			listStackResources: () => Promise.resolve([]),
			describeStackEvents: () => Promise.resolve([]),
			deleteStack: () => Promise.resolve(),
		},
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedClusterWorld(deps.db);
	const instanceLaunch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		instanceType: "r4.4xlarge",
		options: { securityGroupIds: [world.sgDefault.sgId, world.sgOptional.sgId] },
		status: "creating",
		stackId: STACK_ID,
		submittedAt: deps.clock(),
	});
	const clusterLaunch = await addClusterLaunch(deps.db, world, {
		submittedAt: deps.clock(),
		options: { purpose: "churn", coreNodes: 4, market: "SPOT", bidPrice: 0.05, idleSeconds: 5400 },
	});
	await tick(deps);
	for (const launch of [instanceLaunch, clusterLaunch]) {
		assert.equal((await getLaunch(deps.db, launch.id))!.status, "failed");
	}

	const instancePage = await (await request(deps.app, `/launches/${instanceLaunch.id}`, { user: "alice" })).text();
	const instanceForm = await (await request(deps.app, launchAgainOf(instancePage), { user: "alice" })).text();
	assert.match(instanceForm, /<option value="r4\.4xlarge" selected>/);
	assert.match(instanceForm, new RegExp(`value="${world.sgOptional.sgId}" checked`));

	const clusterPage = await (await request(deps.app, `/launches/${clusterLaunch.id}`, { user: "alice" })).text();
	const clusterHref = launchAgainOf(clusterPage);
	assert.match(clusterHref, new RegExp(`^/launch/${world.emrGroup.id}/${world.spark.id}\\?`));
	const clusterForm = await (await request(deps.app, clusterHref, { user: "alice" })).text();
	assert.match(clusterForm, /name="purpose"[^>]*(value="churn"[^>]*>|>churn<)/);
	assert.match(clusterForm, /name="coreNodes"[^>]*value="4"|value="4"[^>]*name="coreNodes"/);
	assert.match(clusterForm, /<input type="radio" name="market" value="SPOT" checked/);
	assert.match(clusterForm, /name="autoTerminateHours"[^>]*value="1"|value="1"[^>]*name="autoTerminateHours"/);
	assert.match(clusterForm, /name="autoTerminateMinutes"[^>]*value="30"|value="30"[^>]*name="autoTerminateMinutes"/);

	// And from a cluster, ended or not: its purpose, nodes, market and idle time.
	const cluster = await addCluster(deps.db, {
		ownerId: world.alice.id,
		groupId: world.emrGroup.id,
		configId: world.spark.id,
		name: "spark-1",
		purpose: "nightly",
		coreNodes: 3,
		idleSeconds: 3600,
		state: "TERMINATED",
	});
	const clusterMachine = await (await request(deps.app, `/clusters/${cluster.id}`, { user: "alice" })).text();
	const again = new URL(launchAgainOf(clusterMachine), "http://portal");
	assert.equal(again.pathname, `/launch/${world.emrGroup.id}/${world.spark.id}`);
	assert.deepEqual(
		["purpose", "coreNodes", "market", "autoTerminateHours", "autoTerminateMinutes", "name"].map((k) =>
			again.searchParams.get(k)
		),
		["nightly", "3", "ON_DEMAND", "1", "0", "spark-2"],
	);

	// Only the launcher is offered it: a manager following the launch is not.
	const managed = await (await request(deps.app, `/launches/${instanceLaunch.id}`, { user: "mia" })).text();
	assert.doesNotMatch(managed, />Launch again</);
});
