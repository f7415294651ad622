/**
 * Helpers the shipped plugins share. This file sits beside the plugin folders, not inside one: the
 * loader imports only the files of the configured folder, so it is never taken for a plugin file.
 */
import type { PluginContext } from "../lib/plugins/contract.ts";

/**
 * Reads a plugin's settings: the portal's PLUGIN_SETTINGS value when given, else the global of
 * the folder's `plugin_settings.ts`.
 */
export function settingReader<T extends Record<string, string>>(
	defaults: T,
): (ctx: PluginContext, name: keyof T & string) => string {
	return (ctx, name) => ctx.settings[name] ?? defaults[name];
}

/** Strips a Kerberos realm (`alice@EXAMPLE.COM`) or a Windows domain (`EXAMPLE\alice`). */
export function stripRealmOrDomain(username: string): string {
	return username.replace(/^[^\\]*\\/, "").replace(/@.*$/, "").trim();
}
