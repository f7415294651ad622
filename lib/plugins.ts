/**
 * The plugin loader (the seed's contract): every `.ts`/`.js` file in the configured folder is
 * imported and the known functions are collected by name. Two files in one folder exporting the
 * same function stop startup with both names; a function no file exports falls back to its default.
 *
 * A folder that exists on disk is scanned and imported at run time. A folder that does not exist
 * but names a shipped plugin (`plugins/auth_header`, ...) is taken from the copy embedded in the
 * program, so a bundle or compiled binary always has the shipped plugins.
 */
import type { Logger } from "@logtape/logtape";
import { PluginError } from "./errors.ts";
import type { Aws } from "./aws/types.ts";
import { SHIPPED_PLUGINS } from "../plugins/mod.ts";

/** What plugins receive as their last argument: their settings and the portal's services. */
export interface PluginContext {
	/** PLUGIN_SETTINGS from the portal's settings (values override `plugin_settings.ts`). */
	settings: Readonly<Record<string, string>>;
	aws: Aws;
	log: Logger;
	/** Where the portal listens; the development auth plugin refuses non-loopback addresses. */
	listen: { hostname: string; port: number };
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

/** The auth functions (the seed's names) plus two portal extensions. */
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

export const AUTH_DEFAULTS: AuthPlugin = {
	getAuthHeader: () => "REMOTE_USER",
	cleanAuthUsername: (username) => username,
	processAuthUserInfo: () => {},
	processAuthUserGroups: () => undefined,
	configureAuthUser: () => {},
	checkAuthStartup: () => {},
	anonymousAuthUser: () => undefined,
};

export const DNS_DEFAULTS: DnsPlugin = {
	dnsDisplayName: () => "",
	createDnsEntry: () => undefined,
	deleteDnsEntry: () => undefined,
	checkDnsStartup: () => {},
};

/** A loaded plugin: its functions and which file each came from ("default" when none did). */
export interface LoadedPlugin<T> {
	functions: T;
	sources: Record<keyof T, string>;
	folder: string;
	embedded: boolean;
}

type Module = Record<string, unknown>;

/** Loads one plugin folder, taking the named functions from its files and defaults for the rest. */
export async function loadPluginFolder<T extends object>(folder: string, defaults: T): Promise<LoadedPlugin<T>> {
	const { modules, embedded } = await importFolder(folder);
	const names = Object.keys(defaults) as (keyof T & string)[];
	const found = new Map<string, { fn: unknown; file: string }>();
	for (const [file, module] of modules) {
		for (const name of names) {
			if (!(name in module)) continue;
			const value = module[name];
			if (typeof value !== "function") {
				throw new PluginError(`Cannot load plugin folder "${folder}": "${name}" in ${file} is not a function`);
			}
			const earlier = found.get(name);
			if (earlier) {
				throw new PluginError(
					`Cannot load plugin folder "${folder}": function "${name}" is exported by both ${earlier.file} and ${file}; keep it in one file`,
				);
			}
			found.set(name, { fn: value, file });
		}
	}
	const functions = { ...defaults } as Record<string, unknown>;
	const sources = {} as Record<string, string>;
	for (const name of names) {
		const hit = found.get(name);
		if (hit) functions[name] = hit.fn;
		sources[name] = hit?.file ?? "default";
	}
	return { functions: functions as T, sources: sources as Record<keyof T, string>, folder, embedded };
}

async function importFolder(folder: string): Promise<{ modules: [string, Module][]; embedded: boolean }> {
	const absolute = toAbsolute(folder);
	let entries: string[] | undefined;
	try {
		entries = [];
		for await (const entry of Deno.readDir(absolute)) {
			if (entry.isFile && /\.(ts|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) entries.push(entry.name);
		}
	} catch (error) {
		if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) entries = undefined;
		else throw new PluginError(`Cannot read plugin folder "${folder}": ${(error as Error).message}`, { cause: error });
	}
	if (entries === undefined) {
		const shipped = Object.hasOwn(SHIPPED_PLUGINS, shippedName(folder))
			? SHIPPED_PLUGINS[shippedName(folder)]
			: undefined;
		if (!shipped) {
			throw new PluginError(
				`Cannot load plugin folder "${folder}": it does not exist, and it is not a shipped plugin (${
					Object.keys(SHIPPED_PLUGINS).map((n) => `plugins/${n}`).join(", ")
				})`,
			);
		}
		const name = shippedName(folder);
		const modules = Object.entries(shipped).map((
			[file, module],
		): [string, Module] => [`plugins/${name}/${file}`, module]);
		return { modules: modules.sort(([a], [b]) => a.localeCompare(b)), embedded: true };
	}
	entries.sort();
	const modules: [string, Module][] = [];
	for (const name of entries) {
		const path = `${absolute}/${name}`;
		try {
			modules.push([`${folder.replace(/\/+$/, "")}/${name}`, await import(toFileUrl(path)) as Module]);
		} catch (error) {
			throw new PluginError(
				`Cannot load plugin file "${path}": ${(error as Error).message}. ` +
					'A compiled binary can only import plugin files it can read and compile at run time; see README "Plugins"',
				{ cause: error },
			);
		}
	}
	return { modules, embedded: false };
}

function shippedName(folder: string): string {
	return folder.replace(/\/+$/, "").replace(/^\.\//, "").replace(/^plugins\//, "");
}

function toAbsolute(path: string): string {
	return path.startsWith("/") ? path : `${Deno.cwd()}/${path.replace(/^\.\//, "")}`;
}

function toFileUrl(path: string): string {
	return new URL(`file://${path.split("/").map(encodeURIComponent).join("/")}`).href;
}

/** The loaded auth and DNS plugins, as passed around in the app's dependencies. */
export interface Plugins {
	auth: LoadedPlugin<AuthPlugin>;
	dns: LoadedPlugin<DnsPlugin>;
	context: PluginContext;
}

/** Loads the configured auth and DNS plugin folders and runs the auth plugin's startup check. */
export async function loadPlugins(
	folders: { auth: string; dns: string },
	context: PluginContext,
): Promise<Plugins> {
	const auth = await loadPluginFolder<AuthPlugin>(folders.auth, AUTH_DEFAULTS);
	const dns = await loadPluginFolder<DnsPlugin>(folders.dns, DNS_DEFAULTS);
	for (
		const [folder, check] of [[folders.auth, auth.functions.checkAuthStartup], [
			folders.dns,
			dns.functions.checkDnsStartup,
		]] as const
	) {
		try {
			check(context);
		} catch (error) {
			throw new PluginError(`Cannot start with plugin folder "${folder}": ${(error as Error).message}`, {
				cause: error,
			});
		}
	}
	return { auth, dns, context };
}
