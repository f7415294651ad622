/**
 * The one module that imports the AWS SDK. Clients are created on first use (keeping the SDK out
 * of startup time), retry with the SDK's backoff, time out, log every call to boto.log and count
 * it in the metrics. SDK errors become {@link AwsError}s; "does not exist" becomes `undefined`.
 */
import type { Logger } from "@logtape/logtape";
import { AwsError, type AwsErrorKind } from "../errors.ts";
import type {
	Aws,
	CloudFormationApi,
	CreateStackInput,
	DnsRecord,
	Ec2Api,
	Ec2Filters,
	Ec2Instance,
	Ec2Volume,
	EmrApi,
	EmrCluster,
	Placement,
	Route53Api,
	Stack,
} from "./types.ts";

/** Settings and hooks for {@link createAws}. */
export interface AwsOptions {
	region: string;
	/** An explicit endpoint (moto in tests); otherwise the SDK's own resolution (incl. AWS_ENDPOINT_URL). */
	endpoint?: string;
	maxAttempts: number;
	timeoutSeconds: number;
	log: Logger;
	/** Called after every AWS call, for metrics. */
	onCall?: (operation: string, seconds: number, error?: AwsError) => void;
	/** Instance metadata base URL. @default "http://169.254.169.254" */
	metadataUrl?: string;
}

type SdkClient = { send(command: unknown, options?: unknown): Promise<unknown>; destroy(): void };

