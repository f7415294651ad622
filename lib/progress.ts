/**
 * The bootstrap progress callback: `ajax/progress/<instanceid>/<progress>(<num>)`. The caller is an
 * instance, not a user: it is accepted with the launch's progress token (in the
 * X-MLiy-Progress-Token header only: a query string ends up in proxies' logs), or from the
 * instance's own recorded IP (a forwarded address only from a trusted proxy). An unknown instance
 * is answered exactly as a forbidden one, so the endpoint tells nobody which ids exist. A report
 * is refused (409) once the setup can no longer report: after done, after a failure, on an ended
 * or archived instance, and PROGRESS_TIMEOUT_MINUTES after the last report. Nothing is written on
 * any error. A failure stage ends the setup as failed: audited, logged to mliylaunch.log, and the
 * console output's tail fetched in the background.
 *
 * The instance is checked as the report queue caches it (lib/report_queue.ts), and a report of a
 * setup still running is answered at once and written with the others of its window. The end of a
 * setup (done, or a failure stage) is written at once, after what is queued before it: it is
 * audited and logged as it happens, and a database that cannot take it answers as before.
 */
import { recordAudit } from "./db/audit.ts";
import { type ProgressTarget, setProgress } from "./db/instances.ts";
import { insertProgressReport } from "./db/timeline.ts";
import type { SetupState } from "./db/schema.ts";
import type { Deps } from "./deps.ts";
import { UserError } from "./errors.ts";
import { INSTANCE_ID } from "./machines/ids.ts";
import { INSTANCE_ENDED_STATES } from "./machines/lifecycle.ts";
import { callerAddress, sameAddress } from "./net.ts";
import { fetchConsoleTail } from "./sync/console.ts";
import { instanceTokenMatches } from "./tokens.ts";

const PROGRESS = /^(\w{1,64})\((\d{1,3})\)$/;

/** Stages that mean the setup failed, whatever the configuration declares (the sample script's trap sends `failed`). */
export const FAILURE_STAGES: readonly string[] = ["failed", "error"];

/** What every refused caller reads, whether the instance is unknown or the report is not from it. */
const NOT_FROM_INSTANCE = "This progress report is not from the instance (wrong token or address)";

/** Parses `installing_base_packages(40)`; throws a 400 when malformed or out of 0..100. */
function parseProgress(spec: string): { stage: string; text: string; percent: number } {
	const match = PROGRESS.exec(spec);
	if (!match) {
		throw new UserError(
			400,
			"Progress must look like stage_name(40): letters, digits or _ (at most 64), then a number in parentheses",
		);
	}
	const percent = Number(match[2]);
	if (percent > 100) throw new UserError(400, `Progress ${percent} is outside 0..100`);
	return { stage: match[1]!, text: match[1]!.replace(/_/g, " "), percent };
}

/** The stages a configuration declares as failures (comma- or space-separated), with the built-in ones. */
export function failureStagesOf(declared: string | null | undefined): Set<string> {
	const stages = (declared ?? "").split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter(Boolean);
	return new Set([...FAILURE_STAGES, ...stages]);
}

/** A progress call as the route received it. */
export interface ProgressCall {
	instanceId: string;
	spec: string;
	/** The X-MLiy-Progress-Token header, or null when none was sent. */
	token: string | null;
	peer: string;
	forwardedFor: string | null;
}

/** Whether the call comes from the instance: its launch's token, or (without a token) its own address. */
async function fromInstance(
	deps: Pick<Deps, "settings">,
	instance: ProgressTarget | undefined,
	call: ProgressCall,
): Promise<boolean> {
	if (call.token) {
		if (call.token.length > 256) return false;
		// Hashed even for an unknown instance, so the answer takes as long either way.
		return await instanceTokenMatches(call.instanceId, call.token, instance?.tokenHash);
	}
	if (!instance) return false;
	const from = callerAddress(call.peer, call.forwardedFor, deps.settings.TRUSTED_PROXIES);
	return sameAddress(instance.privateIp, from) || sameAddress(instance.publicIp, from);
}

