/**
 * The embedded database's client (lib/db/local_client.ts) keeps statements prepared and builds rows
 * its own way: it must answer exactly as `@libsql/client` does on the same file. Every case runs on
 * both engines, over a real database file; nothing is stubbed. The same cases run a third time on
 * the remote path: `@libsql/client`'s HTTP client against the test libSQL server serving that file
 * (tests/_fakes/libsql_server.ts, a stand-in for sqld over real SQLite).
 */
import assert from "node:assert/strict";
import { type Client, createClient, LibsqlBatchError } from "@libsql/client";
import { isDatabaseBusy, openDatabase } from "../lib/db/client.ts";
import { createLocalClient } from "../lib/db/local_client.ts";
import { embeddedConnection, OTHER_WRITERS_MS, ProcessWrites } from "../lib/db/connections.ts";
import { generations } from "../lib/db/app_state.ts";
import { getUserByUsername } from "../lib/db/users.ts";
import { users } from "../lib/db/schema.ts";
import { rejection } from "./_helpers/assert.ts";
import { holdWriteLock } from "./_helpers/db_lock.ts";
import { type LibsqlServer, startLibsqlServer } from "./_fakes/libsql_server.ts";

/** The servers the remote engine started for the current case, closed when it ends. */
const servers: LibsqlServer[] = [];

const ENGINES: Record<string, (path: string, timeout?: number) => Client> = {
	"@libsql/client": (path, timeout = 5000) =>
		createClient({ url: `file:${path}`, timeout, concurrency: 4 } as Parameters<typeof createClient>[0]),
	"local client": (path, timeout = 5000) => createLocalClient({ path, timeout, concurrency: 4 }),
	// The server waits for a lock as long as the client would have (sqld has its own busy timeout).
	"@libsql/client over HTTP": (path, timeout = 5000) => {
		const server = startLibsqlServer({ path, token: "t", busyTimeoutMs: timeout });
		servers.push(server);
		return createClient({ url: server.url, authToken: "t", concurrency: 4 } as Parameters<typeof createClient>[0]);
	},
};

async function withFile(test: (path: string) => Promise<void>): Promise<void> {
	const dir = await Deno.makeTempDir({ prefix: "mliy-local-client-" });
	try {
		await test(`${dir}/test.db`);
	} finally {
		for (const server of servers.splice(0)) await server.close();
		await Deno.remove(dir, { recursive: true });
	}
}

