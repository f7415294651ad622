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

/**
 * Strips a Kerberos realm (`alice@EXAMPLE.COM`) or a Windows domain (`EXAMPLE\alice`) when it is
 * one of `realms` (a comma-separated list, compared without regard to case). Any other realm or
 * domain stays: `breakglass@PARTNER.REALM` is someone of another realm, not the portal's
 * `breakglass`, so it must never become that name (a domain's backslash then fails the username check).
 */
export function stripListedRealm(username: string, realms: string): string {
	const listed = new Set(realms.split(",").map((realm) => realm.trim().toLowerCase()).filter(Boolean));
	let name = username.trim();
	const domain = /^([^\\@]+)\\(.*)$/.exec(name);
	if (domain && listed.has(domain[1]!.toLowerCase())) name = domain[2]!;
	const realm = /^([^@]*)@([^@]+)$/.exec(name);
	if (realm && listed.has(realm[2]!.toLowerCase())) name = realm[1]!;
	return name.trim();
}
