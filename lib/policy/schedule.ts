/**
 * Working hours in the portal's time zone: when a group's working days begin and end, as instants.
 * The enforcer asks this for every machine on every tick, so a calendar computes the boundaries of
 * a few weeks around now once (Temporal is exact across DST but not cheap) and answers each
 * question with a binary search; a time outside those weeks is computed day by day.
 */
import type { EffectivePolicy } from "./spec.ts";

export type WorkSchedule = NonNullable<EffectivePolicy["schedule"]>;

const DAY_MS = 86_400_000;
/** Days before and after now the calendar holds. */
const DAYS_BEFORE = 15;
const DAYS_AFTER = 9;

/** The instant of `minute` after midnight on `date` in `timeZone` (the earlier one in a DST overlap). */
function instantOf(date: Temporal.PlainDate, minute: number, timeZone: string): number {
	const time = new Temporal.PlainTime(Math.floor(minute / 60), minute % 60);
	return date.toZonedDateTime({ timeZone, plainTime: time }).epochMilliseconds;
}

function dateOf(at: number, timeZone: string): Temporal.PlainDate {
	return Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(timeZone).toPlainDate();
}

/** The first boundary after `after` (exclusive), computed day by day; undefined when there is none within a week. */
function boundaryAfter(schedule: WorkSchedule, timeZone: string, after: number, minute: number): number | undefined {
	let date = dateOf(after, timeZone);
	for (let i = 0; i < 8; i++, date = date.add({ days: 1 })) {
		if (!schedule.days.includes(date.dayOfWeek)) continue;
		const at = instantOf(date, minute, timeZone);
		if (at > after) return at;
	}
	return undefined;
}

/** The first element of the ascending `list` greater than `after`, or undefined. */
function firstAfter(list: readonly number[], after: number): number | undefined {
	let lo = 0;
	let hi = list.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (list[mid]! > after) hi = mid;
		else lo = mid + 1;
	}
	return list[lo];
}

/** A group's working days around `now`: when each begins and ends. */
export class WorkCalendar {
	readonly #starts: number[] = [];
	readonly #ends: number[] = [];
	readonly #from: number;
	readonly #to: number;

	constructor(readonly schedule: WorkSchedule, readonly timeZone: string, now: Date) {
		let date = dateOf(now.getTime() - DAYS_BEFORE * DAY_MS, timeZone);
		for (let i = 0; i <= DAYS_BEFORE + DAYS_AFTER; i++, date = date.add({ days: 1 })) {
			if (!schedule.days.includes(date.dayOfWeek)) continue;
			this.#starts.push(instantOf(date, schedule.startMinute, timeZone));
			this.#ends.push(instantOf(date, schedule.endMinute, timeZone));
		}
		this.#from = now.getTime() - (DAYS_BEFORE - 1) * DAY_MS;
		this.#to = now.getTime() + (DAYS_AFTER - 8) * DAY_MS;
	}

	/** When the first working day after `after` ends (the schedule's stop). */
	endAfter(after: Date): Date | undefined {
		return this.#after(after.getTime(), this.#ends, this.schedule.endMinute);
	}

	/** When the first working day after `after` begins (the schedule's start). */
	startAfter(after: Date): Date | undefined {
		return this.#after(after.getTime(), this.#starts, this.schedule.startMinute);
	}

	#after(after: number, list: readonly number[], minute: number): Date | undefined {
		const at = after >= this.#from && after <= this.#to
			? firstAfter(list, after)
			: boundaryAfter(this.schedule, this.timeZone, after, minute);
		return at === undefined ? undefined : new Date(at);
	}
}