for (const [engine, open] of Object.entries(ENGINES)) {
	Deno.test(`${engine}: rows answer by name and by position; a repeated name is reached by position`, async () => {
		await withFile(async (path) => {
			const client = open(path);
			try {
				const result = await client.execute("SELECT 1 AS a, 2 AS a, 'x' AS b, NULL AS c, 1.5 AS d");
				const row = result.rows[0]!;
				assert.deepEqual(result.columns, ["a", "a", "b", "c", "d"]);
				assert.equal(row.length, 5);
				assert.deepEqual(Array.prototype.slice.call(row), [1, 2, "x", null, 1.5]);
				assert.deepEqual({ ...row }, { a: 1, b: "x", c: null, d: 1.5 }, "names only, the first of a repeated one");
				assert.deepEqual(Object.keys(row), ["a", "b", "c", "d"]);
				assert.deepEqual(JSON.parse(JSON.stringify(result)).rows, [[1, 2, "x", null, 1.5]]);
				// Parameters by position and by name, the same statement run again with other values.
				for (const n of [1, 2]) {
					const byPosition = await client.execute({ sql: "SELECT ? + 1 AS n, ? AS flag", args: [n, true] });
					assert.deepEqual([byPosition.rows[0]!.n, byPosition.rows[0]!.flag], [n + 1, 1]);
					const byName = await client.execute({ sql: "SELECT :v AS v", args: { v: `v${n}` } });
					assert.equal(byName.rows[0]!.v, `v${n}`);
				}
				const write = await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at INTEGER)");
				assert.equal(write.rows.length, 0);
				const inserted = await client.execute({ sql: "INSERT INTO t (at) VALUES (?)", args: [new Date(1234)] });
				assert.equal(inserted.rowsAffected, 1);
				assert.equal(inserted.lastInsertRowid, 1n);
				assert.equal((await client.execute("SELECT at FROM t")).rows[0]!.at, 1234, "a date goes in as epoch ms");
				await client.execute({ sql: "INSERT INTO t (at) VALUES (?)", args: [2n ** 60n] });
				await assert.rejects(
					client.execute("SELECT at FROM t WHERE id = 2"),
					RangeError,
					"an unsafe integer is refused",
				);
			} finally {
				client.close();
			}
		});
	});

	Deno.test(`${engine}: a statement run before reads what another connection committed since`, async () => {
		await withFile(async (path) => {
			const reader = open(path);
			const writer = open(path);
			try {
				await writer.execute("PRAGMA journal_mode=WAL");
				await writer.execute("CREATE TABLE t (x INTEGER)");
				const count = async () => Number((await reader.execute("SELECT count(*) AS n FROM t")).rows[0]!.n);
				assert.equal(await count(), 0);
				await writer.execute("INSERT INTO t VALUES (1)");
				assert.equal(await count(), 1, "no snapshot is kept between calls");
				// A `SELECT *` kept prepared from before another connection added a column reads the new
				// column too. (`@libsql/client` reads a statement's columns before its first step, when
				// SQLite has not yet seen the change, so there the first read after it still names one.)
				const star = async () => (await reader.execute("SELECT * FROM t")).rows[0]!;
				assert.deepEqual({ ...await star() }, { x: 1 });
				await writer.execute("ALTER TABLE t ADD COLUMN y TEXT");
				const first = await star();
				if (engine === "local client") assert.deepEqual({ ...first }, { x: 1, y: null }, "at once");
				assert.deepEqual({ ...await star() }, { x: 1, y: null });
			} finally {
				reader.close();
				writer.close();
			}
		});
	});

	Deno.test(`${engine}: a transaction holds its connection; rollback and errors keep SQLite's codes`, async () => {
		await withFile(async (path) => {
			const client = open(path, 100);
			const other = open(path, 100);
			try {
				await client.execute("PRAGMA journal_mode=WAL");
				await client.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)");
				const tx = await client.transaction("write");
				await tx.execute("INSERT INTO t VALUES (1)");
				assert.equal((await tx.execute("SELECT count(*) AS n FROM t")).rows[0]!.n, 1, "seen inside");
				assert.equal((await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n, 0, "not outside yet");
				const busy = await rejection(other.execute("INSERT INTO t VALUES (2)"));
				assert.ok(isDatabaseBusy(busy), `another writer waits, then gives up as busy: ${busy}`);
				await tx.rollback();
				assert.ok(tx.closed);
				assert.equal((await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n, 0, "rolled back");
				await client.execute("INSERT INTO t VALUES (1)");
				const duplicate = await rejection(client.execute("INSERT INTO t VALUES (1)")) as { code?: string };
				assert.equal(duplicate.code, "SQLITE_CONSTRAINT");
				const results = await client.batch(["INSERT INTO t VALUES (5)", "SELECT count(*) AS n FROM t"], "write");
				assert.equal(results[1]!.rows[0]!.n, 2);
				const failed = await rejection(client.batch(["INSERT INTO t VALUES (6)", "INSERT INTO t VALUES (6)"], "write"));
				assert.ok(failed instanceof LibsqlBatchError, `${failed}`);
				assert.deepEqual([failed.statementIndex, failed.code], [1, "SQLITE_CONSTRAINT"]);
				assert.match(failed.message, /UNIQUE constraint failed: t\.x/);
				assert.equal(
					(await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n,
					2,
					"a failed batch wrote nothing",
				);
			} finally {
				client.close();
				other.close();
			}
		});
	});
}

Deno.test("openDatabase() gives a file the local client and lib/db's prepared reads see another process's writes", async () => {
	await withFile(async (path) => {
		await using one = await openDatabase({ url: `file:${path}` });
		await using two = await openDatabase({ url: `file:${path}` });
		assert.equal(one.client.protocol, "file");
		assert.equal(await getUserByUsername(one.db, "alice"), undefined);
		await two.db.insert(users).values({ username: "alice" });
		assert.equal((await getUserByUsername(one.db, "alice"))?.username, "alice");
		await two.db.update(users).set({ firstName: "Alice" });
		assert.equal((await getUserByUsername(one.db, "alice"))?.firstName, "Alice");
	});
});

Deno.test("local client: after statements fail busy, its connection's later transactions and writes commit", async () => {
	// The `libsql` binding leaves a statement that failed with SQLITE_BUSY in progress; kept prepared
	// on its connection, every later COMMIT there failed ("SQL statements in progress") and autocommit
	// writes were never committed. One connection, so every call after the busy moment is on it, with
	// statements other than the ones that failed.
	await withFile(async (path) => {
		const client = createLocalClient({ path, timeout: 100, concurrency: 1 });
		try {
			await client.execute("PRAGMA journal_mode=WAL");
			await client.execute("CREATE TABLE t (a INTEGER, b INTEGER)");
			await client.execute("INSERT INTO t (a) VALUES (1)");
			const lock = await holdWriteLock(path, 500);
			for (const sql of ["INSERT INTO t (a) VALUES (2)", "BEGIN IMMEDIATE", "UPDATE t SET b = 1"]) {
				assert.ok(isDatabaseBusy(await rejection(client.execute(sql))), `${sql} gave up on the lock`);
			}
			assert.ok(isDatabaseBusy(await rejection(client.transaction("write"))));
			await lock.released;
			for (let i = 0; i < 3; i++) {
				const tx = await client.transaction("write");
				await tx.execute({ sql: "INSERT INTO t (a, b) VALUES (?, ?)", args: [10 + i, 5] });
				await tx.commit();
				await client.execute({ sql: "INSERT INTO t (b) VALUES (?)", args: [i] });
			}
		} finally {
			client.close();
		}
		const reopened = createLocalClient({ path, timeout: 100, concurrency: 1 });
		try {
			const rows = (await reopened.execute("SELECT a, b FROM t ORDER BY rowid")).rows.map((r) => [r.a, r.b]);
			assert.deepEqual(rows, [[1, null], [10, 5], [null, 0], [11, 5], [null, 1], [12, 5], [null, 2]]);
		} finally {
			reopened.close();
		}
	});
});

Deno.test("openDatabase() gives a libSQL server's URL @libsql/client's HTTP client, and lib/db's prepared reads see another portal's writes", async () => {
	await withFile(async (path) => {
		await using server = startLibsqlServer({ path, token: "t" });
		await using one = await openDatabase({ url: server.url, authToken: "t" });
		await using two = await openDatabase({ url: server.url, authToken: "t" });
		assert.equal(one.client.protocol, "http");
		assert.equal(one.writer, undefined, "no connection of its own to the file");
		assert.equal(await getUserByUsername(one.db, "alice"), undefined);
		await two.db.insert(users).values({ username: "alice" });
		assert.equal((await getUserByUsername(one.db, "alice"))?.username, "alice");
		await two.db.update(users).set({ firstName: "Alice" });
		assert.equal((await getUserByUsername(one.db, "alice"))?.firstName, "Alice");
	});
});

Deno.test("local client: every statement that may write moves the process's write count after it ran; queries never do", async () => {
	await withFile(async (path) => {
		const writes = new ProcessWrites();
		const client = createLocalClient({ path, timeout: 5000, concurrency: 2, writes });
		try {
			await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
			const moves = async (run: () => Promise<unknown>) => {
				const before = writes.pool;
				await run();
				return writes.pool > before;
			};
			assert.equal(await moves(() => client.execute("SELECT * FROM t")), false);
			assert.equal(await moves(() => client.execute("  with x as (select 1) select * from x")), false);
			assert.equal(await moves(() => client.execute("VALUES (1)")), false);
			assert.equal(await moves(() => client.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: ["a"] })), true);
			assert.equal(await moves(() => client.execute("UPDATE t SET v = 'b' RETURNING id")), true, "returns rows");
			assert.equal(
				await moves(() => client.execute("WITH x AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM x)")),
				true,
			);
			assert.equal(await moves(() => client.executeMultiple("INSERT INTO t (v) VALUES ('c');")), true);
			assert.equal(await moves(() => client.batch(["INSERT INTO t (v) VALUES ('d')"], "write")), true);
			// Inside a transaction the count moves again at the commit: a reader that looked in between
			// (and read what was not yet committed away) reads again.
			const tx = await client.transaction("write");
			await tx.execute("INSERT INTO t (v) VALUES ('e')");
			const beforeCommit = writes.pool;
			await tx.commit();
			assert.ok(writes.pool > beforeCommit, "the commit counts");
		} finally {
			client.close();
		}
	});
});

Deno.test("lib/db's generations: a write by this process shows at once, one by a connection outside it once OTHER_WRITERS_MS have passed", async () => {
	await withFile(async (path) => {
		await using one = await openDatabase({ url: `file:${path}` });
		await using two = await openDatabase({ url: `file:${path}` });
		const data = async () => (await generations(one.db)).data!;
		const bump = "UPDATE app_state SET value = value + 1 WHERE key = 'data_generation'";
		const start = await data();
		// Another client of this process on the same file (the pool of a second openDatabase): at once.
		await two.client.execute(bump);
		assert.equal(await data(), start + 1);
		// A connection no client of this process opened (another process, a hand-written tool).
		const outside = embeddedConnection(path, { timeout: 5000, pragmas: [] });
		try {
			outside.exec(bump);
		} finally {
			outside.close();
		}
		await new Promise((resolve) => setTimeout(resolve, OTHER_WRITERS_MS + 1));
		assert.equal(await data(), start + 2);
	});
});