/** Builds the portal's AWS interface over the SDK. */
export function createAws(options: AwsOptions): Aws & { close(): void } {
	const clients = new Map<string, Promise<SdkClient>>();
	const config = {
		region: options.region,
		maxAttempts: options.maxAttempts,
		retryMode: "standard",
		requestHandler: {
			connectionTimeout: Math.min(5000, options.timeoutSeconds * 1000),
			requestTimeout: options.timeoutSeconds * 1000,
			// Without it the handler only warns and the call waits for AWS forever.
			throwOnRequestTimeout: true,
		},
		...(options.endpoint ? { endpoint: options.endpoint } : {}),
	};

	function client(service: string, make: () => Promise<SdkClient>): Promise<SdkClient> {
		let existing = clients.get(service);
		if (!existing) {
			existing = make();
			clients.set(service, existing);
		}
		return existing;
	}
	const cfn = () =>
		client("cloudformation", async () => {
			const { CloudFormationClient } = await import("@aws-sdk/client-cloudformation");
			return new CloudFormationClient(config) as unknown as SdkClient;
		});
	const ec2 = () =>
		client("ec2", async () => {
			const { EC2Client } = await import("@aws-sdk/client-ec2");
			return new EC2Client(config) as unknown as SdkClient;
		});
	const r53 = () =>
		client("route53", async () => {
			const { Route53Client } = await import("@aws-sdk/client-route-53");
			return new Route53Client(config) as unknown as SdkClient;
		});
	const emr = () =>
		client("emr", async () => {
			const { EMRClient } = await import("@aws-sdk/client-emr");
			return new EMRClient(config) as unknown as SdkClient;
		});

	/** Sends one command, logging and timing it; `detail` is safe to log (never parameter values). */
	async function send<T>(
		getClient: () => Promise<SdkClient>,
		operation: string,
		makeCommand: () => Promise<unknown>,
		detail: Record<string, unknown> = {},
	): Promise<T> {
		const started = performance.now();
		try {
			const [c, command] = await Promise.all([getClient(), makeCommand()]);
			const output = await c.send(command) as T & { $metadata?: { requestId?: string; attempts?: number } };
			const seconds = (performance.now() - started) / 1000;
			options.onCall?.(operation, seconds);
			options.log.info("{operation} ok in {ms} ms", {
				operation,
				ms: Math.round(seconds * 1000),
				requestId: output?.$metadata?.requestId,
				attempts: output?.$metadata?.attempts,
				...detail,
			});
			return output;
		} catch (error) {
			const seconds = (performance.now() - started) / 1000;
			const awsError = toAwsError(operation, error);
			options.onCall?.(operation, seconds, awsError);
			const level = awsError.kind === "not_found" ? "info" : "warn";
			options.log[level]("{operation} failed ({kind}): {message}", {
				operation,
				kind: awsError.kind,
				code: awsError.code,
				message: awsError.message,
				ms: Math.round(seconds * 1000),
				...detail,
			});
			throw awsError;
		}
	}

	const cloudFormation: CloudFormationApi = {
		async createStack(input: CreateStackInput) {
			const out = await send<{ StackId?: string }>(cfn, "CreateStack", async () => {
				const { CreateStackCommand } = await import("@aws-sdk/client-cloudformation");
				return new CreateStackCommand({
					StackName: input.name,
					TemplateBody: input.templateBody,
					Parameters: Object.entries(input.parameters).map(([ParameterKey, ParameterValue]) => ({
						ParameterKey,
						ParameterValue,
					})),
					Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
					ClientRequestToken: input.clientRequestToken,
					DisableRollback: false,
					...(input.timeoutMinutes ? { TimeoutInMinutes: input.timeoutMinutes } : {}),
				});
			}, { stackName: input.name, parameterKeys: Object.keys(input.parameters) });
			if (!out.StackId) throw new AwsError("CreateStack", "other", "CreateStack returned no StackId");
			return { stackId: out.StackId };
		},
		async describeStack(nameOrId) {
			try {
				const out = await send<{ Stacks?: SdkStack[] }>(cfn, "DescribeStacks", async () => {
					const { DescribeStacksCommand } = await import("@aws-sdk/client-cloudformation");
					return new DescribeStacksCommand({ StackName: nameOrId });
				}, { stack: nameOrId });
				const stack = out.Stacks?.[0];
				return stack ? toStack(stack) : undefined;
			} catch (error) {
				if (error instanceof AwsError && error.kind === "not_found") return undefined;
				throw error;
			}
		},
		async listStackResources(nameOrId) {
			const out = await send<{ StackResources?: SdkStackResource[] }>(cfn, "DescribeStackResources", async () => {
				const { DescribeStackResourcesCommand } = await import("@aws-sdk/client-cloudformation");
				return new DescribeStackResourcesCommand({ StackName: nameOrId });
			}, { stack: nameOrId });
			return (out.StackResources ?? []).map((r) => ({
				logicalId: r.LogicalResourceId ?? "",
				type: r.ResourceType ?? "",
				physicalId: r.PhysicalResourceId || undefined,
				status: r.ResourceStatus ?? "",
				statusReason: r.ResourceStatusReason || undefined,
			}));
		},
		async describeStackEvents(nameOrId) {
			const out = await send<{ StackEvents?: SdkStackEvent[] }>(cfn, "DescribeStackEvents", async () => {
				const { DescribeStackEventsCommand } = await import("@aws-sdk/client-cloudformation");
				return new DescribeStackEventsCommand({ StackName: nameOrId });
			}, { stack: nameOrId });
			return (out.StackEvents ?? []).map((e) => ({
				logicalId: e.LogicalResourceId ?? "",
				type: e.ResourceType ?? "",
				status: e.ResourceStatus ?? "",
				reason: e.ResourceStatusReason || undefined,
				timestamp: e.Timestamp ?? new Date(0),
			}));
		},
		async deleteStack(nameOrId) {
			await send(cfn, "DeleteStack", async () => {
				const { DeleteStackCommand } = await import("@aws-sdk/client-cloudformation");
				return new DeleteStackCommand({ StackName: nameOrId });
			}, { stack: nameOrId });
		},
	};

	const ec2Api: Ec2Api = {
		async describeInstances(query) {
			// Keyed by id: one instance may match several chunks of a multi-valued attribute's filter.
			const instances = new Map<string, Ec2Instance>();
			for (const filters of splitFilters(query.filters)) {
				let nextToken: string | undefined;
				do {
					const out = await send<{ Reservations?: { Instances?: SdkInstance[] }[]; NextToken?: string }>(
						ec2,
						"DescribeInstances",
						async () => {
							const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
							return new DescribeInstancesCommand({
								MaxResults: 1000,
								Filters: toFilters(filters),
								NextToken: nextToken,
							});
						},
						{ filters: filters ? Object.keys(filters) : undefined },
					);
					for (const reservation of out.Reservations ?? []) {
						for (const i of reservation.Instances ?? []) instances.set(i.InstanceId ?? "", toInstance(i));
					}
					nextToken = out.NextToken || undefined;
				} while (nextToken);
			}
			return [...instances.values()];
		},
		async startInstances(ids) {
			await send(ec2, "StartInstances", async () => {
				const { StartInstancesCommand } = await import("@aws-sdk/client-ec2");
				return new StartInstancesCommand({ InstanceIds: ids });
			}, { ids });
		},
		async stopInstances(ids) {
			await send(ec2, "StopInstances", async () => {
				const { StopInstancesCommand } = await import("@aws-sdk/client-ec2");
				return new StopInstancesCommand({ InstanceIds: ids });
			}, { ids });
		},
		async rebootInstances(ids) {
			await send(ec2, "RebootInstances", async () => {
				const { RebootInstancesCommand } = await import("@aws-sdk/client-ec2");
				return new RebootInstancesCommand({ InstanceIds: ids });
			}, { ids });
		},
		async terminateInstances(ids) {
			await send(ec2, "TerminateInstances", async () => {
				const { TerminateInstancesCommand } = await import("@aws-sdk/client-ec2");
				return new TerminateInstancesCommand({ InstanceIds: ids });
			}, { ids });
		},
		async describeVolumes(query) {
			const volumes = new Map<string, Ec2Volume>();
			for (const filters of splitFilters(query.filters)) {
				let nextToken: string | undefined;
				do {
					const out = await send<{ Volumes?: SdkVolume[]; NextToken?: string }>(ec2, "DescribeVolumes", async () => {
						const { DescribeVolumesCommand } = await import("@aws-sdk/client-ec2");
						return new DescribeVolumesCommand({ MaxResults: 500, Filters: toFilters(filters), NextToken: nextToken });
					}, { filters: filters ? Object.keys(filters) : undefined });
					for (const v of out.Volumes ?? []) volumes.set(v.VolumeId ?? "", toVolume(v));
					nextToken = out.NextToken || undefined;
				} while (nextToken);
			}
			return [...volumes.values()];
		},
		async latestSpotPrice(instanceType, availabilityZone) {
			const out = await send<{ SpotPriceHistory?: { SpotPrice?: string; Timestamp?: Date }[] }>(
				ec2,
				"DescribeSpotPriceHistory",
				async () => {
					const { DescribeSpotPriceHistoryCommand } = await import("@aws-sdk/client-ec2");
					return new DescribeSpotPriceHistoryCommand({
						InstanceTypes: [instanceType as never],
						AvailabilityZone: availabilityZone,
						ProductDescriptions: ["Linux/UNIX (Amazon VPC)"],
						StartTime: new Date(),
						MaxResults: 10,
					});
				},
				{ instanceType, availabilityZone },
			);
			const prices = (out.SpotPriceHistory ?? [])
				.filter((p) => p.SpotPrice !== undefined)
				.sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0));
			const value = prices[0] ? Number(prices[0].SpotPrice) : NaN;
			return Number.isFinite(value) ? value : undefined;
		},
	};

	const route53: Route53Api = {
		async findHostedZone(domainName) {
			const wanted = domainName.replace(/\.?$/, ".").toLowerCase();
			const out = await send<{ HostedZones?: { Id?: string; Name?: string }[] }>(
				r53,
				"ListHostedZonesByName",
				async () => {
					const { ListHostedZonesByNameCommand } = await import("@aws-sdk/client-route-53");
					return new ListHostedZonesByNameCommand({ DNSName: wanted, MaxItems: 10 });
				},
				{ domainName },
			);
			const zone = (out.HostedZones ?? []).find((z) => z.Name?.toLowerCase() === wanted);
			return zone?.Id?.replace(/^\/hostedzone\//, "");
		},
		async upsertARecord(zoneId, name, ip, ttl) {
			await changeRecord("UPSERT", zoneId, name, [ip], ttl);
		},
		async deleteARecord(zoneId, name, ip, ttl) {
			try {
				await changeRecord("DELETE", zoneId, name, [ip], ttl);
			} catch (error) {
				if (!(error instanceof AwsError) || error.kind !== "invalid" && error.kind !== "not_found") throw error;
				// "…but it was not found": the record is already gone, which is the goal.
				if (/but it was not found/i.test(error.message)) return;
				// A DELETE must name the record's current values: when they differ from what the portal
				// last saw (an IP that changed behind it), delete what is there, or the name keeps
				// pointing at an address AWS may give to someone else.
				const current = await currentARecord(zoneId, name);
				if (!current) return;
				if (current.values.length === 1 && current.values[0] === ip && current.ttl === ttl) throw error;
				await changeRecord("DELETE", zoneId, name, current.values, current.ttl ?? ttl);
			}
		},
		async listRecords(zoneId) {
			const records: { name: string; type: string; ttl?: number; values: string[] }[] = [];
			let start: { name?: string; type?: string } = {};
			for (;;) {
				const out = await send<{
					ResourceRecordSets?: {
						Name?: string;
						Type?: string;
						TTL?: number;
						ResourceRecords?: { Value?: string }[];
					}[];
					IsTruncated?: boolean;
					NextRecordName?: string;
					NextRecordType?: string;
				}>(r53, "ListResourceRecordSets", async () => {
					const { ListResourceRecordSetsCommand } = await import("@aws-sdk/client-route-53");
					return new ListResourceRecordSetsCommand({
						HostedZoneId: zoneId,
						StartRecordName: start.name,
						StartRecordType: start.type as never,
					});
				}, { zoneId });
				for (const r of out.ResourceRecordSets ?? []) {
					records.push({
						name: r.Name ?? "",
						type: r.Type ?? "",
						ttl: r.TTL,
						values: (r.ResourceRecords ?? []).map((v) => v.Value ?? ""),
					});
				}
				if (!out.IsTruncated) break;
				start = { name: out.NextRecordName, type: out.NextRecordType };
			}
			return records;
		},
	};

	async function changeRecord(
		action: "UPSERT" | "DELETE",
		zoneId: string,
		name: string,
		values: string[],
		ttl: number,
	) {
		await send(r53, "ChangeResourceRecordSets", async () => {
			const { ChangeResourceRecordSetsCommand } = await import("@aws-sdk/client-route-53");
			return new ChangeResourceRecordSetsCommand({
				HostedZoneId: zoneId,
				ChangeBatch: {
					Changes: [{
						Action: action,
						ResourceRecordSet: {
							Name: name,
							Type: "A",
							TTL: ttl,
							ResourceRecords: values.map((Value) => ({ Value })),
						},
					}],
				},
			});
		}, { action, name });
	}

	/** The A record named `name` as Route 53 holds it now, or `undefined` when there is none. */
	async function currentARecord(zoneId: string, name: string): Promise<DnsRecord | undefined> {
		const out = await send<{
			ResourceRecordSets?: { Name?: string; Type?: string; TTL?: number; ResourceRecords?: { Value?: string }[] }[];
		}>(r53, "ListResourceRecordSets", async () => {
			const { ListResourceRecordSetsCommand } = await import("@aws-sdk/client-route-53");
			return new ListResourceRecordSetsCommand({
				HostedZoneId: zoneId,
				StartRecordName: name,
				StartRecordType: "A",
				MaxItems: 1,
			});
		}, { zoneId, name });
		const wanted = name.replace(/\.?$/, ".").toLowerCase();
		const found = out.ResourceRecordSets?.find((r) =>
			r.Type === "A" && r.Name?.replace(/\.?$/, ".").toLowerCase() === wanted
		);
		return found && {
			name: found.Name ?? name,
			type: "A",
			ttl: found.TTL,
			values: (found.ResourceRecords ?? []).map((v) => v.Value ?? ""),
		};
	}

	const emrApi: EmrApi = {
		async describeCluster(id) {
			try {
				const out = await send<{ Cluster?: SdkCluster }>(emr, "DescribeCluster", async () => {
					const { DescribeClusterCommand } = await import("@aws-sdk/client-emr");
					return new DescribeClusterCommand({ ClusterId: id });
				}, { clusterId: id });
				return out.Cluster ? toCluster(out.Cluster) : undefined;
			} catch (error) {
				if (error instanceof AwsError && (error.kind === "not_found" || error.kind === "invalid")) return undefined;
				throw error;
			}
		},
		async listInstanceGroups(id) {
			const out = await send<{
				InstanceGroups?: {
					InstanceGroupType?: string;
					InstanceType?: string;
					Market?: string;
					BidPrice?: string;
					RequestedInstanceCount?: number;
					RunningInstanceCount?: number;
				}[];
			}>(emr, "ListInstanceGroups", async () => {
				const { ListInstanceGroupsCommand } = await import("@aws-sdk/client-emr");
				return new ListInstanceGroupsCommand({ ClusterId: id });
			}, { clusterId: id });
			return (out.InstanceGroups ?? []).map((g) => ({
				role: g.InstanceGroupType ?? "",
				instanceType: g.InstanceType ?? "",
				market: g.Market ?? "ON_DEMAND",
				bidPrice: g.BidPrice,
				requested: g.RequestedInstanceCount ?? 0,
				running: g.RunningInstanceCount ?? 0,
			}));
		},
		async masterPrivateIp(id) {
			const out = await send<{ Instances?: { PrivateIpAddress?: string }[] }>(emr, "ListInstances", async () => {
				const { ListInstancesCommand } = await import("@aws-sdk/client-emr");
				return new ListInstancesCommand({ ClusterId: id, InstanceGroupTypes: ["MASTER"] });
			}, { clusterId: id });
			return out.Instances?.find((i) => i.PrivateIpAddress)?.PrivateIpAddress;
		},
		async listSteps(id) {
			const out = await send<{
				Steps?: { Id?: string; Name?: string; Status?: { State?: string; FailureDetails?: { Reason?: string } } }[];
			}>(emr, "ListSteps", async () => {
				const { ListStepsCommand } = await import("@aws-sdk/client-emr");
				return new ListStepsCommand({ ClusterId: id });
			}, { clusterId: id });
			return (out.Steps ?? []).map((s) => ({
				id: s.Id ?? "",
				name: s.Name ?? "",
				state: s.Status?.State ?? "",
				failureReason: s.Status?.FailureDetails?.Reason,
			}));
		},
		async listClusters(query) {
			const clusters: EmrCluster[] = [];
			let marker: string | undefined;
			do {
				const out = await send<{
					Clusters?: {
						Id?: string;
						Name?: string;
						Status?: SdkCluster["Status"];
					}[];
					Marker?: string;
				}>(emr, "ListClusters", async () => {
					const { ListClustersCommand } = await import("@aws-sdk/client-emr");
					return new ListClustersCommand({
						ClusterStates: query.states as never,
						CreatedAfter: query.createdAfter,
						Marker: marker,
					});
				});
				for (const c of out.Clusters ?? []) clusters.push(toCluster({ ...c, Tags: [] }));
				marker = out.Marker || undefined;
			} while (marker);
			return clusters;
		},
		async terminateJobFlows(ids) {
			await send(emr, "TerminateJobFlows", async () => {
				const { TerminateJobFlowsCommand } = await import("@aws-sdk/client-emr");
				return new TerminateJobFlowsCommand({ JobFlowIds: ids });
			}, { ids });
		},
	};

	const metadataUrl = options.metadataUrl ?? "http://169.254.169.254";
	let placementCache: Placement | undefined;
	async function placement(): Promise<Placement | undefined> {
		// Only an answer is kept: one metadata hiccup must not leave the portal without a placement.
		placementCache ??= await readPlacement(metadataUrl, options.log);
		return placementCache;
	}

	return {
		cloudFormation,
		ec2: ec2Api,
		route53,
		emr: emrApi,
		placement,
		close() {
			for (const c of clients.values()) c.then((x) => x.destroy(), () => {});
			clients.clear();
		},
	};
}

