/**
 * The catalogue as a folder of files, so it can live in git (README "The catalogue from a folder"):
 *
 *     catalog.yaml         version: 1 and the document's other sections (instanceTypes, securityGroups,
 *                          params, groups, users); catalog.json instead is fine
 *     configs/<any>.yaml   one configuration each (.yaml, .yml or .json): the document's configuration
 *                          fields, with `template: <file in templates/>` instead of templateBody and
 *                          `script: <file in scripts/>` instead of userDataBody
 *     templates/<file>     CloudFormation templates (YAML or JSON), shared by any configurations naming them
 *     scripts/<file>       bootstrap scripts
 *
 * Reading it gives the same document the admin import takes, and the sync applies it through that
 * import (apply.ts); writing it is the export. Anything else in the folder (a README, .git) is left alone.
 */
import { parse as parseYaml, stringify as toYaml } from "yaml";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { applyCatalog, type ApplyOrigin, type CatalogChange, countChanges } from "./apply.ts";
import { type CatalogDocument, DOCUMENT_FIELDS } from "./document.ts";

/** The names the folder's main file may have; one of them must be there. */
const CATALOG_FILES = ["catalog.yaml", "catalog.yml", "catalog.json"];
/** The sections of catalog.yaml (the configurations have their own files). */
const MAIN_SECTIONS = ["instanceTypes", "securityGroups", "params", "groups", "users"] as const;
const CONFIG_FILE = /\.(ya?ml|json)$/;
/** A file a configuration names: a plain name in its folder, never a path out of it. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A folder that cannot be read as a catalogue: a 422 whose message names the file and what is wrong. */
function bad(message: string): never {
	throw new UserError(422, message);
}

type Item = Record<string, unknown>;

function isObject(value: unknown): value is Item {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The files (not folders, not hidden) of a subfolder, by name; none when it does not exist. */
async function filesIn(folder: string, sub: string): Promise<string[]> {
	const names: string[] = [];
	try {
		for await (const entry of Deno.readDir(`${folder}/${sub}`)) {
			if (entry.name.startsWith(".")) continue;
			if (!entry.isFile) bad(`${sub}/${entry.name} is not a file (${sub}/ holds files only)`);
			names.push(entry.name);
		}
	} catch (error) {
		if (error instanceof Deno.errors.NotFound) return [];
		throw error;
	}
	return names.sort();
}

/** A JSON or YAML file's content; a clear refusal naming the file when it is neither. */
async function readStructured(folder: string, file: string): Promise<unknown> {
	const text = await Deno.readTextFile(`${folder}/${file}`);
	if (!text.trim()) bad(`${file} is empty`);
	try {
		return file.endsWith(".json") ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100, logLevel: "error" });
	} catch (error) {
		bad(`${file} is not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(error as Error).message.split("\n")[0]}`);
	}
}

/** Refuses a field the import does not read (it would be silently ignored: a typo, or the wrong file). */
function checkFields(item: Item, known: readonly string[], where: string): void {
	const unknown = Object.keys(item).filter((field) => !known.includes(field));
	if (unknown.length) {
		bad(
			`${where}: unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((f) => `"${f}"`).join(", ")} (known: ${
				known.join(", ")
			})`,
		);
	}
}

/** The fields of a configuration's file: the document's, with the template and script named by file. */
const CONFIG_FIELDS = [
	...DOCUMENT_FIELDS.configs.filter((f) => f !== "templateBody" && f !== "userDataBody"),
	"template",
	"script",
];

/** What a folder holds, as the admin import's document, and where each configuration came from. */
export interface CatalogFolder {
	document: { version: unknown; configs: Item[] } & Record<string, unknown>;
	/** The main file's name (catalog.yaml, …). */
	catalogFile: string;
	/** The file each configuration of the document came from, in the document's order. */
	configFiles: string[];
	/** Templates and scripts no configuration names (reported; they change nothing). */
	unusedFiles: string[];
}

