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
import { launchAgainHref } from "../launch/again.ts";
import { machineKind } from "../machines/kinds.ts";

/** How far a step has come. */
export type StepState = "done" | "now" | "failed" | "";

/**
 * What a finished launch made, in words: `ready` only when the machine is up and its setup reported
 * done (or it has no progress bar); `setup` while the setup still runs; `bad` when the setup failed
 * or the machine is no longer up.
 */
export interface LaunchOutcome {
	tone: "ready" | "setup" | "bad";
	text: string;
}

/** The status fragment, polled while the launch is on its way. */
export interface LaunchStatusProps {
	id: string;
	status: Status;
	/** What is being launched: the configuration's name, or "an instance" / "a cluster" when it is gone. */
	title: string;
	createdAt: Date;
	timeZone: string;
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
	/** What the complete launch made, as it is now; null while the launch is on its way or failed. */
	outcome: LaunchOutcome | null;
	/** The fragment URL polled while the launch is on its way; null once it is done or failed. */
	poll: string | null;
	/** The stack's CloudFormation events (stored when the launch ended); null while it is on its way. */
	eventsHref: string | null;
	/** The wizard pre-filled as this launch was made, for its launcher once it failed. */
	launchAgain: string | null;
}

/** The launch page. */
export interface LaunchPageProps {
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

/** What a complete launch's machine is now: ready, still setting up, or not what the user waits for. */
function outcomeOf(
	launch: Launch,
	name: string,
	first: { state: string; setupState?: string | null; progressText?: string | null; progressPercent?: number | null },
	progressBar: boolean,
): LaunchOutcome {
	if (launch.kind === "cluster") {
		return ["WAITING", "RUNNING"].includes(first.state)
			? { tone: "ready", text: `${name} is ready.` }
			: { tone: "bad", text: `${name} is ${first.state}.` };
	}
	if (first.state !== "running") return { tone: "bad", text: `${name} is ${first.state}, not running.` };
	if (first.setupState === "failed") {
		return {
			tone: "bad",
			text: `${name} is running, but its setup failed at "${first.progressText ?? "a failure stage"}".`,
		};
	}
	if (first.setupState === "stalled") {
		return { tone: "bad", text: `${name} is running, but its setup stopped reporting.` };
	}
	if (first.setupState === "done" || (!progressBar && first.setupState !== "running")) {
		return { tone: "ready", text: `${name} is ready.` };
	}
	const at = first.progressPercent === null || first.progressPercent === undefined
		? ""
		: ` (${first.progressPercent}%${first.progressText ? `: ${first.progressText}` : ""})`;
	return { tone: "setup", text: `${name} is running; its setup is still going${at}.` };
}

async function statusOf(
	deps: Deps,
	viewer: Viewer,
	launch: Launch,
	configName: string | undefined,
	progressBar: boolean,
) {
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
	const name = configName ?? `The ${noun}`;
	const status: LaunchStatusProps = {
		id: launch.id,
		status: launch.status,
		title: configName ?? words.article,
		createdAt: launch.createdAt,
		timeZone: deps.settings.TIME_ZONE,
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
		outcome: complete && first ? outcomeOf(launch, name, first, progressBar) : null,
		poll: live ? `/launches/${launch.id}/status` : null,
		eventsHref: live ? null : `/launches/${launch.id}/events`,
		launchAgain: failed && viewer.id === launch.userId ? launchAgainHref(launch) : null,
	};
	return status;
}

/** The status fragment of a launch the viewer may follow. */
export async function launchStatusView(deps: Deps, viewer: Viewer, id: string): Promise<LaunchStatusProps> {
	const launch = await followedLaunch(deps, viewer, id);
	const config = await getConfig(deps.db, launch.configId);
	return await statusOf(deps, viewer, launch, config?.name, config?.hasProgressBar ?? false);
}

/** The page of a launch the viewer may follow. */
export async function launchPageView(deps: Deps, viewer: Viewer, id: string): Promise<LaunchPageProps> {
	const launch = await followedLaunch(deps, viewer, id);
	const config = await getConfig(deps.db, launch.configId);
	return { status: await statusOf(deps, viewer, launch, config?.name, config?.hasProgressBar ?? false) };
}
