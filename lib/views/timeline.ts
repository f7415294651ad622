/**
 * An instance's boot timeline: the launch's own steps (recorded, submitted, launched), then every
 * stage its bootstrap reported, each with when it began and how long it took, a stage slower than
 * the configuration's usual (the median of that stage over its recent launches) flagged with the
 * median; and a launch's stored CloudFormation events with the failure diagnosis of a failed one.
 * Everything comes from the database: the launcher stores the events, the progress endpoint the
 * reports.
 */
import type { Viewer } from "../auth/identify.ts";
import { mayFollowLaunch } from "../auth/permissions.ts";
import { getConfig } from "../db/catalog.ts";
import { getLaunch, type Launch } from "../db/launches.ts";
import type { SetupState } from "../db/schema.ts";
import { type ProgressReport, progressReportsOf, recentReportsOfConfig, stackEventsOf } from "../db/timeline.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { type FailureDiagnosis, firstFailure } from "../launch/stacks.ts";

/** How many of the configuration's recent launches a stage's usual duration is taken over. */
export const USUAL_OVER_LAUNCHES = 20;
/** How many samples of a stage a usual duration needs: fewer say nothing. */
export const USUAL_MIN_SAMPLES = 3;
/** A stage is slow when it took more than this many times its usual duration. */
export const SLOW_FACTOR = 1.5;

/** One stage of the timeline. */
export interface TimelineStage {
	label: string;
	/** Whether the bootstrap reported it (the others are the launch's own steps). */
	reported: boolean;
	percent: number | null;
	at: Date;
	/** Until the next stage began; for the stage still going, so far; null for the last, which ends the setup. */
	durationMs: number | null;
	/** Whether the stage is still going. */
	current: boolean;
	/** The median of the stage over the configuration's recent launches; null with too few samples. */
	usualMs: number | null;
	slow: boolean;
}

/** The boot timeline on the machine's page. */
export interface BootTimelineProps {
	stages: TimelineStage[];
	/** From the first step to the setup's end (or now, while it goes on); null with fewer than two stages. */
	totalMs: number | null;
	/** The page of the stack's CloudFormation events, for a viewer who may follow the launch. */
	eventsHref: string | null;
	usualOver: number;
	slowFactor: number;
	timeZone: string;
}

/** A launch's stored CloudFormation events, and what failed first when it failed. */
export interface StackEventsProps {
	launchId: string;
	launchHref: string;
	title: string;
	stackName: string;
	status: Launch["status"];
	/** The launch's failure reason (as the launcher recorded it). */
	reason: string | null;
	diagnosis: FailureDiagnosis | null;
	/** Newest first; null when the launcher has not stored them (yet: it does when the launch ends). */
	events: { at: Date; logicalId: string; type: string; status: string; reason: string | null }[] | null;
	storedAt: Date | null;
	timeZone: string;
}

/** Consecutive reports of one stage are one stage, begun at its first report. */
function stagesOf(reports: readonly ProgressReport[]): ProgressReport[] {
	return reports.filter((r, i) => i === 0 || reports[i - 1]!.stage !== r.stage);
}