/**
 * Reads a catalogue folder into the admin import's document. Refused, naming the file: a missing
 * folder or main file, a file that is not valid JSON or YAML, a field the import does not read,
 * a template or script a configuration names that is not there, two files with one configuration.
 */
export async function readCatalogFolder(folder: string): Promise<CatalogFolder> {
	let info: Deno.FileInfo;
	try {
		info = await Deno.stat(folder);
	} catch (error) {
		if (error instanceof Deno.errors.NotFound) bad(`${folder} does not exist`);
		throw error;
	}
	if (!info.isDirectory) bad(`${folder} is not a folder`);

	const present: string[] = [];
	for (const name of CATALOG_FILES) {
		if (await Deno.stat(`${folder}/${name}`).then((i) => i.isFile, () => false)) present.push(name);
	}
	if (present.length === 0) {
		bad(`${folder} has no catalog.yaml (or catalog.json): it holds version: 1 and the catalogue`);
	}
	if (present.length > 1) bad(`${folder} has both ${present.join(" and ")}: keep one`);
	const catalogFile = present[0]!;
	const main = await readStructured(folder, catalogFile);
	if (!isObject(main)) bad(`${catalogFile} must hold a mapping of sections (version: 1, instanceTypes: …)`);
	if ("configs" in main) bad(`${catalogFile}: configurations go in configs/, one file each, not in ${catalogFile}`);
	checkFields(main, ["version", ...MAIN_SECTIONS], catalogFile);
	for (const section of MAIN_SECTIONS) {
		const items = main[section];
		if (items === undefined || items === null) continue;
		if (!Array.isArray(items)) bad(`${catalogFile}: ${section} must be a list`);
		for (const [i, item] of items.entries()) {
			if (!isObject(item)) bad(`${catalogFile}: ${section}[${i}] must be a mapping of fields`);
			checkFields(item, DOCUMENT_FIELDS[section], `${catalogFile}: ${section}[${i}]`);
		}
	}

	const templates = await filesIn(folder, "templates");
	const scripts = await filesIn(folder, "scripts");
	const used = new Set<string>();
	/** The text of the file a configuration names in `sub`. */
	const named = async (value: unknown, sub: "templates" | "scripts", field: string, where: string) => {
		if (typeof value !== "string" || !FILE_NAME.test(value)) {
			bad(
				`${where}: ${field} must be the name of a file in ${sub}/ (like ${
					field === "template" ? "instance.yaml" : "bootstrap.sh"
				})`,
			);
		}
		if (!(sub === "templates" ? templates : scripts).includes(value)) {
			bad(`${where}: ${field} "${value}" is not in ${sub}/`);
		}
		used.add(`${sub}/${value}`);
		return await Deno.readTextFile(`${folder}/${sub}/${value}`);
	};

	const configs: Item[] = [];
	const configFiles: string[] = [];
	const fileOfName = new Map<string, string>();
	for (const name of await filesIn(folder, "configs")) {
		const file = `configs/${name}`;
		if (!CONFIG_FILE.test(name)) bad(`${file} is not a configuration file (.yaml, .yml or .json)`);
		const config = await readStructured(folder, file);
		if (!isObject(config)) bad(`${file} must hold one configuration (name: …, template: …)`);
		checkFields(config, CONFIG_FIELDS, file);
		const { template, script, ...fields } = config;
		if (template === undefined) bad(`${file}: no template: name its CloudFormation file in templates/`);
		const configName = String(fields.name ?? "").trim();
		const other = fileOfName.get(configName);
		if (other) bad(`${other} and ${file} both define the configuration "${configName}"`);
		fileOfName.set(configName, file);
		configs.push({
			...fields,
			templateBody: await named(template, "templates", "template", file),
			...(script === undefined ? {} : { userDataBody: await named(script, "scripts", "script", file) }),
		});
		configFiles.push(file);
	}
	const unusedFiles = [...templates.map((t) => `templates/${t}`), ...scripts.map((s) => `scripts/${s}`)].filter((f) =>
		!used.has(f)
	);
	return {
		// An empty section in YAML ("users:") is null: the same as leaving it out.
		document: {
			...Object.fromEntries(Object.entries(main).filter(([, value]) => value !== null)),
			version: main.version,
			configs,
		},
		catalogFile,
		configFiles,
		unusedFiles,
	};
}

