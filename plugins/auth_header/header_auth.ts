/**
 * Header (single sign-on) auth plugin: the reverse proxy authenticates the user and passes the
 * username in REMOTE_USER (configurable). The portal trusts it only from TRUSTED_PROXIES.
 */
import type { AuthUserInfo, PluginContext } from "../../lib/plugins/contract.ts";
import { settingReader, stripListedRealm } from "../_shared.ts";
import * as defaults from "./plugin_settings.ts";

const setting = settingReader(defaults);

/** The username without its realm or domain, when that is one of REALMS. */
export function cleanAuthUsername(username: string, ctx: PluginContext): string {
	return stripListedRealm(username, setting(ctx, "REALMS"));
}

export function getAuthHeader(ctx: PluginContext): string {
	return setting(ctx, "AUTH_HEADER");
}

export function processAuthUserInfo(_user: unknown, request: Request, ctx: PluginContext): AuthUserInfo {
	const read = (name: keyof typeof defaults) => {
		const header = setting(ctx, name);
		return header ? request.headers.get(header) ?? undefined : undefined;
	};
	return { firstName: read("GIVEN_NAME_HEADER"), lastName: read("SURNAME_HEADER"), email: read("EMAIL_HEADER") };
}
