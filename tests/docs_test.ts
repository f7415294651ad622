/**
 * The README's settings table against the settings schema: every setting is documented, nothing
 * documented is gone, and each documented default is the one the portal applies.
 */
import assert from "node:assert/strict";
import { publicUrl, resolveSettings, settingsSchema } from "../lib/settings.ts";

const README = new URL("../README.md", import.meta.url);

/** The settings table's rows: setting name → its "default" cell, as written. */
async function documentedDefaults(): Promise<Map<string, string>> {
	const text = await Deno.readTextFile(README);
	const start = text.indexOf("| setting ");
	assert.ok(start >= 0, "the README has a settings table");
	const rows = new Map<string, string>();
	for (const line of text.slice(start).split("\n").slice(2)) {
		if (!line.startsWith("|")) break;
		const [name, fallback] = line.split("|").slice(1, 3).map((cell) => cell.trim());
		const key = name!.match(/^`([A-Z0-9_]+)`$/)?.[1];
		assert.ok(key, `a settings row names one setting in backticks: ${line.slice(0, 60)}`);
		assert.ok(!rows.has(key), `${key} is documented once`);
		rows.set(key, fallback!);
	}
	return rows;
}

Deno.test("the README's settings table lists every setting and no other", async () => {
	const documented = [...(await documentedDefaults()).keys()];
	const known = Object.keys(settingsSchema.shape);
	assert.deepEqual(known.filter((key) => !documented.includes(key)), [], "settings missing from the README");
	assert.deepEqual(documented.filter((key) => !known.includes(key)), [], "README rows for settings that do not exist");
});

Deno.test("each default in the README's settings table is the one the portal applies", async () => {
	const defaults: Record<string, unknown> = resolveSettings({});
	const wrong: string[] = [];
	for (const [key, written] of await documentedDefaults()) {
		if (!(key in defaults)) continue; // reported by the test above
		const actual = defaults[key];
		let documented: unknown;
		if (written === "—") {
			// "No value": unset, or an empty list.
			if (actual !== undefined && !(Array.isArray(actual) && actual.length === 0)) {
				wrong.push(`${key}: documented as none, is ${JSON.stringify(actual)}`);
			}
			continue;
		} else if (key === "PUBLIC_URL") {
			// Derived from HOST and PORT when unset.
			const url = written.replace(/^`|`$/g, "").replace("HOST", String(defaults.HOST)).replace(
				"PORT",
				String(defaults.PORT),
			);
			if (actual !== undefined || url !== publicUrl(resolveSettings({}))) {
				wrong.push(`${key}: documented as ${written}, is ${actual ?? publicUrl(resolveSettings({}))}`);
			}
			continue;
		} else {
			// Written as one would set it: read it the way the portal reads an MLIY_ variable.
			assert.match(written, /^`[^`]*`$/, `${key}'s default is written in backticks`);
			const read: Record<string, unknown> = resolveSettings({ env: { [`MLIY_${key}`]: written.slice(1, -1) } });
			documented = read[key];
		}
		try {
			assert.deepEqual(documented, actual);
		} catch {
			wrong.push(`${key}: documented as ${written}, is ${JSON.stringify(actual)}`);
		}
	}
	assert.deepEqual(wrong, []);
});