/** The duration of each reported stage that ended (until the next), by stage. */
function durationsOf(reports: readonly ProgressReport[]): Map<string, number> {
	const stages = stagesOf(reports);
	const durations = new Map<string, number>();
	stages.forEach((stage, i) => {
		const next = stages[i + 1];
		if (next && !durations.has(stage.stage)) durations.set(stage.stage, next.at.getTime() - stage.at.getTime());
	});
	return durations;
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The usual duration of each stage over the samples' instances, when it has enough samples. */
export function usualDurations(samples: readonly ProgressReport[]): Map<string, number> {
	const byInstance = Map.groupBy(samples, (r) => r.instanceId);
	const byStage = new Map<string, number[]>();
	for (const reports of byInstance.values()) {
		for (const [stage, ms] of durationsOf(reports)) byStage.set(stage, [...byStage.get(stage) ?? [], ms]);
	}
	const usual = new Map<string, number>();
	for (const [stage, values] of byStage) if (values.length >= USUAL_MIN_SAMPLES) usual.set(stage, median(values));
	return usual;
}

/** What the timeline needs of an instance. */
export interface TimelineInstance {
	id: string;
	configId: number | null;
	launchedAt: Date | null;
	setupState: SetupState | null;
	state: string;
	/** Whether its configuration's bootstrap reports progress (without, nothing is "still going" after the launch). */
	hasProgressBar: boolean;
}

/**
 * The boot timeline of an instance (its launch, when the viewer may follow it, gives the first
 * steps and the events' link); null when there is nothing to show.
 */
export async function bootTimelineView(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	viewer: Viewer,
	instance: TimelineInstance,
	launch: Launch | undefined,
): Promise<BootTimelineProps | null> {
	const [reports, samples] = await Promise.all([
		progressReportsOf(deps.db, instance.id),
		instance.configId === null ? [] : recentReportsOfConfig(deps.db, {
			configId: instance.configId,
			except: instance.id,
			instances: USUAL_OVER_LAUNCHES,
		}),
	]);
	const usual = usualDurations(samples);
	const steps: { label: string; at: Date; reported: boolean; percent: number | null }[] = [];
	if (launch) {
		steps.push({ label: "Launch requested", at: launch.createdAt, reported: false, percent: null });
		if (launch.submittedAt) {
			steps.push({
				label: "Stack submitted to CloudFormation",
				at: launch.submittedAt,
				reported: false,
				percent: null,
			});
		}
	}
	if (instance.launchedAt) {
		steps.push({ label: "Instance launched", at: instance.launchedAt, reported: false, percent: null });
	}
	for (const r of stagesOf(reports)) steps.push({ label: r.stage, at: r.at, reported: true, percent: r.percent });
	// An instance the portal did not launch and that never reported has no timeline to show.
	if (!launch && reports.length === 0) return null;
	steps.sort((a, b) => a.at.getTime() - b.at.getTime());
	const now = deps.clock();
	// The last stage is still going while the setup reports, or, with a progress bar, before its first report.
	const going = ["pending", "running"].includes(instance.state) &&
		(instance.setupState === "running" || (instance.setupState === null && instance.hasProgressBar));
	const stages = steps.map((step, i): TimelineStage => {
		const next = steps[i + 1];
		const current = !next && going;
		const durationMs = next
			? next.at.getTime() - step.at.getTime()
			: current
			? now.getTime() - step.at.getTime()
			: null;
		const usualMs = step.reported ? usual.get(step.label) ?? null : null;
		return {
			...step,
			durationMs,
			current,
			usualMs,
			slow: durationMs !== null && usualMs !== null && durationMs > usualMs * SLOW_FACTOR,
		};
	});
	const last = stages.at(-1)!;
	const end = last.current ? now : last.at;
	return {
		stages,
		totalMs: stages.length > 1 ? end.getTime() - stages[0]!.at.getTime() : null,
		eventsHref: launch && mayFollowLaunch(viewer, launch) ? `/launches/${launch.id}/events` : null,
		usualOver: USUAL_OVER_LAUNCHES,
		slowFactor: SLOW_FACTOR,
		timeZone: deps.settings.TIME_ZONE,
	};
}

/** The stored CloudFormation events of a launch the viewer may follow (404 otherwise), with its diagnosis. */
export async function stackEventsView(deps: Deps, viewer: Viewer, id: string): Promise<StackEventsProps> {
	const launch = await getLaunch(deps.db, id);
	if (!launch || !mayFollowLaunch(viewer, launch)) throw new UserError(404, "No such launch");
	const [stored, config] = await Promise.all([stackEventsOf(deps.db, launch.id), getConfig(deps.db, launch.configId)]);
	const events = stored?.events.map((e) => ({ ...e, at: new Date(e.at) })) ?? null;
	return {
		launchId: launch.id,
		launchHref: `/launches/${launch.id}`,
		title: config?.name ?? `a ${launch.kind}`,
		stackName: launch.stackName,
		status: launch.status,
		reason: launch.status === "failed" ? launch.reason : null,
		diagnosis: launch.status === "failed" && events ? firstFailure(events) ?? null : null,
		events,
		storedAt: stored?.storedAt ?? null,
		timeZone: deps.settings.TIME_ZONE,
	};
}
