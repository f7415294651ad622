/** Once a day: last month's chargeback files per cost center in CHARGEBACK_DIR (lib/billing/chargeback.ts). */
import { writeChargebacks } from "../lib/billing/chargeback.ts";
import type { Job } from "../lib/jobs.ts";

export const writeChargebacksJob: Job = {
	name: "write-chargebacks",
	everyMinutes: 24 * 60,
	run: writeChargebacks,
};
