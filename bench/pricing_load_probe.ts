// deno-lint-ignore-file no-console
/**
 * Loads one pricing file in a fresh process (so memory figures are its own) and prints JSON:
 * `portal` loads it with the portal's createPricing, then re-loads it while serving; `json-parse`
 * (the baseline) does the same with one `JSON.parse(await Deno.readTextFile(file))`, keeping the
 * result (what it would answer lookups from).
 *
 * While the (re)load runs, a Deno.serve in this process answers a trivial request in a loop and a
 * 1 ms timer ticks: the longest request and the longest gap between ticks are the longest the
 * event loop was held. Peak RSS is the kernel's high-water mark (VmHWM), reset before each phase.
 * Run with --v8-flags=--expose-gc: steady RSS is measured after a full collection.
 */
import { createPricing } from "../lib/pricing.ts";
import { getLoggers } from "../lib/log.ts";
import { measureHeldLoop } from "../tests/_helpers/event_loop.ts";

const [path, mode] = Deno.args as [string, "portal" | "json-parse"];
const gc = (globalThis as { gc?: () => void }).gc!;
const mib = (kb: string | undefined) => Number(kb) / 1024;
const status = () => Deno.readTextFileSync("/proc/self/status");
const rss = () => mib(/VmRSS:\s+(\d+) kB/.exec(status())?.[1]);
const peak = () => mib(/VmHWM:\s+(\d+) kB/.exec(status())?.[1]);
/** Resets VmHWM to the current RSS (Linux ≥ 4.0). */
const resetPeak = () => Deno.writeTextFileSync("/proc/self/clear_refs", "5");
async function steady(): Promise<number> {
	gc();
	await new Promise((r) => setTimeout(r, 500));
	gc();
	return rss();
}
/** What the JavaScript heap and typed arrays hold (after {@link steady}'s collection), in MiB. */
function held(): number {
	const { heapUsed, external } = Deno.memoryUsage();
	return (heapUsed + external) / 1024 / 1024;
}

/** Runs `load` while requests and a timer measure how long the event loop is held, and the peak RSS. */
async function underLoad(load: () => Promise<unknown>) {
	const held = await measureHeldLoop(load, { warmupMs: 200, beforeWork: resetPeak });
	return {
		ms: held.ms,
		longestStallMs: Math.max(held.longestRequest, held.longestGap),
		longestRequest: held.longestRequest,
		longestGap: held.longestGap,
		requests: held.requests,
		peak: peak(),
	};
}

const idleRss = await steady();
const idleHeld = held();
let kept: unknown;
let types = 0;
let reload: () => Promise<unknown>;
const loaded = await underLoad(async () => {
	if (mode === "portal") {
		const pricing = await createPricing({ path, log: getLoggers().web });
		types = pricing.index.types.size;
		kept = pricing;
		reload = async () => {
			// A changed modification time is what the per-minute job looks for.
			await Deno.utime(path, new Date(), new Date());
			if (!(await pricing.reloadIfChanged())) throw new Error("the reload did not happen");
		};
	} else {
		kept = JSON.parse(await Deno.readTextFile(path));
		types = (kept as unknown[]).length;
		reload = async () => {
			kept = JSON.parse(await Deno.readTextFile(path));
		};
	}
});
const loadedRss = await steady();
const loadedHeld = held() - idleHeld;
const reloaded = await underLoad(() => reload());
const reloadedRss = await steady();
console.log(JSON.stringify({
	types,
	kept: kept !== undefined,
	idleRss,
	loadedHeld,
	readyMs: loaded.ms,
	loadStallMs: loaded.longestStallMs,
	loadPeak: loaded.peak,
	loadedRss,
	reloadMs: reloaded.ms,
	reloadStallMs: reloaded.longestStallMs,
	reloadLongestRequestMs: reloaded.longestRequest,
	reloadLongestTimerGapMs: reloaded.longestGap,
	reloadRequests: reloaded.requests,
	reloadPeak: reloaded.peak,
	reloadedRss,
}));
