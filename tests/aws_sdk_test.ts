/**
 * The SDK adapter against a scripted HTTP endpoint (what moto cannot do): throttling and 5xx are
 * retried by the SDK, a passing failure goes unseen, each call is counted once, outputs are read by
 * name, a missing stack is undefined. Every operation under every fault (throttling, 5xx, timeouts,
 * refused connections) is in adversarial_faults_test.ts.
 */
import assert from "node:assert/strict";
import { CreateVolumeCommand } from "@aws-sdk/client-ec2";
import { toAwsError } from "../lib/aws/sdk/client.ts";
import { AwsError } from "../lib/errors.ts";
import { rejection } from "./_helpers/assert.ts";
import { awsErrorResponse, queryErrorResponse, scriptedEndpoint, sdkAgainst, xmlResponse } from "./_fakes/endpoint.ts";
import { motoTest } from "./_helpers/moto.ts";

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

const invalidChangeBatch = (message: string) =>
	queryErrorResponse("InvalidChangeBatch", `[${message}]`, { status: 400 });
const CHANGED = `<ChangeResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
<ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status><SubmittedAt>2024-01-01T00:00:00Z</SubmittedAt></ChangeInfo>
</ChangeResourceRecordSetsResponse>`;
const CURRENT_RECORD = `<ListResourceRecordSetsResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">
<ResourceRecordSets><ResourceRecordSet><Name>mliy-1.mliy.example.com.</Name><Type>A</Type><TTL>60</TTL>
<ResourceRecords><ResourceRecord><Value>10.0.0.9</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>
</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>`;

/** Each request as "METHOD path?query body", for asserting what the adapter sent. */
function recorded(requests: string[], request: Request, body: string): void {
	const url = new URL(request.url);
	requests.push(`${request.method} ${url.pathname}${url.search} ${body}`);
}

Deno.test("deleteARecord() deletes a record whose IP no longer matches, as AWS words the mismatch", async () => {
	const requests: string[] = [];
	const answers = [
		() =>
			invalidChangeBatch(
				"Tried to delete resource record set [name='mliy-1.mliy.example.com.', type='A'] but the values provided do not match the current values",
			),
		() => xmlResponse(CURRENT_RECORD),
		() => xmlResponse(CHANGED),
	];
	await using endpoint = scriptedEndpoint((request, body, n) => {
		recorded(requests, request, body);
		return answers[n]!();
	});
	const client = sdkAgainst(endpoint.url, { maxAttempts: 1 });
	await client.route53.deleteARecord("Z1", "mliy-1.mliy.example.com", "10.0.0.1", 300);
	assert.equal(endpoint.served(), 3, requests.join("\n"));
	assert.match(requests[1]!, /^GET \/2013-04-01\/hostedzone\/Z1\/rrset\?.*name=mliy-1\.mliy\.example\.com/);
	assert.match(requests[2]!, /<Action>DELETE<\/Action>/);
	assert.match(requests[2]!, /<TTL>60<\/TTL>.*<Value>10\.0\.0\.9<\/Value>/s, "the current value and TTL are deleted");
	client.close();
});

Deno.test("deleteARecord() treats only a record that was not found as already deleted", async () => {
	{
		await using endpoint = scriptedEndpoint(() =>
			invalidChangeBatch(
				"Tried to delete resource record set [name='mliy-1.mliy.example.com.', type='A'] but it was not found",
			)
		);
		const client = sdkAgainst(endpoint.url, { maxAttempts: 1 });
		await client.route53.deleteARecord("Z1", "mliy-1.mliy.example.com", "10.0.0.1", 300);
		assert.equal(endpoint.served(), 1, "nothing to look up when AWS says the record is gone");
		client.close();
	}
	{
		await using endpoint = scriptedEndpoint((_request, _body, n) =>
			n === 0
				? invalidChangeBatch("RRSet of type A with DNS name x. is not permitted in zone y.")
				: xmlResponse(CURRENT_RECORD.replace("10.0.0.9", "10.0.0.1").replace("<TTL>60", "<TTL>300"))
		);
		const client = sdkAgainst(endpoint.url, { maxAttempts: 1 });
		const e = await rejection(client.route53.deleteARecord("Z1", "mliy-1.mliy.example.com", "10.0.0.1", 300));
		assert.ok(e instanceof AwsError && /not permitted/.test(e.message), String(e));
		client.close();
	}
});

