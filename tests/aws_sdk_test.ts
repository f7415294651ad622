/**
 * The SDK adapter against a scripted HTTP endpoint (what moto cannot do): throttling is retried by
 * the SDK with backoff, 5xx and refused connections become AwsErrors that never crash the process,
 * and every call is counted.
 */
import assert from "node:assert/strict";
import { CreateVolumeCommand } from "@aws-sdk/client-ec2";
import { createAws, toAwsError } from "../lib/aws/sdk.ts";
import { AwsError } from "../lib/errors.ts";
import { getLoggers } from "../lib/log.ts";
import { rejection } from "./_helpers/assert.ts";
import { motoTest } from "./_helpers/moto.ts";

const DESCRIBE_STACKS = `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
<DescribeStacksResult><Stacks><member><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/s/1</StackId>
<StackName>s</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2024-01-01T00:00:00Z</CreationTime>
<Outputs><member><OutputKey>MasterDNS</OutputKey><OutputValue>ip-10-0-0-1</OutputValue></member>
<member><OutputKey>ClusterID</OutputKey><OutputValue>j-ABC</OutputValue></member></Outputs>
</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeStacksResponse>`;

const error = (code: string, message: string) =>
	`<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-e</RequestId></ErrorResponse>`;

async function withEndpoint(
	answers: (() => Response)[],
	fn: (url: string, served: () => number, requests: string[]) => Promise<void>,
) {
	let served = 0;
	const requests: string[] = [];
	const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
		requests.push(`${req.method} ${new URL(req.url).pathname}${new URL(req.url).search} ${await req.text()}`);
		const answer = answers[Math.min(served, answers.length - 1)]!;
		served += 1;
		return answer();
	});
	try {
		await fn(`http://127.0.0.1:${server.addr.port}`, () => served, requests);
	} finally {
		await server.shutdown();
	}
}

function aws(endpoint: string, maxAttempts: number, calls: string[] = []) {
	Deno.env.set("AWS_ACCESS_KEY_ID", Deno.env.get("AWS_ACCESS_KEY_ID") ?? "testing");
	Deno.env.set("AWS_SECRET_ACCESS_KEY", Deno.env.get("AWS_SECRET_ACCESS_KEY") ?? "testing");
	return createAws({
		region: "us-east-1",
		endpoint,
		maxAttempts,
		timeoutSeconds: 5,
		log: getLoggers().boto,
		onCall: (operation, _s, err) => calls.push(`${operation}:${err ? err.kind : "ok"}`),
	});
}

Deno.test("throttling is retried with backoff and the call then succeeds; outputs are read by name", async () => {
	await withEndpoint([
		() => new Response(error("Throttling", "Rate exceeded"), { status: 400 }),
		() => new Response(error("Throttling", "Rate exceeded"), { status: 400 }),
		() => new Response(DESCRIBE_STACKS, { status: 200, headers: { "Content-Type": "text/xml" } }),
	], async (url, served) => {
		const calls: string[] = [];
		const client = aws(url, 5, calls);
		const stack = await client.cloudFormation.describeStack("s");
		assert.equal(served(), 3, "two throttled attempts, then success");
		assert.equal(stack?.status, "CREATE_COMPLETE");
		assert.deepEqual(stack?.outputs, { MasterDNS: "ip-10-0-0-1", ClusterID: "j-ABC" });
		assert.deepEqual(calls, ["DescribeStacks:ok"]);
		client.close();
	});
});

Deno.test("persistent throttling ends in a transient AwsError, not a crash", async () => {
	await withEndpoint(
		[() => new Response(error("Throttling", "Rate exceeded"), { status: 400 })],
		async (url, served) => {
			const calls: string[] = [];
			const client = aws(url, 2, calls);
			const e = await rejection(client.cloudFormation.describeStack("s"));
			assert.ok(e instanceof AwsError);
			assert.equal(e.kind, "throttled");
			assert.ok(e.transient);
			assert.equal(served(), 2);
			assert.deepEqual(calls, ["DescribeStacks:throttled"]);
			client.close();
		},
	);
});

