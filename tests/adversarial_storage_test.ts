/**
 * The portal's own storage under attack or failure: a full disk (a small tmpfs, filled) and a
 * read-only database answer users with a 503 that says the portal cannot save right now, /health
 * reports the database as not writable, and pages can still be read; the parameter values of
 * failed queries never reach a log line; the database, its journals, backups and logs are the
 * portal's account's only.
 */
import assert from "node:assert/strict";
import { users } from "../lib/db/schema.ts";
import { closeLogging, configureLogging, LOG_FILES } from "../lib/log.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { csrfFor, request } from "./_helpers/http.ts";
import { startPortal } from "./_helpers/portal_process.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

const CANNOT_SAVE = /The portal cannot save right now/;

/** A tmpfs of `size` mounted on a fresh folder, or `undefined` when this user may not mount (not root). */
async function smallDisk(size: string): Promise<{ path: string; unmount(): Promise<void> } | undefined> {
	const path = await Deno.makeTempDir({ prefix: "mliy-tmpfs-" });
	const mount = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", path] })
		.output().catch(() => undefined);
	if (!mount?.success) {
		await Deno.remove(path);
		return undefined;
	}
	return {
		path,
		async unmount() {
			await new Deno.Command("umount", { args: ["-l", path] }).output();
			await Deno.remove(path, { recursive: true });
		},
	};
}

const canMount = await (async () => {
	const disk = await smallDisk("1m");
	await disk?.unmount();
	if (!disk) {
		if (Deno.env.get("CI")) throw new Error("the disk-full test mounts a tmpfs and needs root in CI");
		// deno-lint-ignore no-console
		console.warn("\n*** cannot mount a tmpfs (not root): SKIPPING the disk-full test ***\n");
	}
	return !!disk;
})();

/** Fills the disk holding `path` with a file until the OS says it is full; returns the file. */
async function fill(path: string): Promise<string> {
	const filler = `${path}/filler`;
	const file = await Deno.open(filler, { write: true, create: true });
	const chunk = new Uint8Array(64 * 1024);
	try {
		for (;;) await file.write(chunk);
	} catch (error) {
		assert.match((error as Error).message, /No space left on device/);
	} finally {
		file.close();
	}
	return filler;
}

async function readLogs(deps: TestDeps): Promise<string> {
	await closeLogging();
	let text = "";
	for await (const entry of Deno.readDir(`${deps.dir}/logs`)) {
		text += await Deno.readTextFile(`${deps.dir}/logs/${entry.name}`);
	}
	return text;
}

Deno.test({
	name: "disk full: saving answers 503 'cannot save right now', reading still works, /health says not writable",
	ignore: !canMount,
	async fn() {
		const disk = (await smallDisk("4m"))!;
		try {
			await using deps = await createTestDeps({ settings: { DATABASE_URL: `file:${disk.path}/mliy.db` } });
			await configureLogging({ LOG_LOCATION: `${deps.dir}/logs`, WEB_LOG_LEVEL: "DEBUG", LAUNCH_LOG_LEVEL: "DEBUG" }, {
				console: false,
			});
			const world = await seedWorld(deps.db);
			await addInstance(deps.db, { id: "i-0123456789abcdef0", ownerId: world.alice.id, groupId: world.science.id });
			for (const user of ["ada", "alice"]) await csrfFor(deps.app, { user });
			const filler = await fill(disk.path);

			// An admin saves a param (its value would be a secret): until a write needs a page the
			// database does not have, it may still fit; then every save is a 503 with the message.
			const secretValue = "param-value-Vb7nM2kL9pQx";
			let refused: Response | undefined;
			for (let i = 0; i < 200 && !refused; i++) {
				const res = await request(deps.app, "/admin/params/new", {
					user: "ada",
					form: { token: `DISK_${i}`, value: `${secretValue}-${i}-${"x".repeat(2000)}` },
				});
				assert.ok(res.status < 500 || res.status === 503, `never a 500: ${res.status}`);
				if (res.status === 503) refused = res;
				else await res.body?.cancel();
			}
			assert.ok(refused, "a save on a full disk is refused");
			assert.equal(refused.headers.get("Retry-After"), "60");
			assert.match(await refused.text(), CANNOT_SAVE);
			// The same for an action from a page (htmx) and for API callers (JSON).
			const htmx = await request(deps.app, "/ajax/instance/i-0123456789abcdef0/stop", {
				user: "alice",
				form: {},
				htmx: true,
			});
			assert.equal(htmx.status, 503);
			assert.match(await htmx.text(), CANNOT_SAVE);
			const json = await request(deps.app, "/admin/params/new", {
				user: "ada",
				form: { token: "DISK_JSON", value: `${secretValue}-json-${"y".repeat(2000)}` },
				headers: { Accept: "application/json" },
			});
			assert.equal(json.status, 503);
			assert.match((await json.json()).error, CANNOT_SAVE);
			// Pages are still read.
			const home = await request(deps.app, "/", { user: "alice" });
			assert.equal(home.status, 200);
			await home.body?.cancel();
			const health = await request(deps.app, "/health");
			assert.equal(health.status, 503);
			assert.deepEqual([(await health.json()).database], ["not writable"]);

			// Space again: saves work, and /health recovers once a minute has passed without a failure.
			await Deno.remove(filler);
			const saved = await request(deps.app, "/admin/params/new", {
				user: "ada",
				form: { token: "AFTER", value: "fine" },
			});
			assert.ok(saved.status < 400, `saved after the disk has room: ${saved.status}`);
			await saved.body?.cancel();
			deps.clock.advance(61_000);
			const healthy = await request(deps.app, "/health");
			assert.equal((await healthy.json()).database, "ok");

			const logs = await readLogs(deps);
			assert.match(logs, /the database cannot be written \(full\)/);
			assert.ok(!logs.includes(secretValue), "no log line holds a value that was being saved");
		} finally {
			await closeLogging();
			await disk.unmount();
		}
	},
});

