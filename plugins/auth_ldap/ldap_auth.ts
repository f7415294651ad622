/**
 * LDAP-attribute-header auth plugin: the proxy authenticates against the directory and passes the
 * username, profile and `memberOf` DNs as headers. Directory groups map to the portal's groups by
 * their directory name (memberships are added and removed at each login), and to the groups a user
 * manages by each group's manager directory name, the same way. Admin and (global) manager roles
 * come from exact DN matches and are revoked when the directory stops granting them.
 */
import { type AuthUserInfo, normaliseDirectoryName, type PluginContext } from "../../lib/plugins/contract.ts";
import { settingReader, stripListedRealm } from "../_shared.ts";
import * as defaults from "./plugin_settings.ts";

const setting = settingReader(defaults);

/** The username without its realm or domain, when that is one of REALMS. */
export function cleanAuthUsername(username: string, ctx: PluginContext): string {
	return stripListedRealm(username, setting(ctx, "REALMS"));
}

/**
 * Refuses to grant roles from headers that only an address guards: with an admin or manager group,
 * whoever can reach the portal from a TRUSTED_PROXIES address and send AUTHORIZE_MEMBEROF is an
 * admin. The proxy must also prove itself with PROXY_SECRET, unless the operator accepted the risk.
 */
export function checkAuthStartup(ctx: PluginContext): void {
	const roles = (["LDAP_ADMIN_GROUP", "LDAP_MANAGER_GROUP"] as const).filter((name) => setting(ctx, name));
	if (roles.length === 0 || ctx.proxy.secretRequired || ctx.proxy.withoutSecretAccepted) return;
	throw new Error(
		`${roles.join(" and ")} grant portal roles from the ${setting(ctx, "MEMBER_OF_HEADER")} header, ` +
			"which anything able to connect from a TRUSTED_PROXIES address could send: set PROXY_SECRET (and have the " +
			"proxy send it in PROXY_SECRET_HEADER), or set PROXY_SECRET_WAIVED=true to accept that risk " +
			'(docs/operations.md, "Reverse proxy, sign-in and TLS")',
	);
}

function memberOf(request: Request, ctx: PluginContext): string[] {
	const header = request.headers.get(setting(ctx, "MEMBER_OF_HEADER")) ?? "";
	const separator = setting(ctx, "MEMBER_OF_SEPARATOR") || ";";
	return header.split(separator).map((dn) => dn.trim()).filter(Boolean);
}

export function getAuthHeader(ctx: PluginContext): string {
	return setting(ctx, "AUTH_HEADER");
}

export function processAuthUserInfo(_user: unknown, request: Request, ctx: PluginContext): AuthUserInfo {
	const groups = new Set(memberOf(request, ctx).map(normaliseDirectoryName));
	const admin = setting(ctx, "LDAP_ADMIN_GROUP");
	const manager = setting(ctx, "LDAP_MANAGER_GROUP");
	const role = admin && groups.has(normaliseDirectoryName(admin))
		? "admin"
		: manager && groups.has(normaliseDirectoryName(manager))
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
