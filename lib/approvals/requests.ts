/**
 * Requests for an exception, from asking to the grant's end: a requester asks (a launch the portal
 * refused, or a budget increase), the group's managers are told, one of them approves or denies it
 * with a comment; an approved launch is recorded on its own for the requester, a budget increase
 * raises the budget; the grant holds until its time box ends, then the request is expired. The
 * requester is told of each decision, and every step is audited (resource kind `approval`).
 */
import type { Viewer } from "../auth/identify.ts";
import { viewerOf } from "../auth/identify.ts";
import { mayDecide, maySeeRequest, maySetBudget } from "../auth/permissions.ts";
import {
	type Approval,
	getApproval,
	insertApproval,
	lapsedGrants,
	moveApproval,
	updateApproval,
} from "../db/approvals.ts";
import { recordAudit } from "../db/audit.ts";
import { adminUsers, getBudget, managersOf, recipientsByIds } from "../db/budgets.ts";
import { getConfig, getGroup, groupsOf } from "../db/catalog.ts";
import { getUser, groupIdsOf } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { formatMoney } from "../format.ts";
import { launchApprovalNeeds, type LaunchIds, requestLaunch } from "../launch/request.ts";
import { noticeTime, notifyUsers } from "../policy/notices.ts";
import { budgetStatuses } from "../budgets/status.ts";

/** The longest time box a request may ask for or a grant may give. */
export const MAX_GRANT_DAYS = 366;

/** The page of a request. */
export function approvalHref(id: number): string {
	return `/approvals/${id}`;
}

/** The launch form's fields kept with a request (what the wizard would post again), bounded. */
export function launchFields(raw: Record<string, unknown>): Record<string, string | string[]> {
	const kept: Record<string, string | string[]> = {};
	for (const [key, value] of Object.entries(raw)) {
		if (key === "_csrf" || key === "intent" || !/^[A-Za-z][A-Za-z0-9]{0,40}$/.test(key)) continue;
		if (typeof value === "string") kept[key] = value.slice(0, 300);
		else if (Array.isArray(value)) {
			kept[key] = value.filter((v): v is string => typeof v === "string").slice(0, 20).map((v) => v.slice(0, 300));
		}
	}
	return kept;
}

/**
 * The end of a time box given as a date (`2025-03-31`, in TIME_ZONE): the end of that day. A 422
 * on `field` when it is not a date, is past, or lies beyond {@link MAX_GRANT_DAYS}.
 */
export function timeBoxEnd(value: unknown, field: string, now: Date, timeZone: string): Date {
	const refuse = (message: string): never => {
		throw new UserError(422, "Please correct the marked fields.", { fields: { [field]: message } });
	};
	if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return refuse("A date, like 2025-03-31");
	let day: Temporal.PlainDate;
	try {
		day = Temporal.PlainDate.from(value, { overflow: "reject" });
	} catch {
		return refuse(`${value} is not a date`);
	}
	const end = new Date(day.add({ days: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds);
	if (end.getTime() <= now.getTime()) return refuse("A day from today on");
	if (end.getTime() - now.getTime() > MAX_GRANT_DAYS * 86_400_000) {
		return refuse(`At most ${MAX_GRANT_DAYS} days ahead`);
	}
	return end;
}

function dollars(value: unknown, field: string): number {
	const amount = typeof value === "string" ? Number(value.trim()) : NaN;
	if (!Number.isFinite(amount) || amount <= 0 || amount > 10_000_000) {
		throw new UserError(422, "Please correct the marked fields.", {
			fields: { [field]: "An amount in dollars above 0, like 500" },
		});
	}
	return Math.round(amount * 100) / 100;
}

function text(value: unknown, max: number): string {
	return typeof value === "string" ? value.trim().slice(0, max) : "";
}

async function audit(
	deps: Pick<Deps, "db" | "clock">,
	actor: Viewer | "system",
	approval: Approval,
	action: string,
	detail: string,
	outcome: "ok" | "refused" | "error" = "ok",
) {
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: actor === "system" ? null : actor.id,
		actor: actor === "system" ? "system" : actor.username,
		action,
		resourceKind: "approval",
		resourceId: String(approval.id),
		outcome,
		detail,
	});
}

/** Who decides a request: the managers of its group, else (none, or no group) the admins. */
async function deciders(deps: Pick<Deps, "db" | "settings">, approval: Approval) {
	const managers = approval.groupId === null ? [] : await managersOf(deps.db, [approval.groupId]);
	const chosen = managers.length ? managers : await adminUsers(deps.db, deps.settings.ADMIN_USERNAMES);
	return chosen.filter((u) => u.id !== approval.requesterId);
}

