/**
 * The audit view (admins only): every event of the audit trail — what people did, what the sync,
 * the launcher and the policies did (with the policy's reason), sign-ins by break-glass password —
 * filtered by who acted, the group of the machine, the machine, the action, the outcome and a date
 * range in the portal's time zone, newest first, 50 a page by keyset; and the same events as CSV.
 *
 * Only admins see it: the trail names every user's machines and actions, and managers are not
 * scoped to groups yet. A machine's own page shows its recent events to whoever may see the
 * machine, and links its admins here for the rest.
 */
import type { Viewer } from "../auth/identify.ts";
import { auditActions, type AuditCursor, type AuditFilter, countAudit, searchAudit } from "../db/audit_search.ts";
import { listGroups } from "../db/catalog.ts";
import { AUDIT_OUTCOMES } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { csvField } from "../billing/reports.ts";
import { type Choice, listHref } from "./lists.ts";

/** Events on one page. */
export const AUDIT_PAGE_SIZE = 50;
/** The most events one CSV export holds; more asks for narrower filters. */
export const AUDIT_CSV_MAX = 100_000;

/** The audit view's query as the URL gives it, checked. */
export interface AuditQuery {
	filter: AuditFilter;
	after?: AuditCursor;
	/** The filters as typed, to fill the form and build the links (without the page cursor). */
	values: AuditValues;
}

/** The filter form's fields. */
export interface AuditValues {
	user: string;
	group: string;
	machine: string;
	action: string;
	outcome: string;
	from: string;
	to: string;
}

const FIELDS: readonly (keyof AuditValues)[] = ["user", "group", "machine", "action", "outcome", "from", "to"];
const ACTOR = /^[a-z0-9][a-z0-9._@+ -]{0,63}$/;
const RESOURCE = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,99}$/;
const ACTION = /^[a-z0-9][a-z0-9-]{0,59}$/;

function parseDay(value: string, name: string): Temporal.PlainDate {
	if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UserError(400, `The ${name} date must look like 2025-01-31.`);
	try {
		return Temporal.PlainDate.from(value, { overflow: "reject" });
	} catch {
		throw new UserError(400, `The ${name} date ${value} does not exist.`);
	}
}

/** The start of a day in the time zone, as an instant. */
function startOf(day: Temporal.PlainDate, timeZone: string): Date {
	return new Date(day.toZonedDateTime({ timeZone }).epochMilliseconds);
}

/**
 * Reads the audit view's query: every filter is optional, and one that is given must be what it
 * says (a username, a group's number, a machine id, an action, an outcome, real dates in order, a
 * page link the portal made); anything else is a 400 that says which.
 */
export function parseAuditQuery(timeZone: string, query: Record<string, string | undefined>): AuditQuery {
	const values = Object.fromEntries(FIELDS.map((name) => [name, (query[name] ?? "").trim()])) as unknown as AuditValues;
	const filter: AuditFilter = {};
	if (values.user) {
		const user = values.user.toLowerCase();
		if (!ACTOR.test(user)) {
			throw new UserError(400, "The user filter must be a username (letters, digits and . _ @ + -), at most 64 long.");
		}
		filter.actor = user;
	}
	if (values.group) {
		if (!/^[1-9]\d{0,9}$/.test(values.group)) throw new UserError(400, "The group filter must be one of the groups.");
		filter.groupId = Number(values.group);
	}
	if (values.machine) {
		if (!RESOURCE.test(values.machine)) {
			throw new UserError(
				400,
				"The machine filter must be an id like i-0123456789abcdef0 or j-ABC123, at most 100 long.",
			);
		}
		filter.resourceId = values.machine;
	}
	if (values.action) {
		if (!ACTION.test(values.action)) throw new UserError(400, "The action filter must be one of the actions listed.");
		filter.action = values.action;
	}
	if (values.outcome) {
		const outcome = AUDIT_OUTCOMES.find((o) => o === values.outcome);
		if (!outcome) throw new UserError(400, `The outcome filter must be one of ${AUDIT_OUTCOMES.join(", ")}.`);
		filter.outcome = outcome;
	}
	const from = values.from ? parseDay(values.from, "start") : undefined;
	const to = values.to ? parseDay(values.to, "end") : undefined;
	if (from && to && Temporal.PlainDate.compare(from, to) > 0) {
		throw new UserError(400, "The start date is after the end date.");
	}
	if (from) filter.from = startOf(from, timeZone);
	if (to) filter.until = startOf(to.add({ days: 1 }), timeZone);
	let after: AuditCursor | undefined;
	if (query.after) {
		const match = /^(\d{1,15})\.(\d{1,15})$/.exec(query.after);
		if (!match) throw new UserError(400, "That page link is not one the portal made; start again from the first page.");
		after = { at: new Date(Number(match[1])), id: Number(match[2]) };
	}
	return { filter, after, values };
}

