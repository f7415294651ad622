/**
 * The notices of the policies' actions, before (with the lead time and an extend link) and after
 * (what was done and why, or that it failed): on the recipients' pages (the banner's data), by
 * email to the owner (and, for a termination, the group's managers) as their channels say, and to
 * the group's webhook. Each is sent once: by the process that recorded the action's notice or
 * outcome. A delivery that fails is logged; the banner still shows the notice.
 */
import type { Viewer } from "../auth/identify.ts";
import { scopeGroupIds } from "../auth/permissions.ts";
import { getGroup } from "../db/catalog.ts";
import { insertUserNotices, userNoticesFor } from "../db/approvals.ts";
import { channelsOf, noticeRecipients, noticesFor, type PolicyAction, setChannels } from "../db/policies.ts";
import type { NOTICE_TOPICS } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { formatMinute } from "../format.ts";
import { emailConfigured, sendEmail } from "../notify/email.ts";
import { postWebhook } from "../notify/webhook.ts";
import { publicUrl } from "../settings.ts";
import { extendPath, extendToken, extendUrl } from "./links.ts";

/** Ended actions stay in the banner this long (what was done and why). */
export const DONE_NOTICE_MS = 24 * 3_600_000;

/** `2025-03-01 12:30 UTC`: a notice's times, in the portal's time zone. */
export function noticeTime(at: Date, timeZone: string): string {
	return formatMinute(at, timeZone, true);
}

const DONE: Record<string, string> = { stop: "stopped", start: "started", terminate: "terminated" };

/** Whether an action's notice offers an extend link: a budget's stops are not postponed, an exception is asked for instead. */
function postponable(action: PolicyAction): boolean {
	return action.action !== "start" && action.reason !== "budget";
}

/** Who hears of an action besides its owner: the group's managers, of a termination and of a budget's stops. */
function tellsManagers(action: PolicyAction): boolean {
	return action.action === "terminate" || action.reason === "budget";
}

/** Which notice of an action: before it, after it, or after an attempt failed. */
export type NoticePhase = "warning" | "done" | "failed";

function phaseOf(action: PolicyAction): NoticePhase {
	return action.status === "done" ? "done" : action.status === "failed" ? "failed" : "warning";
}

/** What a notice says, in the owner's words. */
export function noticeMessage(action: PolicyAction, timeZone: string, machineName = ""): string {
	const what = `${action.kind === "cluster" ? "Cluster" : "Instance"} ${action.machineId}${
		machineName ? ` (${machineName})` : ""
	}`;
	const verb = DONE[action.action] ?? action.action;
	const by = action.reason === "budget" ? "for its budget" : `by its ${action.reason} policy`;
	switch (phaseOf(action)) {
		case "done":
			return `${what} was ${verb} at ${noticeTime(action.endedAt ?? action.actAt, timeZone)} ${by}: ${action.detail}.`;
		case "failed":
			return `${what} could not be ${verb} ${by} (${action.lastError ?? "the action failed"}); the portal tries again.`;
		default:
			return `${what} will be ${verb} at ${noticeTime(action.actAt, timeZone)} ${by}: ${action.detail}.`;
	}
}

/** A notice as a page shows it (the banner). */
export interface NoticeView {
	id: number;
	/** instance or cluster (a policy's action), budget or approval (a notice to the viewer). */
	kind: string;
	machineId: string;
	reason: string;
	action: string;
	phase: NoticePhase;
	/** When the action is (or was) taken. */
	at: Date;
	message: string;
	/** The viewer's extend page, while the action can still be postponed. */
	extendPath?: string;
	/** Where a budget's or a request's notice leads (the request, the budgets). */
	href?: string;
}

/**
 * The notices the viewer's pages show: actions coming on their machines (for a manager also the
 * terminations in their groups), and those done in the last day, then the last day's notices of
 * budgets and requests; none when their banner channel is off.
 */
