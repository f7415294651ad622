/** Every kind of launch the launcher job moves forward. */
import { clusterLaunchHandler } from "./cluster.ts";
import { instanceLaunchHandler, type LaunchKindHandler } from "./launcher.ts";

export const LAUNCH_HANDLERS: Readonly<Record<string, LaunchKindHandler>> = {
	instance: instanceLaunchHandler,
	cluster: clusterLaunchHandler,
};