/** What a request asks for, in a line: "launch Analyst (r4.4xlarge) in science", "$500 more for …". */
export function requestSummary(approval: Approval, names: { group?: string; config?: string; budget?: string }) {
	if (approval.kind === "budget") {
		return `$${formatMoney(approval.grantAmount ?? approval.amount ?? 0)} more for ${names.budget ?? "a budget"}`;
	}
	const type = approval.launch?.form.instanceType;
	return `launch ${names.config ?? "a configuration"}${typeof type === "string" ? ` (${type})` : ""} in ${
		names.group ?? "a group"
	}`;
}

async function namesOf(deps: Pick<Deps, "db" | "clock" | "settings">, approval: Approval) {
	const group = approval.groupId === null ? undefined : await getGroup(deps.db, approval.groupId);
	const configId = approval.launch?.configId;
	const config = configId === undefined ? undefined : await getConfig(deps.db, configId);
	const budget = approval.budgetId === null ? undefined : await getBudget(deps.db, approval.budgetId);
	const status = budget ? (await budgetStatuses(deps, [budget]))[0] : undefined;
	return { group: group?.name, config: config?.name, budget: status?.label };
}

async function tellDeciders(deps: Deps, approval: Approval, requester: Viewer) {
	const summary = requestSummary(approval, await namesOf(deps, approval));
	const message = `${requester.name} asks for an exception: ${summary}. ${approval.reasons.join(" ")}${
		approval.note ? ` "${approval.note}"` : ""
	}`;
	await notifyUsers(deps, {
		topic: "approval",
		key: `approval:${approval.id}:asked`,
		subject: `MLiy: ${requester.username} asks to ${summary}`,
		message,
		href: approvalHref(approval.id),
		recipients: await deciders(deps, approval),
		webhookGroupId: approval.groupId,
	});
}

async function tellRequester(deps: Deps, approval: Approval, event: string, message: string) {
	const [requester] = await recipientsByIds(deps.db, [approval.requesterId]);
	if (!requester) return;
	const summary = requestSummary(approval, await namesOf(deps, approval));
	await notifyUsers(deps, {
		topic: "approval",
		key: `approval:${approval.id}:${event}`,
		subject: `MLiy: your request to ${summary}: ${event}`,
		message: `Your request to ${summary} ${message}`,
		href: approvalHref(approval.id),
		recipients: [requester],
	});
}

/**
 * Records a request for a launch the portal refuses for approval reasons only: the launch's other
 * checks run first (a 403, 404 or 422 as the launch would get), and a launch that needs no
 * approval is a 409 (launch it instead).
 */
export async function requestLaunchApproval(
	deps: Deps,
	viewer: Viewer,
	ids: LaunchIds,
	form: Record<string, unknown>,
	raw: { until?: unknown; note?: unknown },
): Promise<Approval> {
	const now = deps.clock();
	const fields = launchFields(form);
	const until = timeBoxEnd(raw.until, "until", now, deps.settings.TIME_ZONE);
	const { group, config, needs } = await launchApprovalNeeds(deps, viewer, ids, fields);
	if (needs.length === 0) throw new UserError(409, "This launch needs no approval: launch it from the wizard.");
	const approval = await insertApproval(deps.db, {
		kind: "launch",
		requesterId: viewer.id,
		groupId: group.id,
		budgetId: needs.find((n) => n.budgetId !== undefined)?.budgetId ?? null,
		reasons: needs.map((n) => n.text),
		needs: [...new Set(needs.map((n) => n.code))],
		launch: { groupId: group.id, configId: config.id, form: fields },
		until,
		note: text(raw.note, 500),
		createdAt: now,
		updatedAt: now,
	});
	await audit(
		deps,
		viewer,
		approval,
		"request",
		`launch of ${config.name} in ${group.name}: ${needs.length} reason(s)`,
	);
	deps.log.web.info("approval {id} asked by {user}: launch of {config} in {group}", {
		id: approval.id,
		user: viewer.username,
		config: config.name,
		group: group.name,
	});
	await tellDeciders(deps, approval, viewer);
	return approval;
}

/**
 * Records a request to raise a budget by an amount until a day: asked by someone the budget
 * covers (its user, a member of its group or of a group of its cost center) or who may set it.
 */
