/**
 * LDAP-attribute-header auth plugin: the proxy authenticates against the directory and passes the
 * username, profile and `memberOf` DNs as headers. Directory groups map to the portal's groups by
 * their directory name (memberships are added and removed at each login). Admin and manager roles
 * come from exact DN matches and are revoked when the directory stops granting them.
 */
import type { AuthUserInfo, PluginContext } from "../../lib/plugins.ts";
import * as defaults from "./plugin_settings.ts";

function setting(ctx: PluginContext, name: keyof typeof defaults): string {
	return ctx.settings[name] ?? defaults[name];
}

/** Lower-cases a DN and removes spaces around separators so equal DNs compare equal. */
export function normaliseDn(dn: string): string {
	return dn.trim().toLowerCase().replace(/\s*([,=])\s*/g, "$1");
}

function memberOf(request: Request, ctx: PluginContext): string[] {
	const header = request.headers.get(setting(ctx, "MEMBER_OF_HEADER")) ?? "";
	const separator = setting(ctx, "MEMBER_OF_SEPARATOR") || ";";
	return header.split(separator).map((dn) => dn.trim()).filter(Boolean);
}

export function getAuthHeader(ctx: PluginContext): string {
	return setting(ctx, "AUTH_HEADER");
}

export function cleanAuthUsername(username: string): string {
	return username.replace(/^[^\\]*\\/, "").replace(/@.*$/, "").trim();
}

export function processAuthUserInfo(_user: unknown, request: Request, ctx: PluginContext): AuthUserInfo {
	const groups = new Set(memberOf(request, ctx).map(normaliseDn));
	const admin = setting(ctx, "LDAP_ADMIN_GROUP");
	const manager = setting(ctx, "LDAP_MANAGER_GROUP");
	const role = admin && groups.has(normaliseDn(admin))
		? "admin"
		: manager && groups.has(normaliseDn(manager))
		? "manager"
		: "user";
	const header = (name: keyof typeof defaults) => request.headers.get(setting(ctx, name)) ?? undefined;
	return {
		firstName: header("GIVEN_NAME_HEADER"),
		lastName: header("SURNAME_HEADER"),
		email: header("EMAIL_HEADER"),
		role,
	};
}

/** The user's directory groups as full DNs; the portal matches them to groups' directory names. */
export function processAuthUserGroups(_user: unknown, request: Request, ctx: PluginContext): string[] {
	return memberOf(request, ctx);
}