Deno.test("a 5xx is retried and then reported as AWS unavailable", async () => {
	await withEndpoint([() => new Response(error("InternalFailure", "boom"), { status: 500 })], async (url) => {
		const client = aws(url, 2);
		const e = await rejection(client.ec2.describeInstances({}));
		assert.ok(e instanceof AwsError);
		assert.equal(e.kind, "unavailable");
		client.close();
	});
});

Deno.test("a refused connection becomes an AwsError the caller can handle", async () => {
	const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
	const port = (listener.addr as Deno.NetAddr).port;
	listener.close();
	const client = aws(`http://127.0.0.1:${port}`, 1);
	const e = await rejection(client.ec2.stopInstances(["i-1"]));
	assert.ok(e instanceof AwsError, String(e));
	assert.ok(e.transient, `connection refused is transient (${e.kind}: ${e.message})`);
	client.close();
});

Deno.test("a stack that does not exist is undefined, not an error", async () => {
	await withEndpoint(
		[() => new Response(error("ValidationError", "Stack with id s does not exist"), { status: 400 })],
		async (url) => {
			const client = aws(url, 1);
			assert.equal(await client.cloudFormation.describeStack("s"), undefined);
			client.close();
		},
	);
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

Deno.test("toAwsError() calls a timeout only what timed out, never AWS's answer about a timeout setting", () => {
	const kind = (e: unknown) => toAwsError("Op", e).kind;
	assert.equal(
		kind({
			name: "ValidationError",
			message: "Template error: TimeoutInMinutes must be a positive integer",
			$metadata: { httpStatusCode: 400 },
		}),
		"invalid",
	);
	assert.equal(
		kind({
			name: "ValidationException",
			message: "The idle timeout for the cluster must be between 60 and 604800 seconds",
			$metadata: { httpStatusCode: 400 },
		}),
		"invalid",
	);
	assert.equal(
		kind({ name: "ValidationError", message: "Stack timed out", $metadata: { httpStatusCode: 400 } }),
		"invalid",
		"a 400 is an answer, whatever its message says",
	);
	assert.equal(kind({ name: "AbortError", message: "The operation was aborted" }), "timeout");
	assert.equal(kind(Object.assign(new Error("connect failed"), { code: "ETIMEDOUT" })), "timeout");
	assert.equal(kind(new Error("Socket timed out without establishing a connection")), "timeout");
	assert.ok(toAwsError("Op", { name: "TimeoutError", message: "Request did not complete within 20000 ms" }).transient);
});

const ROUTE53_XML = { "Content-Type": "text/xml" };
const route53Error = (message: string) =>
	`<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>[${message}]</Message></Error><RequestId>r-e</RequestId></ErrorResponse>`;
const CHANGED = `<ChangeResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
<ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status><SubmittedAt>2024-01-01T00:00:00Z</SubmittedAt></ChangeInfo>
</ChangeResourceRecordSetsResponse>`;
const CURRENT_RECORD = `<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
<ResourceRecordSets><ResourceRecordSet><Name>mliy-1.mliy.example.com.</Name><Type>A</Type><TTL>60</TTL>
<ResourceRecords><ResourceRecord><Value>10.0.0.9</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>`;

Deno.test("deleteARecord() deletes a record whose IP no longer matches, as AWS words the mismatch", async () => {
	await withEndpoint([
		() =>
			new Response(
				route53Error(
					"Tried to delete resource record set [name='mliy-1.mliy.example.com.', type='A'] but the values provided do not match the current values",
				),
				{ status: 400, headers: ROUTE53_XML },
			),
		() => new Response(CURRENT_RECORD, { status: 200, headers: ROUTE53_XML }),
		() => new Response(CHANGED, { status: 200, headers: ROUTE53_XML }),
	], async (url, served, requests) => {
		const client = aws(url, 1);
		await client.route53.deleteARecord("Z1", "mliy-1.mliy.example.com", "10.0.0.1", 300);
		assert.equal(served(), 3, requests.join("\n"));
		assert.match(requests[1]!, /^GET \/2013-04-01\/hostedzone\/Z1\/rrset\?.*name=mliy-1\.mliy\.example\.com/);
		assert.match(requests[2]!, /<Action>DELETE<\/Action>/);
		assert.match(requests[2]!, /<TTL>60<\/TTL>.*<Value>10\.0\.0\.9<\/Value>/s, "the current value and TTL are deleted");
		client.close();
	});
});

Deno.test("deleteARecord() treats only a record that was not found as already deleted", async () => {
	await withEndpoint([
		() =>
			new Response(
				route53Error(
					"Tried to delete resource record set [name='mliy-1.mliy.example.com.', type='A'] but it was not found",
				),
				{ status: 400, headers: ROUTE53_XML },
			),
	], async (url, served) => {
		const client = aws(url, 1);
		await client.route53.deleteARecord("Z1", "mliy-1.mliy.example.com", "10.0.0.1", 300);
		assert.equal(served(), 1, "nothing to look up when AWS says the record is gone");
		client.close();
	});
	await withEndpoint([
		() => new Response(route53Error("RRSet of type A with DNS name x. is not permitted in zone y."), { status: 400 }),
		() => new Response(CURRENT_RECORD.replace("10.0.0.9", "10.0.0.1").replace("<TTL>60", "<TTL>300"), { status: 200 }),
	], async (url) => {
		const client = aws(url, 1);
		const e = await rejection(client.route53.deleteARecord("Z1", "mliy-1.mliy.example.com", "10.0.0.1", 300));
		assert.ok(e instanceof AwsError && /not permitted/.test(e.message), String(e));
		client.close();
	});
});

motoTest("deleteARecord() removes a record whose IP changed behind the portal (moto)", async (moto) => {
	const client = aws(moto.url, 1);
	const zoneId = await moto.createHostedZone("mliy.example.com");
	await client.route53.upsertARecord(zoneId, "mliy-1.mliy.example.com", "10.0.0.1", 300);
	await client.route53.deleteARecord(zoneId, "mliy-1.mliy.example.com", "10.0.0.2", 300);
	assert.deepEqual((await client.route53.listRecords(zoneId)).filter((r) => r.type === "A"), []);
	await client.route53.deleteARecord(zoneId, "mliy-1.mliy.example.com", "10.0.0.2", 300);
	client.close();
});

motoTest("describeInstances() and describeVolumes() send a filter of any length 200 values at a time", async (moto) => {
	const calls: string[] = [];
	const client = aws(moto.url, 1, calls);
	const [first, last] = await moto.runInstances(2, { LaunchedBy: "MLIY" });
	const fakeIds = (prefix: string, n: number) =>
		Array.from({ length: n }, (_, i) => `${prefix}-0${i.toString(16).padStart(16, "0")}`);
	// The two real ids sit in different chunks: the first and the last of 450 values.
	const instanceIds = [first!, ...fakeIds("i", 448), last!];
	const instances = await client.ec2.describeInstances({ filters: { "instance-id": instanceIds } });
	assert.deepEqual(instances.map((i) => i.id).sort(), [first, last].sort());
	assert.equal(calls.filter((c) => c === "DescribeInstances:ok").length, 3, "450 values: 3 requests");

	const volumeIds: string[] = [];
	for (let i = 0; i < 2; i++) {
		const out = await moto.ec2().send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 1 }));
		volumeIds.push(out.VolumeId!);
	}
	const volumes = await client.ec2.describeVolumes({
		filters: { "volume-id": [volumeIds[0]!, ...fakeIds("vol", 199), volumeIds[1]!] },
	});
	assert.deepEqual(volumes.map((v) => v.id).sort(), [...volumeIds].sort());
	assert.equal(calls.filter((c) => c === "DescribeVolumes:ok").length, 2, "201 values: 2 requests");
	client.close();
});
