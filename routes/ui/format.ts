/** Formatting for pages: times in the portal's time zone, durations, money, states. */
import { formatMinute, formatMoney, formatRate } from "../../lib/format.ts";

export { formatMoney, formatRate };

/** `2024-05-01 14:03` in the time zone. */
export function formatTime(at: Date | null | undefined, timeZone: string): string {
	return at ? formatMinute(at, timeZone) : "—";
}

/** `3 d 4 h`, `2 h 5 min`, `7 min`, `40 s`. */
export function formatDuration(ms: number): string {
	const s = Math.max(0, Math.floor(ms / 1000));
	const d = Math.floor(s / 86400);
	const h = Math.floor((s % 86400) / 3600);
	const m = Math.floor((s % 3600) / 60);
	if (d > 0) return `${d} d ${h} h`;
	if (h > 0) return `${h} h ${m} min`;
	if (m > 0) return `${m} min`;
	return `${s} s`;
}

/** `5 min ago`. */
export function formatAgo(at: Date | null | undefined, now: Date): string {
	if (!at) return "never";
	return `${formatDuration(now.getTime() - at.getTime())} ago`;
}

/** The colour class of a state badge. */
export function stateTone(state: string): "ok" | "off" | "busy" | "gone" | "bad" {
	if (state === "running" || state === "WAITING" || state === "RUNNING") return "ok";
	if (state === "stopped") return "off";
	if (["terminated", "vanished", "TERMINATED"].includes(state)) return "gone";
	if (/ERROR|FAILED/i.test(state)) return "bad";
	return "busy";
}

/** Built once (see timeFormat): `toLocaleString` with options builds a formatter per call. */
const hoursFormat = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** Hours with one decimal and thousands separators. */
export function formatHours(hours: number): string {
	return hoursFormat.format(hours);
}

/** `text` ended as a sentence: a full stop added unless it already ends with one (or with ? ! …). */
export function sentence(text: string): string {
	return /[.?!…]$/.test(text.trimEnd()) ? text.trimEnd() : `${text.trimEnd()}.`;
}