export async function requestBudgetIncrease(
	deps: Deps,
	viewer: Viewer,
	raw: Record<string, unknown>,
): Promise<Approval> {
	const now = deps.clock();
	const budgetId = Number(raw.budgetId);
	const budget = Number.isInteger(budgetId) && budgetId > 0 ? await getBudget(deps.db, budgetId) : undefined;
	if (!budget) throw new UserError(404, "No such budget");
	const groups = await groupsOf(deps.db, viewer.id);
	const covered = budget.scope === "user"
		? budget.userId === viewer.id
		: budget.scope === "group"
		? viewer.groupIds.includes(budget.groupId!)
		: groups.some((g) => (g.costCenter || deps.settings.DEFAULT_CHARGE_CODE) === budget.costCenter);
	const userGroupIds = budget.userId === null ? [] : await groupIdsOf(deps.db, budget.userId);
	if (!covered && !maySetBudget(viewer, { scope: budget.scope, userGroupIds })) {
		throw new UserError(403, "You may ask to raise only a budget that covers your launches.");
	}
	const fields: Record<string, string> = {};
	let amount = 0;
	let until = now;
	try {
		amount = dollars(raw.amount, "amount");
	} catch (error) {
		Object.assign(fields, (error as UserError).fields);
	}
	try {
		until = timeBoxEnd(raw.until, "until", now, deps.settings.TIME_ZONE);
	} catch (error) {
		Object.assign(fields, (error as UserError).fields);
	}
	if (Object.keys(fields).length) throw new UserError(422, "Please correct the marked fields.", { fields });
	const [status] = await budgetStatuses(deps, [budget]);
	// A user's or a cost center's budget goes to the managers of the requester's first group.
	const groupId = budget.groupId ?? (budget.scope === "user" ? userGroupIds[0] : groups[0]?.id) ?? null;
	const approval = await insertApproval(deps.db, {
		kind: "budget",
		requesterId: viewer.id,
		groupId,
		budgetId: budget.id,
		reasons: [
			`${status!.label}: ${status!.level === "ok" ? "" : "used up, "}$${formatMoney(status!.spent)} of $${
				formatMoney(status!.limit)
			} spent in ${status!.month.name}.`,
		],
		needs: ["budget"],
		amount,
		until,
		note: text(raw.note, 500),
		createdAt: now,
		updatedAt: now,
	});
	await audit(deps, viewer, approval, "request", `$${formatMoney(amount)} more for budget ${budget.target}`);
	await tellDeciders(deps, approval, viewer);
	return approval;
}

/** The request `id` if the viewer may see it (a 404 otherwise: its existence is not told). */
export async function visibleRequest(deps: Pick<Deps, "db">, viewer: Viewer, id: number): Promise<Approval> {
	const approval = await getApproval(deps.db, id);
	if (!approval || !maySeeRequest(viewer, approval)) throw new UserError(404, "No such request");
	return approval;
}

async function decidable(deps: Pick<Deps, "db">, viewer: Viewer, id: number): Promise<Approval> {
	const approval = await visibleRequest(deps, viewer, id);
	if (!mayDecide(viewer, approval)) {
		throw new UserError(
			403,
			viewer.id === approval.requesterId
				? "You cannot decide your own request: someone else must approve it."
				: "Only the group's managers or an admin decide this request.",
		);
	}
	if (approval.status !== "pending") throw new UserError(409, `This request was ${approval.status} already.`);
	return approval;
}

/**
 * Approves a pending request with a comment and its grant (until the day given, by default the one
 * asked; for a budget increase, the dollars, by default those asked). An approved launch is then
 * recorded for the requester, who is told either way.
 */
export async function approveRequest(
	deps: Deps,
	viewer: Viewer,
	id: number,
	raw: Record<string, unknown>,
): Promise<Approval> {
	const pending = await decidable(deps, viewer, id);
	const now = deps.clock();
	const tz = deps.settings.TIME_ZONE;
	const askedDay = Temporal.Instant.fromEpochMilliseconds(pending.until.getTime() - 1).toZonedDateTimeISO(tz)
		.toPlainDate().toString();
	const grantUntil = timeBoxEnd(text(raw.until, 10) || askedDay, "until", now, tz);
	const grantAmount = pending.kind === "budget"
		? (text(raw.amount, 20) ? dollars(raw.amount, "amount") : pending.amount)
		: null;
	const comment = text(raw.comment, 500);
	const approved = await moveApproval(deps.db, id, ["pending"], {
		status: "approved",
		decidedBy: viewer.id,
		decidedAt: now,
		comment,
		grantUntil,
		grantAmount,
		updatedAt: now,
	});
	if (!approved) throw new UserError(409, "This request was decided meanwhile.");
	const until = noticeTime(grantUntil, tz);
	await audit(deps, viewer, approved, "approve", `until ${grantUntil.toISOString()}${comment ? `: ${comment}` : ""}`);
	deps.log.web.info("approval {id} approved by {user} until {until}", { id, user: viewer.username, until });
	if (approved.kind === "launch") return await launchApproved(deps, approved, comment, until);
	await tellRequester(
		deps,
		approved,
		"approved",
		`was approved by ${viewer.name}: $${formatMoney(grantAmount ?? 0)} more until ${until}.${
			comment ? ` "${comment}"` : ""
		}`,
	);
	return approved;
}