motoTest("deleteARecord() removes a record whose IP changed behind the portal (moto)", async (moto) => {
	const client = sdkAgainst(moto.url, { maxAttempts: 1 });
	const zoneId = await moto.createHostedZone("mliy.example.com");
	await client.route53.upsertARecord(zoneId, "mliy-1.mliy.example.com", "10.0.0.1", 300);
	await client.route53.deleteARecord(zoneId, "mliy-1.mliy.example.com", "10.0.0.2", 300);
	assert.deepEqual((await moto.listRecords(zoneId)).filter((r) => r.type === "A"), []);
	await client.route53.deleteARecord(zoneId, "mliy-1.mliy.example.com", "10.0.0.2", 300);
	client.close();
});

motoTest("describeInstances() and describeVolumes() send a filter of any length 200 values at a time", async (moto) => {
	const calls: string[] = [];
	const client = sdkAgainst(moto.url, { maxAttempts: 1, calls });
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

motoTest(
	"getMetricData() asks for every series in requests of 500 and gives each its own datapoints, in order (moto)",
	async (moto) => {
		const calls: string[] = [];
		const client = sdkAgainst(moto.url, { maxAttempts: 1, calls });
		const cpu = (id: string) => ({ namespace: "AWS/EC2", name: "CPUUtilization", dimensions: { InstanceId: id } });
		await moto.putMetric(cpu("i-00000000000000001"), [{ at: "2025-03-01T12:05:00Z", value: 3 }, {
			at: "2025-03-01T12:10:00Z",
			value: 40,
		}]);
		await moto.putMetric(cpu("i-00000000000000601"), [{ at: "2025-03-01T12:05:00Z", value: 7 }]);
		const ids = Array.from({ length: 601 }, (_, i) => `i-${String(i + 1).padStart(17, "0")}`);
		const series = await client.cloudWatch.getMetricData(
			ids.map((id) => ({ ...cpu(id), metric: "CPUUtilization", stat: "Maximum" as const, periodSeconds: 300 })),
			{ start: new Date("2025-03-01T12:00:00Z"), end: new Date("2025-03-01T12:30:00Z") },
		);
		assert.equal(series.length, 601);
		assert.deepEqual(series[0], [
			{ at: new Date("2025-03-01T12:05:00Z"), value: 3 },
			{ at: new Date("2025-03-01T12:10:00Z"), value: 40 },
		]);
		assert.deepEqual(series[600], [{ at: new Date("2025-03-01T12:05:00Z"), value: 7 }]);
		assert.ok(series.slice(1, 600).every((points) => points.length === 0));
		assert.equal(calls.filter((c) => c === "GetMetricData:ok").length, 2, "601 series: 2 requests");
		client.close();
	},
);

motoTest(
	"dailyCostByTags() reads every page of GetCostAndUsage and gives each day's figure with its tags' values (moto)",
	async (moto) => {
		const group = (center: string, launch: string, amount: string) => ({
			Keys: [`Cost Center$${center}`, `mliy:launch-id$${launch}`],
			Metrics: { NetUnblendedCost: { Amount: amount, Unit: "USD" } },
		});
		await moto.queueCostAndUsage([
			{
				ResultsByTime: [{
					TimePeriod: { Start: "2025-03-01", End: "2025-03-02" },
					Groups: [group("CC-1", "l-1", "1.25"), group("", "", "0.5")],
					Estimated: false,
				}],
				NextPageToken: "page-2",
			},
			{
				ResultsByTime: [{
					TimePeriod: { Start: "2025-03-02", End: "2025-03-03" },
					Groups: [group("CC-1", "l-1", "2")],
					Estimated: true,
				}],
			},
		]);
		const calls: string[] = [];
		const client = sdkAgainst(moto.url, { maxAttempts: 1, calls });
		const rows = await client.costExplorer.dailyCostByTags({
			fromDay: "2025-03-01",
			toDay: "2025-03-03",
			metric: "NetUnblendedCost",
			filterTag: { key: "LaunchedBy", values: ["MLIY"] },
			groupByTags: ["Cost Center", "mliy:launch-id"],
		});
		assert.deepEqual(rows, [
			{
				day: "2025-03-01",
				tags: { "Cost Center": "CC-1", "mliy:launch-id": "l-1" },
				amount: 1.25,
				unit: "USD",
				estimated: false,
			},
			{
				day: "2025-03-01",
				tags: { "Cost Center": "", "mliy:launch-id": "" },
				amount: 0.5,
				unit: "USD",
				estimated: false,
			},
			{
				day: "2025-03-02",
				tags: { "Cost Center": "CC-1", "mliy:launch-id": "l-1" },
				amount: 2,
				unit: "USD",
				estimated: true,
			},
		]);
		assert.deepEqual(calls, ["GetCostAndUsage:ok", "GetCostAndUsage:ok"], "two pages, two requests");
		client.close();
	},
);

Deno.test("Cost Explorer not enabled for the account is a denied AwsError naming it", async () => {
	await using endpoint = scriptedEndpoint(() =>
		Response.json({ __type: "AccessDeniedException", Message: "User not enabled for cost explorer access" }, {
			status: 400,
			headers: { "x-amzn-errortype": "AccessDeniedException" },
		})
	);
	const client = sdkAgainst(endpoint.url, { maxAttempts: 1 });
	const error = await rejection(client.costExplorer.dailyCostByTags({
		fromDay: "2025-03-01",
		toDay: "2025-03-02",
		metric: "NetUnblendedCost",
		filterTag: { key: "LaunchedBy", values: ["MLIY"] },
		groupByTags: ["Cost Center"],
	}));
	assert.ok(error instanceof AwsError);
	assert.equal(error.kind, "denied");
	assert.match(error.message, /not enabled for cost explorer/i);
	assert.deepEqual(endpoint.operations(), ["GetCostAndUsage"]);
	client.close();
});

Deno.test("DescribeImages asks by an image-id filter with deprecated and disabled images included, and reads the deprecation time; no ids, no call", async () => {
	const answer = '<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>' +
		"<imagesSet><item><imageId>ami-0aaaaaaaaaaaaaaaa</imageId><imageState>available</imageState>" +
		"<name>analyst-2026-01</name><creationDate>2026-01-05T10:00:00.000Z</creationDate>" +
		"<deprecationTime>2026-07-01T00:00:00.000Z</deprecationTime>" +
		"<tagSet><item><key>ExpiresOn</key><value>2026-06-30</value></item></tagSet></item></imagesSet>" +
		"</DescribeImagesResponse>";
	const bodies: URLSearchParams[] = [];
	await using endpoint = scriptedEndpoint((_req, body) => {
		bodies.push(new URLSearchParams(body));
		return xmlResponse(answer);
	});
	const client = sdkAgainst(endpoint.url, { maxAttempts: 1 });
	assert.deepEqual(await client.ec2.describeImages([]), []);
	assert.equal(endpoint.served(), 0, "no images asked for, no call");
	const [image] = await client.ec2.describeImages(["ami-0aaaaaaaaaaaaaaaa", "ami-0bbbbbbbbbbbbbbbb"]);
	const sent = bodies[0]!;
	assert.equal(sent.get("Action"), "DescribeImages");
	assert.equal(sent.get("Filter.1.Name"), "image-id");
	assert.deepEqual([sent.get("Filter.1.Value.1"), sent.get("Filter.1.Value.2")], [
		"ami-0aaaaaaaaaaaaaaaa",
		"ami-0bbbbbbbbbbbbbbbb",
	]);
	assert.equal(sent.get("ImageId.1"), null, "never by ImageIds, which fails the whole call for one vanished id");
	assert.equal(sent.get("IncludeDeprecated"), "true");
	assert.equal(sent.get("IncludeDisabled"), "true");
	assert.deepEqual(image, {
		id: "ami-0aaaaaaaaaaaaaaaa",
		state: "available",
		name: "analyst-2026-01",
		creationDate: new Date("2026-01-05T10:00:00Z"),
		deprecationTime: new Date("2026-07-01T00:00:00Z"),
		tags: { ExpiresOn: "2026-06-30" },
	});
	client.close();
});