/** Reads subnet and AZ through IMDSv2 (token first), with short timeouts so off-EC2 hosts answer fast. */
async function readPlacement(base: string, log: Logger): Promise<Placement | undefined> {
	const signal = () => AbortSignal.timeout(1000);
	try {
		const token = await (await fetch(`${base}/latest/api/token`, {
			method: "PUT",
			headers: { "X-aws-ec2-metadata-token-ttl-seconds": "300" },
			signal: signal(),
		})).text();
		const get = async (path: string) => {
			const res = await fetch(`${base}/latest/meta-data/${path}`, {
				headers: { "X-aws-ec2-metadata-token": token },
				signal: signal(),
			});
			if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
			return (await res.text()).trim();
		};
		const mac = await get("mac");
		const [subnetId, availabilityZone] = await Promise.all([
			get(`network/interfaces/macs/${mac}/subnet-id`),
			get("placement/availability-zone"),
		]);
		return { subnetId, availabilityZone };
	} catch (error) {
		log.info("instance metadata unavailable: {message}", { message: (error as Error).message });
		return undefined;
	}
}

const THROTTLING = new Set([
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestLimitExceeded",
	"TooManyRequestsException",
	"RequestThrottled",
	"RequestThrottledException",
	"SlowDown",
	"PriorRequestNotComplete",
	"Rate exceeded",
]);

