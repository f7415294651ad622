// deno-lint-ignore-file no-console
/**
 * Measures one pricing strategy in a fresh process (so memory figures are its own) and prints JSON:
 * `index` builds the portal's index once and times lookups in it; `naive` re-reads and re-parses the
 * file for every lookup, as the original portal's design note describes ("rips through the pricing
 * json on demand").
 */
import { getLoggers } from "../lib/log.ts";
import { createPricing } from "../lib/pricing.ts";

const [path, mode] = Deno.args as [string, "index" | "naive"];
const gc = (globalThis as { gc?: () => void }).gc;
const rss = () => {
	gc?.();
	return Deno.memoryUsage().rss / 1024 / 1024;
};
const types = ["t2.micro", "m4.large", "r4.4xlarge", "c4.xlarge", "p2.xlarge", "t2.nano", "x1.32xlarge", "d2.2xlarge"];
const regions = ["us-east-1", "eu-west-1", "ap-south-1", "us-west-2"];
const systems = ["linux", "rhel", "mswin", "sles"];

if (mode === "index") {
	const before = rss();
	const t0 = performance.now();
	const pricing = await createPricing({ path, log: getLoggers().web });
	const buildMs = performance.now() - t0;
	const after = rss();
	const n = 1_000_000;
	let sum = 0;
	const t1 = performance.now();
	for (let i = 0; i < n; i++) {
		const p = pricing.onDemand(
			types[i % types.length]!,
			regions[(i >> 3) % regions.length]!,
			systems[(i >> 5) % systems.length]!,
		);
		if (p.known) sum += p.hourly;
	}
	const lookupNs = (performance.now() - t1) * 1e6 / n;
	console.log(
		JSON.stringify({
			buildMs,
			rssBeforeMiB: before,
			rssAfterMiB: after,
			lookupNs,
			types: pricing.index.types.size,
			check: sum > 0,
		}),
	);
} else {
	const n = 5;
	let found = 0;
	const t0 = performance.now();
	let peak = 0;
	for (let i = 0; i < n; i++) {
		const data = JSON.parse(await Deno.readTextFile(path)) as {
			instance_type: string;
			pricing: Record<string, Record<string, { ondemand?: string }>>;
		}[];
		peak = Math.max(peak, Deno.memoryUsage().rss / 1024 / 1024);
		const entry = data.find((e) => e.instance_type === types[i % types.length]);
		if (entry?.pricing?.["us-east-1"]?.linux?.ondemand) found++;
	}
	const lookupNs = (performance.now() - t0) * 1e6 / n;
	console.log(JSON.stringify({ lookupNs, peakRssMiB: peak, found }));
}
