/** Once a day: what AWS billed, read from Cost Explorer for the portal's tagged cost (lib/billing/actuals.ts). */
import { readActualCosts } from "../lib/billing/actuals.ts";
import type { Job } from "../lib/jobs.ts";

export const readActualCostsJob: Job = {
	name: "read-actual-costs",
	everyMinutes: 24 * 60,
	run: readActualCosts,
};