/**
 * An import refusal ("The document is not valid at configs.2: templateBody: …") in the folder's
 * terms: the file the item came from, and the file fields' names.
 */
function inFolderTerms(message: string, folder: CatalogFolder): string {
	return message
		.replace(/^The document is not valid at /, "")
		.replace(/^(\w+)\.(\d+)(?:\.([\w.]+))?/, (whole, section: string, index: string, rest?: string) => {
			const i = Number(index);
			if (section === "configs") return `${folder.configFiles[i] ?? whole}${rest ? `: ${rest}` : ""}`;
			return `${folder.catalogFile}: ${section}[${i}]${rest ? `.${rest}` : ""}`;
		})
		.replace(/^version: /, `${folder.catalogFile}: `)
		.replaceAll("templateBody", "template").replaceAll("userDataBody", "script");
}

export interface FolderSync {
	folder: string;
	dryRun: boolean;
	changes: CatalogChange[];
	written: boolean;
	unusedFiles: string[];
}

/**
 * Syncs the catalogue from a folder: reads it, then applies the document through the admin import
 * (applyCatalog: audited, nothing deleted, nothing written by a dry run or when nothing changes).
 * A bad folder or a refused item is a 422 naming the file; nothing is changed then.
 */
export async function syncCatalogFolder(
	deps: Pick<Deps, "db" | "paramsKey" | "clock">,
	folder: string,
	options: { dryRun: boolean; origin: Omit<ApplyOrigin, "resource" | "action"> },
): Promise<FolderSync> {
	const read = await readCatalogFolder(folder).catch((error) => {
		// A file the portal's account may not read is the folder's problem too, said as such.
		if (error instanceof Deno.errors.PermissionDenied) throw new UserError(422, `${folder}: ${error.message}`);
		throw error;
	});
	try {
		const outcome = await applyCatalog(deps, read.document, {
			dryRun: options.dryRun,
			origin: { ...options.origin, action: "catalog-sync", resource: folder },
		});
		return { folder, dryRun: options.dryRun, ...outcome, unusedFiles: read.unusedFiles };
	} catch (error) {
		if (error instanceof UserError && error.status === 422) {
			throw new UserError(422, inFolderTerms(error.message, read), { cause: error });
		}
		throw error;
	}
}

const SIGN: Record<CatalogChange["change"], string> = { added: "+", changed: "~", unchanged: "=", absent: "?" };
const WORD: Record<CatalogChange["change"], string> = {
	added: "added",
	changed: "changed",
	unchanged: "unchanged",
	absent: "not in the folder (kept)",
};

/** How many stored items of one section the folder does not name are listed by name; more are counted. */
const ABSENT_LISTED = 10;

/** The sync's report, one line per item and a summary, as the command prints it and the start logs it. */
export function describeFolderSync(sync: FolderSync): string {
	const lines: string[] = [];
	for (const section of new Set(sync.changes.map((c) => c.section))) {
		const items = sync.changes.filter((c) => c.section === section);
		for (const c of items) {
			if (c.change !== "absent") lines.push(`${SIGN[c.change]} ${c.what} ${c.key}: ${WORD[c.change]}`);
		}
		// Stored items the folder does not name are kept; many of them (users who signed in) are counted, not listed.
		const absent = items.filter((c) => c.change === "absent");
		if (absent.length > ABSENT_LISTED) {
			const names = absent.slice(0, ABSENT_LISTED).map((c) => c.key).join(", ");
			lines.push(`? ${absent.length} ${absent[0]!.what}s: ${WORD.absent}, among them ${names}`);
		} else for (const c of absent) lines.push(`? ${c.what} ${c.key}: ${WORD.absent}`);
	}
	for (const file of sync.unusedFiles) lines.push(`! ${file}: named by no configuration (not loaded)`);
	const counts = countChanges(sync.changes, "not in the folder");
	const touched = sync.changes.some((c) => c.change === "added" || c.change === "changed");
	lines.push(
		!touched
			? `${counts}: no change, nothing written`
			: sync.dryRun
			? `${counts}: dry run, nothing written (run without --dry-run to apply)`
			: `${counts}: applied`,
	);
	return lines.join("\n");
}

