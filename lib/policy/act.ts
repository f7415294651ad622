/**
 * Taking one planned action (a policy's or a budget's) once its notice has run: claim it (exactly
 * once across processes), then the same control path as a user, acting as the policy or budget
 * that planned it. A refusal for what the machine is now (stopped by hand, another action in
 * flight) cancels it, to be planned again from the machine's new state; any other failure is
 * reported and retried later, sooner at first.
 */
import { controlMachine } from "../control/control.ts";
import { claimPolicyAction, type PolicyAction, type PolicyMachine, updatePolicyAction } from "../db/policies.ts";
import type { Deps } from "../deps.ts";
import { AwsError, UserError } from "../errors.ts";
import { deliverNotice } from "./notices.ts";

/** How long a process holds an action it is taking before another may assume it crashed. */
const ACT_CLAIM_MS = 10 * 60_000;

/** How a planned action ended; "skipped" when another process had claimed it. */
export type ActOutcome = "done" | "failed" | "cancelled" | "skipped";

/**
 * Takes the action at `now`; `hourlyRate` is what the machine cost while it ran (for what the
 * action saves), when known.
 */
export async function takePlannedAction(
	deps: Deps,
	machine: PolicyMachine,
	action: PolicyAction,
	now: Date,
	hourlyRate: number | null | undefined,
): Promise<ActOutcome> {
	if (!await claimPolicyAction(deps.db, action.id, now, new Date(now.getTime() + ACT_CLAIM_MS))) return "skipped";
	const what = { reason: action.reason, action: action.action, id: machine.id };
	try {
		await controlMachine(deps, { policy: action.reason, why: `${action.reason}: ${action.detail}` }, {
			kind: machine.kind,
			id: machine.id,
			action: action.action,
		});
	} catch (error) {
		if (error instanceof UserError && error.status === 409 && !(error.cause instanceof AwsError)) {
			await updatePolicyAction(deps.db, action.id, { status: "cancelled", endedAt: now, lastError: error.message });
			deps.log.web.info("{reason} {action} of {id} not taken: {message}", { ...what, message: error.message });
			return "cancelled";
		}
		const attempts = action.attempts + 1;
		const lastError = error instanceof UserError ? error.message : "the portal hit an unexpected error";
		const nextAttemptAt = new Date(now.getTime() + Math.min(attempts, 15) * 60_000);
		await updatePolicyAction(deps.db, action.id, { status: "failed", lastError, nextAttemptAt });
		deps.log.web.error("{reason} {action} of {id} failed (attempt {attempts}): {message}", {
			...what,
			attempts,
			message: (error as Error).message,
		});
		if (attempts === 1) {
			deliverNotice(deps, { ...action, status: "failed", attempts, lastError, nextAttemptAt }, machine);
		}
		return "failed";
	}
	const done = { status: "done" as const, endedAt: now, hourlyRate: hourlyRate ?? null };
	await updatePolicyAction(deps.db, action.id, { ...done, nextAttemptAt: null });
	deps.log.web.info("{reason} {action} of {id} done", what);
	deliverNotice(deps, { ...action, ...done }, machine);
	return "done";
}
