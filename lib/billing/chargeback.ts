/**
 * Chargeback: a month's report per cost center of every machine's hours, the portal's estimated
 * cost and what AWS billed (Cost Explorer, per launch), as CSV and as JSON for other systems.
 * Months are UTC months, as Cost Explorer counts days. A machine's row carries its launch's
 * volumes' estimate and the whole launch's bill (AWS bills the stack's resources under one launch
 * id); what AWS billed is "unknown" until Cost Explorer was read for every day of the month so far.
 * A monthly job writes the last month's files to CHARGEBACK_DIR; the billing page offers any month.
 */
import { actualByLaunch, costCentersBilled, costExplorerStatus, instancesOfVolumes } from "../db/actual_costs.ts";
import { launchIdsOf } from "../db/budgets.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { utcDay } from "./actuals.ts";
import { buildReport, csvField } from "./reports.ts";

/** One machine of the report (or a volume on its own). */
export interface ChargebackMachine {
	resource: string;
	kind: string;
	owner: string;
	group: string;
	launchId: string;
	description: string;
	/** The machine's own billed hours in the month. */
	hours: number;
	/** The estimate of the machine and its volumes; null when a price is unknown. */
	estimated: number | null;
	/** What AWS billed for its launch; null while unknown. */
	actual: number | null;
}

export interface Chargeback {
	month: string;
	costCenter: string;
	generatedAt: string;
	/** Whether what AWS billed is known for every day of the month so far. */
	actualsKnown: boolean;
	machines: ChargebackMachine[];
	/** What AWS billed in the cost center that no launch of the portal claims (null while unknown). */
	unclaimed: number | null;
	totals: { hours: number; estimated: number; unknownEstimates: number; actual: number | null };
}

/** A month as the report names it, `2025-03`: a 400 otherwise. */
export function parseMonth(value: unknown): Temporal.PlainYearMonth {
	if (typeof value !== "string" || !/^\d{4}-\d{2}$/.test(value)) {
		throw new UserError(400, "The month must look like 2025-03");
	}
	try {
		return Temporal.PlainYearMonth.from(value, { overflow: "reject" });
	} catch {
		throw new UserError(400, `The month ${value} does not exist`);
	}
}

/** The report of one cost center's month (UTC). */
export async function chargebackReport(
	deps: Pick<Deps, "db" | "clock">,
	month: Temporal.PlainYearMonth,
	costCenter: string,
): Promise<Chargeback> {
	const now = deps.clock();
	const from = month.toPlainDate({ day: 1 });
	const to = month.toPlainDate({ day: month.daysInMonth });
	const report = await buildReport(deps.db, {
		scope: { everyone: true, viewerId: 0, groupIds: [] },
		range: { from, to },
		filters: { costCenter },
		timeZone: "UTC",
		now,
	});
	const fromDay = from.toString();
	const toDay = month.add({ months: 1 }).toPlainDate({ day: 1 }).toString();
	const machineIds = report.rows.filter((r) => r.resourceKind !== "volume").map((r) => r.resourceId);
	const [launchOf, volumeOf, actuals, status] = await Promise.all([
		launchIdsOf(deps.db, machineIds),
		instancesOfVolumes(deps.db, report.rows.filter((r) => r.resourceKind === "volume").map((r) => r.resourceId)),
		actualByLaunch(deps.db, costCenter, fromDay, toDay),
		costExplorerStatus(deps.db),
	]);
	const readUpTo = toDay < utcDay(now) ? toDay : utcDay(now);
	const actualsKnown = !!status?.coveredFrom && !!status.coveredTo && status.coveredFrom <= fromDay &&
		status.coveredTo >= readUpTo;
	const machines = new Map<string, ChargebackMachine>();
	for (const row of report.rows.filter((r) => r.resourceKind !== "volume")) {
		const launchId = launchOf.get(row.resourceId) ?? "";
		machines.set(row.resourceId, {
			resource: row.resourceId,
			kind: row.resourceKind,
			owner: row.username,
			group: row.groupName ?? "",
			launchId,
			description: row.description,
			hours: row.hours,
			estimated: row.cost,
			actual: actualsKnown ? (launchId ? actuals.get(launchId) ?? 0 : null) : null,
		});
	}
	for (const row of report.rows.filter((r) => r.resourceKind === "volume")) {
		const machine = machines.get(volumeOf.get(row.resourceId) ?? "");
		if (machine) {
			machine.estimated = machine.estimated === null || row.cost === null ? null : machine.estimated + row.cost;
			continue;
		}
		machines.set(row.resourceId, {
			resource: row.resourceId,
			kind: row.resourceKind,
			owner: row.username,
			group: row.groupName ?? "",
			launchId: "",
			description: row.description,
			hours: row.hours,
			estimated: row.cost,
			actual: null,
		});
	}
	const list = [...machines.values()];
	const unclaimed = actualsKnown ? actuals.get("") ?? 0 : null;
	return {
		month: month.toString(),
		costCenter,
		generatedAt: now.toISOString(),
		actualsKnown,
		machines: list,
		unclaimed,
		totals: {
			hours: list.reduce((sum, m) => sum + m.hours, 0),
			estimated: list.reduce((sum, m) => sum + (m.estimated ?? 0), 0),
			unknownEstimates: list.filter((m) => m.estimated === null).length,
			actual: actualsKnown ? [...actuals.values()].reduce((sum, a) => sum + a, 0) : null,
		},
	};
}

