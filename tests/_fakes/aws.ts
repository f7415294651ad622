/**
 * The one fake AWS: the portal's {@link Aws} in memory, for what moto cannot produce (failed and
 * slow stacks, throttling, outages) and for resources that exist only in the database
 * ({@link ACTIONS_ACCEPTED}). Every call refuses loudly unless the test scripts an answer for it,
 * every call is logged, and an outage switch makes calls fail the way the SDK adapter reports AWS
 * trouble. The SDK adapter itself is tested against the wire-level endpoint in ./endpoint.ts.
 */
import type { Aws, EmrCluster, Stack } from "../../lib/aws/types.ts";
import { AwsError, type AwsErrorKind } from "../../lib/errors.ts";

type Service = Exclude<keyof Aws, "placement">;

/** Answers for some operations, e.g. `{ ec2: { describeInstances: () => Promise.resolve([]) } }`. */
export type AwsOverrides = {
	[K in keyof Aws]?: Aws[K] extends (...args: never[]) => unknown ? Aws[K] : Partial<Aws[K]>;
};

/** What an outage does to each call it covers: fail with an {@link AwsError} of that kind, or never answer. */
export type Outage = AwsErrorKind | "hang";

/** A fake {@link Aws} with its call log and outage switch. */
export interface FakeAws extends Aws {
	/** Every API call so far, in order, as "service.operation" (placement is not an API call: not logged). */
	calls: string[];
	/** The calls that change something in AWS (not describe/list reads). */
	changes(): string[];
	/**
	 * From now on, every call whose "service.operation" (or "placement") matches `only`, by default
	 * every call, fails with an {@link AwsError} of `kind` ("ec2.describeInstances: simulated
	 * throttled"), or hangs. `undefined` ends the outage; the calls left hanging then fail as timeouts.
	 */
	outage(kind: Outage | undefined, only?: RegExp): void;
}

/** Every operation of each service: the fake refuses those the test gives no answer for. */
const OPERATIONS: { [S in Service]: Record<keyof Aws[S], true> } = {
	cloudFormation: {
		createStack: true,
		describeStack: true,
		listStackResources: true,
		describeStackEvents: true,
		deleteStack: true,
	},
	ec2: {
		describeInstances: true,
		startInstances: true,
		stopInstances: true,
		rebootInstances: true,
		terminateInstances: true,
		modifyInstanceType: true,
		createTags: true,
		describeVolumes: true,
		describeImages: true,
		deleteVolume: true,
		getConsoleOutput: true,
		latestSpotPrice: true,
	},
	route53: { findHostedZone: true, upsertARecord: true, deleteARecord: true },
	emr: {
		describeCluster: true,
		listInstanceGroups: true,
		masterPrivateIp: true,
		listSteps: true,
		listClusters: true,
		terminateJobFlows: true,
		addTags: true,
	},
	cloudWatch: { getMetricData: true },
	costExplorer: { dailyCostByTags: true },
};

/**
 * A fake AWS answering with `overrides` and refusing every other call; `placement` answers
 * "unknown" unless overridden, as the real one does off EC2.
 */
export function fakeAws(overrides: AwsOverrides = {}): FakeAws {
	const calls: string[] = [];
	let outage: { kind: Outage; only?: RegExp } | undefined;
	const hanging = new Set<() => void>();

	function unlessDown<T>(name: string, answer: () => Promise<T>): Promise<T> {
		if (!outage || (outage.only && !outage.only.test(name))) return answer();
		if (outage.kind === "hang") {
			return new Promise((_, reject) => {
				hanging.add(() => reject(new AwsError(name, "timeout", `${name}: released after hanging`)));
			});
		}
		return Promise.reject(new AwsError(name, outage.kind, `${name}: simulated ${outage.kind}`));
	}

	function api<S extends Service>(service: S): Aws[S] {
		const given = (overrides[service] ?? {}) as Record<string, (...args: unknown[]) => Promise<unknown>>;
		const operations: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
		for (const operation of Object.keys(OPERATIONS[service])) {
			const name = `${service}.${operation}`;
			const answer = given[operation] ??
				(() => Promise.reject(new Error(`unexpected AWS call ${name}: the test gives no answer for it`)));
			operations[operation] = (...args) => {
				calls.push(name);
				return unlessDown(name, () => answer(...args));
			};
		}
		return operations as unknown as Aws[S];
	}

	const placement = overrides.placement ?? (() => Promise.resolve(undefined));
	return {
		calls,
		changes: () => calls.filter((c) => !/\.(describe|list|find|latest|get|placement)/.test(c)),
		outage(kind, only) {
			outage = kind ? { kind, only } : undefined;
			if (kind) return;
			for (const release of hanging) release();
			hanging.clear();
		},
		cloudFormation: api("cloudFormation"),
		ec2: api("ec2"),
		route53: api("route53"),
		emr: api("emr"),
		cloudWatch: api("cloudWatch"),
		costExplorer: api("costExplorer"),
		placement: () => unlessDown("placement", placement),
	};
}

/**
 * An operation answering with `answers` in turn, one per call, and with the last one from then on;
 * an Error among them is its call's rejection. Its type is the operation's it stands for, e.g.
 * `createStack: inTurn(new AwsError("CreateStack", "throttled", "…"), { stackId: STACK_ID })`.
 */
export function inTurn<Operation extends (...args: never[]) => Promise<unknown>>(
	...answers: [Answer<Operation>, ...Answer<Operation>[]]
): Operation {
	let next = 0;
	const answer = () => {
		const given = answers[Math.min(next++, answers.length - 1)];
		return given instanceof Error ? Promise.reject(given) : Promise.resolve(given);
	};
	return answer as unknown as Operation;
}

/** One answer of an operation: what it resolves with, or the Error it rejects with. */
type Answer<Operation extends (...args: never[]) => Promise<unknown>> = Awaited<ReturnType<Operation>> | Error;

/**
 * Instance and cluster actions that AWS accepts, with empty listings: for tests of what surrounds
 * the actions (permissions, retries). moto could perform these actions, but only on instances and
 * clusters it knows: the permission matrix makes hundreds of made-up ids straight in the database,
 * which moto would answer with "not found", so an allowed case would fail for a reason that has
 * nothing to do with permissions.
 */
export const ACTIONS_ACCEPTED = {
	ec2: {
		startInstances: () => Promise.resolve(),
		stopInstances: () => Promise.resolve(),
		rebootInstances: () => Promise.resolve(),
		terminateInstances: () => Promise.resolve(),
		modifyInstanceType: () => Promise.resolve(),
		createTags: () => Promise.resolve(),
		describeInstances: () => Promise.resolve([]),
		describeVolumes: () => Promise.resolve([]),
		deleteVolume: () => Promise.resolve(),
	},
	cloudFormation: { deleteStack: () => Promise.resolve() },
	emr: { terminateJobFlows: () => Promise.resolve(), addTags: () => Promise.resolve() },
} satisfies AwsOverrides;

/** The stack id {@link stack} answers with. */
export const STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1";

/** Stack "s" (STACK_ID) in `status`, without outputs unless `extra` gives them. */
export function stack(status: string, extra: Partial<Stack> = {}): Stack {
	return { stackId: STACK_ID, name: "s", status, outputs: {}, ...extra };
}

/** Cluster j-ABCDEF in `state`, created 2025-03-01T12:00:00Z. */
export function emrCluster(state: string, extra: Partial<EmrCluster> = {}): EmrCluster {
	return { id: "j-ABCDEF", name: "s", state, tags: {}, createdAt: new Date("2025-03-01T12:00:00Z"), ...extra };
}
