// deno-lint-ignore-file no-console
/**
 * `deno task backup <file>`: an online, consistent copy of the embedded database while the portal
 * runs (SQLite's VACUUM INTO reads one snapshot; writers are not blocked for long). Reads the same
 * settings as the portal (settings.json, MLIY_*), so it backs up the database the portal uses.
 */
import { createClient } from "@libsql/client";
import { privateFile, privateFolder } from "../lib/files.ts";
import { loadSettings } from "../lib/settings.ts";

const target = Deno.args[0];
if (!target) {
	console.error("usage: deno task backup <file to write, e.g. backups/mliy-2025-01-31.db>");
	Deno.exit(2);
}
const settings = await loadSettings(Deno.env.toObject());
if (!settings.DATABASE_URL.startsWith("file:")) {
	console.error("DATABASE_URL is a libSQL server: back it up with the server's own tools (see docs/operations.md)");
	Deno.exit(2);
}
try {
	await Deno.lstat(target);
	console.error(`${target} exists; choose a new file`);
	Deno.exit(2);
} catch (error) {
	if (!(error instanceof Deno.errors.NotFound)) throw error;
}
// The copy holds what the database does (the secret that signs every token): owner-only, whatever
// the umask. VACUUM INTO writes into an empty file it finds, keeping its mode.
const folder = target.includes("/") ? target.slice(0, target.lastIndexOf("/")) : "";
if (folder) await privateFolder(folder);
await privateFile(target);
const client = createClient({ url: settings.DATABASE_URL });
const started = performance.now();
await client.execute({ sql: "VACUUM INTO ?", args: [target] });
client.close();
const size = (await Deno.stat(target)).size;
console.log(
	`backup: ${target} (${(size / 1024 / 1024).toFixed(1)} MiB) in ${Math.round(performance.now() - started)} ms`,
);
