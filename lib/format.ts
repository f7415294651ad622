/**
 * Money as every page, chart and export shows it: one function for rates, one for amounts, so a
 * rate reads the same on the dashboard, the billing page, its charts and the launch form.
 */

/**
 * Formats $/hour to the precision price lists use: up to four decimals, at least two, trailing
 * zeros dropped ($0.108/h, $0.0058/h, $26.676/h, $1.50/h); rounding to cents would show the
 * $0.108 m4.large as $0.11.
 */
export function formatRate(hourly: number | null | undefined): string {
	if (hourly === null || hourly === undefined) return "price unknown";
	return `$${decimals(hourly, 4)}/h`;
}

/** Formats dollars: cents, or four decimals for sub-dime amounts so they are not shown as 0.00. */
export function formatMoney(amount: number): string {
	return decimals(amount, amount !== 0 && Math.abs(amount) < 0.1 ? 4 : 2);
}

/**
 * One formatter per precision, built once: `toLocaleString` with options builds an
 * `Intl.NumberFormat` on every call, which cost more than the rest of a dashboard row.
 */
const formats = new Map<number, Intl.NumberFormat>();

function decimals(amount: number, most: number): string {
	let format = formats.get(most);
	if (!format) {
		format = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: most });
		formats.set(most, format);
	}
	return format.format(amount);
}

/**
 * One formatter per time zone (and with or without its name): building an Intl.DateTimeFormat costs
 * far more than using one, and a list page formats two times per row (the admin's 50-row machine
 * list spent most of its rendering building them).
 */
const minuteFormats = new Map<string, Intl.DateTimeFormat>();

/** `2024-05-01 14:03` in the time zone, or `2024-05-01 14:03 UTC` with `withZone`. */
export function formatMinute(at: Date, timeZone: string, withZone = false): string {
	const key = `${withZone ? "+" : "-"}${timeZone}`;
	let format = minuteFormats.get(key);
	if (!format) {
		format = new Intl.DateTimeFormat("en-CA", {
			timeZone,
			year: "numeric",
			month: "2-digit",
			day: "2-digit",
			hour: "2-digit",
			minute: "2-digit",
			hourCycle: "h23",
			...(withZone ? { timeZoneName: "short" } : {}),
		});
		minuteFormats.set(key, format);
	}
	const parts = format.formatToParts(at);
	const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
	const time = `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}`;
	return withZone ? `${time} ${get("timeZoneName")}` : time;
}
