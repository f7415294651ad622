// deno-lint-ignore-file no-console
/**
 * `./mliy catalog:sync [--dry-run] <folder>`: loads the catalogue from a folder (lib/catalog/folder.ts)
 * through the admin import, printing what it adds, changes, leaves unchanged, and what is stored
 * but not in the folder (kept); with --dry-run it writes nothing.
 * `./mliy catalog:export <folder>`: writes the catalogue as such a folder, for git.
 *
 * Both read the same settings as the portal (settings.json, MLIY_*), so they use its database and
 * the key of its secret params. Exit codes: 0 done, 1 refused (nothing changed), 2 usage.
 */
import { appSecret } from "../lib/db/app_state.ts";
import { openDatabase } from "../lib/db/client.ts";
import { exportCatalog } from "../lib/catalog/document.ts";
import { describeFolderSync, syncCatalogFolder, writeCatalogFolder } from "../lib/catalog/folder.ts";
import { ConfigError, UserError } from "../lib/errors.ts";
import { closeLogging, configureLogging } from "../lib/log.ts";
import { loadSettings } from "../lib/settings.ts";

const USAGE = {
	sync: "usage: ./mliy catalog:sync [--dry-run] <folder>",
	export: "usage: ./mliy catalog:export <folder>",
} as const;

const [mode, ...rest] = Deno.args;
if (mode !== "sync" && mode !== "export") {
	console.error(`${USAGE.sync}\n       ${USAGE.export}`);
	Deno.exit(2);
}
const dryRun = mode === "sync" && rest.includes("--dry-run");
const folders = rest.filter((arg) => arg !== "--dry-run");
if (folders.length !== 1 || folders[0]!.startsWith("-") || (mode === "export" && dryRun)) {
	console.error(USAGE[mode]);
	Deno.exit(2);
}
const folder = folders[0]!.replace(/(.)\/+$/, "$1");
const name = `catalog:${mode}`;

try {
	const settings = await loadSettings(Deno.env.toObject());
	await configureLogging(settings, { console: false });
	await using database = await openDatabase({
		url: settings.DATABASE_URL,
		authToken: settings.DATABASE_AUTH_TOKEN,
		busyTimeoutMs: settings.DATABASE_BUSY_TIMEOUT_MS,
	});
	const db = database.db;
	if (mode === "export") {
		const written = await writeCatalogFolder(folder, await exportCatalog(db));
		console.log(
			`${name}: wrote ${written.length} files to ${folder}; secret params hold a placeholder, not their value`,
		);
	} else {
		// The secret params' key as the portal derives it (compose.ts): SECRET_PARAMS_KEY, else the portal's own secret.
		const paramsKey = settings.SECRET_PARAMS_KEY ?? await appSecret(db);
		const sync = await syncCatalogFolder({ db, paramsKey, clock: () => new Date() }, folder, {
			dryRun,
			origin: { actorId: null, actor: "command line" },
		});
		console.log(`${name} ${folder}${dryRun ? " (dry run)" : ""}\n${describeFolderSync(sync)}`);
	}
	await closeLogging();
} catch (error) {
	if (error instanceof UserError || error instanceof ConfigError) {
		console.error(`${name}: ${error.message}${mode === "sync" ? "; nothing was changed" : ""}`);
		Deno.exit(1);
	}
	throw error;
}
