/**
 * Local development auth plugin: no proxy, no directory. Requests without the X-Dev-User header
 * act as DEV_USER. It refuses to start unless the portal listens on a loopback address only, and
 * answers only requests from 127.0.0.1 and ::1, so it can never open a real deployment.
 */
import { type AuthRequestContext, isLoopback, type PluginContext, sameAddress } from "../../lib/plugins/contract.ts";
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

/**
 * Whether the peer is this machine's own 127.0.0.1 or ::1. Not the rest of 127.0.0.0/8: those
 * addresses can be bound by other software on the machine (containers, local proxies), and the
 * plugin is for one developer's browser.
 */
function fromThisMachine(ctx: AuthRequestContext): boolean {
	return sameAddress(ctx.remoteAddress, "127.0.0.1") || sameAddress(ctx.remoteAddress, "::1");
}

/** Every identity, the X-Dev-User header's too, answers only 127.0.0.1 and ::1. */
export function refuseAuthRequest(_request: Request, ctx: AuthRequestContext): string | undefined {
	return fromThisMachine(ctx) ? undefined : "the development auth plugin answers only 127.0.0.1 and ::1";
}

export function anonymousAuthUser(_request: Request, ctx: AuthRequestContext): string | undefined {
	return fromThisMachine(ctx) ? setting(ctx, "DEV_USER") : undefined;
}

/**
 * The username, capitalised, as the user's name ("developer" is Developer). No surname: pages that
 * show a name with its username would read "Developer (dev) (developer)".
 */
export function processAuthUserInfo(user: { username: string }): { firstName: string; lastName: string } {
	const name = user.username.charAt(0).toUpperCase() + user.username.slice(1);
	return { firstName: name, lastName: "" };
}
