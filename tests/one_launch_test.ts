/**
 * One confirmation, one launch: the confirmation carries a one-time launch key, so posting it twice
 * (at once, or again later with Back) makes one launch and one stack; CloudFormation gets the
 * launch id as ClientRequestToken; a new confirmation shortly after a launch of the same
 * configuration asks first; a key is good only for the viewer it was given to. Clusters are
 * confirmed the same way.
 */
import assert from "node:assert/strict";
import { CloudFormationClient, ListStacksCommand } from "@aws-sdk/client-cloudformation";
import type { CreateStackInput } from "../lib/aws/types.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { fakeAws, STACK_ID } from "./_fakes/aws.ts";
import { TEST_CREDENTIALS } from "./_fakes/endpoint.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { seedClusterWorld, seedWorld } from "./_helpers/world.ts";

/** Reviews the launch as the form does and returns the confirmation page's fields (key included). */
async function confirm(deps: TestDeps, user: string, path: string, form: Record<string, string | string[]>) {
	const res = await request(deps.app, path, { user, form: { intent: "review", ...form } });
	assert.equal(res.status, 200, await res.clone().text());
	const html = await res.text();
	const fields: Record<string, string[]> = {};
	const form4 = html.slice(html.indexOf('<input type="hidden" name="intent" value="launch"'));
	for (const [, name, value] of form4.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
		if (name === "_csrf") continue;
		(fields[name!] ??= []).push(value!.replaceAll("&amp;", "&"));
	}
	assert.ok(fields.launchKey?.[0], "the confirmation carries a launch key");
	return { html, fields };
}

async function launchCount(deps: TestDeps): Promise<number> {
	return (await deps.db.query.launches.findMany()).length;
}

motoTest("two POSTs of one confirmation at once make one launch and one stack", async (moto) => {
	await using deps = await createTestDeps({
		awsEndpoint: moto.url,
		realClock: true,
		settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
	});
	const world = await seedWorld(deps.db);
	const path = `/launch/${world.science.id}/${world.config.id}`;
	const { fields } = await confirm(deps, "alice", path, { instanceType: "t2.micro" });
	const [a, b] = await Promise.all([
		request(deps.app, path, { user: "alice", form: fields }),
		request(deps.app, path, { user: "alice", form: fields }),
	]);
	assert.equal(a.status, 303, await a.clone().text());
	assert.equal(b.status, 303, await b.clone().text());
	assert.equal(a.headers.get("Location"), b.headers.get("Location"), "both answer with the same launch");
	assert.equal(await launchCount(deps), 1);
	const launchId = a.headers.get("Location")!.split("/").pop()!;
	assert.equal(launchId, fields.launchKey![0]!.split(".")[0], "the key is the launch's id");
	await deps.background.idle();
	await tick(deps);
	assert.equal((await getLaunch(deps.db, launchId))!.status, "complete");

	// Back, and "Launch now" again on the same confirmation: the same launch, nothing new.
	const again = await request(deps.app, path, { user: "alice", form: fields });
	assert.equal(again.status, 303);
	assert.equal(again.headers.get("Location"), `/launches/${launchId}`);
	await deps.background.idle();
	assert.equal(await launchCount(deps), 1);
	const cfn = new CloudFormationClient({ endpoint: moto.url, region: "us-east-1", credentials: TEST_CREDENTIALS });
	const stacks = (await cfn.send(new ListStacksCommand({}))).StackSummaries ?? [];
	cfn.destroy();
	assert.equal(stacks.length, 1, `one stack: ${stacks.map((s) => s.StackName).join(", ")}`);
});

