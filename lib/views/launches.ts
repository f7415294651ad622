/**
 * A launch's page: the steps it has been through (request, stack, the machines it made, ready),
 * its failure reason, and what it made with their pages, for every kind. Only the launcher, a
 * manager or an admin may follow a launch; anyone else is told there is none (404), so ids are not
 * probed.
 */
import type { Viewer } from "../auth/identify.ts";
import { mayFollowLaunch } from "../auth/permissions.ts";
import { getConfig } from "../db/catalog.ts";
import { getLaunch, type Launch } from "../db/launches.ts";
import type { ConfigKind, LaunchStatus as Status } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { machineKind } from "../machines/kinds.ts";

/** How far a step has come. */
export type StepState = "done" | "now" | "failed" | "";

/** The status fragment, polled while the launch is on its way. */
export interface LaunchStatusProps {
	id: string;
	status: Status;
	steps: { text: string; state: StepState }[];
	/** The launcher's current step. */
	step: string;
	/** Why it failed, when it did. */
	reason: string | null;
	kind: ConfigKind;
	/** The configuration's name; null when it is gone. */
	configName: string | null;
	/** The first machine it made, with its page. */
	made: { id: string; href: string } | null;
	/** Whether the instance keeps reporting its setup progress on the dashboard after the stack is done. */
	reportsProgress: boolean;
	/** The fragment URL polled while the launch is on its way; null once it is done or failed. */
	poll: string | null;
}

/** The launch page. */
export interface LaunchPageProps {
	/** What is being launched: the configuration's name, or "a cluster" when it is gone. */
	title: string;
	createdAt: Date;
	timeZone: string;
	status: LaunchStatusProps;
}

/** How the launch page speaks of what each kind of launch makes. */
const KIND_WORDS = {
	instance: {
		article: "an instance",
		made: "Instance",
		waiting: "Waiting for the stack (and the bootstrap script) to finish",
		ready: "Stack complete: ready",
	},
	cluster: {
		article: "a cluster",
		made: "Cluster",
		waiting: "Waiting for EMR to report the cluster ready",
		ready: "Cluster ready",
	},
} as const;

/** The launch of `id`, when the viewer may follow it (404 otherwise). */
async function followedLaunch(deps: Pick<Deps, "db">, viewer: Viewer, id: string): Promise<Launch> {
	const launch = await getLaunch(deps.db, id);
	if (!launch || !mayFollowLaunch(viewer, launch)) throw new UserError(404, "No such launch");
	return launch;
}

async function statusOf(deps: Deps, launch: Launch, configName: string | undefined, progressBar: boolean) {
	const machines = await machineKind(launch.kind).rows.ofLaunch(deps, launch.id);
	const noun = launch.kind;
	const words = KIND_WORDS[noun];
	const failed = launch.status === "failed";
	const submitted = !!launch.stackId || launch.status === "complete";
	const created = machines.length > 0;
	const complete = launch.status === "complete";
	const live = launch.status === "queued" || launch.status === "creating";
	const state = (done: boolean, active: boolean): StepState =>
		done ? "done" : failed && active ? "failed" : active ? "now" : "";
	const first = machines[0];
	const status: LaunchStatusProps = {
		id: launch.id,
		status: launch.status,
		steps: [
			{ text: "Request recorded", state: "done" },
			{
				text: submitted
					? `Stack ${launch.stackName} submitted to CloudFormation`
					: "Submitting the stack to CloudFormation",
				state: state(submitted, !submitted),
			},
			{
				text: created
					? `${words.made} ${machines.map((m) => `${m.id} (${m.state})`).join(", ")} created`
					: `Creating the ${noun}`,
				state: state(created, submitted && !created),
			},
			{ text: complete ? words.ready : words.waiting, state: state(complete, created && !complete) },
		],
		step: launch.step,
		reason: failed ? launch.reason : null,
		kind: noun,
		configName: configName ?? null,
		made: first ? { id: first.id, href: `/${noun}s/${first.id}` } : null,
		reportsProgress: complete && noun === "instance" && !!first && progressBar,
		poll: live ? `/launches/${launch.id}/status` : null,
	};
	return status;
}

/** The status fragment of a launch the viewer may follow. */
export async function launchStatusView(deps: Deps, viewer: Viewer, id: string): Promise<LaunchStatusProps> {
	const launch = await followedLaunch(deps, viewer, id);
	const config = await getConfig(deps.db, launch.configId);
	return await statusOf(deps, launch, config?.name, config?.hasProgressBar ?? false);
}

/** The page of a launch the viewer may follow. */
export async function launchPageView(deps: Deps, viewer: Viewer, id: string): Promise<LaunchPageProps> {
	const launch = await followedLaunch(deps, viewer, id);
	const config = await getConfig(deps.db, launch.configId);
	return {
		title: config?.name ?? KIND_WORDS[launch.kind].article,
		createdAt: launch.createdAt,
		timeZone: deps.settings.TIME_ZONE,
		status: await statusOf(deps, launch, config?.name, config?.hasProgressBar ?? false),
	};
}
