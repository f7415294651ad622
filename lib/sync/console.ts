/**
 * The tail of an instance's console output (EC2 GetConsoleOutput), so its owner sees why a setup
 * failed or is slow. It is fetched in the background (right after a failure report) and by the
 * sync (for setups that failed, stalled or stopped reporting for a while), stored with the
 * instance, and only read by the pages: a page request never calls AWS. What is stored is
 * decoded, bounded and sanitised: terminal escapes and control characters removed, the launch's
 * progress token, the values substituted into the bootstrap script and the secret params redacted (a script run with
 * `set -x` echoes them), the last lines only.
 */
import { secretParamValues } from "../catalog/secrets.ts";
import { getConfig, paramsMap } from "../db/catalog.ts";
import { getInstance, instancesNeedingConsole, updateInstance } from "../db/instances.ts";
import type { Deps } from "../deps.ts";
import { INSTANCE_ENDED_STATES } from "../machines/lifecycle.ts";
import { progressToken } from "../tokens.ts";

/** How many lines of the console the page shows, and how long each may be. */
export const CONSOLE_TAIL_LINES = 40;
const CONSOLE_LINE_CHARS = 240;
/** A setup with no report for this long is slow: its console is fetched. */
export const SETUP_SLOW_MS = 15 * 60_000;
/** A stored tail older than this is fetched again (EC2 updates the console output every few minutes). */
const CONSOLE_REFRESH_MS = 10 * 60_000;
/** How long after a setup ended its console is still fetched again. */
const CONSOLE_AFTER_END_MS = 60 * 60_000;
/** Most consoles one sync run fetches. */
const CONSOLE_FETCHES_PER_RUN = 20;
/** Substituted values shorter than this are not redacted (they would garble ordinary words). */
const SECRET_MIN_LENGTH = 8;

// Terminal escapes (CSI, OSC and two-character ones), then every control character but tab.
// deno-lint-ignore no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** The last lines of console text: escapes and control characters removed, `secrets` redacted, bounded. */
export function consoleTail(raw: string, secrets: readonly string[]): string {
	// A carriage return within a line redraws it (progress meters): keep what the terminal showed last.
	let text = raw.replace(/\r+\n/g, "\n").split("\n").map((line) => line.slice(line.lastIndexOf("\r") + 1)).join("\n")
		.replace(ESCAPES, "").replace(CONTROLS, "");
	for (const secret of [...new Set(secrets)].filter((s) => s.length >= SECRET_MIN_LENGTH)) {
		text = text.replaceAll(secret, "[redacted]");
	}
	const lines = text.split("\n").map((line) => line.trimEnd());
	while (lines.length > 0 && lines.at(-1) === "") lines.pop();
	return lines.slice(-CONSOLE_TAIL_LINES)
		.map((line) => line.length > CONSOLE_LINE_CHARS ? `${line.slice(0, CONSOLE_LINE_CHARS)}…` : line)
		.join("\n");
}

/** What the console may echo that must not be shown: the progress token and the values put into the script. */
async function secretsOf(deps: Deps, instance: { launchId: string | null; configId: number | null }) {
	const [config, globals, secrets] = await Promise.all([
		instance.configId === null ? undefined : getConfig(deps.db, instance.configId),
		paramsMap(deps.db),
		secretParamValues(deps.db, deps.paramsKey),
	]);
	return [
		...(instance.launchId ? [await progressToken(deps.secret, instance.launchId)] : []),
		...deps.settings.REPLACEMENT_TOKENS.map(([, value]) => value),
		...Object.values(config?.params ?? {}),
		...Object.values(globals),
		...secrets,
	];
}

/** Fetches and stores the console tail of a live instance; errors are logged, never thrown. */
export async function fetchConsoleTail(deps: Deps, id: string): Promise<void> {
	const instance = await getInstance(deps.db, id);
	if (!instance || instance.archived || INSTANCE_ENDED_STATES.includes(instance.state)) return;
	let output: string | undefined;
	try {
		output = await deps.aws.ec2.getConsoleOutput(id);
	} catch (error) {
		deps.log.web.warn("console output of {id} not fetched: {message}", { id, message: (error as Error).message });
		return;
	}
	await updateInstance(deps.db, id, {
		consoleTail: consoleTail(output ?? "", await secretsOf(deps, instance)),
		consoleTailAt: deps.clock(),
	});
}

/** Fetches the consoles the pages should show: setups that failed, stalled, or are slow. Returns how many. */
export async function syncConsoleTails(deps: Deps): Promise<number> {
	const now = deps.clock().getTime();
	const due = await instancesNeedingConsole(deps.db, {
		slowBefore: new Date(now - SETUP_SLOW_MS),
		staleBefore: new Date(now - CONSOLE_REFRESH_MS),
		endedSince: new Date(now - CONSOLE_AFTER_END_MS),
		limit: CONSOLE_FETCHES_PER_RUN,
	});
	for (const { id } of due) await fetchConsoleTail(deps, id);
	return due.length;
}
