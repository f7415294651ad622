/**
 * The plugin loader (the seed's contract): every `.ts`/`.js` file in the configured folder is
 * imported and the known functions are collected by name. Two files in one folder exporting the
 * same function stop startup with both names; a function no file exports falls back to its default.
 *
 * A folder that exists on disk is scanned and imported at run time. A folder that does not exist
 * but names a shipped plugin (`plugins/auth_header`, ...) is taken from the copy embedded in the
 * program, which the composition root passes in, so a bundle or compiled binary always has the
 * shipped plugins.
 */
import { PluginError } from "../errors.ts";
import {
	AUTH_DEFAULTS,
	type AuthPlugin,
	DNS_DEFAULTS,
	type DnsPlugin,
	type LoadedPlugin,
	type PluginContext,
	type Plugins,
} from "./contract.ts";

/** Shipped plugin folders by name (`auth_header`), each file name → module. */
export type ShippedPlugins = Readonly<Record<string, Record<string, Record<string, unknown>>>>;

/** Where a folder that is not on disk is looked for. */
export interface LoadOptions {
	/** The shipped plugins embedded in the program; none by default. */
	shipped?: ShippedPlugins;
}

type Module = Record<string, unknown>;

/** Loads one plugin folder, taking the named functions from its files and defaults for the rest. */
export async function loadPluginFolder<T extends object>(
	folder: string,
	defaults: T,
	options: LoadOptions = {},
): Promise<LoadedPlugin<T>> {
	const { modules, embedded } = await importFolder(folder, options.shipped ?? {});
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

async function importFolder(
	folder: string,
	shippedPlugins: ShippedPlugins,
): Promise<{ modules: [string, Module][]; embedded: boolean }> {
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
		const shipped = Object.hasOwn(shippedPlugins, shippedName(folder))
			? shippedPlugins[shippedName(folder)]
			: undefined;
		if (!shipped) {
			throw new PluginError(
				`Cannot load plugin folder "${folder}": it does not exist, and it is not a shipped plugin (${
					Object.keys(shippedPlugins).map((n) => `plugins/${n}`).join(", ")
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

/** Loads the configured auth and DNS plugin folders and runs the auth plugin's startup check. */
export async function loadPlugins(
	folders: { auth: string; dns: string },
	context: PluginContext,
	options: LoadOptions = {},
): Promise<Plugins> {
	const auth = await loadPluginFolder<AuthPlugin>(folders.auth, AUTH_DEFAULTS, options);
	const dns = await loadPluginFolder<DnsPlugin>(folders.dns, DNS_DEFAULTS, options);
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
	return { auth, dns, context, redirectSignIn: auth.functions.redirectSignIn(context) };
}
