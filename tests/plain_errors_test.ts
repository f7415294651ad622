/**
 * Raw internal errors never reach users: an action or a launch that AWS (or the network under it)
 * fails is told in plain words on the row, in the activity and in the launch's reason, while the
 * SDK's message ("StopInstances: connect ECONNREFUSED 127.0.0.1:…") goes to the log. An
 * unreachable endpoint is a real peer failure: the SDK is pointed at a closed port. What no peer
 * can produce here (IAM refusals, a failed resource's event) is scripted, and says so.
 */
import assert from "node:assert/strict";
import { explainActionFailure } from "../lib/aws_failures.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { AwsError } from "../lib/errors.ts";
import { failureReason } from "../lib/launch/stacks.ts";
import { closeLogging, configureLogging } from "../lib/log.ts";
import { freePort } from "../scripts/local_servers.ts";
import { fakeAws, stack } from "./_fakes/aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { tick } from "./_helpers/tick.ts";
import { addInstance, addLaunch, seedWorld } from "./_helpers/world.ts";

/** What no page, fragment or launch record may show. */
const RAW = /ECONNREFUSED|127\.0\.0\.1|StopInstances|CreateStack|arn:aws|123456789012|Request ID/;

Deno.test("a stop that cannot reach AWS says so in plain words on the row and in the activity; the log has the detail", async () => {
	await using deps = await createTestDeps({ awsEndpoint: `http://127.0.0.1:${freePort()}` });
	await configureLogging({ LOG_LOCATION: `${deps.dir}/logs`, WEB_LOG_LEVEL: "INFO", LAUNCH_LOG_LEVEL: "INFO" }, {
		console: false,
	});
	try {
		const world = await seedWorld(deps.db);
		await addInstance(deps.db, { id: "i-0123456789abcdef0", ownerId: world.alice.id, state: "running" });

		const res = await request(deps.app, "/ajax/instance/i-0123456789abcdef0/stop?view=dashboard", {
			user: "alice",
			htmx: true,
			form: {},
		});
		assert.equal(res.status, 503);
		const row = await res.text();
		assert.match(row, /role="alert">AWS did not answer; try again in a minute\.</);
		assert.doesNotMatch(row, RAW);
		assert.match(row, /aria-label="Stop i-0123456789abcdef0"/, "nothing changed: it can be stopped again");

		const page = await (await request(deps.app, "/instances/i-0123456789abcdef0", { user: "alice" })).text();
		assert.match(page, /AWS did not answer; try again in a minute\./, "the activity says what happened");
		assert.doesNotMatch(page, RAW);
	} finally {
		await closeLogging();
	}
	const log = await Deno.readTextFile(`${deps.dir}/logs/mliyweb.log`);
	assert.match(log, /stop i-0123456789abcdef0 by alice failed: StopInstances: .*ECONNREFUSED/);
});

Deno.test("a launch whose AWS stays unreachable fails with plain words, not the SDK's message", async () => {
	await using deps = await createTestDeps({
		awsEndpoint: `http://127.0.0.1:${freePort()}`,
		settings: { LAUNCH_TIMEOUT_MINUTES: 5 },
	});
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		createdAt: deps.clock(),
	});
	await tick(deps);
	const waiting = (await getLaunch(deps.db, launch.id))!;
	assert.equal(waiting.status, "queued");
	assert.equal(waiting.step, "Waiting to retry: AWS is not answering");
	deps.clock.advance(6 * 60_000);
	await tick(deps);
	const failed = (await getLaunch(deps.db, launch.id))!;
	assert.equal(failed.status, "failed");
	assert.equal(failed.reason, "Gave up after 5 minutes: AWS is not answering.");
	const page = await (await request(deps.app, `/launches/${launch.id}`, { user: "alice" })).text();
	assert.match(page, /Gave up after 5 minutes: AWS is not answering\./);
	assert.doesNotMatch(page, RAW);
});

Deno.test("a stack AWS refuses for the portal's permissions fails with plain words, without the role or account", async () => {
	// Scripted: moto does not enforce IAM, so the refusal AWS sends is written out here.
	const aws = fakeAws({
		cloudFormation: {
			createStack: () =>
				Promise.reject(
					new AwsError(
						"CreateStack",
						"denied",
						"CreateStack: User: arn:aws:sts::123456789012:assumed-role/mliy-portal/i-0abc is not authorized to perform: cloudformation:CreateStack",
						{ code: "AccessDenied" },
					),
				),
		},
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
	});
	await tick(deps);
	const failed = (await getLaunch(deps.db, launch.id))!;
	assert.equal(failed.status, "failed");
	assert.equal(failed.reason, "AWS does not allow the portal to create stacks; tell an admin.");
	const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
	assert.match(dashboard, /AWS does not allow the portal to create stacks; tell an admin\./, "the dashboard's notice");
	assert.doesNotMatch(dashboard, RAW);
});

Deno.test("a failed resource's reason keeps what AWS said about it, without request ids, ARNs or account numbers", () => {
	// Scripted: the events of stacks whose resource failed, as CloudFormation reports them.
	const failed = (logicalId: string, type: string, reason: string) =>
		failureReason(stack("ROLLBACK_COMPLETE"), [{
			logicalId,
			type,
			status: "CREATE_FAILED",
			reason,
			timestamp: new Date(),
		}]);
	assert.equal(
		failed(
			"Instance",
			"AWS::EC2::Instance",
			"The key pair 'analyst' does not exist (Service: AmazonEC2; Status Code: 400; Error Code: InvalidKeyPair.NotFound; Request ID: 5c2b1e7a-7d1e-4f5e-9a51-0f3c1e2d3b4a; Proxy: null)",
		),
		"Instance (AWS::EC2::Instance): The key pair 'analyst' does not exist",
	);
	assert.equal(
		failed("Profile", "AWS::IAM::InstanceProfile", "Role arn:aws:iam::123456789012:role/mliy-analyst is invalid"),
		"Profile (AWS::IAM::InstanceProfile): Role (an AWS resource) is invalid",
	);
});

Deno.test("actions AWS refuses are told by what the refusal means, never by AWS's text", () => {
	const refused = (code: string, kind: AwsError["kind"] = "invalid") =>
		explainActionFailure(new AwsError("StartInstances", kind, `StartInstances: ${code} at 10.0.0.1:443`, { code }));
	assert.equal(
		refused("InsufficientInstanceCapacity"),
		"AWS has no capacity for this instance type in its zone right now; try again later.",
	);
	assert.equal(refused("VcpuLimitExceeded"), "The AWS account's limit of running instances is reached; tell an admin.");
	assert.equal(refused("AuthFailure", "denied"), "AWS refused the portal's credentials; tell an admin.");
	assert.equal(refused("UnauthorizedOperation", "denied"), "AWS does not allow the portal this action; tell an admin.");
	assert.equal(refused("SomethingNew", "other"), "AWS refused the action; the portal's log has the details.");
});
