import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { isDatabaseBusy, openDatabase } from "../lib/db/client.ts";
import { holdWriteLock } from "./_helpers/db_lock.ts";
import { forgetFound, forgetFoundUnseen, getFound, markFoundSeen, saveFound } from "../lib/db/found.ts";
import { migrate } from "../lib/db/migrate.ts";
import { MIGRATIONS } from "../lib/db/migrations.ts";
import { bills, users } from "../lib/db/schema.ts";
import { errorText, rejection } from "./_helpers/assert.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

async function tempDb() {
	const dir = await Deno.makeTempDir({ prefix: "mliy-db-" });
	return { dir, url: `file:${dir}/nested/folder/mliy.db` };
}

Deno.test("openDatabase() creates the folder, migrates, and a second open applies nothing", async () => {
	const { dir, url } = await tempDb();
	try {
		const first = await openDatabase({ url });
		const tables = await first.db.all<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type='table'`);
		for (
			const t of ["users", "groups", "software_configs", "launches", "instances", "volumes", "bills", "job_leases"]
		) {
			assert.ok(tables.some((row) => row.name === t), `table ${t} exists`);
		}
		await first.db.insert(users).values({ username: "alice" });
		first.close();
		const second = await openDatabase({ url });
		assert.deepEqual(await migrate(second.client), [], "nothing is applied twice");
		const applied = await second.db.all<{ n: number }>(sql`SELECT count(*) AS n FROM __drizzle_migrations`);
		assert.equal(Number(applied[0]!.n), MIGRATIONS.length);
		assert.equal((await second.db.select().from(users)).length, 1, "data survives a restart");
		second.close();
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("migrate() applies only a later migration to an existing database", async () => {
	const { dir, url } = await tempDb();
	try {
		const database = await openDatabase({ url });
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
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("migrate() rolls back a failing migration completely", async () => {
	const { dir, url } = await tempDb();
	try {
		const database = await openDatabase({ url });
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
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("the database allows at most one open billed period per resource", async () => {
	const { dir, url } = await tempDb();
	try {
		const database = await openDatabase({ url });
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
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("a found machine's last sighting never moves back: a run that listed it earlier cannot make it look gone", async () => {
	await using deps = await createTestDeps();
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

Deno.test("a found machine is not kept once the portal records it: a listing read before an adoption cannot bring it back", async () => {
	await using deps = await createTestDeps();
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

Deno.test("a write that gave up on another process's lock leaves the connection pool working", async () => {
	// @libsql/client 0.18 lent the connection of a statement that failed with SQLITE_BUSY again with
	// that statement still "in progress": every later transaction on it failed ("cannot commit
	// transaction - SQL statements in progress") and its autocommit writes were never committed.
	const { dir, url } = await tempDb();
	try {
		const database = await openDatabase({ url, busyTimeoutMs: 100 });
		await database.db.insert(users).values({ username: "before" });
		const lock = await holdWriteLock(url.slice("file:".length), 600);
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
		const reopened = await openDatabase({ url });
		const names = (await reopened.db.select({ username: users.username }).from(users)).map((u) => u.username);
		assert.equal(names.length, 41, "every write after the busy moment committed");
		for (let i = 0; i < 20; i++) assert.ok(names.includes(`tx-${i}`) && names.includes(`alone-${i}`));
		assert.ok(
			!names.some((n) => ["in a transaction", "alone", "in a batch"].includes(n)),
			"the busy writes left nothing",
		);
		reopened.close();
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});
