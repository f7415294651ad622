/** A group's free-form settings: `key=value` lines, of which the portal reads one. */

/** Parses `key=value` lines; the portal reads `cluster_auto_termination_minutes`. */
export function parseKeyValueLines(text: string): { values: Record<string, string>; error?: string } {
	const values: Record<string, string> = {};
	for (const [i, raw] of text.split(/\r?\n/).entries()) {
		const line = raw.trim();
		if (!line || line.startsWith("#")) continue;
		const at = line.indexOf("=");
		if (at <= 0) return { values, error: `Line ${i + 1} is not key=value` };
		const key = line.slice(0, at).trim();
		if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) {
			return { values, error: `Line ${i + 1}: "${key.slice(0, 40)}" is not a valid key` };
		}
		values[key] = line.slice(at + 1).trim();
	}
	return { values };
}

/** The group setting: default idle minutes before a cluster terminates itself (0: never). */
export function autoTerminateMinutes(settings: string): number {
	const value = parseKeyValueLines(settings).values.cluster_auto_termination_minutes;
	const n = Number(value);
	return value !== undefined && Number.isInteger(n) && n >= 0 ? n : 0;
}
