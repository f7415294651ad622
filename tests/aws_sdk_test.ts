/**
 * The SDK adapter against a scripted HTTP endpoint (what moto cannot do): throttling and 5xx are
 * retried by the SDK, a passing failure goes unseen, each call is counted once, outputs are read by
 * name, a missing stack is undefined. Every operation under every fault (throttling, 5xx, timeouts,
 * refused connections) is in adversarial_faults_test.ts.
 */
import assert from "node:assert/strict";
import { toAwsError } from "../lib/aws/sdk.ts";
import { AwsError } from "../lib/errors.ts";
import { rejection } from "./_helpers/assert.ts";
import {
	awsErrorResponse,
	queryErrorResponse,
	scriptedEndpoint,
	sdkAgainst,
	xmlResponse,
} from "./_helpers/aws_endpoint.ts";

const DESCRIBE_STACKS = `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
<DescribeStacksResult><Stacks><member><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/s/1</StackId>
<StackName>s</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2024-01-01T00:00:00Z</CreationTime>
<Outputs><member><OutputKey>MasterDNS</OutputKey><OutputValue>ip-10-0-0-1</OutputValue></member>
<member><OutputKey>ClusterID</OutputKey><OutputValue>j-ABC</OutputValue></member></Outputs>
</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeStacksResponse>`;

Deno.test("throttling is retried with backoff and the call then succeeds; outputs are read by name", async () => {
	await using endpoint = scriptedEndpoint((_req, _body, n) =>
		n < 2 ? queryErrorResponse("Throttling", "Rate exceeded") : xmlResponse(DESCRIBE_STACKS)
	);
	const calls: string[] = [];
	const client = sdkAgainst(endpoint.url, { maxAttempts: 5, calls });
	const stack = await client.cloudFormation.describeStack("s");
	assert.equal(endpoint.served(), 3, "two throttled attempts, then success");
	assert.equal(stack?.status, "CREATE_COMPLETE");
	assert.deepEqual(stack?.outputs, { MasterDNS: "ip-10-0-0-1", ClusterID: "j-ABC" });
	assert.deepEqual(calls, ["DescribeStacks:ok"]);
	client.close();
});

Deno.test("a 5xx is retried up to AWS_MAX_ATTEMPTS: a passing failure is not seen, a lasting one is AWS unavailable", async () => {
	const failure = (req: Request, body: string) => awsErrorResponse(req, body, "5xx");
	const empty = '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>' +
		"<reservationSet/></DescribeInstancesResponse>";
	{
		await using endpoint = scriptedEndpoint((req, body, n) => n < 2 ? failure(req, body) : xmlResponse(empty));
		const client = sdkAgainst(endpoint.url, { maxAttempts: 3 });
		assert.deepEqual(await client.ec2.describeInstances({}), []);
		assert.equal(endpoint.served(), 3, "two 500s, then the answer");
		client.close();
	}
	{
		await using endpoint = scriptedEndpoint(failure);
		const calls: string[] = [];
		const client = sdkAgainst(endpoint.url, { maxAttempts: 3, calls });
		const e = await rejection(client.ec2.describeInstances({}));
		assert.ok(e instanceof AwsError);
		assert.equal(e.kind, "unavailable");
		assert.equal(endpoint.served(), 3, "tried AWS_MAX_ATTEMPTS times");
		assert.deepEqual(calls, ["DescribeInstances:unavailable"], "one call, counted once");
		client.close();
	}
});

Deno.test("a stack that does not exist is undefined, not an error", async () => {
	await using endpoint = scriptedEndpoint(() =>
		queryErrorResponse("ValidationError", "Stack with id s does not exist")
	);
	const client = sdkAgainst(endpoint.url, { maxAttempts: 1 });
	assert.equal(await client.cloudFormation.describeStack("s"), undefined);
	client.close();
});

Deno.test("toAwsError() classifies SDK errors", () => {
	const kind = (e: unknown) => toAwsError("Op", e).kind;
	assert.equal(kind({ name: "RequestLimitExceeded", message: "x", $metadata: { httpStatusCode: 503 } }), "throttled");
	assert.equal(
		kind({ name: "InvalidInstanceID.NotFound", message: "The instance ID 'i-1' does not exist" }),
		"not_found",
	);
	assert.equal(kind({ name: "UnauthorizedOperation", message: "no", $metadata: { httpStatusCode: 403 } }), "denied");
	assert.equal(kind({ name: "TimeoutError", message: "socket timed out" }), "timeout");
	assert.equal(kind({ name: "ValidationError", message: "bad", $metadata: { httpStatusCode: 400 } }), "invalid");
	assert.equal(kind(new TypeError("error sending request: Connection refused")), "unavailable");
});
