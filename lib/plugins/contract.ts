/**
 * The plugin contract (the seed's): what auth, DNS and display plugins export, what they receive, the
 * defaults for what they leave out, and the few portal helpers they may use. Plugins import this
 * module (and `plugins/_shared.ts`) and nothing else of the portal, so a copied plugin folder keeps
 * working wherever the portal's code moves.
 */
import type { Logger } from "@logtape/logtape";
import type { Aws } from "../aws/types.ts";

export { isLoopback, sameAddress } from "../net.ts";
/** What `ctx.aws.ec2.describeImages` answers, for plugins that type it. */
export type { Ec2Image } from "../aws/types.ts";

/**
 * Normalises a directory name (DN or plain name) for comparison: the portal matches the names an
 * auth plugin returns to groups' directory names this way, and plugins compare names the same way.
 */
export function normaliseDirectoryName(name: string): string {
	return name.trim().toLowerCase().replace(/\s*([,=])\s*/g, "$1");
}

/** What plugins receive as their last argument: their settings and the portal's services. */
export interface PluginContext {
	/** PLUGIN_SETTINGS from the portal's settings (values override `plugin_settings.ts`). */
	settings: Readonly<Record<string, string>>;
	aws: Aws;
	log: Logger;
	/** Where the portal listens; the development auth plugin refuses non-loopback addresses. */
	listen: { hostname: string; port: number };
	/**
	 * How identity headers are guarded: `secretRequired` when the proxy must also send PROXY_SECRET
	 * (so an address in TRUSTED_PROXIES alone asserts nothing), `withoutSecretAccepted` when an
	 * operator set PROXY_SECRET_WAIVED. A plugin granting roles from headers checks these.
	 */
	proxy: { secretRequired: boolean; withoutSecretAccepted: boolean };
	/**
	 * The value of the secret param `token` (Admin → Params, marked secret: e.g. a DNS API key), read
	 * when called; undefined when there is no secret param of that name. It throws, saying so, when
	 * the portal's key cannot decrypt the stored value. A plugin never logs or returns it.
	 */
	secretParam(token: string): Promise<string | undefined>;
}

/** Per-request context for auth functions. */
export interface AuthRequestContext extends PluginContext {
	/** The TCP peer address of the request. */
	remoteAddress: string;
}

/** The user as plugins see it. */
export interface PluginUser {
	username: string;
	firstName: string;
	lastName: string;
	email: string;
}

/** Profile fields an auth plugin may return; `role` is the directory-derived role (revoked when absent). */
export interface AuthUserInfo {
	firstName?: string;
	lastName?: string;
	email?: string;
	role?: "user" | "manager" | "admin";
}

/**
 * What a sign-in through the browser (an OpenID Connect provider's redirect flow) tells the portal
 * about the user: the username (cleaned by `cleanAuthUsername`, then lower-cased), the profile and
 * directory role as `processAuthUserInfo` returns them, and the directory groups as
 * `processAuthUserGroups` does. The portal applies them exactly as it applies those two functions'
 * answers, once, at sign-in; its session cookie then stands for the user until it ends.
 */
export interface RedirectIdentity {
	username: string;
	info: AuthUserInfo;
	/** `undefined` leaves directory memberships untouched. */
	groups: string[] | undefined;
}

/**
 * A sign-in of the plugin's own, through the browser: the portal sends the browser to `begin`'s URL
 * and, when it comes back to `redirectUri`, hands `complete` what it kept. The portal owns the
 * routes, the cookies and the session; the plugin owns the protocol. With one, identity headers
 * are ignored entirely: a request is signed in by the portal's session cookie or not at all.
 */
