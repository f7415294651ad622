/**
 * Start, stop, restart and terminate. Permission and state are checked on the server; an action
 * in flight blocks a second one (double clicks, two tabs, two processes); every attempt and its
 * outcome is audited. Terminate deletes the stack and returns without waiting for it.
 */
import type { Viewer } from "./auth/identify.ts";
import { recordAudit } from "./db/audit.ts";
import { claimAction, getInstance, type Instance, updateInstance } from "./db/instances.ts";
import { groupIdsOf } from "./db/users.ts";
import type { Deps } from "./deps.ts";
import { unpublishDns } from "./dns.ts";
import { AwsError, UserError } from "./errors.ts";
import { canControl, canTerminate } from "./auth/permissions.ts";
import { ACTION_STALE_MS } from "./machines/lifecycle.ts";
import { openInstanceBill, refreshInstances } from "./sync.ts";
import { stopBilling } from "./billing.ts";

/** The seed's four actions, plus removing an ended instance from the lists (the original's archive). */
const ACTIONS = ["start", "stop", "restart", "terminate", "archive"] as const;
export type Action = (typeof ACTIONS)[number];

/** The states each action makes sense in, and the state shown while it runs. */
const RULES: Record<Action, { from: string[]; shows: string; refusal: (state: string) => string }> = {
	start: { from: ["stopped"], shows: "pending", refusal: (s) => `Cannot start: the instance is ${s}, not stopped` },
	stop: {
		from: ["running", "pending"],
		shows: "stopping",
		refusal: (s) => `Cannot stop: the instance is ${s}, not running`,
	},
	restart: { from: ["running"], shows: "running", refusal: (s) => `Cannot restart: the instance is ${s}, not running` },
	terminate: {
		from: ["pending", "running", "stopping", "stopped"],
		shows: "shutting-down",
		refusal: (s) => `Cannot terminate: the instance is already ${s}`,
	},
	archive: {
		from: ["terminated", "vanished"],
		shows: "",
		refusal: (s) => `Cannot remove the record: the instance is ${s}; terminate it first`,
	},
};

/** Actions only the owner or an admin may take. */
const OWNER_ACTIONS: readonly Action[] = ["terminate", "archive"];

export function isAction(value: string): value is Action {
	return (ACTIONS as readonly string[]).includes(value);
}

/**
 * Which actions the viewer may take on the instance now (for showing buttons). `mayControl` is
 * {@link canControl} for the instance; lists pass true because their rows are already scoped to it.
 */
export function availableActions(viewer: Viewer, instance: Instance, mayControl: boolean): Action[] {
	if (instance.archived || !mayControl) return [];
	return ACTIONS.filter((action) => {
		if (OWNER_ACTIONS.includes(action) && !canTerminate(viewer, instance.ownerId)) return false;
		if (instance.controlsLocked && !OWNER_ACTIONS.includes(action)) return false;
		return RULES[action].from.includes(instance.state);
	});
}