Deno.test("CreateStack gets the launch id as its ClientRequestToken", async () => {
	const sent: CreateStackInput[] = [];
	const aws = fakeAws({
		cloudFormation: {
			createStack: (input) => {
				sent.push(input);
				return Promise.resolve({ stackId: STACK_ID });
			},
		},
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	const path = `/launch/${world.science.id}/${world.config.id}`;
	const { fields } = await confirm(deps, "alice", path, { instanceType: "t2.micro" });
	const res = await request(deps.app, path, { user: "alice", form: fields });
	await deps.background.idle();
	const launchId = res.headers.get("Location")!.split("/").pop()!;
	assert.deepEqual(sent.map((s) => s.clientRequestToken), [launchId]);
});

Deno.test("a new confirmation shortly after a launch of the same configuration asks first", async () => {
	await using deps = await createTestDeps({ aws: fakeAws() });
	const world = await seedWorld(deps.db);
	const path = `/launch/${world.science.id}/${world.config.id}`;
	const first = await confirm(deps, "alice", path, { instanceType: "t2.micro" });
	assert.doesNotMatch(first.html, /data-recent-launch/);
	assert.equal((await request(deps.app, path, { user: "alice", form: first.fields })).status, 303);

	// A change (another type) reviewed again: the confirmation says what was launched a moment ago.
	deps.clock.advance(42_000);
	const second = await confirm(deps, "alice", path, { instanceType: "m4.large" });
	assert.match(second.html, /You launched Analyst 42 s ago \(\s*<a href="\/launches\/[0-9a-f-]+">MLiyAnalyst-MLIY-/);
	assert.match(second.html, /Launch another instance<\/button>/);
	assert.deepEqual(second.fields.repeat, ["yes"]);
	assert.notEqual(second.fields.launchKey![0], first.fields.launchKey![0], "a new confirmation, a new key");

	// Posted without the answer (a stale page, a script): asked again, nothing launched.
	const { repeat: _, ...unanswered } = second.fields;
	const asked = await request(deps.app, path, { user: "alice", form: unanswered });
	assert.equal(asked.status, 409);
	assert.match(await asked.text(), /You launched Analyst 42 s ago/);
	assert.equal(await launchCount(deps), 1);

	// Answered: the second launch.
	const another = await request(deps.app, path, { user: "alice", form: second.fields });
	assert.equal(another.status, 303);
	assert.equal(await launchCount(deps), 2);

	// After the window, no question.
	deps.clock.advance(11 * 60_000);
	assert.doesNotMatch((await confirm(deps, "alice", path, { instanceType: "t2.micro" })).html, /data-recent-launch/);
});

Deno.test("a launch key is good only for the viewer it was given to, and cannot be made up", async () => {
	await using deps = await createTestDeps({ aws: fakeAws() });
	const world = await seedWorld(deps.db);
	const path = `/launch/${world.science.id}/${world.config.id}`;
	const { fields } = await confirm(deps, "alice", path, { instanceType: "t2.micro" });
	const [id, signature] = fields.launchKey![0]!.split(".");
	for (
		const [who, key] of [
			["bob, with alice's key", fields.launchKey![0]!],
			["alice, with a made-up id", `${crypto.randomUUID()}.${signature}`],
			["alice, with no signature", id!],
		] as const
	) {
		const user = who.startsWith("bob") ? "bob" : "alice";
		const res = await request(deps.app, path, { user, form: { ...fields, launchKey: key } });
		assert.equal(res.status, 400, who);
		assert.match(await res.text(), /This confirmation is not valid here/, who);
	}
	assert.equal(await launchCount(deps), 0);
});

Deno.test("the cluster wizard has a confirm step: the form reviews, the confirmation launches once", async () => {
	await using deps = await createTestDeps({ aws: fakeAws() });
	const world = await seedClusterWorld(deps.db);
	const path = `/launch/${world.emrGroup.id}/${world.spark.id}`;
	const form = await (await request(deps.app, path, { user: "alice" })).text();
	assert.match(form, /<input type="hidden" name="intent" value="review"/);
	const { html, fields } = await confirm(deps, "alice", path, {
		instanceType: "m4.large",
		purpose: "Churn model",
		coreNodes: "3",
		market: "SPOT",
		bidPrice: "0.05",
		autoTerminateHours: "1",
		autoTerminateMinutes: "30",
	});
	assert.match(html, /<span class="badge busy">4\. Confirm<\/span>/);
	assert.match(html, /<dt>Nodes<\/dt><dd>3 core nodes and 1 master<\/dd>/);
	assert.match(html, /<dt>Auto-terminate<\/dt><dd>after 1 h 30 min idle<\/dd>/);
	assert.equal(await launchCount(deps), 0, "reviewing records nothing");
	const res = await request(deps.app, path, { user: "alice", form: fields });
	assert.equal(res.status, 303, await res.clone().text());
	const launch = (await getLaunch(deps.db, res.headers.get("Location")!.split("/").pop()!))!;
	assert.deepEqual(launch.options, {
		purpose: "Churn model",
		coreNodes: 3,
		market: "SPOT",
		bidPrice: 0.05,
		idleSeconds: 5400,
		// Left to the portal, the name is the configuration's instance name.
		machineName: "MLiySpark",
	});
	assert.equal(
		(await request(deps.app, path, { user: "alice", form: fields })).headers.get("Location"),
		`/launches/${launch.id}`,
	);
	assert.equal(await launchCount(deps), 1);
});