/** Classifies any error from the SDK (or the network under it) into an {@link AwsError}. */
export function toAwsError(operation: string, error: unknown): AwsError {
	if (error instanceof AwsError) return error;
	const e = error as {
		name?: string;
		Code?: string;
		code?: string;
		message?: string;
		$metadata?: { httpStatusCode?: number };
		$fault?: string;
		cause?: { code?: string };
	};
	const code = e.Code ?? e.name ?? e.code ?? "Error";
	const message = typeof e.message === "string" && e.message ? e.message : String(error);
	const status = e.$metadata?.httpStatusCode;
	const netCode = e.code ?? e.cause?.code ?? "";
	// A 4xx is AWS's answer to the request, so never a timeout, however its message reads (a
	// ValidationError about TimeoutInMinutes must fail the launch at once, not be retried).
	const answered = status !== undefined && status >= 400 && status < 500 && status !== 408;
	const timedOut = code === "TimeoutError" || code === "AbortError" || netCode === "ETIMEDOUT" ||
		/\btimed out\b/i.test(message);
	let kind: AwsErrorKind;
	if (THROTTLING.has(code) || status === 429 || /rate exceeded|throttl/i.test(message)) kind = "throttled";
	else if (timedOut && !answered) kind = "timeout";
	else if (
		/does not exist|NotFound|NoSuchHostedZone|not found/i.test(`${code} ${message}`) &&
		!/Instance profile|NoSuchEntity/i.test(message)
	) kind = "not_found";
	else if (
		(status !== undefined && status >= 500) || e.$fault === "server" ||
		/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|connection refused|Connection reset|socket hang up|error sending request/i
			.test(`${message} ${netCode}`)
	) {
		kind = "unavailable";
	} else if (
		/AccessDenied|UnauthorizedOperation|Forbidden|ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch/i.test(code)
	) {
		kind = "denied";
	} else if (status !== undefined && status >= 400) kind = "invalid";
	else kind = "other";
	return new AwsError(operation, kind, `${operation}: ${message}`, { cause: error, code });
}

