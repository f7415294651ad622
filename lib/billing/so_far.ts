/**
 * What a machine has cost so far, for every kind: this month (in the portal's time zone) and since
 * launch, summed from its billed periods and its volumes' (an instance's), as the billing reports
 * price them (lib/billing/reports.ts periodCost). A period whose price is unknown makes the sum
 * unknown: never $0 for what the portal cannot price.
 */
import { billsOfMachines, type MachineBill } from "../db/bills.ts";
import type { Deps } from "../deps.ts";
import type { Price } from "../pricing.ts";
import { overlapHours, periodCost } from "./reports.ts";
import { volumeRate } from "./rates.ts";

/** A sum of money, or why it is not known. */
export type Cost = { known: true; usd: number } | { known: false; reason: string };

/** A machine's cost so far. */
export interface CostSoFar {
	month: Cost;
	sinceLaunch: Cost;
}

/** The instant the calendar month holding `now` began in `timeZone`. */
export function monthStart(now: Date, timeZone: string): Date {
	const today = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(timeZone).toPlainDate();
	return new Date(today.with({ day: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds);
}

/** The periods' cost inside the range; unknown when one of them (overlapping it) has no price. */
function sumOf(periods: readonly MachineBill[], range: { start: Date; end: Date }, now: Date): Cost {
	let usd = 0;
	for (const period of periods) {
		const cost = periodCost(period, range, now);
		if (cost === null) {
			if (overlapHours(period, range, now) === 0) continue;
			return { known: false, reason: `no price for ${period.description}` };
		}
		usd += cost;
	}
	return { known: true, usd };
}

/** The cost so far of each machine (by id), from the database's billed periods. */
export async function costsSoFar(
	deps: Pick<Deps, "db" | "settings">,
	machineIds: readonly string[],
	now: Date,
): Promise<Map<string, CostSoFar>> {
	const periods = await billsOfMachines(deps.db, machineIds);
	const start = monthStart(now, deps.settings.TIME_ZONE);
	const costs = new Map<string, CostSoFar>();
	for (const id of machineIds) {
		const own = periods.filter((p) => p.machineId === id);
		costs.set(id, {
			month: sumOf(own, { start, end: now }, now),
			sinceLaunch: sumOf(own, { start: new Date(0), end: now }, now),
		});
	}
	return costs;
}

/**
 * An instance's hourly rate with its volumes (which are billed whether it runs or not): the
 * instance's rate plus each live volume's in the month holding `at`; unknown when one is.
 */
export function rateWithVolumes(
	settings: Parameters<typeof volumeRate>[0],
	instance: Price,
	volumes: readonly { volumeType: string; sizeGb: number; iops: number | null; throughput: number | null }[],
	at: Date,
): { total: Price; volumes: Price } {
	let hourly = 0;
	for (const volume of volumes) {
		const { rate } = volumeRate(settings, volume, at);
		if (!rate.known) return { total: rate, volumes: rate };
		hourly += rate.hourly;
	}
	const volumesRate: Price = { known: true, hourly };
	return { total: instance.known ? { known: true, hourly: instance.hourly + hourly } : instance, volumes: volumesRate };
}