/** Why the setup can no longer report (a 409), or undefined while it may. */
function closedReason(deps: Pick<Deps, "settings">, instance: ProgressTarget, now: Date): string | undefined {
	if (instance.archived || INSTANCE_ENDED_STATES.includes(instance.state)) {
		return `The instance is ${instance.archived ? "removed" : instance.state}; its setup can no longer report.`;
	}
	if (instance.setupState === "done") return "The setup already reported done(100); the progress bar has ended.";
	if (instance.setupState === "failed") {
		return `The setup already failed at "${
			instance.progressText ?? "a failure stage"
		}"; terminate the instance or launch again.`;
	}
	const timeout = deps.settings.PROGRESS_TIMEOUT_MINUTES;
	const last = instance.progressUpdatedAt ?? instance.launchedAt ?? instance.createdAt;
	if (instance.setupState === "stalled" || now.getTime() - last.getTime() > timeout * 60_000) {
		return `No progress was reported for ${timeout} minutes, so the progress bar has ended.`;
	}
	return undefined;
}

/** Records a progress report; returns the stage text. */
export async function recordProgress(deps: Deps, call: ProgressCall): Promise<string> {
	const { stage, text, percent } = parseProgress(call.spec);
	const instance = INSTANCE_ID.test(call.instanceId) ? await deps.reports.progressTarget(call.instanceId) : undefined;
	if (!await fromInstance(deps, instance, call) || !instance) {
		deps.log.web.warn("refused progress call for {instanceId} from {peer}", {
			instanceId: call.instanceId.slice(0, 40),
			peer: call.peer,
			withToken: !!call.token,
		});
		throw new UserError(403, NOT_FROM_INSTANCE);
	}
	const now = deps.clock();
	const closed = closedReason(deps, instance, now);
	if (closed) throw new UserError(409, closed);
	const failed = failureStagesOf(instance.failureStages).has(stage.toLowerCase());
	const setupState: SetupState = failed ? "failed" : percent >= 100 ? "done" : "running";
	const stageChanged = text !== instance.progressText;
	const write = {
		instanceId: call.instanceId,
		configId: instance.configId,
		text,
		percent,
		at: now,
		setupState,
		endedAt: setupState === "running" ? null : now,
	};
	if (setupState === "running") {
		deps.reports.progress(write);
	} else {
		// Refuses the reports that race this one at once, as the written end would.
		deps.reports.settled(call.instanceId, write);
		try {
			await deps.reports.flush();
			const written = await setProgress(deps.db, call.instanceId, write);
			if (!written) throw new UserError(409, "The setup can no longer report: the instance or its setup has ended.");
			// The whole history, for the boot timeline: the instance row keeps only the latest.
			await insertProgressReport(deps.db, {
				instanceId: call.instanceId,
				configId: instance.configId,
				stage: text,
				percent,
				at: now,
			});
		} catch (error) {
			deps.reports.forget(call.instanceId);
			throw error;
		}
	}
	if (stageChanged) {
		deps.log.launch.info("instance {instanceId}: setup at {stage} ({percent}%)", {
			instanceId: call.instanceId,
			stage: text,
			percent,
		});
	}
	if (setupState !== "running") await setupEnded(deps, call.instanceId, instance, { failed, text, percent, now });
	return text;
}

/** The end of a setup: in the instance's activity and mliylaunch.log; a failure fetches the console's tail. */
async function setupEnded(
	deps: Deps,
	instanceId: string,
	instance: ProgressTarget,
	end: { failed: boolean; text: string; percent: number; now: Date },
): Promise<void> {
	await recordAudit(deps.db, {
		at: end.now,
		actorId: null,
		actor: "instance",
		action: end.failed ? "setup failed" : "setup done",
		resourceKind: "instance",
		resourceId: instanceId,
		outcome: end.failed ? "error" : "ok",
		detail: end.failed ? `the bootstrap reported "${end.text}" at ${end.percent}%` : "the bootstrap reported done",
	});
	if (!end.failed) return;
	deps.log.launch.warn("instance {instanceId}: setup failed at {stage} ({percent}%)", {
		instanceId,
		stage: end.text,
		percent: end.percent,
		ownerId: instance.ownerId,
	});
	deps.background.run(`console ${instanceId}`, () => fetchConsoleTail(deps, instanceId));
}