/** A file name for a configuration's files: its name in lower case, other characters as dashes. */
function slug(name: string): string {
	return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "config";
}

/** The first of `base`, `base-2`, … that `taken` does not hold (which it then does). */
function unique(base: string, extension: string, taken: Set<string>): string {
	let name = `${base}${extension}`;
	for (let n = 2; taken.has(name); n++) name = `${base}-${n}${extension}`;
	taken.add(name);
	return name;
}

const HEADER =
	'# The MLiy catalogue (README "The catalogue from a folder"): `./mliy catalog:sync <this folder>` loads it.\n' +
	"# Configurations are in configs/, one file each; their templates and scripts in templates/ and scripts/.\n";

/**
 * Writes a document (the export) as a catalogue folder: catalog.yaml, one file per configuration,
 * and its template and script, each template or script written once however many configurations
 * share it. Files of configs/, templates/ and scripts/ it did not write (configurations since
 * removed) are deleted, so syncing the folder gives back what was exported; anything else in the
 * folder is left alone. Returns the files written, relative to the folder.
 */
export async function writeCatalogFolder(folder: string, doc: CatalogDocument): Promise<string[]> {
	const files = new Map<string, string>();
	const { configs = [], ...main } = doc;
	files.set("catalog.yaml", HEADER + toYaml(main, { lineWidth: 0 }));
	const taken = { configs: new Set<string>(), templates: new Set<string>(), scripts: new Set<string>() };
	const fileOf = { templates: new Map<string, string>(), scripts: new Map<string, string>() };
	/** The file holding `body` in `sub`: the one already written with it, or a new one. */
	const share = (sub: "templates" | "scripts", body: string, base: string, extension: string) => {
		let name = fileOf[sub].get(body);
		if (name === undefined) {
			name = unique(base, extension, taken[sub]);
			fileOf[sub].set(body, name);
			files.set(`${sub}/${name}`, body);
		}
		return name;
	};
	for (const config of configs as Item[]) {
		const { name, templateBody, userDataBody, ...rest } = config;
		const base = slug(String(name));
		const template = share(
			"templates",
			String(templateBody ?? ""),
			base,
			/^\s*\{/.test(String(templateBody)) ? ".json" : ".yaml",
		);
		const script = userDataBody ? share("scripts", String(userDataBody), base, ".sh") : undefined;
		const file = unique(base, ".yaml", taken.configs);
		files.set(`configs/${file}`, toYaml({ name, template, ...(script ? { script } : {}), ...rest }, { lineWidth: 0 }));
	}

	for (const sub of ["configs", "templates", "scripts"]) await Deno.mkdir(`${folder}/${sub}`, { recursive: true });
	for (const [path, text] of files) await Deno.writeTextFile(`${folder}/${path}`, text);
	for (const sub of ["configs", "templates", "scripts"] as const) {
		for (const name of await filesIn(folder, sub)) {
			if (!files.has(`${sub}/${name}`)) await Deno.remove(`${folder}/${sub}/${name}`);
		}
	}
	for (const other of CATALOG_FILES) {
		if (other === "catalog.yaml") continue;
		await Deno.remove(`${folder}/${other}`).catch((error) => {
			if (!(error instanceof Deno.errors.NotFound)) throw error;
		});
	}
	return [...files.keys()];
}