export interface RedirectSignIn {
	/**
	 * Where to send the browser, and what the portal must keep until it returns (the PKCE verifier,
	 * the state and the nonce, as text): the portal keeps it in a signed, short-lived cookie.
	 */
	begin(input: { redirectUri: string }): Promise<{ url: string; pending: string }>;
	/**
	 * The user the provider's answer names. Throws when the answer is not one this sign-in asked for
	 * or cannot be verified (state, nonce, signature, issuer, audience, expiry): the portal then
	 * refuses the sign-in with a 4xx and logs the error's message (never a token).
	 */
	complete(input: { callbackUrl: URL; pending: string; redirectUri: string }): Promise<RedirectIdentity>;
	/** The provider's sign-out page (its `end_session_endpoint`), when it has one. */
	endSessionUrl(input: { postLogoutRedirectUri: string }): Promise<string | undefined>;
}

/** The auth functions (the seed's names) plus three portal extensions. */
export interface AuthPlugin {
	/** Name of the header carrying the username. */
	getAuthHeader(ctx: PluginContext): string;
	/** Normalises a username (e.g. strips a realm). The portal lower-cases it afterwards. */
	cleanAuthUsername(username: string, ctx: PluginContext): string;
	/** Profile from the request headers, applied on every login. */
	processAuthUserInfo(user: PluginUser, request: Request, ctx: AuthRequestContext): AuthUserInfo | void;
	/**
	 * Directory groups the user belongs to (full DNs or names), matched to groups' directory names.
	 * `undefined` leaves directory memberships untouched.
	 */
	processAuthUserGroups(user: PluginUser, request: Request, ctx: AuthRequestContext): string[] | undefined | void;
	/** Called once when a user is first created. */
	configureAuthUser(user: PluginUser, ctx: PluginContext): AuthUserInfo | void;
	/** Extension: refuse to start (throw) when the plugin is unsafe in this deployment. */
	checkAuthStartup(ctx: PluginContext): void;
	/** Extension: a username for requests without the identity header (development plugin only). */
	anonymousAuthUser(request: Request, ctx: AuthRequestContext): string | undefined;
	/** Extension: why this request may assert no identity at all (e.g. not from loopback), or nothing. */
	refuseAuthRequest(request: Request, ctx: AuthRequestContext): string | undefined;
	/**
	 * Extension: the plugin's own sign-in through the browser (see {@link RedirectSignIn}), or
	 * `undefined` for identity from headers. Asked once, when the portal starts.
	 */
	redirectSignIn(ctx: PluginContext): RedirectSignIn | undefined;
}

/** The DNS functions (the seed's names). `name` is the instance or cluster id. */
export interface DnsPlugin {
	/** The DNS name shown and linked in the UI; empty means "no DNS, show the IP". */
	dnsDisplayName(name: string, ip: string, ctx: PluginContext): string | Promise<string>;
	createDnsEntry(name: string, ip: string, ctx: PluginContext): unknown;
	deleteDnsEntry(name: string, ip: string, ctx: PluginContext): unknown;
	/** Extension: refuse to start (throw) when the plugin lacks what it needs, e.g. a domain name. */
	checkDnsStartup(ctx: PluginContext): void;
}

/** An extra column of the instance tables and the instance page, as a display plugin declares it. */
export interface DisplayColumn {
	/** The key its values are stored under (letters, digits, `_` and `-`, at most 40). */
	key: string;
	/** The column's heading, e.g. "AMI expiration" (at most 40 characters). */
	label: string;
}

/** An instance as display plugins see it: what the portal recorded, as of the sync that calls them. */
export interface PluginInstance {
	id: string;
	name: string;
	/** AWS state (pending, running, stopping, stopped, shutting-down) as the sync just saw it. */
	state: string;
	instanceType: string;
	/** The image the instance runs, as EC2 reports it (empty when unknown). */
	amiId: string;
	ownerUsername: string;
	groupName: string | null;
	configName: string | null;
	launchedAt: Date | null;
	/** Whether its controls are locked now, and why (the reason a plugin gave). */
	controlsLocked: boolean;
	controlsLockedReason: string | null;
}

/**
 * What display functions receive during a sync: the plugin context, when the sync runs, every
 * instance it refreshes (so a plugin can ask AWS once for all of them), and `once`, which runs
 * `compute` at most once per sync for a key and hands every caller the same promise.
 */
