// deno-lint-ignore-file no-console
/**
 * `deno task db:generate <name>`: writes the next migration from lib/db/schema.ts with drizzle-kit
 * (named, e.g. `add_cluster_tables`) and embeds every migration into lib/db/migrations.ts.
 */
const name = Deno.args[0];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
	console.error("usage: deno task db:generate <snake_case_name>");
	Deno.exit(2);
}
const run = async (args: string[]) => {
	const status = await new Deno.Command(Deno.execPath(), { args, stdout: "inherit", stderr: "inherit" }).spawn().status;
	if (!status.success) Deno.exit(status.code);
};
await run(["run", "-A", "drizzle-kit", "generate", "--name", name]);
await run(["run", "-A", "scripts/embed_migrations.ts"]);
await run(["fmt", "lib/db/migrations.ts"]);