export async function activeNotices(deps: Pick<Deps, "db" | "clock" | "settings" | "secret">, viewer: Viewer) {
	const channels = (await channelsOf(deps.db, [viewer.id])).get(viewer.id)!;
	if (!channels.banner) return [];
	const now = deps.clock();
	// A global manager hears of the terminations in the groups they belong to, a scoped one of those in the groups they manage.
	const actions = await noticesFor(deps.db, {
		id: viewer.id,
		manager: viewer.role === "manager" || viewer.managedGroupIds.length > 0,
		groupIds: viewer.role === "manager" ? scopeGroupIds(viewer) : viewer.managedGroupIds,
	}, new Date(now.getTime() - DONE_NOTICE_MS));
	const views: NoticeView[] = [];
	for (const action of actions) {
		const phase = phaseOf(action);
		const open = action.status === "noticed" && postponable(action) && action.actAt > now;
		views.push({
			id: action.id,
			kind: action.kind,
			machineId: action.machineId,
			reason: action.reason,
			action: action.action,
			phase,
			at: phase === "done" ? action.endedAt ?? action.actAt : action.actAt,
			message: noticeMessage(action, deps.settings.TIME_ZONE),
			extendPath: open
				? extendPath(
					await extendToken(deps.secret, { actionId: action.id, userId: viewer.id, expiresAt: action.actAt }),
				)
				: undefined,
		});
	}
	for (const notice of await userNoticesFor(deps.db, viewer.id, new Date(now.getTime() - DONE_NOTICE_MS))) {
		views.push({
			id: notice.id,
			kind: notice.topic,
			machineId: "",
			reason: notice.topic,
			action: "notify",
			phase: "done",
			at: notice.at,
			message: notice.message,
			href: notice.href || undefined,
		});
	}
	return views;
}

/** Sends an action's notice of `phase` by email and webhook, in the background. */
export function deliverNotice(
	deps: Deps,
	action: PolicyAction,
	machine: { name: string },
): void {
	const phase = phaseOf(action);
	deps.background.run(`notice ${action.id} ${phase}`, () => deliver(deps, action, phase, machine.name));
}

async function deliver(deps: Deps, action: PolicyAction, phase: NoticePhase, machineName: string): Promise<void> {
	const { settings } = deps;
	const message = noticeMessage(action, settings.TIME_ZONE, machineName);
	const offersLink = phase === "warning" && postponable(action);
	const linkFor = async (userId: number) =>
		extendUrl(settings, await extendToken(deps.secret, { actionId: action.id, userId, expiresAt: action.actAt }));
	const page = `${publicUrl(settings)}/${action.kind === "cluster" ? "clusters" : "instances"}/${action.machineId}`;
	const verb = DONE[action.action] ?? action.action;
	const subject = phase === "done"
		? `MLiy: ${action.machineId} was ${verb}`
		: phase === "failed"
		? `MLiy: ${action.machineId} could not be ${verb}`
		: `MLiy: ${action.machineId} will be ${verb} at ${noticeTime(action.actAt, settings.TIME_ZONE)}`;
	const failures: string[] = [];
	const sends: Promise<void>[] = [];
	if (emailConfigured(settings)) {
		const recipients = await noticeRecipients(deps.db, action, tellsManagers(action));
		const channels = await channelsOf(deps.db, recipients.map((r) => r.id));
		for (const recipient of recipients) {
			if (!recipient.email || !channels.get(recipient.id)?.email) continue;
			sends.push(
				(async () => {
					const link = offersLink ? `\n\nTo postpone it, open ${await linkFor(recipient.id)}` : "";
					await sendEmail(settings, {
						to: recipient.email,
						subject,
						text: `${message}${link}\n\nThe ${action.kind}: ${page}\n`,
					});
				})().catch((error) => void failures.push(`email to ${recipient.username}: ${(error as Error).message}`)),
			);
		}
	}
	const group = action.groupId === null ? undefined : await getGroup(deps.db, action.groupId);
	if (group?.noticeWebhook) {
		sends.push(
			(async () => {
				const link = offersLink ? ` Postpone: ${await linkFor(action.ownerId)}` : "";
				await postWebhook(group.noticeWebhook, `${message}${link}`);
			})().catch((error) => void failures.push(`webhook of ${group.name}: ${(error as Error).message}`)),
		);
	}
	await Promise.all(sends);
	for (const failure of failures) {
		deps.log.web.warn("notice {id} ({phase}) not delivered: {failure}", { id: action.id, phase, failure });
	}
}