/** EC2 refuses a filter with more values than this (FilterLimitExceeded). */
const EC2_FILTER_VALUES_MAX = 200;

/**
 * Splits filters so that none has more than 200 values: one filter set per combination of
 * chunks, whose results together are exactly the results of the whole filters.
 */
function splitFilters(filters: Ec2Filters | undefined): (Ec2Filters | undefined)[] {
	if (!filters) return [undefined];
	let sets: Ec2Filters[] = [{}];
	for (const [name, values] of Object.entries(filters)) {
		const chunks: string[][] = [];
		for (let i = 0; i < values.length; i += EC2_FILTER_VALUES_MAX) {
			chunks.push(values.slice(i, i + EC2_FILTER_VALUES_MAX));
		}
		if (chunks.length === 0) chunks.push([]);
		sets = sets.flatMap((set) => chunks.map((chunk) => ({ ...set, [name]: chunk })));
	}
	return sets;
}

function toFilters(filters: Ec2Filters | undefined) {
	if (!filters) return undefined;
	return Object.entries(filters).map(([Name, Values]) => ({ Name, Values }));
}

function tagsToRecord(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	for (const t of tags ?? []) if (t.Key) out[t.Key] = t.Value ?? "";
	return out;
}

interface SdkStack {
	StackId?: string;
	StackName?: string;
	StackStatus?: string;
	StackStatusReason?: string;
	Outputs?: { OutputKey?: string; OutputValue?: string }[];
}
interface SdkStackResource {
	LogicalResourceId?: string;
	ResourceType?: string;
	PhysicalResourceId?: string;
	ResourceStatus?: string;
	ResourceStatusReason?: string;
}
interface SdkStackEvent extends SdkStackResource {
	Timestamp?: Date;
}
interface SdkInstance {
	InstanceId?: string;
	State?: { Name?: string };
	InstanceType?: string;
	ImageId?: string;
	PrivateIpAddress?: string;
	PublicIpAddress?: string;
	LaunchTime?: Date;
	Placement?: { AvailabilityZone?: string };
	Tags?: { Key?: string; Value?: string }[];
	StateTransitionReason?: string;
}
interface SdkVolume {
	VolumeId?: string;
	State?: string;
	Size?: number;
	VolumeType?: string;
	Attachments?: { InstanceId?: string; Device?: string }[];
	Tags?: { Key?: string; Value?: string }[];
	CreateTime?: Date;
}
interface SdkCluster {
	Id?: string;
	Name?: string;
	Status?: {
		State?: string;
		StateChangeReason?: { Message?: string; Code?: string };
		Timeline?: { CreationDateTime?: Date; ReadyDateTime?: Date; EndDateTime?: Date };
	};
	MasterPublicDnsName?: string;
	Ec2InstanceAttributes?: { Ec2AvailabilityZone?: string };
	Tags?: { Key?: string; Value?: string }[];
}

