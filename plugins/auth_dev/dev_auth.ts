/**
 * Local development auth plugin: no proxy, no directory. Requests without the X-Dev-User header
 * act as DEV_USER. It refuses to start unless the portal listens on a loopback address only, and
 * answers only requests that come from loopback, so it can never open a real deployment.
 */
import type { AuthRequestContext, PluginContext } from "../../lib/plugins.ts";
import * as defaults from "./plugin_settings.ts";

function isLoopback(host: string): boolean {
	const h = host.replace(/^\[|\]$/g, "").toLowerCase();
	return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

export function checkAuthStartup(ctx: PluginContext): void {
	if (!isLoopback(ctx.listen.hostname)) {
		throw new Error(
			`the development auth plugin only runs on a loopback address, but HOST is "${ctx.listen.hostname}"`,
		);
	}
}

export function getAuthHeader(ctx: PluginContext): string {
	return ctx.settings.AUTH_HEADER ?? defaults.AUTH_HEADER;
}

export function anonymousAuthUser(_request: Request, ctx: AuthRequestContext): string | undefined {
	if (!isLoopback(ctx.remoteAddress)) return undefined;
	return ctx.settings.DEV_USER ?? defaults.DEV_USER;
}

export function processAuthUserInfo(user: { username: string }): { firstName: string; lastName: string } {
	const name = user.username.charAt(0).toUpperCase() + user.username.slice(1);
	return { firstName: name, lastName: "(dev)" };
}