/** Records the launch of an approved request for its requester, as they asked it; tells them how it went. */
async function launchApproved(deps: Deps, approval: Approval, comment: string, until: string): Promise<Approval> {
	const said = comment ? ` "${comment}"` : "";
	const user = await getUser(deps.db, approval.requesterId);
	const form = approval.launch!;
	try {
		if (!user) throw new UserError(404, "the requester is no longer known to the portal");
		const requester = await viewerOf(deps.db, user, deps.settings.ADMIN_USERNAMES);
		const launch = await requestLaunch(
			deps,
			requester,
			{ groupId: form.groupId, configId: form.configId },
			form.form,
			approval,
		);
		await updateApproval(deps.db, approval.id, { launchId: launch.id, updatedAt: deps.clock() });
		await audit(deps, "system", approval, "launch", `launch ${launch.id} recorded for ${user.username}`);
		await tellRequester(deps, approval, "approved", `was approved until ${until}: the launch is on its way.${said}`);
		return { ...approval, launchId: launch.id };
	} catch (error) {
		if (!(error instanceof UserError)) throw error;
		await updateApproval(deps.db, approval.id, { outcome: error.message, updatedAt: deps.clock() });
		await audit(deps, "system", approval, "launch", error.message, "refused");
		await tellRequester(
			deps,
			approval,
			"approved",
			`was approved, but the launch could not be recorded: ${error.message}${said}`,
		);
		return { ...approval, outcome: error.message };
	}
}

/** Denies a pending request with a comment (required: the requester is told why). */
export async function denyRequest(
	deps: Deps,
	viewer: Viewer,
	id: number,
	raw: Record<string, unknown>,
): Promise<Approval> {
	await decidable(deps, viewer, id);
	const comment = text(raw.comment, 500);
	if (!comment) {
		throw new UserError(422, "Please correct the marked fields.", {
			fields: { comment: "Say why, for the requester" },
		});
	}
	const now = deps.clock();
	const denied = await moveApproval(deps.db, id, ["pending"], {
		status: "denied",
		decidedBy: viewer.id,
		decidedAt: now,
		comment,
		updatedAt: now,
	});
	if (!denied) throw new UserError(409, "This request was decided meanwhile.");
	await audit(deps, viewer, denied, "deny", comment);
	await tellRequester(deps, denied, "denied", `was denied by ${viewer.name}: "${comment}"`);
	return denied;
}

/** Withdraws the viewer's own pending request. */
export async function cancelRequest(deps: Deps, viewer: Viewer, id: number): Promise<Approval> {
	const approval = await visibleRequest(deps, viewer, id);
	if (approval.requesterId !== viewer.id) throw new UserError(403, "Only its requester withdraws a request.");
	const cancelled = await moveApproval(deps.db, id, ["pending"], { status: "cancelled", updatedAt: deps.clock() });
	if (!cancelled) throw new UserError(409, `This request was ${approval.status} already.`);
	await audit(deps, viewer, cancelled, "cancel", "withdrawn by the requester");
	return cancelled;
}

/** Ends the grants whose time box is over (each once, whichever process sees it), telling their requesters. */
export async function expireGrants(deps: Deps): Promise<number> {
	const now = deps.clock();
	let expired = 0;
	for (const grant of await lapsedGrants(deps.db, now)) {
		const moved = await moveApproval(deps.db, grant.id, ["approved"], { status: "expired", updatedAt: now });
		if (!moved) continue;
		expired += 1;
		await audit(deps, "system", moved, "expire", `the grant ended at ${moved.grantUntil!.toISOString()}`);
		deps.log.web.info("approval {id}: grant expired", { id: grant.id });
		await tellRequester(
			deps,
			moved,
			"expired",
			`was granted until ${noticeTime(moved.grantUntil!, deps.settings.TIME_ZONE)}; that grant has ended.`,
		);
	}
	return expired;
}
