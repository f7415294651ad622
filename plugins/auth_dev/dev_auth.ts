/**
 * Local development auth plugin: no proxy, no directory. Requests without the X-Dev-User header
 * act as DEV_USER. It refuses to start unless the portal listens on a loopback address only, and
 * answers only requests that come from loopback, so it can never open a real deployment.
 */
import { type AuthRequestContext, isLoopback, type PluginContext } from "../../lib/plugins/contract.ts";
import { settingReader } from "../_shared.ts";
import * as defaults from "./plugin_settings.ts";

const setting = settingReader(defaults);

export function checkAuthStartup(ctx: PluginContext): void {
	if (!isLoopback(ctx.listen.hostname)) {
		throw new Error(
			`the development auth plugin only runs on a loopback address, but HOST is "${ctx.listen.hostname}"`,
		);
	}
}

export function getAuthHeader(ctx: PluginContext): string {
	return setting(ctx, "AUTH_HEADER");
}

export function anonymousAuthUser(_request: Request, ctx: AuthRequestContext): string | undefined {
	if (!isLoopback(ctx.remoteAddress)) return undefined;
	return setting(ctx, "DEV_USER");
}

/**
 * The username, capitalised, as the user's name ("developer" is Developer). No surname: pages that
 * show a name with its username would read "Developer (dev) (developer)".
 */
export function processAuthUserInfo(user: { username: string }): { firstName: string; lastName: string } {
	const name = user.username.charAt(0).toUpperCase() + user.username.slice(1);
	return { firstName: name, lastName: "" };
}