/** Performs an action for the viewer; throws {@link UserError} (403, 404, 409, 503) when refused or failed. */
export async function controlInstance(
	deps: Deps,
	viewer: Viewer,
	instanceId: string,
	action: Action,
): Promise<Instance> {
	const now = deps.clock();
	const instance = await getInstance(deps.db, instanceId);
	if (!instance || instance.archived) throw new UserError(404, `No instance ${instanceId} is known to the portal`);
	const audit = await authorizeAction(deps, viewer, { kind: "instance", id: instanceId, ownerId: instance.ownerId }, {
		name: action,
		ownerOnly: OWNER_ACTIONS.includes(action),
		verb: action === "archive" ? "remove" : "terminate",
	});
	if (instance.controlsLocked && !OWNER_ACTIONS.includes(action)) {
		await audit("refused", "controls locked");
		throw new UserError(409, "This instance's controls are locked (its image expired); it can only be terminated.");
	}
	const rule = RULES[action];
	if (!rule.from.includes(instance.state)) {
		await audit("refused", rule.refusal(instance.state));
		throw new UserError(409, rule.refusal(instance.state));
	}
	// Terminate may overrule a start, stop or restart still in flight; nothing overrules a terminate.
	const supersedes = action === "terminate" ? ["start", "stop", "restart"] : [];
	const staleBefore = new Date(now.getTime() - ACTION_STALE_MS);
	const claimed = await claimAction(deps.db, {
		id: instanceId,
		action,
		states: rule.from,
		now,
		staleBefore,
		supersedes,
	});
	if (!claimed) {
		const current = await getInstance(deps.db, instanceId);
		const message = current?.pendingAction
			? `A ${current.pendingAction} is already in progress for this instance`
			: rule.refusal(current?.state ?? "gone");
		await audit("refused", message);
		throw new UserError(409, message);
	}

	try {
		switch (action) {
			case "start":
				await deps.aws.ec2.startInstances([instanceId]);
				break;
			case "stop":
				await deps.aws.ec2.stopInstances([instanceId]);
				break;
			case "restart":
				await deps.aws.ec2.rebootInstances([instanceId]);
				break;
			case "terminate":
				if (instance.stackId) await deps.aws.cloudFormation.deleteStack(instance.stackId);
				else await deps.aws.ec2.terminateInstances([instanceId]);
				break;
			case "archive":
				break; // nothing left in AWS: the record is only hidden; its bills stay in reports
		}
	} catch (error) {
		await updateInstance(deps.db, instanceId, { pendingAction: null, pendingSince: null });
		const message = error instanceof AwsError ? explainAwsError(error) : "The action failed unexpectedly";
		await audit("error", error instanceof Error ? error.message : String(error));
		deps.log.web.warn("{action} {instanceId} by {user} failed: {message}", {
			action,
			instanceId,
			user: viewer.username,
			message: (error as Error).message,
		});
		throw new UserError(error instanceof AwsError && error.transient ? 503 : 409, message, { cause: error });
	}

	const changes: Partial<Instance> = action === "archive"
		? { archived: true, pendingAction: null, pendingSince: null }
		: { state: rule.shows };
	if (action === "start") {
		changes.startedAt = now;
		await openInstanceBill(deps, { ...instance, ...changes } as Instance, now);
	} else if (action === "stop" || action === "terminate") {
		changes.stoppedAt = now;
		await stopBilling(deps.db, instanceId, now);
	} else if (action === "restart") {
		changes.startedAt = now;
		changes.stoppedAt = now;
	}
	if (action === "terminate") {
		changes.progressPercent = null;
		if (instance.dnsIp && await unpublishDns(deps, instanceId, instance.dnsIp)) changes.dnsIp = null;
	}
	const updated = (await updateInstance(deps.db, instanceId, changes))!;
	await audit(
		"ok",
		action === "terminate" && instance.stackId ? `deleting stack ${instance.stackName ?? instance.stackId}` : "",
	);
	deps.log.web.info("{action} {instanceId} by {user}", { action, instanceId, user: viewer.username });
	// Follow the change in the background so the page shows the real state soon.
	if (action !== "archive") {
		deps.background.run(`refresh ${instanceId}`, async () => {
			await new Promise((resolve) => setTimeout(resolve, 2000));
			await refreshInstances(deps, [instanceId]);
		});
	}
	return updated;
}

/** Records how an attempted action ended. */
export type ActionAudit = (outcome: "ok" | "refused" | "error", detail: string) => Promise<void>;

/**
 * The checks every action on an instance or cluster starts with: the viewer may control the
 * resource (owner, teammate, manager or admin) and, for an owner-only action, is its owner or an
 * admin. A refusal is audited and thrown as a 403; otherwise returns the action's audit.
 */
export async function authorizeAction(
	deps: Pick<Deps, "db" | "clock">,
	viewer: Viewer,
	resource: { kind: "instance" | "cluster"; id: string; ownerId: number },
	action: { name: string; ownerOnly: boolean; verb: string },
): Promise<ActionAudit> {
	const audit: ActionAudit = (outcome, detail) =>
		recordAudit(deps.db, {
			at: deps.clock(),
			actorId: viewer.id,
			actor: viewer.username,
			action: action.name,
			resourceKind: resource.kind,
			resourceId: resource.id,
			outcome,
			detail,
		});
	if (!canControl(viewer, resource.ownerId, await groupIdsOf(deps.db, resource.ownerId))) {
		await audit("refused", "not the owner, a teammate, a manager or an admin");
		throw new UserError(403, `This ${resource.kind} belongs to someone outside your groups.`);
	}
	if (action.ownerOnly && !canTerminate(viewer, resource.ownerId)) {
		await audit("refused", `${action.name} is for the owner or an admin`);
		throw new UserError(403, `Only the owner or an admin may ${action.verb} this ${resource.kind}.`);
	}
	return audit;
}

/** A message for the user about an AWS failure, without internals. */
export function explainAwsError(error: AwsError): string {
	switch (error.kind) {
		case "throttled":
			return "AWS is throttling requests right now; try again in a minute.";
		case "unavailable":
		case "timeout":
			return "AWS did not answer; try again in a minute.";
		case "denied":
			return "AWS refused the portal's credentials for this action; tell an admin.";
		case "not_found":
			return "AWS no longer knows this resource; the next sync will update its state.";
		default:
			return `AWS refused the action: ${error.message.replace(/^\w+: /, "").slice(0, 300)}`;
	}
}
