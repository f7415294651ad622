/**
 * Bounded memory (bench/RESULTS.md, "Memory levers"): the embedded database is opened without a
 * memory map of its file, whose pages counted in RSS once per pooled connection, unless a caller
 * asks for one; SQLite's page cache per connection can be set the same way.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../lib/db/client.ts";

async function pragmaOnEveryConnection(
	database: Awaited<ReturnType<typeof openDatabase>>,
	pragma: string,
): Promise<Set<number>> {
	// Eight at once: the client hands each to another pooled connection.
	const answers = await Promise.all(
		Array.from({ length: 8 }, () => database.client.execute(`PRAGMA ${pragma}`)),
	);
	return new Set(answers.map((r) => Number(Object.values(r.rows[0] ?? {})[0])));
}

Deno.test("the embedded database has no memory map of its file by default, on every pooled connection", async () => {
	const dir = await Deno.makeTempDir({ prefix: "mliy-memory-" });
	try {
		await using database = await openDatabase({ url: `file:${dir}/mliy.db` });
		assert.deepEqual(await pragmaOnEveryConnection(database, "mmap_size"), new Set([0]));
		assert.deepEqual(await pragmaOnEveryConnection(database, "cache_size"), new Set([-2000]), "SQLite's own cache");
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("a memory map and a page cache size asked for are given to every pooled connection", async () => {
	const dir = await Deno.makeTempDir({ prefix: "mliy-memory-" });
	try {
		await using database = await openDatabase({ url: `file:${dir}/mliy.db`, mmapBytes: 1 << 20, cacheKiB: 500 });
		assert.deepEqual(await pragmaOnEveryConnection(database, "mmap_size"), new Set([1 << 20]));
		assert.deepEqual(await pragmaOnEveryConnection(database, "cache_size"), new Set([-500]));
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});