/** One event as the page shows it. */
export interface AuditRow {
	id: number;
	at: Date;
	actor: string;
	action: string;
	resourceKind: string;
	resourceId: string;
	/** The resource's page, for machines and launches. */
	resourceHref: string | null;
	outcome: (typeof AUDIT_OUTCOMES)[number];
	/** Why a policy acted (idle, schedule, lifetime, dormancy); null for the rest. */
	reason: string | null;
	detail: string;
}

/** What the audit page shows. */
export interface AuditViewProps {
	rows: AuditRow[];
	values: AuditValues;
	groups: Choice[];
	actions: string[];
	outcomes: readonly string[];
	/** The next (older) page, the first page when this is a later one, and the CSV of the same filters. */
	olderHref: string | null;
	newestHref: string | null;
	csvHref: string;
	timeZone: string;
}

const PAGES: Record<string, string> = { instance: "/instances/", cluster: "/clusters/", launch: "/launches/" };

/** The address of `path` with the filters that are set (and a page cursor). */
function auditHref(path: string, values: AuditValues, extra: Record<string, string> = {}): string {
	const params: Record<string, string> = {};
	for (const name of FIELDS) params[name] = values[name];
	return listHref(path, { ...params, ...extra });
}

function adminOnly(viewer: Viewer): void {
	if (viewer.role !== "admin") throw new UserError(403, "Only admins may read the audit trail.");
}

/** The audit page for the query. */
export async function auditView(deps: Deps, viewer: Viewer, query: AuditQuery): Promise<AuditViewProps> {
	adminOnly(viewer);
	const [page, groups, actions] = await Promise.all([
		searchAudit(deps.db, query.filter, { after: query.after, limit: AUDIT_PAGE_SIZE }),
		listGroups(deps.db),
		auditActions(deps.db),
	]);
	const last = page.events.at(-1);
	return {
		rows: page.events.map((e) => ({
			id: e.id,
			at: e.at,
			actor: e.actor,
			action: e.action,
			resourceKind: e.resourceKind,
			resourceId: e.resourceId,
			resourceHref: PAGES[e.resourceKind] && e.resourceId ? `${PAGES[e.resourceKind]}${e.resourceId}` : null,
			outcome: e.outcome,
			reason: e.reason,
			detail: e.detail,
		})),
		values: query.values,
		groups: groups.map((g) => ({ value: g.id, label: g.name })),
		actions,
		outcomes: AUDIT_OUTCOMES,
		olderHref: page.more && last
			? auditHref("/admin/audit", query.values, { after: `${last.at.getTime()}.${last.id}` })
			: null,
		newestHref: query.after ? auditHref("/admin/audit", query.values) : null,
		csvHref: auditHref("/admin/audit.csv", query.values),
		timeZone: deps.settings.TIME_ZONE,
	};
}

/** The events of the query's filters (all pages) as CSV, newest first; refused past {@link AUDIT_CSV_MAX}. */
export async function auditCsv(
	deps: Deps,
	viewer: Viewer,
	query: AuditQuery,
): Promise<{ filename: string; body: string }> {
	adminOnly(viewer);
	const total = await countAudit(deps.db, query.filter);
	if (total > AUDIT_CSV_MAX) {
		throw new UserError(
			400,
			`${total} events match, more than the ${AUDIT_CSV_MAX} one export holds: narrow the filters (a shorter date range).`,
		);
	}
	const lines = [["time", "actor", "action", "resource kind", "resource id", "outcome", "reason", "detail"].join(",")];
	let after: AuditCursor | undefined;
	for (;;) {
		const page = await searchAudit(deps.db, query.filter, { after, limit: 1000 });
		for (const e of page.events) {
			lines.push(
				[e.at.toISOString(), e.actor, e.action, e.resourceKind, e.resourceId, e.outcome, e.reason ?? "", e.detail]
					.map(csvField).join(","),
			);
		}
		const last = page.events.at(-1);
		if (!page.more || !last) break;
		after = { at: last.at, id: last.id };
	}
	const day = Temporal.Instant.fromEpochMilliseconds(deps.clock().getTime()).toZonedDateTimeISO(deps.settings.TIME_ZONE)
		.toPlainDate();
	return { filename: `mliy-audit-${day}.csv`, body: lines.join("\r\n") + "\r\n" };
}