export interface DisplayContext extends PluginContext {
	now: Date;
	instances: readonly PluginInstance[];
	once<T>(key: string, compute: () => Promise<T>): Promise<T>;
}

/** What `onInstanceRefresh` may say: lock the controls (all but Terminate) with a reason, unlock, or nothing. */
export type ControlsLock = { locked: true; reason: string } | { locked: false };

/** What `replaceParams` receives about the launch it runs for. */
export interface LaunchParamsContext extends PluginContext {
	user: PluginUser;
	group: { name: string; directoryName: string | null };
	config: { name: string; amiId: string };
	instanceType: string;
	launchId: string;
}

/**
 * The display functions (the original's update and parameter plugins). They run in the sync and at
 * launch, never on a page request: pages show what the sync stored.
 */
export interface DisplayPlugin {
	/** The extra columns, read once at startup. */
	instanceColumns(ctx: PluginContext): DisplayColumn[];
	/** An instance's values of those columns by key; a key left out shows as "—". */
	displayValues(
		instance: PluginInstance,
		ctx: DisplayContext,
	): Record<string, string> | Promise<Record<string, string>>;
	/** Locks (or unlocks) the instance's controls; nothing (undefined) leaves them as they are. */
	onInstanceRefresh(
		instance: PluginInstance,
		ctx: DisplayContext,
	): ControlsLock | undefined | void | Promise<ControlsLock | undefined | void>;
	/**
	 * The `{{{token}}}` values of a launch's bootstrap script: receives them as the portal would put
	 * them in (group, params, settings; the first source of a token wins; neither the secret params
	 * nor the portal's own PROGRESS_TOKEN and LAUNCH_ID) and returns the tokens to add or change,
	 * which win over those sources. Never return a secret param's value: the bootstrap script is
	 * readable on the instance.
	 */
	replaceParams(
		params: Readonly<Record<string, string>>,
		ctx: LaunchParamsContext,
	): Record<string, string> | void | Promise<Record<string, string> | void>;
	/** Extension: refuse to start (throw) when the plugin lacks what it needs. */
	checkDisplayStartup(ctx: PluginContext): void;
}

export const AUTH_DEFAULTS: AuthPlugin = {
	getAuthHeader: () => "REMOTE_USER",
	cleanAuthUsername: (username) => username,
	processAuthUserInfo: () => {},
	processAuthUserGroups: () => undefined,
	configureAuthUser: () => {},
	checkAuthStartup: () => {},
	anonymousAuthUser: () => undefined,
	refuseAuthRequest: () => undefined,
	redirectSignIn: () => undefined,
};

export const DNS_DEFAULTS: DnsPlugin = {
	dnsDisplayName: () => "",
	createDnsEntry: () => undefined,
	deleteDnsEntry: () => undefined,
	checkDnsStartup: () => {},
};

export const DISPLAY_DEFAULTS: DisplayPlugin = {
	instanceColumns: () => [],
	displayValues: () => ({}),
	onInstanceRefresh: () => undefined,
	replaceParams: () => undefined,
	checkDisplayStartup: () => {},
};

/** A loaded plugin: its functions and which file each came from ("default" when none did). */
export interface LoadedPlugin<T> {
	functions: T;
	sources: Record<keyof T, string>;
	folder: string;
	embedded: boolean;
}

/** The loaded plugins, as passed around in the app's dependencies. */
export interface Plugins {
	auth: LoadedPlugin<AuthPlugin>;
	dns: LoadedPlugin<DnsPlugin>;
	/** The display plugin, with the extra columns it declared at startup (checked). */
	display: LoadedPlugin<DisplayPlugin> & { columns: readonly DisplayColumn[] };
	context: PluginContext;
	/** The auth plugin's sign-in through the browser, asked once at startup; none: identity from headers. */
	redirectSignIn?: RedirectSignIn;
}
