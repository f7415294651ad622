/** Every minute: moves each "stop, resize, start" on (after a restart, the request's own follow-up is gone). */
import { advanceResizes, RESIZE_JOB_NAME } from "../lib/control/resize.ts";
import type { Job } from "../lib/jobs.ts";

export const advanceResizesJob: Job = {
	name: RESIZE_JOB_NAME,
	everyMinutes: 1,
	run: advanceResizes,
};
