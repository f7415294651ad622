/**
 * moto_server, the AWS peer of the integration tests. scripts/test.ts starts one and passes its URL
 * in TEST_MOTO_URL; without it (a bare `deno test`), a server is started here when moto_server
 * is on PATH. Tests reset it before use, so they must not run in parallel with each other.
 */
import {
	CreateHostedZoneCommand,
	ListResourceRecordSetsCommand,
	Route53Client,
	type RRType,
} from "@aws-sdk/client-route-53";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { CreateTagsCommand, DescribeSubnetsCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { EMRClient, RunJobFlowCommand } from "@aws-sdk/client-emr";
import type { DnsRecord } from "../../lib/aws/types.ts";
import { TEST_CREDENTIALS } from "../_fakes/endpoint.ts";
import { onPath, startMotoServer } from "../../scripts/local_servers.ts";

export interface Moto {
	url: string;
	reset(): Promise<void>;
	/** A default-VPC subnet in the availability zone. */
	subnet(availabilityZone: string): Promise<string>;
	createHostedZone(domain: string): Promise<string>;
	/** Every record of the zone, as Route 53 lists them (what the portal published). */
	listRecords(zoneId: string): Promise<DnsRecord[]>;
	ec2(): EC2Client;
	/** Starts instances outside the portal (RunInstances), with tags. */
	runInstances(count: number, tags: Record<string, string>, type?: string): Promise<string[]>;
	/** Puts datapoints into CloudWatch as AWS would publish them (PutMetricData). */
	putMetric(
		metric: { namespace: string; name: string; dimensions: Record<string, string> },
		points: readonly { at: Date | string; value: number }[],
	): Promise<void>;
	/** Tags an instance (CreateTags), as anyone with ec2:CreateTags can; moto takes `aws:` keys, which AWS refuses. */
	tagInstance(id: string, tags: Record<string, string>): Promise<void>;
	/** Starts an EMR cluster outside the portal (RunJobFlow, kept alive: WAITING in moto), with tags; returns its id. */
	runJobFlow(tags: Record<string, string>, type?: string): Promise<string>;
	/**
	 * Queues Cost Explorer answers (moto's results API): each GetCostAndUsage request with a body not
	 * seen before takes the next one, and the same request gets the same answer again.
	 */
	queueCostAndUsage(results: readonly unknown[]): Promise<void>;
}

async function findOrStart(): Promise<string | undefined> {
	const given = Deno.env.get("TEST_MOTO_URL");
	if (given) return given;
	if (!(await onPath("moto_server"))) return undefined;
	const server = await startMotoServer();
	globalThis.addEventListener("unload", () => {
		try {
			server.process.kill("SIGTERM");
		} catch { /* already gone */ }
	});
	server.process.unref();
	return server.url;
}

function connect(url: string): Moto {
	const config = { region: "us-east-1", endpoint: url, credentials: TEST_CREDENTIALS };
	const ec2 = new EC2Client(config);
	const emr = new EMRClient(config);
	const route53 = new Route53Client(config);
	const cloudWatch = new CloudWatchClient(config);
	return {
		url,
		async reset() {
			const res = await fetch(`${url}/moto-api/reset`, { method: "POST" });
			await res.body?.cancel();
		},
		async subnet(availabilityZone) {
			const out = await ec2.send(
				new DescribeSubnetsCommand({ Filters: [{ Name: "availability-zone", Values: [availabilityZone] }] }),
			);
			return out.Subnets![0]!.SubnetId!;
		},
		async createHostedZone(domain) {
			const out = await route53.send(
				new CreateHostedZoneCommand({ Name: domain, CallerReference: crypto.randomUUID() }),
			);
			return out.HostedZone!.Id!.replace("/hostedzone/", "");
		},
		async listRecords(zoneId) {
			const records: DnsRecord[] = [];
			let start: { name?: string; type?: RRType } = {};
			for (;;) {
				const out = await route53.send(
					new ListResourceRecordSetsCommand({
						HostedZoneId: zoneId,
						StartRecordName: start.name,
						StartRecordType: start.type,
					}),
				);
				for (const r of out.ResourceRecordSets ?? []) {
					records.push({
						name: r.Name ?? "",
						type: r.Type ?? "",
						ttl: r.TTL,
						values: (r.ResourceRecords ?? []).map((v) => v.Value ?? ""),
					});
				}
				if (!out.IsTruncated) return records;
				start = { name: out.NextRecordName, type: out.NextRecordType };
			}
		},
		ec2: () => ec2,
		async runInstances(count, tags, type = "t2.micro") {
			const out = await ec2.send(
				new RunInstancesCommand({
					ImageId: "ami-12c6146b",
					InstanceType: type as never,
					MinCount: count,
					MaxCount: count,
					TagSpecifications: [{
						ResourceType: "instance",
						Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
					}],
				}),
			);
			return out.Instances!.map((i) => i.InstanceId!);
		},
		async putMetric(metric, points) {
			await cloudWatch.send(
				new PutMetricDataCommand({
					Namespace: metric.namespace,
					MetricData: points.map((p) => ({
						MetricName: metric.name,
						Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
						Timestamp: new Date(p.at),
						Value: p.value,
					})),
				}),
			);
		},
		async tagInstance(id, tags) {
			await ec2.send(
				new CreateTagsCommand({
					Resources: [id],
					Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
				}),
			);
		},
		async queueCostAndUsage(results) {
			const res = await fetch(`${url}/moto-api/static/ce/cost-and-usage-results`, {
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ results }),
			});
			await res.body?.cancel();
			if (res.status !== 201) throw new Error(`moto refused the Cost Explorer results: ${res.status}`);
		},
		async runJobFlow(tags, type = "m4.large") {
			const out = await emr.send(
				new RunJobFlowCommand({
					Name: tags.Name ?? "cluster",
					ReleaseLabel: "emr-6.15.0",
					Instances: {
						InstanceGroups: [
							{ InstanceRole: "MASTER", InstanceType: type, InstanceCount: 1, Market: "ON_DEMAND" },
							{ InstanceRole: "CORE", InstanceType: type, InstanceCount: 2, Market: "ON_DEMAND" },
						],
						KeepJobFlowAliveWhenNoSteps: true,
					},
					JobFlowRole: "EMR_EC2_DefaultRole",
					ServiceRole: "EMR_DefaultRole",
					Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
				}),
			);
			return out.JobFlowId!;
		},
	};
}

const url = await findOrStart();
if (!url) {
	if (Deno.env.get("CI")) throw new Error("moto_server is required in CI but was not found on PATH");
	// deno-lint-ignore no-console
	console.warn("\n*** moto_server is not installed: SKIPPING the AWS integration tests (install moto[server]) ***\n");
}

/** The moto server, or undefined when none is available (its tests are then ignored). */
export const moto: Moto | undefined = url ? connect(url) : undefined;

/** Declares a test that needs moto; it is skipped (loudly, above) when moto is unavailable. */
export function motoTest(name: string, fn: (moto: Moto) => Promise<void>): void {
	Deno.test({
		name,
		ignore: !moto,
		sanitizeOps: false,
		sanitizeResources: false,
		fn: async () => {
			await moto!.reset();
			await fn(moto!);
		},
	});
}
