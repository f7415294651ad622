import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { isDatabaseBusy, openDatabase } from "../lib/db/client.ts";
import { holdWriteLock } from "./_helpers/db_lock.ts";
import { forgetFound, forgetFoundUnseen, getFound, markFoundSeen, saveFound } from "../lib/db/found.ts";
import { migrate } from "../lib/db/migrate.ts";
import { MIGRATIONS } from "../lib/db/migrations.ts";
import { bills, users } from "../lib/db/schema.ts";
import { errorText, rejection } from "./_helpers/assert.ts";
import { createTestDeps, DATABASE_ENGINES, type DatabaseEngine, TEST_DATABASE_TOKEN } from "./_helpers/deps.ts";
import { startLibsqlServer } from "./_fakes/libsql_server.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

/**
 * A new database in a temp folder, opened by its file or (`remote`) by the URL of the test libSQL
 * server serving that file (tests/_fakes/libsql_server.ts: a stand-in for sqld, over real SQLite).
 * `path` is the file either way, for another process's lock.
 */
async function tempDb(engine: DatabaseEngine, serverOptions: { busyTimeoutMs?: number } = {}) {
	const dir = await Deno.makeTempDir({ prefix: "mliy-db-" });
	const path = `${dir}/nested/folder/mliy.db`;
	if (engine === "file") {
		return { dir, path, url: `file:${path}`, authToken: undefined, done: () => Deno.remove(dir, { recursive: true }) };
	}
	await Deno.mkdir(`${dir}/nested/folder`, { recursive: true });
	const server = startLibsqlServer({ path, token: TEST_DATABASE_TOKEN, ...serverOptions });
	return {
		dir,
		path,
		url: server.url,
		authToken: TEST_DATABASE_TOKEN,
		server,
		done: async () => {
			assert.equal(server.openStreams, 0, "no stream (and so no connection, no transaction) left open on the server");
			await server.close();
			await Deno.remove(dir, { recursive: true });
		},
	};
}

