/**
 * "Change my machine's policy": the owner (or an admin) picks new values within the machine's
 * policy, validated as at launch; the enforcer plans from them on its next tick (an open notice
 * whose deadline moved is cancelled and given anew).
 */
import type { Viewer } from "../auth/identify.ts";
import { recordAudit } from "../db/audit.ts";
import { setMachinePolicy } from "../db/policies.ts";
import type { ConfigKind } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { machineUnderPolicy } from "./signals.ts";
import { effectivePolicy, parseChoices, resolveChoices, type ResolvedPolicy } from "./spec.ts";

/** Sets the machine's choices from a form (`idleMinutes`, `lifetimeHours`, `autoStart`); returns what applies now. */
export async function changeMachinePolicy(
	deps: Pick<Deps, "db" | "clock">,
	viewer: Viewer,
	target: { kind: ConfigKind; id: string },
	raw: Record<string, unknown>,
): Promise<ResolvedPolicy> {
	const machine = await machineUnderPolicy(deps, viewer, target, true);
	const policy = effectivePolicy(machine.groupPolicy, machine.configPolicy);
	const choices = parseChoices(policy, raw);
	// A value left empty is the policy's own: stored as it is now, so the launch's choice no longer applies.
	const resolved = resolveChoices(policy, choices);
	const now = deps.clock();
	await setMachinePolicy(deps.db, machine, {
		idleMinutes: resolved.idleMinutes ?? null,
		lifetimeHours: resolved.lifetimeHours ?? null,
		autoStart: policy.schedule?.autoStart ? resolved.autoStart : null,
	}, now);
	await recordAudit(deps.db, {
		at: now,
		actorId: viewer.id,
		actor: viewer.username,
		action: "policy",
		resourceKind: machine.kind,
		resourceId: machine.id,
		outcome: "ok",
		detail: [
			resolved.idleMinutes !== undefined ? `idle stop after ${resolved.idleMinutes} min` : "",
			resolved.lifetimeHours !== undefined ? `lifetime ${resolved.lifetimeHours} h` : "",
			policy.schedule?.autoStart ? `start with working hours: ${resolved.autoStart ? "yes" : "no"}` : "",
		].filter(Boolean).join(", "),
	});
	return resolved;
}
