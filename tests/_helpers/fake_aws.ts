/**
 * A scriptable AWS for what moto cannot produce (failed and slow stacks, throttling, outages), and
 * for tests whose resources exist only in the database ({@link ACTIONS_ACCEPTED}): every operation
 * refuses unless the test provides it, and every call is recorded.
 */
import type { Aws } from "../../lib/aws/types.ts";
import { refusingAws } from "./deps.ts";

type Overrides = { [K in keyof Aws]?: Aws[K] extends (...args: never[]) => unknown ? Aws[K] : Partial<Aws[K]> };

export interface FakeAws extends Aws {
	calls: string[];
	/** The calls that change something in AWS (not describe/list reads). */
	changes(): string[];
}

export function fakeAws(overrides: Overrides = {}): FakeAws {
	const base = refusingAws();
	const calls: string[] = [];
	const wrap = <T extends object>(service: string, api: T, patch: Partial<T> | undefined): T => {
		const merged = { ...api, ...patch } as Record<string, unknown>;
		for (const [name, fn] of Object.entries(merged)) {
			if (typeof fn !== "function") continue;
			merged[name] = (...args: unknown[]) => {
				calls.push(`${service}.${name}`);
				return (fn as (...a: unknown[]) => unknown)(...args);
			};
		}
		return merged as T;
	};
	return {
		calls,
		changes: () => calls.filter((c) => !/\.(describe|list|find|latest|placement)/.test(c)),
		cloudFormation: wrap("cloudFormation", base.cloudFormation, overrides.cloudFormation),
		ec2: wrap("ec2", base.ec2, overrides.ec2),
		route53: wrap("route53", base.route53, overrides.route53),
		emr: wrap("emr", base.emr, overrides.emr),
		placement: overrides.placement ?? base.placement,
	};
}

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
		describeInstances: () => Promise.resolve([]),
		describeVolumes: () => Promise.resolve([]),
	},
	cloudFormation: { deleteStack: () => Promise.resolve() },
	emr: { terminateJobFlows: () => Promise.resolve() },
} satisfies Overrides;
