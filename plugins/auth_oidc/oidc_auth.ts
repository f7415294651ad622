/**
 * OpenID Connect auth plugin: the portal signs users in with the provider's authorization code flow
 * (PKCE with S256, a state and a nonce), through `openid-client` (panva's certified relying party
 * library). The ID token is verified in full, its signature included (`enableNonRepudiationChecks`:
 * by default the library trusts a token endpoint's answer over TLS without checking it), and the
 * user's username, names, email and groups are read from its claims, named by the plugin settings.
 * Groups map to the portal's groups by directory name, and the admin and manager roles to exact
 * group names, as `auth_ldap` maps its DNs. The portal keeps the session; identity headers are
 * ignored while this plugin is the auth plugin.
 */
import * as oidc from "openid-client";
import {
	type AuthUserInfo,
	isLoopback,
	normaliseDirectoryName,
	type PluginContext,
	type RedirectIdentity,
	type RedirectSignIn,
} from "../../lib/plugins/contract.ts";
import { settingReader } from "../_shared.ts";
import * as defaults from "./plugin_settings.ts";

const setting = settingReader(defaults);

/** Refuses to start without an issuer and a client id, or with an issuer that is neither https nor loopback. */
export function checkAuthStartup(ctx: PluginContext): void {
	const issuer = setting(ctx, "OIDC_ISSUER");
	if (!issuer || !setting(ctx, "OIDC_CLIENT_ID")) {
		throw new Error("OIDC_ISSUER and OIDC_CLIENT_ID must be set in PLUGIN_SETTINGS (README, OpenID Connect sign-in)");
	}
	const url = URL.parse(issuer);
	if (!url || !(url.protocol === "https:" || (url.protocol === "http:" && loopbackHost(url)))) {
		throw new Error(`OIDC_ISSUER must be an https:// URL (http:// only on loopback), not "${issuer.slice(0, 200)}"`);
	}
}

function loopbackHost(url: URL): boolean {
	return url.hostname === "localhost" || isLoopback(url.hostname.replace(/^\[|\]$/g, ""));
}

export function redirectSignIn(ctx: PluginContext): RedirectSignIn {
	let configuration: Promise<oidc.Configuration> | undefined;
	/** The provider's metadata, read on first use and kept; a failed read is tried again next time. */
	const provider = (): Promise<oidc.Configuration> => {
		configuration ??= discover(ctx).catch((error) => {
			configuration = undefined;
			throw error;
		});
		return configuration;
	};
	return {
		async begin({ redirectUri }) {
			const config = await provider();
			const verifier = oidc.randomPKCECodeVerifier();
			const state = oidc.randomState();
			const nonce = oidc.randomNonce();
			const url = oidc.buildAuthorizationUrl(config, {
				redirect_uri: redirectUri,
				scope: setting(ctx, "OIDC_SCOPES"),
				code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
				code_challenge_method: "S256",
				state,
				nonce,
			});
			return { url: url.href, pending: JSON.stringify({ verifier, state, nonce }) };
		},
		async complete({ callbackUrl, pending, redirectUri }) {
			const kept = JSON.parse(pending) as { verifier: string; state: string; nonce: string };
			const config = await provider();
			// The redirect URI sent with the code is the callback URL without its query (the library's rule).
			if (`${callbackUrl.origin}${callbackUrl.pathname}` !== redirectUri) throw new Error("not the redirect URI");
			const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
				pkceCodeVerifier: kept.verifier,
				expectedState: kept.state,
				expectedNonce: kept.nonce,
				idTokenExpected: true,
			}).catch((error) => {
				// The provider's own refusal (e.g. invalid_grant) says more than the library's wrapper.
				if (error instanceof oidc.ResponseBodyError) {
					throw new Error(`the token endpoint refused the code: ${error.error} (${error.error_description ?? ""})`);
				}
				// The library's message is generic ("invalid response encountered"); the cause names the check.
				const cause = (error as Error).cause;
				throw cause instanceof Error ? new Error(`${(error as Error).message}: ${cause.message}`) : error;
			});
			const claims = tokens.claims();
			if (!claims) throw new Error("the provider sent no ID token");
			return identityOf(claims, ctx);
		},
		async endSessionUrl({ postLogoutRedirectUri }) {
			const config = await provider();
			if (!config.serverMetadata().end_session_endpoint) return undefined;
			return oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutRedirectUri }).href;
		},
	};
}

async function discover(ctx: PluginContext): Promise<oidc.Configuration> {
	const issuer = new URL(setting(ctx, "OIDC_ISSUER"));
	const secret = setting(ctx, "OIDC_CLIENT_SECRET");
	const config = await oidc.discovery(
		issuer,
		setting(ctx, "OIDC_CLIENT_ID"),
		secret || undefined,
		secret ? oidc.ClientSecretBasic(secret) : oidc.None(),
		// checkAuthStartup allowed http only on loopback (a provider on the same machine, or a test's).
		{ execute: issuer.protocol === "http:" ? [oidc.allowInsecureRequests] : [], timeout: 10 },
	);
	oidc.enableNonRepudiationChecks(config);
	return config;
}

/** A claim as text: a string as it is, a number as digits, anything else nothing. */
function text(claims: Record<string, unknown>, name: string): string | undefined {
	const value = name ? claims[name] : undefined;
	return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

/** The groups claim as names: a list of strings, or one string of names separated by commas. */
function groupsOf(claims: Record<string, unknown>, name: string): string[] | undefined {
	if (!name) return undefined;
	const value = claims[name];
	if (value === undefined || value === null) return [];
	const names = Array.isArray(value)
		? value.filter((v) => typeof v === "string")
		: typeof value === "string"
		? value.split(",")
		: [];
	return names.map((group) => group.trim()).filter(Boolean);
}

/** The user an ID token's (verified) claims name, with the role their groups grant. */
export function identityOf(claims: Record<string, unknown>, ctx: PluginContext): RedirectIdentity {
	const username = text(claims, setting(ctx, "OIDC_USERNAME_CLAIM"));
	if (!username) throw new Error(`the ID token has no ${setting(ctx, "OIDC_USERNAME_CLAIM")} claim`);
	const groups = groupsOf(claims, setting(ctx, "OIDC_GROUPS_CLAIM"));
	const names = new Set((groups ?? []).map(normaliseDirectoryName));
	const admin = setting(ctx, "OIDC_ADMIN_GROUP");
	const manager = setting(ctx, "OIDC_MANAGER_GROUP");
	const info: AuthUserInfo = {
		firstName: text(claims, setting(ctx, "OIDC_FIRST_NAME_CLAIM")),
		lastName: text(claims, setting(ctx, "OIDC_LAST_NAME_CLAIM")),
		email: text(claims, setting(ctx, "OIDC_EMAIL_CLAIM")),
		role: admin && names.has(normaliseDirectoryName(admin))
			? "admin"
			: manager && names.has(normaliseDirectoryName(manager))
			? "manager"
			: "user",
	};
	return { username, info, groups };
}
