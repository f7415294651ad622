/**
 * The AWS operations the portal uses, in its own terms. `lib/aws/sdk/` implements them over the
 * AWS SDK v3; tests substitute a fake (tests/_fakes/aws.ts) for what moto cannot produce.
 */

/** A CloudFormation stack as the portal needs it. */
export interface Stack {
	stackId: string;
	name: string;
	/** e.g. CREATE_IN_PROGRESS, CREATE_COMPLETE, ROLLBACK_COMPLETE, DELETE_COMPLETE. */
	status: string;
	statusReason?: string;
	/** Outputs by OutputKey (never by position). */
	outputs: Record<string, string>;
}

/** One resource of a stack. */
export interface StackResource {
	logicalId: string;
	type: string;
	physicalId?: string;
	status: string;
	statusReason?: string;
}

/** One stack event, newest first as AWS returns them. */
export interface StackEvent {
	logicalId: string;
	type: string;
	status: string;
	reason?: string;
	timestamp: Date;
}

/** What the portal sends to CreateStack. */
export interface CreateStackInput {
	name: string;
	templateBody: string;
	parameters: Record<string, string>;
	tags: Record<string, string>;
	/** Makes a retried call after a crash create the stack at most once. */
	clientRequestToken: string;
}

export interface CloudFormationApi {
	createStack(input: CreateStackInput): Promise<{ stackId: string }>;
	/** The stack, or `undefined` when it does not exist. */
	describeStack(nameOrId: string): Promise<Stack | undefined>;
	listStackResources(nameOrId: string): Promise<StackResource[]>;
	describeStackEvents(nameOrId: string): Promise<StackEvent[]>;
	deleteStack(nameOrId: string): Promise<void>;
}

/** An EC2 instance as the portal needs it. */
export interface Ec2Instance {
	id: string;
	/** pending, running, shutting-down, terminated, stopping, stopped. */
	state: string;
	type: string;
	imageId: string;
	privateIp?: string;
	publicIp?: string;
	launchTime?: Date;
	availabilityZone?: string;
	tags: Record<string, string>;
	/** e.g. "User initiated (2024-01-01 10:00:00 GMT)". */
	stateTransitionReason?: string;
}

/** An EBS volume as the portal needs it. */
export interface Ec2Volume {
	id: string;
	/** creating, available, in-use, deleting, deleted, error. */
	state: string;
	sizeGb: number;
	volumeType: string;
	/** Provisioned IOPS and throughput (MB/s), when EC2 reports them (io1, io2, gp3). */
	iops?: number;
	throughput?: number;
	attachedTo?: string;
	device?: string;
	tags: Record<string, string>;
	createTime?: Date;
}

/** An AMI as the portal needs it. */
export interface Ec2Image {
	id: string;
	/** pending, available, invalid, deregistered, transient, failed, error, disabled. */
	state: string;
	name?: string;
	creationDate?: Date;
	/** When EC2 deprecates the image (EnableImageDeprecation), if it is set. */
	deprecationTime?: Date;
	tags: Record<string, string>;
}

/** Filters as EC2 takes them, e.g. `{ "tag:LaunchedBy": ["MLIY"] }`. */
export type Ec2Filters = Record<string, string[]>;

export interface Ec2Api {
	/**
	 * Every matching instance, following NextToken with the largest page size EC2 allows; a filter
	 * may have any number of values (they are sent 200 at a time, EC2's limit).
	 */
	describeInstances(query: { filters?: Ec2Filters }): Promise<Ec2Instance[]>;
	startInstances(ids: string[]): Promise<void>;
	stopInstances(ids: string[]): Promise<void>;
	rebootInstances(ids: string[]): Promise<void>;
	terminateInstances(ids: string[]): Promise<void>;
	/** Changes a stopped instance's type (ModifyInstanceAttribute); EC2 refuses it while the instance runs. */
	modifyInstanceType(id: string, instanceType: string): Promise<void>;
	/** Sets tags (adding or overwriting) on the instances. */
	createTags(ids: string[], tags: Record<string, string>): Promise<void>;
	/** Every matching volume, as {@link describeInstances} does. */
	describeVolumes(query: { filters?: Ec2Filters }): Promise<Ec2Volume[]>;
	/** Deletes a volume that is attached to nothing (EC2 refuses one in use). */
	deleteVolume(id: string): Promise<void>;
	/**
	 * The images of these ids that EC2 still shows, deprecated and disabled ones included, in one
	 * listing (by an `image-id` filter, so an id EC2 no longer knows is left out, not an error).
	 */
	describeImages(ids: readonly string[]): Promise<Ec2Image[]>;
	/**
	 * The instance's console output (the serial console EC2 keeps, updated every few minutes),
	 * decoded as UTF-8; `undefined` when EC2 has none yet.
	 */
	getConsoleOutput(id: string): Promise<string | undefined>;
	/** Latest spot price for a type in an availability zone, or `undefined` when AWS has none. */
	latestSpotPrice(instanceType: string, availabilityZone: string): Promise<number | undefined>;
}

