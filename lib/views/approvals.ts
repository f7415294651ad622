/**
 * The approvals page's data: the requests the viewer sees (their own; for managers and admins,
 * those they decide), filtered by status, kind, group and requester, each with what it asks, why,
 * its decision and grant, and what the viewer may do with it; one request in full; and for admins
 * the rules that make launches need an approval.
 */
import type { Viewer } from "../auth/identify.ts";
import { managedGroups, mayDecide, maySetApprovalRules } from "../auth/permissions.ts";
import { requestSummary, visibleRequest } from "../approvals/requests.ts";
import {
	type ApprovalFilters,
	type ApprovalRow,
	approvalRows,
	listApprovalRules,
	visibleApprovals,
} from "../db/approvals.ts";
import { listBudgets } from "../db/budgets.ts";
import { listConfigs, listGroups, listInstanceTypes } from "../db/catalog.ts";
import { APPROVAL_KINDS, APPROVAL_STATUSES } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { budgetStatuses } from "../budgets/status.ts";
import type { Choice } from "./lists.ts";

export type { ApprovalFilters };

/** A request as the page lists it. */
export interface ApprovalRowProps {
	id: number;
	href: string;
	kind: string;
	status: string;
	requester: string;
	group: string | null;
	/** "launch Analyst (r4.4xlarge) in science", "$500.00 more for the group science's budget". */
	summary: string;
	reasons: string[];
	note: string;
	/** Until when it was asked for, and when it was asked. */
	until: Date;
	createdAt: Date;
	decider: string | null;
	decidedAt: Date | null;
	comment: string;
	grantUntil: Date | null;
	/** The launch an approved request recorded. */
	launchHref: string | null;
	/** Why an approved launch could not be recorded. */
	outcome: string | null;
	mayDecide: boolean;
	mayCancel: boolean;
	/** The day the decision form's time box defaults to (the one asked), and the amount (a budget increase). */
	untilDay: string;
	amount: number | null;
}

/** The rules that make a launch need an approval. */
export interface ApprovalRulesProps {
	rows: { id: number; subject: string; text: string; note: string }[];
	types: Choice[];
	configs: Choice[];
}

/** The approvals page (GET /approvals and GET /approvals/:id). */
export interface ApprovalsPageProps {
	filters: ApprovalFilters & { mine?: boolean };
	statuses: Choice[];
	kinds: Choice[];
	groups: Choice[];
	rows: ApprovalRowProps[];
	/** The one request shown in full (GET /approvals/:id). */
	focus?: number;
	/** For admins. */
	rules?: ApprovalRulesProps;
	timeZone: string;
	today: string;
}

function dayBefore(at: Date, timeZone: string): string {
	return Temporal.Instant.fromEpochMilliseconds(at.getTime() - 1).toZonedDateTimeISO(timeZone).toPlainDate().toString();
}

async function rowsOf(deps: Deps, viewer: Viewer, rows: ApprovalRow[]): Promise<ApprovalRowProps[]> {
	const [configs, budgets] = await Promise.all([listConfigs(deps.db), listBudgets(deps.db)]);
	const configNames = new Map(configs.map((c) => [c.id, c.name]));
	const statuses = await budgetStatuses(deps, budgets.filter((b) => rows.some((r) => r.budgetId === b.id)));
	const budgetLabels = new Map(statuses.map((s) => [s.budget.id, s.label]));
	const tz = deps.settings.TIME_ZONE;
	return rows.map((r) => ({
		id: r.id,
		href: `/approvals/${r.id}`,
		kind: r.kind,
		status: r.status,
		requester: r.requesterName,
		group: r.groupName,
		summary: requestSummary(r, {
			group: r.groupName ?? undefined,
			config: r.launch ? configNames.get(r.launch.configId) : undefined,
			budget: r.budgetId === null ? undefined : budgetLabels.get(r.budgetId),
		}),
		reasons: r.reasons,
		note: r.note,
		until: r.until,
		createdAt: r.createdAt,
		decider: r.deciderName,
		decidedAt: r.decidedAt,
		comment: r.comment,
		grantUntil: r.grantUntil,
		launchHref: r.launchId ? `/launches/${r.launchId}` : null,
		outcome: r.outcome,
		mayDecide: r.status === "pending" && mayDecide(viewer, r),
		mayCancel: r.status === "pending" && r.requesterId === viewer.id,
		untilDay: dayBefore(r.until, tz),
		amount: r.amount,
	}));
}

async function rulesOf(deps: Deps): Promise<ApprovalRulesProps> {
	const [rules, types, configs] = await Promise.all([
		listApprovalRules(deps.db),
		listInstanceTypes(deps.db),
		listConfigs(deps.db),
	]);
	const configNames = new Map(configs.map((c) => [c.id, c.name]));
	return {
		rows: rules.map((rule) => ({
			id: rule.id,
			subject: rule.subject,
			text: rule.subject === "instance_type"
				? `Instance type ${rule.instanceType}`
				: rule.subject === "config"
				? `Configuration ${configNames.get(rule.configId!) ?? rule.configId}`
				: `Extra volumes of ${rule.minVolumeGb} GiB and more`,
			note: rule.note,
		})),
		types: types.map((t) => ({ value: t.name, label: t.name })),
		configs: configs.map((c) => ({ value: c.id, label: c.name })),
	};
}

/** The approvals page for the filters (`mine`: the viewer's own requests only). */
export async function approvalsView(
	deps: Deps,
	viewer: Viewer,
	filters: ApprovalFilters & { mine?: boolean },
	focus?: number,
): Promise<ApprovalsPageProps> {
	const decides = managedGroups(viewer);
	const visible = visibleApprovals(viewer, decides);
	const query = { ...filters, requesterId: filters.mine ? viewer.id : filters.requesterId };
	const [rows, groups] = await Promise.all([approvalRows(deps.db, visible, query), listGroups(deps.db)]);
	const tz = deps.settings.TIME_ZONE;
	return {
		filters,
		statuses: APPROVAL_STATUSES.map((s) => ({ value: s, label: s })),
		kinds: APPROVAL_KINDS.map((k) => ({ value: k, label: k === "launch" ? "launches" : "budget increases" })),
		groups:
			(decides.all ? groups : groups.filter((g) => viewer.groupIds.includes(g.id) || decides.groupIds.includes(g.id)))
				.map((g) => ({ value: g.id, label: g.name })),
		rows: await rowsOf(deps, viewer, rows),
		focus,
		rules: maySetApprovalRules(viewer) ? await rulesOf(deps) : undefined,
		timeZone: tz,
		today: Temporal.Instant.fromEpochMilliseconds(deps.clock().getTime()).toZonedDateTimeISO(tz).toPlainDate()
			.toString(),
	};
}

/** One request in full, for a viewer who may see it (a 404 otherwise). */
export async function approvalView(deps: Deps, viewer: Viewer, id: number): Promise<ApprovalsPageProps> {
	await visibleRequest(deps, viewer, id);
	const page = await approvalsView(deps, viewer, { id }, id);
	if (page.rows.length !== 1) throw new UserError(404, "No such request");
	return { ...page, filters: {} };
}
