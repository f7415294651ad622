/**
 * The actions on an instance: the seed's start, stop, restart and terminate (which deletes the
 * stack), and removing an ended instance from the lists (the original's archive). Each says the
 * states it starts from, the AWS call, what the row and its bill become, and when it is done.
 */
import { instanceCharge } from "../billing/charges.ts";
import { closeBillFor, openBillFor } from "../billing/periods.ts";
import type { Instance } from "../db/instances.ts";
import { stackDeletionAsked } from "../machines/actions.ts";
import { reconcileDns } from "../machines/dns.ts";
import type { ActionRule, MachineControl } from "../machines/model.ts";

/** The seed's four actions, plus removing an ended instance from the lists. */
const ACTIONS = ["start", "stop", "restart", "terminate", "archive"] as const;
export type InstanceAction = (typeof ACTIONS)[number];

const RULES: Record<InstanceAction, ActionRule<Instance>> = {
	start: {
		from: ["stopped"],
		ownerOnly: false,
		verb: "start",
		refusal: (s) => `Cannot start: the instance is ${s}, not stopped`,
		perform: (deps, row) => deps.aws.ec2.startInstances([row.id]),
		async settle(deps, row, now) {
			// Billed from the start, before the sync sees the instance running.
			const started = { ...row, state: "pending", startedAt: now };
			await openBillFor(deps, { kind: "instance", ...started }, await instanceCharge(deps, started), now);
			return { changes: { state: started.state, startedAt: now }, detail: "" };
		},
		refresh: true,
		done: (state) => state === "running" || state === "terminated",
	},
	stop: {
		from: ["running", "pending"],
		ownerOnly: false,
		verb: "stop",
		refusal: (s) => `Cannot stop: the instance is ${s}, not running`,
		perform: (deps, row) => deps.aws.ec2.stopInstances([row.id]),
		async settle(deps, row, now) {
			await closeBillFor(deps, { kind: "instance", id: row.id }, now, "stop");
			return { changes: { state: "stopping", stoppedAt: now }, detail: "" };
		},
		refresh: true,
		done: (state) => state === "stopped" || state === "terminated",
	},
	restart: {
		from: ["running"],
		ownerOnly: false,
		verb: "restart",
		refusal: (s) => `Cannot restart: the instance is ${s}, not running`,
		perform: (deps, row) => deps.aws.ec2.rebootInstances([row.id]),
		settle: (_deps, _row, now) =>
			Promise.resolve({ changes: { state: "running", startedAt: now, stoppedAt: now }, detail: "" }),
		refresh: true,
		// A reboot shows no state of its own: it is taken as done half a minute after it was asked for.
		done: (state, since, now) => state !== "running" || (since !== null && now.getTime() - since.getTime() > 30_000),
	},
	terminate: {
		from: ["pending", "running", "stopping", "stopped"],
		ownerOnly: true,
		verb: "terminate",
		refusal: (s) => `Cannot terminate: the instance is already ${s}`,
		supersedes: ["start", "stop", "restart"],
		async perform(deps, row) {
			if (row.stackId) await deps.aws.cloudFormation.deleteStack(row.stackId);
			else await deps.aws.ec2.terminateInstances([row.id]);
		},
		async settle(deps, row, now) {
			await closeBillFor(deps, { kind: "instance", id: row.id }, now, "terminate");
			return {
				changes: {
					state: "shutting-down",
					stoppedAt: now,
					progressPercent: null,
					...await reconcileDns(deps, row, { alive: false }),
				},
				detail: row.stackId ? `deleting stack ${row.stackName ?? row.stackId}` : "",
			};
		},
		refresh: true,
		done: (state) => state === "terminated" || state === "vanished",
		async confirm(deps, row) {
			if (row.stackId) return await stackDeletionAsked(deps, row.stackId);
			try {
				const [seen] = await deps.aws.ec2.describeInstances({ filters: { "instance-id": [row.id] } });
				return !seen || ["shutting-down", "terminated"].includes(seen.state);
			} catch {
				return undefined;
			}
		},
	},
	archive: {
		from: ["terminated", "vanished"],
		ownerOnly: true,
		verb: "remove",
		refusal: (s) => `Cannot remove the record: the instance is ${s}; terminate it first`,
		// Nothing is left in AWS: the record is only hidden; its bills stay in reports.
		perform: () => Promise.resolve(),
		settle: () => Promise.resolve({ changes: { archived: true, pendingAction: null, pendingSince: null }, detail: "" }),
		refresh: false,
		done: () => true,
	},
};

/**
 * Instances: their actions, and the lock on all but terminate, with its reason: an admin's by hand
 * (the admin machine pages), or the display plugin's (e.g. when the instance's image expired or is
 * gone). An admin's lock wins: the plugin lifting its own lock leaves the admin's in place.
 */
export const instanceControl: MachineControl<Instance> = {
	actions: ACTIONS,
	ruleFor: (action) => Object.hasOwn(RULES, action) ? RULES[action as InstanceAction] : undefined,
	locked: (row) => lockOf(row)?.message,
};

/** What a refused action and the instance's page say about a lock. */
/**
 * The lock on an instance's controls, if any: an admin's by hand first (it outlasts the plugin's),
 * else the display plugin's, with the reason shown on its rows and page.
 */
export function lockOf(
	row: Pick<Instance, "manualLockReason" | "controlsLocked" | "controlsLockedReason">,
): { reason: string | null; message: string } | null {
	if (row.manualLockReason !== null) {
		const reason = `an admin locked them (${row.manualLockReason})`;
		return { reason, message: lockedMessage(reason) };
	}
	return row.controlsLocked
		? { reason: row.controlsLockedReason, message: lockedMessage(row.controlsLockedReason) }
		: null;
}

export function lockedMessage(reason: string | null): string {
	return `This instance's controls are locked${reason ? `: ${reason}` : ""}. It can only be terminated.`;
}
