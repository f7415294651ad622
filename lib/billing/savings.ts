/**
 * What the machine policies saved: per group and month (in TIME_ZONE), the hours machines spent
 * stopped by a policy and what those hours would have cost at the rate each machine was billed at
 * when the policy took it off billing. A stopped machine saves until it is billed again (started);
 * a terminated one until the end of the range (nothing says when it would have been stopped
 * otherwise). Machines that were not billed when the policy acted (dormancy: already stopped) save
 * nothing. Also counted: how many actions of each reason each group had, which policies acted most.
 */
import { getGroup } from "../db/catalog.ts";
import { csvField } from "./reports.ts";
import { billingStarts, policyActionsDone } from "../db/policies.ts";
import { POLICY_REASONS, type PolicyReason } from "../db/schema.ts";
import type { TeamScope } from "../db/scope.ts";
import type { Deps } from "../deps.ts";

/** One group's savings in one month. */
export interface SavingsRow {
	/** `2025-03`, in TIME_ZONE. */
	month: string;
	groupId: number | null;
	groupName: string;
	/** Hours machines of the group spent stopped by a policy in the month. */
	hours: number;
	/** Those hours at the machines' rates, USD. */
	dollars: number;
	/** The policies' stops and terminations in the month, by reason. */
	actions: Record<PolicyReason, number>;
}

/** The instant a month starts in the time zone. */
function monthStart(month: Temporal.PlainYearMonth, timeZone: string): number {
	return month.toPlainDate({ day: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds;
}

/**
 * The savings of the months `from` to `to` (inclusive, `2025-03`), capped at now, within the
 * viewer's scope, as rows by month then group name.
 */
export async function policySavings(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	query: { from: string; to: string; scope: TeamScope },
): Promise<SavingsRow[]> {
	const timeZone = deps.settings.TIME_ZONE;
	const now = deps.clock().getTime();
	const months: { name: string; start: number; end: number }[] = [];
	for (
		let month = Temporal.PlainYearMonth.from(query.from);
		Temporal.PlainYearMonth.compare(month, Temporal.PlainYearMonth.from(query.to)) <= 0;
		month = month.add({ months: 1 })
	) {
		months.push({
			name: month.toString(),
			start: monthStart(month, timeZone),
			end: Math.min(monthStart(month.add({ months: 1 }), timeZone), now),
		});
	}
	if (months.length === 0) return [];
	const rangeEnd = months.at(-1)!.end;
	const actions = await policyActionsDone(deps.db, new Date(rangeEnd), query.scope);
	const starts = await billingStarts(deps.db, actions.map((a) => a.machineId));
	const rows = new Map<string, SavingsRow>();
	const names = new Map<number, string>();
	const rowOf = async (month: string, groupId: number | null) => {
		const key = `${month}|${groupId}`;
		let row = rows.get(key);
		if (!row) {
			if (groupId !== null && !names.has(groupId)) {
				names.set(groupId, (await getGroup(deps.db, groupId))?.name ?? `group ${groupId}`);
			}
			row = {
				month,
				groupId,
				groupName: groupId === null ? "no group" : names.get(groupId)!,
				hours: 0,
				dollars: 0,
				actions: Object.fromEntries(POLICY_REASONS.map((r) => [r, 0])) as Record<PolicyReason, number>,
			};
			rows.set(key, row);
		}
		return row;
	};
	for (const action of actions) {
		// A budget's stops are the budget's to report, not the machine policies'.
		if (action.reason === "budget") continue;
		const stoppedAt = action.endedAt!.getTime();
		const resumed = action.action === "stop"
			? starts.get(action.machineId)?.find((at) => at.getTime() >= stoppedAt)?.getTime()
			: undefined;
		// A machine that was not billed when the policy acted saves nothing; the action still counts.
		const savedUntil = action.hourlyRate === null ? stoppedAt : Math.min(resumed ?? rangeEnd, rangeEnd);
		for (const month of months) {
			const hours = Math.max(0, Math.min(savedUntil, month.end) - Math.max(stoppedAt, month.start)) / 3_600_000;
			const actedThen = stoppedAt >= month.start && stoppedAt < month.end;
			if (hours === 0 && !actedThen) continue;
			const row = await rowOf(month.name, action.groupId);
			row.hours += hours;
			row.dollars += hours * (action.hourlyRate ?? 0);
			if (actedThen) row.actions[action.reason as PolicyReason] += 1;
		}
	}
	return [...rows.values()].sort((a, b) => a.month.localeCompare(b.month) || a.groupName.localeCompare(b.groupName));
}

/**
 * The savings as a CSV section (RFC 4180 lines, with its own header), for after the billing
 * report's: one line per group and month.
 */
export function savingsCsv(rows: readonly SavingsRow[]): string {
	const header = [
		"savings_month",
		"group",
		"hours_stopped_by_policy",
		"usd_not_spent",
		...POLICY_REASONS.map((reason) => `${reason}_actions`),
	];
	const lines = [header.join(",")];
	for (const row of rows) {
		lines.push(
			[
				row.month,
				row.groupName,
				row.hours.toFixed(4),
				row.dollars.toFixed(4),
				...POLICY_REASONS.map((reason) => String(row.actions[reason])),
			].map(csvField).join(","),
		);
	}
	return lines.join("\r\n") + "\r\n";
}
