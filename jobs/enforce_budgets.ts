/** Every minute: the budgets' ladder (warnings, used-up notices, the hard limits' stops) and the grants that ended. */
import { BUDGET_JOB_NAME, enforceBudgets } from "../lib/budgets/enforce.ts";
import type { Job } from "../lib/jobs.ts";

export const enforceBudgetsJob: Job = {
	name: BUDGET_JOB_NAME,
	everyMinutes: 1,
	run: enforceBudgets,
};
