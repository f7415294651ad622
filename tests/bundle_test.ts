/**
 * Self-containment: `deno compile` cannot download its runtime on the project's machines, so the
 * same entry point is bundled into one file with `deno bundle` and started in an empty directory
 * holding nothing but that file and libSQL's native module. It must migrate an empty database and
 * serve pages, htmx, the static files and its pricing data: any code that reads project files at
 * run time fails here.
 */
import assert from "node:assert/strict";
import { startPortal } from "./_helpers/portal_process.ts";

const root = new URL("../", import.meta.url).pathname;

/** The resolved folder of an npm package in Deno's node_modules, e.g. `libsql@0.5.29/node_modules/libsql`. */
async function packageDir(prefix: string, name: string): Promise<string> {
	for await (const entry of Deno.readDir(`${root}node_modules/.deno`)) {
		if (entry.name.startsWith(prefix)) return `${root}node_modules/.deno/${entry.name}/node_modules/${name}`;
	}
	throw new Error(`${name} is not installed`);
}

async function copyDir(from: string, to: string): Promise<void> {
	await Deno.mkdir(to, { recursive: true });
	for await (const entry of Deno.readDir(from)) {
		const source = await Deno.realPath(`${from}/${entry.name}`);
		const info = await Deno.stat(source);
		if (info.isDirectory) await copyDir(source, `${to}/${entry.name}`);
		else await Deno.copyFile(source, `${to}/${entry.name}`);
	}
}

Deno.test({
	name: "the bundled portal runs alone in an empty folder: migrates, serves pages, htmx, static files and prices",
	sanitizeOps: false,
	sanitizeResources: false,
	fn: async () => {
		const dir = await Deno.makeTempDir({ prefix: "mliy-bundle-" });
		try {
			const bundle = await new Deno.Command(Deno.execPath(), {
				args: [
					"bundle",
					"--platform",
					"deno",
					"--external",
					"libsql",
					"--external",
					"@node-rs/argon2",
					"-o",
					`${dir}/mliy.js`,
					`${root}main.ts`,
				],
				cwd: root,
				stdout: "piped",
				stderr: "piped",
			}).output();
			assert.ok(bundle.success, new TextDecoder().decode(bundle.stderr));
			// Only the native modules go beside the bundle: the database's and argon2's (break-glass passwords).
			await copyDir(await packageDir("libsql@", "libsql"), `${dir}/node_modules/libsql`);
			await copyDir(
				await packageDir("@libsql+linux-x64-gnu@", "@libsql/linux-x64-gnu"),
				`${dir}/node_modules/@libsql/linux-x64-gnu`,
			);
			await copyDir(await packageDir("@neon-rs+load@", "@neon-rs/load"), `${dir}/node_modules/@neon-rs/load`);
			await copyDir(await packageDir("detect-libc@", "detect-libc"), `${dir}/node_modules/detect-libc`);
			await copyDir(await packageDir("@node-rs+argon2@", "@node-rs/argon2"), `${dir}/node_modules/@node-rs/argon2`);
			await copyDir(
				await packageDir("@node-rs+argon2-linux-x64-gnu@", "@node-rs/argon2-linux-x64-gnu"),
				`${dir}/node_modules/@node-rs/argon2-linux-x64-gnu`,
			);
			await Deno.writeTextFile(
				`${dir}/package.json`,
				JSON.stringify({ dependencies: { libsql: "0.5.29", "@node-rs/argon2": "2.2.1" } }),
			);
			const listing = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
			assert.deepEqual(listing, ["mliy.js", "node_modules", "package.json"], "nothing else is beside the bundle");

			// AWS at a closed port: pages never need it.
			const portal = await startPortal({
				MLIY_AUTH_PLUGIN: "plugins/auth_dev",
				MLIY_ADMIN_USERNAMES: "developer",
				MLIY_AWS_ENDPOINT_URL: "http://127.0.0.1:9",
				MLIY_BREAK_GLASS: "true",
			}, { cwd: dir, args: ["run", "-A", "--unstable-cron", "--node-modules-dir=manual", "mliy.js"] });
			const url = portal.url;
			try {
				const get = async (path: string) => {
					const res = await fetch(`${url}${path}`);
					return { status: res.status, type: res.headers.get("content-type") ?? "", body: await res.text() };
				};
				// Pages and the embedded static files.
				const home = await get("/");
				assert.equal(home.status, 200);
				assert.match(home.body, /My dashboard/);
				const htmx = await get("/static/htmx.min.js");
				assert.equal(htmx.status, 200);
				assert.ok(htmx.body.length > 30_000 && htmx.body.includes("htmx"), "htmx is served from the bundle");
				for (const file of ["app.css", "app.js", "islands.js"]) {
					assert.equal((await get(`/static/${file}`)).status, 200, file);
				}
				// The embedded migrations ran on the empty database: an admin import writes every table it needs.
				const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(home.body)![1]!;
				const document = JSON.stringify({
					version: 1,
					instanceTypes: [{ name: "t2.micro" }],
					groups: [{ name: "team" }],
					configs: [{
						name: "Box",
						kind: "instance",
						amiId: "ami-0123456789abcdef0",
						templateBody: await Deno.readTextFile(`${root}fixtures/templates/instance.yaml`),
						compatibleTypes: ["t2.micro"],
						permittedGroups: ["team"],
					}],
					users: [{ username: "developer", role: "admin", groups: ["team"] }],
				});
				const imported = await fetch(`${url}/admin/catalog`, {
					method: "POST",
					headers: { "Content-Type": "application/x-www-form-urlencoded" },
					body: new URLSearchParams({ _csrf: csrf, document }),
				});
				assert.equal(imported.status, 200);
				assert.match(await imported.text(), /Imported: \d+ created/);
				// The embedded pricing data answers the launch form's price panel.
				const info = await get("/launch/1/1/type-info?instanceType=t2.micro");
				assert.equal(info.status, 200);
				assert.match(info.body, /\$0\.0116\/h/);
				// argon2's native module loads beside the bundle: a break-glass attempt is checked (and refused).
				const form = await fetch(`${url}/break-glass`);
				const nonce = form.headers.getSetCookie()[0]!.split(";")[0]!;
				const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
				const attempt = await fetch(`${url}/break-glass`, {
					method: "POST",
					headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: nonce },
					body: new URLSearchParams({ _csrf: token, username: "developer", password: "not set" }),
				});
				assert.equal(attempt.status, 401);
				assert.match(await attempt.text(), /do not open a break-glass session/);
			} finally {
				portal.child.kill("SIGTERM");
				const { code, output } = await portal.finished();
				assert.equal(code, 0, `SIGTERM stops the portal cleanly:\n${output}`);
			}
			assert.ok((await Deno.stat(`${dir}/data/mliy.db`)).isFile, "the database was created in ./data");
			const log = await Deno.readTextFile(`${dir}/logs/mliyweb.log`);
			assert.match(log, /pricing: 88 instance types, 15 regions from embedded copy of fixtures\/instances.json/);
		} finally {
			await Deno.remove(dir, { recursive: true });
		}
	},
});