function toStack(s: SdkStack): Stack {
	const outputs: Record<string, string> = {};
	for (const o of s.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
	return {
		stackId: s.StackId ?? "",
		name: s.StackName ?? "",
		status: s.StackStatus ?? "",
		statusReason: s.StackStatusReason || undefined,
		outputs,
	};
}

function toInstance(i: SdkInstance): Ec2Instance {
	return {
		id: i.InstanceId ?? "",
		state: i.State?.Name ?? "unknown",
		type: i.InstanceType ?? "",
		imageId: i.ImageId ?? "",
		privateIp: i.PrivateIpAddress || undefined,
		publicIp: i.PublicIpAddress || undefined,
		launchTime: i.LaunchTime,
		availabilityZone: i.Placement?.AvailabilityZone,
		tags: tagsToRecord(i.Tags),
		stateTransitionReason: i.StateTransitionReason || undefined,
	};
}

function toVolume(v: SdkVolume): Ec2Volume {
	const attachment = v.Attachments?.[0];
	return {
		id: v.VolumeId ?? "",
		state: v.State ?? "unknown",
		sizeGb: v.Size ?? 0,
		volumeType: v.VolumeType ?? "gp2",
		attachedTo: attachment?.InstanceId,
		device: attachment?.Device,
		tags: tagsToRecord(v.Tags),
		createTime: v.CreateTime,
	};
}

function toCluster(c: SdkCluster): EmrCluster {
	return {
		id: c.Id ?? "",
		name: c.Name ?? "",
		state: c.Status?.State ?? "",
		stateReason: c.Status?.StateChangeReason?.Message || undefined,
		masterDns: c.MasterPublicDnsName || undefined,
		createdAt: c.Status?.Timeline?.CreationDateTime,
		readyAt: c.Status?.Timeline?.ReadyDateTime,
		endedAt: c.Status?.Timeline?.EndDateTime,
		availabilityZone: c.Ec2InstanceAttributes?.Ec2AvailabilityZone,
		tags: tagsToRecord(c.Tags),
	};
}
