/** Every minute, in every process: re-indexes the pricing file when it changed on disk. */
import type { Job } from "../lib/jobs.ts";

export const reindexPricingJob: Job = {
	name: "reindex-pricing",
	everyMinutes: 1,
	everyProcess: true,
	run: (deps) => deps.pricing.reloadIfChanged(),
};
