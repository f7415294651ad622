/**
 * The fake AWS the app-level tests run on (tests/_fakes/aws.ts): what it refuses, what it logs, its
 * outage switch and its answers in turn. The tests that use it rely on exactly this.
 */
import assert from "node:assert/strict";
import { AwsError } from "../lib/errors.ts";
import { fakeAws, inTurn, STACK_ID } from "./_fakes/aws.ts";
import { rejection } from "./_helpers/assert.ts";

Deno.test("fakeAws() refuses every call it has no answer for, naming it, and logs every API call in order", async () => {
	const aws = fakeAws({ ec2: { describeInstances: () => Promise.resolve([]) } });
	assert.deepEqual(await aws.ec2.describeInstances({}), []);
	const refused = await rejection(aws.ec2.stopInstances(["i-0123456789abcdef0"]));
	assert.ok(!(refused instanceof AwsError), "a refusal is the test's mistake, not an AWS failure");
	assert.match(String(refused), /unexpected AWS call ec2\.stopInstances/);
	assert.equal(await aws.placement(), undefined, "placement answers unknown, as off EC2");
	assert.deepEqual(aws.calls, ["ec2.describeInstances", "ec2.stopInstances"], "placement is not an API call");
	assert.deepEqual(aws.changes(), ["ec2.stopInstances"], "reads are not changes");
});

Deno.test("fakeAws().outage(kind, only) fails the calls it covers with an AwsError of that kind until it ends", async () => {
	const aws = fakeAws({
		ec2: { describeInstances: () => Promise.resolve([]) },
		emr: { listClusters: () => Promise.resolve([]) },
	});
	aws.outage("throttled", /^ec2\./);
	const error = await rejection(aws.ec2.describeInstances({}));
	assert.ok(error instanceof AwsError);
	assert.equal(error.kind, "throttled");
	assert.equal(error.message, "ec2.describeInstances: simulated throttled");
	assert.deepEqual(await aws.emr.listClusters({}), [], "EMR is not covered by the outage");

	aws.outage("denied");
	for (const call of [aws.emr.listClusters({}), aws.placement(), aws.route53.findHostedZone("example.com")]) {
		const e = await rejection(call);
		assert.ok(e instanceof AwsError && e.kind === "denied", String(e));
	}

	aws.outage(undefined);
	assert.deepEqual(await aws.ec2.describeInstances({}), []);
	assert.equal(aws.calls.filter((c) => c === "ec2.describeInstances").length, 2, "failed calls are logged too");
});

Deno.test("fakeAws().outage('hang') holds every call until the outage ends, then fails them as timeouts", async () => {
	const aws = fakeAws({ cloudFormation: { deleteStack: () => Promise.resolve() } });
	aws.outage("hang");
	let settled = false;
	const held = aws.cloudFormation.deleteStack("s").finally(() => settled = true);
	await new Promise((resolve) => setTimeout(resolve, 20));
	assert.equal(settled, false, "no answer while the outage lasts");
	aws.outage(undefined);
	const error = await rejection(held);
	assert.ok(error instanceof AwsError);
	assert.equal(error.kind, "timeout");
	await aws.cloudFormation.deleteStack("s");
});

Deno.test("inTurn() answers one per call in order, rejects with an Error in its turn, then keeps the last answer", async () => {
	const throttled = new AwsError("CreateStack", "throttled", "CreateStack: Rate exceeded");
	const aws = fakeAws({ cloudFormation: { createStack: inTurn(throttled, { stackId: STACK_ID }) } });
	const input = { name: "s", templateBody: "{}", parameters: {}, tags: {}, clientRequestToken: "t" };
	assert.equal(await rejection(aws.cloudFormation.createStack(input)), throttled);
	assert.deepEqual(await aws.cloudFormation.createStack(input), { stackId: STACK_ID });
	assert.deepEqual(await aws.cloudFormation.createStack(input), { stackId: STACK_ID });
});
