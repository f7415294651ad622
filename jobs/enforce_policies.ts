/** Every minute: the machine policies' notices and actions (idle, working hours, lifetime, dormancy). */
import type { Job } from "../lib/jobs.ts";
import { enforcePolicies, ENFORCER_JOB_NAME } from "../lib/policy/enforcer.ts";

export const enforcePoliciesJob: Job = {
	name: ENFORCER_JOB_NAME,
	everyMinutes: 1,
	run: enforcePolicies,
};