/** An A record as Route 53 lists it. */
export interface DnsRecord {
	name: string;
	type: string;
	ttl?: number;
	values: string[];
}

export interface Route53Api {
	/** The hosted zone id for a domain name (exact match), or `undefined`. */
	findHostedZone(domainName: string): Promise<string | undefined>;
	upsertARecord(zoneId: string, name: string, ip: string, ttl: number): Promise<void>;
	/** Deletes the record; a record that is already gone is not an error. */
	deleteARecord(zoneId: string, name: string, ip: string, ttl: number): Promise<void>;
}

/** An EMR cluster as the portal needs it. */
export interface EmrCluster {
	id: string;
	name: string;
	/** STARTING, BOOTSTRAPPING, RUNNING, WAITING, TERMINATING, TERMINATED, TERMINATED_WITH_ERRORS. */
	state: string;
	stateReason?: string;
	masterDns?: string;
	createdAt?: Date;
	/** When the cluster first became ready (WAITING or RUNNING). */
	readyAt?: Date;
	endedAt?: Date;
	availabilityZone?: string;
	tags: Record<string, string>;
}

export interface EmrInstanceGroup {
	/** MASTER, CORE or TASK. */
	role: string;
	instanceType: string;
	market: string;
	bidPrice?: string;
	requested: number;
	running: number;
}

export interface EmrStep {
	id: string;
	name: string;
	/** PENDING, RUNNING, COMPLETED, CANCELLED, FAILED, INTERRUPTED. */
	state: string;
	failureReason?: string;
}

export interface EmrApi {
	/** The cluster, or `undefined` when EMR does not know it. */
	describeCluster(id: string): Promise<EmrCluster | undefined>;
	listInstanceGroups(id: string): Promise<EmrInstanceGroup[]>;
	/** Private IP of the master node, if it has one yet. */
	masterPrivateIp(id: string): Promise<string | undefined>;
	listSteps(id: string): Promise<EmrStep[]>;
	/** Clusters created after `since` in the given states (used by sync). */
	listClusters(query: { states?: string[]; createdAfter?: Date }): Promise<EmrCluster[]>;
	/** Terminates clusters directly (for a cluster whose stack is gone). */
	terminateJobFlows(ids: string[]): Promise<void>;
	/** Sets tags (adding or overwriting) on the cluster. */
	addTags(id: string, tags: Record<string, string>): Promise<void>;
}

/** One metric series asked of CloudWatch: a metric of one resource, summarised per period. */
export interface MetricQuery {
	/** e.g. AWS/EC2, AWS/ElasticMapReduce. */
	namespace: string;
	/** e.g. CPUUtilization, IsIdle. */
	metric: string;
	/** e.g. `{ InstanceId: "i-…" }`, `{ JobFlowId: "j-…" }`. */
	dimensions: Record<string, string>;
	stat: "Maximum" | "Minimum" | "Average";
	periodSeconds: number;
}

/** One datapoint of a series: the start of its period and the statistic over it. */
export interface MetricPoint {
	at: Date;
	value: number;
}

export interface CloudWatchApi {
	/**
	 * The datapoints of every query between `start` and `end`, in the order of `queries`: one
	 * GetMetricData request per 500 queries (the API's limit), following NextToken.
	 */
	getMetricData(queries: readonly MetricQuery[], range: { start: Date; end: Date }): Promise<MetricPoint[][]>;
}

/** One figure of Cost Explorer: the cost of a day for one combination of tag values. */
export interface CostRow {
	/** The UTC day, `2025-03-01`. */
	day: string;
	/** The grouping tags' values by key; "" for cost without the tag (or with it inactive). */
	tags: Record<string, string>;
	amount: number;
	unit: string;
	/** Whether AWS still calls the figure an estimate (the last days). */
	estimated: boolean;
}

export interface CostExplorerApi {
	/**
	 * Daily cost of the days in [fromDay, toDay) (`2025-03-01`, UTC) of what carries `filterTag`
	 * with one of its values, grouped by up to two tag keys (GetCostAndUsage, NextPageToken followed).
	 */
	dailyCostByTags(query: {
		fromDay: string;
		toDay: string;
		metric: string;
		filterTag: { key: string; values: string[] };
		groupByTags: string[];
	}): Promise<CostRow[]>;
}

/** Where the portal runs, read from the instance metadata service. */
export interface Placement {
	subnetId: string;
	availabilityZone: string;
}

/** Keys for AWS, given explicitly (tests, benchmarks) instead of found by the SDK's default chain. */
export interface AwsCredentials {
	accessKeyId: string;
	secretAccessKey: string;
	sessionToken?: string;
}

/** Everything the portal asks of AWS. */
export interface Aws {
	cloudFormation: CloudFormationApi;
	ec2: Ec2Api;
	route53: Route53Api;
	emr: EmrApi;
	cloudWatch: CloudWatchApi;
	costExplorer: CostExplorerApi;
	/** The server's own subnet and AZ (instance metadata, IMDSv2), or `undefined` off EC2. */
	placement(): Promise<Placement | undefined>;
}