Deno.test("a read-only database: saving answers 503 'cannot save right now', reading works, /health says not writable", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0123456789abcdef0", ownerId: world.alice.id, groupId: world.science.id });
	for (const user of ["ada", "alice"]) await csrfFor(deps.app, { user });
	deps.clock.advance(20 * 60_000);
	// SQLite refuses every write on each pooled connection, as on a read-only file or mount
	// (SQLITE_READONLY; libSQL's client cannot open a file read-only itself).
	await Promise.all(Array.from({ length: 8 }, () => deps.database.client.execute("PRAGMA query_only=1")));
	// The sign-in's time stamp (due after 20 minutes) waits for the disk; the page is read as usual.
	const home = await request(deps.app, "/", { user: "alice" });
	assert.equal(home.status, 200);
	await home.body?.cancel();
	const save = await request(deps.app, "/admin/params/new", { user: "ada", form: { token: "RO", value: "x" } });
	assert.equal(save.status, 503);
	assert.match(await save.text(), CANNOT_SAVE);
	const newcomer = await request(deps.app, "/", { user: "newcomer" });
	assert.equal(newcomer.status, 503, "a new user cannot be recorded");
	assert.match(await newcomer.text(), CANNOT_SAVE);
	const health = await request(deps.app, "/health");
	assert.equal(health.status, 503);
	assert.equal((await health.json()).database, "not writable");
});

Deno.test("no log line records the parameter values of a failed query, however the error is logged", async () => {
	await using deps = await createTestDeps();
	await configureLogging({ LOG_LOCATION: `${deps.dir}/logs`, WEB_LOG_LEVEL: "DEBUG", LAUNCH_LOG_LEVEL: "DEBUG" }, {
		console: false,
	});
	try {
		const value = "value-of-the-query-Qw3eR5tY";
		await deps.db.insert(users).values({ username: "taken", email: value });
		let failure: Error | undefined;
		try {
			await deps.db.insert(users).values({ username: "taken", email: `${value}\nwith a second line` });
		} catch (error) {
			failure = error as Error;
		}
		assert.ok(failure && failure.message.includes(value), "drizzle's error quotes the parameters (what is redacted)");
		deps.log.web.error("a failure: {message}", { message: failure.message, stack: failure.stack });
		deps.log.web.error("a failure as an object", { error: failure });
		deps.log.launch.error("a failure inline: {failure}", { failure: [failure.message] });
		// And the portal's own paths: a background task that fails with it.
		deps.background.run("write", () => deps.db.insert(users).values({ username: "taken", email: value }));
		await deps.background.idle();
		const logs = await readLogs(deps);
		assert.ok(!logs.includes(value), "the values are not in the files");
		assert.match(logs, /Failed query: insert into \\"users\\"/, "the statement is, for whoever debugs it");
		const records = logs.split("\n").filter((line) => line.includes("Failed query"));
		assert.equal(records.length, 4);
		for (const record of records) assert.match(record, /params(: |":")\[redacted\]/, "says values were taken out");
	} finally {
		await closeLogging();
	}
});

Deno.test("the database, its journals, the logs and a backup are created owner-only, whatever the umask", async () => {
	const dir = await Deno.makeTempDir({ prefix: "mliy-modes-" });
	const env = { MLIY_DATABASE_URL: `file:${dir}/data/mliy.db`, MLIY_LOG_LOCATION: `${dir}/logs` };
	const portal = await startPortal(env, { umask: "000" });
	try {
		// A first user: a write, so the WAL has content.
		const home = await fetch(`${portal.url}/`, { headers: { REMOTE_USER: "alice" } });
		assert.equal(home.status, 200);
		await home.body?.cancel();
		const modeOf = async (path: string) => ((await Deno.stat(path)).mode! & 0o777).toString(8);
		const expected: Record<string, string> = {
			data: "700",
			"data/mliy.db": "600",
			"data/mliy.db-wal": "600",
			"data/mliy.db-shm": "600",
			logs: "700",
			...Object.fromEntries(Object.values(LOG_FILES).map((file) => [`logs/${file}`, "600"])),
		};
		const actual: Record<string, string> = {};
		for (const path of Object.keys(expected)) actual[path] = await modeOf(`${dir}/${path}`);
		assert.deepEqual(actual, expected);

		// A backup, taken while the portal runs, with the same umask.
		const backup = await new Deno.Command("sh", {
			args: [
				"-c",
				'umask 000 && exec "$0" "$@"',
				Deno.execPath(),
				"run",
				"-A",
				"scripts/backup.ts",
				`${dir}/backups/b.db`,
			],
			cwd: new URL("..", import.meta.url).pathname,
			env,
			stdout: "piped",
			stderr: "piped",
		}).output();
		assert.ok(backup.success, new TextDecoder().decode(backup.stderr));
		assert.deepEqual([await modeOf(`${dir}/backups`), await modeOf(`${dir}/backups/b.db`)], ["700", "600"]);
		assert.ok((await Deno.stat(`${dir}/backups/b.db`)).size > 0, "VACUUM INTO filled the file it found");
	} finally {
		portal.kill();
		await portal.finished();
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("an existing database file readable by others is tightened when the portal opens it", async () => {
	await using deps = await createTestDeps();
	const path = `${deps.dir}/test.db`;
	deps.database.close();
	await Deno.chmod(path, 0o644);
	await using again = await createTestDeps({ settings: { DATABASE_URL: `file:${path}` } });
	assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
	assert.ok(again);
});