/** A notice to users about a budget or a request, told once per recipient and event. */
export interface UserNotice {
	topic: (typeof NOTICE_TOPICS)[number];
	/** Names the event: a recipient who already has a notice of this key is not told again. */
	key: string;
	subject: string;
	message: string;
	/** A path of the portal the notice leads to. */
	href: string;
	recipients: readonly { id: number; username: string; email: string }[];
	/** The group whose webhook is told too (once, when any recipient was new to it). */
	webhookGroupId?: number | null;
}

/**
 * Records a notice for its recipients (the banner's) and tells those it was new to by email, as
 * their channels say, and the group's webhook, in the background; returns how many were new to it.
 */
export async function notifyUsers(deps: Deps, notice: UserNotice): Promise<number> {
	const told = new Set(
		await insertUserNotices(deps.db, {
			topic: notice.topic,
			key: notice.key,
			message: notice.message,
			href: notice.href,
			at: deps.clock(),
		}, notice.recipients.map((r) => r.id)),
	);
	if (told.size === 0) return 0;
	const recipients = notice.recipients.filter((r) => told.has(r.id));
	deps.background.run(`notice ${notice.key}`, () => deliverUserNotice(deps, notice, recipients));
	return told.size;
}

async function deliverUserNotice(
	deps: Deps,
	notice: UserNotice,
	recipients: readonly { id: number; username: string; email: string }[],
): Promise<void> {
	const { settings } = deps;
	const link = `${publicUrl(settings)}${notice.href}`;
	const failures: string[] = [];
	const sends: Promise<void>[] = [];
	if (emailConfigured(settings)) {
		const channels = await channelsOf(deps.db, recipients.map((r) => r.id));
		for (const recipient of recipients) {
			if (!recipient.email || !channels.get(recipient.id)?.email) continue;
			sends.push(
				sendEmail(settings, { to: recipient.email, subject: notice.subject, text: `${notice.message}\n\n${link}\n` })
					.catch((error) => void failures.push(`email to ${recipient.username}: ${(error as Error).message}`)),
			);
		}
	}
	const group = notice.webhookGroupId ? await getGroup(deps.db, notice.webhookGroupId) : undefined;
	if (group?.noticeWebhook) {
		sends.push(
			postWebhook(group.noticeWebhook, `${notice.message} ${link}`)
				.catch((error) => void failures.push(`webhook of ${group.name}: ${(error as Error).message}`)),
		);
	}
	await Promise.all(sends);
	for (const failure of failures) {
		deps.log.web.warn("notice {key} not delivered: {failure}", { key: notice.key, failure });
	}
}

/** A user's notice channels: on their pages (the banner) and by email. */
export async function noticeChannels(
	deps: Pick<Deps, "db">,
	userId: number,
): Promise<{ banner: boolean; email: boolean }> {
	return (await channelsOf(deps.db, [userId])).get(userId)!;
}

/** Sets the viewer's channels from a form (checkboxes: "on" or absent). */
export async function setNoticeChannels(
	deps: Pick<Deps, "db" | "clock">,
	viewer: Viewer,
	raw: Record<string, unknown>,
): Promise<{ banner: boolean; email: boolean }> {
	const flag = (name: string) => {
		const value = raw[name];
		if (value === undefined || value === "" || value === false) return false;
		if (value === "on" || value === true || value === "true" || value === "1") return true;
		throw new UserError(422, "Please correct the marked fields.", { fields: { [name]: "On or off" } });
	};
	const channels = { banner: flag("banner"), email: flag("email") };
	await setChannels(deps.db, viewer.id, channels, deps.clock());
	return channels;
}
