/**
 * A display plugin for the tests, kept outside the project's plugins like an operator's own: two
 * extra columns from what the portal tells it of each instance, a lock for instances named
 * "lock-me", and a launch token of its own that also overrides a portal one.
 */
import type { DisplayColumn, DisplayContext, LaunchParamsContext, PluginInstance } from "../../../lib/plugins/contract.ts";

export function instanceColumns(): DisplayColumn[] {
	return [{ key: "desk", label: "Desk" }, { key: "sync_size", label: "Synced with" }];
}

export function displayValues(instance: PluginInstance, ctx: DisplayContext): Record<string, string> {
	return {
		desk: `desk of ${instance.ownerUsername}`,
		sync_size: `${ctx.instances.length} instance(s)`,
		undeclared: "never shown: not a declared column",
	};
}

export function onInstanceRefresh(instance: PluginInstance) {
	return instance.name.includes("lock-me") ? { locked: true as const, reason: "the test plugin locks lock-me" } : undefined;
}

export function replaceParams(params: Readonly<Record<string, string>>, ctx: LaunchParamsContext): Record<string, string> {
	return {
		PLUGIN_GREETING: `hello ${ctx.user.username} in ${params.GROUP_NAME ?? "no group"} on ${ctx.instanceType}`,
		GROUP_NAME: "renamed-by-plugin",
		PROGRESS_TOKEN: "a plugin may not change this",
	};
}
