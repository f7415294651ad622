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

/** Runs `load` while requests and a timer measure how long the event loop is held. */
async function underLoad(load: () => Promise<unknown>) {
	await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("ok"));
	const url = `http://127.0.0.1:${server.addr.port}/`;
	let running = true;
	let longestRequest = 0;
	let requests = 0;
	const pinging = (async () => {
		while (running) {
			const t0 = performance.now();
			await (await fetch(url)).text();
			longestRequest = Math.max(longestRequest, performance.now() - t0);
			requests++;
		}
	})();
	let longestGap = 0;
	let last = performance.now();
	const timer = setInterval(() => {
		const now = performance.now();
		longestGap = Math.max(longestGap, now - last);
		last = now;
	}, 1);
	await new Promise((r) => setTimeout(r, 200));
	longestRequest = longestGap = requests = 0;
	last = performance.now();
	resetPeak();
	const t0 = performance.now();
	await load();
	const ms = performance.now() - t0;
	running = false;
	await pinging; // the request in flight when the load ended counts too
	await new Promise((r) => setTimeout(r, 5));
	clearInterval(timer);
	return {
		ms,
		longestStallMs: Math.max(longestRequest, longestGap),
		longestRequest,
		longestGap,
		requests,
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
