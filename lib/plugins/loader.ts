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
	DISPLAY_DEFAULTS,
	type DisplayColumn,
	type DisplayPlugin,
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

/** The display plugin folder when none is configured: no extra columns, no locks, no tokens. */
export const NO_DISPLAY_PLUGIN = "plugins/display_none";

/** How many extra columns a display plugin may declare (a table stays readable). */
const MAX_DISPLAY_COLUMNS = 6;

/** Checks the columns a display plugin declares: keys unique and plain, labels short. */
function checkedColumns(columns: unknown): DisplayColumn[] {
	if (!Array.isArray(columns)) throw new Error("instanceColumns() must return a list of { key, label }");
	if (columns.length > MAX_DISPLAY_COLUMNS) {
		throw new Error(`instanceColumns() declares ${columns.length} columns; at most ${MAX_DISPLAY_COLUMNS} fit a table`);
	}
	const seen = new Set<string>();
	return columns.map((column) => {
		const { key, label } = (column ?? {}) as Partial<DisplayColumn>;
		if (typeof key !== "string" || !/^[A-Za-z0-9_-]{1,40}$/.test(key)) {
			throw new Error(`a column key must be 1-40 letters, digits, _ or -: ${JSON.stringify(key)?.slice(0, 60)}`);
		}
		if (typeof label !== "string" || !label.trim() || label.length > 40) {
			throw new Error(`column "${key}" needs a label of 1-40 characters`);
		}
		if (seen.has(key)) throw new Error(`column key "${key}" is declared twice`);
		seen.add(key);
		return { key, label: label.trim() };
	});
}

/**
 * Loads the configured auth, DNS and display plugin folders, runs their startup checks and reads
 * the display plugin's columns once.
 */
export async function loadPlugins(
	folders: { auth: string; dns: string; display?: string },
	context: PluginContext,
	options: LoadOptions = {},
): Promise<Plugins> {
	const displayFolder = folders.display ?? NO_DISPLAY_PLUGIN;
	const auth = await loadPluginFolder<AuthPlugin>(folders.auth, AUTH_DEFAULTS, options);
	const dns = await loadPluginFolder<DnsPlugin>(folders.dns, DNS_DEFAULTS, options);
	const display = await loadPluginFolder<DisplayPlugin>(displayFolder, DISPLAY_DEFAULTS, options);
	let columns: DisplayColumn[] = [];
	for (
		const [folder, check] of [
			[folders.auth, () => auth.functions.checkAuthStartup(context)],
			[folders.dns, () => dns.functions.checkDnsStartup(context)],
			[displayFolder, () => {
				display.functions.checkDisplayStartup(context);
				columns = checkedColumns(display.functions.instanceColumns(context));
			}],
		] as const
	) {
		try {
			check();
		} catch (error) {
			throw new PluginError(`Cannot start with plugin folder "${folder}": ${(error as Error).message}`, {
				cause: error,
			});
		}
	}
	return {
		auth,
		dns,
		display: { ...display, columns },
		context,
		redirectSignIn: auth.functions.redirectSignIn(context),
	};
}