for (const engine of DATABASE_ENGINES) {
	const suffix = engine === "remote" ? " (through a libSQL server)" : "";

	const opens = engine === "file"
		? "openDatabase() creates the folder, migrates, and a second open applies nothing"
		: "openDatabase() migrates a libSQL server's database by its URL, and a second open applies nothing";
	Deno.test(opens, async () => {
		const { url, authToken, done } = await tempDb(engine);
		try {
			const first = await openDatabase({ url, authToken });
			const tables = await first.db.all<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type='table'`);
			for (
				const t of ["users", "groups", "software_configs", "launches", "instances", "volumes", "bills", "job_leases"]
			) {
				assert.ok(tables.some((row) => row.name === t), `table ${t} exists`);
			}
			await first.db.insert(users).values({ username: "alice" });
			first.close();
			const second = await openDatabase({ url, authToken });
			assert.deepEqual(await migrate(second.client), [], "nothing is applied twice");
			const applied = await second.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM __drizzle_migrations`);
			assert.equal(Number(applied[0]!.n), MIGRATIONS.length);
			assert.equal((await second.db.select().from(users)).length, 1, "data survives a restart");
			second.close();
		} finally {
			await done();
		}
	});

	Deno.test(`migrate() applies only a later migration to an existing database${suffix}`, async () => {
		const { url, authToken, done } = await tempDb(engine);
		try {
			const database = await openDatabase({ url, authToken });
			const later = [...MIGRATIONS, {
				tag: "9999_later",
				when: MIGRATIONS.at(-1)!.when + 1000,
				sql:
					"ALTER TABLE `users` ADD `nickname` text;--> statement-breakpoint\nCREATE INDEX `users_nickname_idx` ON `users` (`nickname`);",
			}];
			assert.deepEqual(await migrate(database.client, later), ["9999_later"]);
			assert.deepEqual(await migrate(database.client, later), []);
			const columns = await database.db.all<{ name: string }>(sql`PRAGMA table_info(users)`);
			assert.ok(columns.some((c) => c.name === "nickname"));
			database.close();
		} finally {
			await done();
		}
	});

	Deno.test(`migrate() rolls back a failing migration completely${suffix}`, async () => {
		const { url, authToken, done } = await tempDb(engine);
		try {
			const database = await openDatabase({ url, authToken });
			const broken = [...MIGRATIONS, {
				tag: "9999_broken",
				when: MIGRATIONS.at(-1)!.when + 1000,
				sql: "CREATE TABLE `extra` (`id` integer);--> statement-breakpoint\nTHIS IS NOT SQL;",
			}];
			await assert.rejects(migrate(database.client, broken));
			const extra = await database.db.all(sql`SELECT name FROM sqlite_master WHERE name = 'extra'`);
			assert.equal(extra.length, 0, "the half-applied migration left nothing behind");
			database.close();
		} finally {
			await done();
		}
	});

	Deno.test(`drizzle transactions commit what they wrote, and a throw, a rollback or a failed statement undoes all of it${suffix}`, async () => {
		await using deps = await createTestDeps({ remote: engine === "remote" });
		const names = async () => (await deps.db.select({ username: users.username }).from(users)).map((u) => u.username);
		const seen = await deps.db.transaction(async (tx) => {
			await tx.insert(users).values({ username: "kept" });
			assert.deepEqual(await names(), [], "not seen outside before the commit");
			return (await tx.select().from(users)).length;
		});
		assert.equal(seen, 1, "seen inside");
		assert.deepEqual(await names(), ["kept"], "committed");

		await assert.rejects(
			deps.db.transaction(async (tx) => {
				await tx.insert(users).values({ username: "thrown" });
				throw new Error("changed my mind");
			}),
			/changed my mind/,
		);
		await assert.rejects(
			deps.db.transaction(async (tx) => {
				await tx.insert(users).values({ username: "rolled back" });
				tx.rollback();
			}),
			/Rollback/,
		);
		const duplicate = await rejection(deps.db.transaction(async (tx) => {
			await tx.insert(users).values({ username: "before the duplicate" });
			await tx.insert(users).values({ username: "kept" });
		}));
		assert.match(errorText(duplicate), /UNIQUE constraint failed: users\.username/);
		assert.deepEqual(await names(), ["kept"], "nothing of the three is left");

		// A nested transaction is a savepoint: its failure undoes only its own writes.
		await deps.db.transaction(async (tx) => {
			await tx.insert(users).values({ username: "outer" });
			await assert.rejects(tx.transaction(async (inner) => {
				await inner.insert(users).values({ username: "inner" });
				throw new Error("inner fails");
			}));
		});
		assert.deepEqual((await names()).sort(), ["kept", "outer"]);
		if (deps.server) assert.equal(deps.server.openStreams, 0, "every transaction's stream was closed");
	});

	Deno.test(`the database allows at most one open billed period per resource${suffix}`, async () => {
		const { url, authToken, done } = await tempDb(engine);
		try {
			const database = await openDatabase({ url, authToken });
			const [user] = await database.db.insert(users).values({ username: "alice" }).returning();
			const open = {
				resourceKind: "instance" as const,
				resourceId: "i-1",
				userId: user!.id,
				costCenter: "CC",
				description: "t2.micro",
				hourlyRate: 0.0116,
				startedAt: new Date("2025-01-01T00:00:00Z"),
			};
			await database.db.insert(bills).values(open);
			assert.match(errorText(await rejection(database.db.insert(bills).values(open))), /UNIQUE constraint failed/);
			await database.db.insert(bills).values({ ...open, endedAt: new Date("2025-01-01T01:00:00Z") });
			database.close();
		} finally {
			await done();
		}
	});

	Deno.test(`a found machine's last sighting never moves back: a run that listed it earlier cannot make it look gone${suffix}`, async () => {
		await using deps = await createTestDeps({ remote: engine === "remote" });
		const at = (minute: number) => new Date(Date.UTC(2025, 2, 1, 12, minute));
		const found = {
			id: "i-0000000000000000f",
			kind: "instance" as const,
			state: "running",
			reason: "it has no launch-id tag",
			firstSeenAt: at(0),
			lastSeenAt: at(10),
		};
		await saveFound(deps.db, found);
		await markFoundSeen(deps.db, [found.id], at(5));
		await saveFound(deps.db, { ...found, state: "stopped", lastSeenAt: at(6) });
		const row = (await getFound(deps.db, found.id))!;
		assert.equal(row.lastSeenAt.toISOString(), at(10).toISOString());
		assert.equal(row.state, "stopped", "what it showed is still recorded");
		assert.equal(await forgetFoundUnseen(deps.db, "instance", at(10)), 0);
		assert.equal(await forgetFoundUnseen(deps.db, "instance", at(11)), 1);
	});

	Deno.test(`a found machine is not kept once the portal records it: a listing read before an adoption cannot bring it back${suffix}`, async () => {
		await using deps = await createTestDeps({ remote: engine === "remote" });
		const world = await seedWorld(deps.db);
		const found = {
			id: "i-0000000000000000e",
			kind: "instance" as const,
			state: "running",
			reason: "it has no launch-id tag",
			firstSeenAt: new Date("2025-03-01T12:00:00Z"),
			lastSeenAt: new Date("2025-03-01T12:00:00Z"),
		};
		assert.equal(await saveFound(deps.db, found), true);
		// Adopted (recorded, then forgotten as found) while a sync that listed it earlier still runs.
		await addInstance(deps.db, { id: found.id, ownerId: world.olga.id });
		await forgetFound(deps.db, found.id);
		assert.equal(await saveFound(deps.db, found), false, "the late sync's record is not kept");
		assert.equal(await getFound(deps.db, found.id), undefined);
	});

	Deno.test(`a write that gave up on another process's lock leaves the connection pool working${suffix}`, async () => {
		// @libsql/client 0.18 lent the connection of a statement that failed with SQLITE_BUSY again with
		// that statement still "in progress": every later transaction on it failed ("cannot commit
		// transaction - SQL statements in progress") and its autocommit writes were never committed.
		const { url, authToken, path, done } = await tempDb(engine, { busyTimeoutMs: 100 });
		try {
			const database = await openDatabase({ url, authToken, busyTimeoutMs: 100 });
			await database.db.insert(users).values({ username: "before" });
			const lock = await holdWriteLock(path, 600);
			const busy = [
				rejection(database.db.transaction(async (tx) => {
					await tx.insert(users).values({ username: "in a transaction" });
				})),
				rejection(database.db.insert(users).values({ username: "alone" })),
				rejection(database.db.batch([database.db.insert(users).values({ username: "in a batch" })])),
			];
			for (const error of await Promise.all(busy)) {
				assert.ok(isDatabaseBusy(error), `busy, not ${errorText(error)}`);
			}
			await lock.released;
			for (let i = 0; i < 20; i++) {
				await database.db.transaction(async (tx) => {
					await tx.insert(users).values({ username: `tx-${i}` });
				});
				await database.db.insert(users).values({ username: `alone-${i}` });
			}
			database.close();
			// Read back through a new connection: what was written is committed, not held open in one.
			const reopened = await openDatabase({ url, authToken });
			const names = (await reopened.db.select({ username: users.username }).from(users)).map((u) => u.username);
			assert.equal(names.length, 41, "every write after the busy moment committed");
			for (let i = 0; i < 20; i++) assert.ok(names.includes(`tx-${i}`) && names.includes(`alone-${i}`));
			assert.ok(
				!names.some((n) => ["in a transaction", "alone", "in a batch"].includes(n)),
				"the busy writes left nothing",
			);
			reopened.close();
		} finally {
			await done();
		}
	});
}