const money = (value: number | null) => value === null ? "unknown" : value.toFixed(4);

/** The report as CSV: one line per machine, then what no launch claims, then the totals. */
export function chargebackCsv(report: Chargeback): string {
	const header = [
		"month",
		"cost_center",
		"resource",
		"kind",
		"owner",
		"group",
		"launch_id",
		"description",
		"hours",
		"estimated_usd",
		"actual_usd",
	];
	const line = (fields: string[]) => fields.map(csvField).join(",");
	const lines = [line(header)];
	for (const m of report.machines) {
		lines.push(line([
			report.month,
			report.costCenter,
			m.resource,
			m.kind,
			m.owner,
			m.group,
			m.launchId,
			m.description,
			m.hours.toFixed(4),
			money(m.estimated),
			money(m.actual),
		]));
	}
	lines.push(line([report.month, report.costCenter, "UNCLAIMED", "", "", "", "", "", "", "", money(report.unclaimed)]));
	lines.push(line([
		report.month,
		report.costCenter,
		"TOTAL",
		"",
		"",
		"",
		"",
		"",
		report.totals.hours.toFixed(4),
		report.totals.estimated.toFixed(4),
		money(report.totals.actual),
	]));
	return lines.join("\r\n") + "\r\n";
}

/** A file name's part for a cost center: letters, digits, dot, dash and underscore only. */
export function fileSafe(costCenter: string): string {
	return costCenter.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 60) || "_";
}

/**
 * The monthly job's body: writes last month's report of every cost center billed in it to
 * CHARGEBACK_DIR as CSV and JSON (again each day, so a late Cost Explorer read fills in what AWS
 * billed); does nothing without the setting.
 */
export async function writeChargebacks(deps: Pick<Deps, "db" | "clock" | "settings" | "log">): Promise<number> {
	const dir = deps.settings.CHARGEBACK_DIR;
	if (!dir) return 0;
	const now = deps.clock();
	const month = Temporal.PlainYearMonth.from(utcDay(now).slice(0, 7)).subtract({ months: 1 });
	const start = new Date(`${month.toString()}-01T00:00:00Z`);
	const end = new Date(`${month.add({ months: 1 }).toString()}-01T00:00:00Z`);
	await Deno.mkdir(dir, { recursive: true });
	let written = 0;
	for (const costCenter of await costCentersBilled(deps.db, { start, end })) {
		const report = await chargebackReport(deps, month, costCenter);
		const base = `${dir}/chargeback-${report.month}-${fileSafe(costCenter)}`;
		await Deno.writeTextFile(`${base}.csv`, chargebackCsv(report));
		await Deno.writeTextFile(`${base}.json`, JSON.stringify(report, null, "\t") + "\n");
		written += 1;
	}
	deps.log.web.info("chargeback of {month}: {written} cost center(s) written", { month: month.toString(), written });
	return written;
}
