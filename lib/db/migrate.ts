/**
 * Applies the embedded drizzle-kit migrations at startup. It keeps drizzle's bookkeeping table
 * (`__drizzle_migrations`, hash + journal time) so drizzle-kit and this runner agree, and runs
 * inside one write transaction so two processes starting together cannot both apply a migration.
 */
import type { Client } from "@libsql/client";
import { sha256Hex } from "../tokens.ts";
import { type EmbeddedMigration, MIGRATIONS } from "./migrations.ts";

/** Applies every migration newer than the last one recorded; returns the tags applied. */
export async function migrate(
	client: Client,
	migrations: readonly EmbeddedMigration[] = MIGRATIONS,
): Promise<string[]> {
	await client.execute(
		"CREATE TABLE IF NOT EXISTS __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)",
	);
	const tx = await client.transaction("write");
	try {
		const last = await tx.execute("SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1");
		const lastApplied = last.rows.length > 0 ? Number(last.rows[0]![0]) : -Infinity;
		const applied: string[] = [];
		for (const migration of migrations) {
			if (migration.when <= lastApplied) continue;
			for (const statement of migration.sql.split("--> statement-breakpoint")) {
				if (statement.trim()) await tx.execute(statement);
			}
			await tx.execute({
				sql: 'INSERT INTO __drizzle_migrations ("hash", "created_at") VALUES (?, ?)',
				args: [await sha256Hex(migration.sql), migration.when],
			});
			applied.push(migration.tag);
		}
		await tx.commit();
		return applied;
	} finally {
		tx.close();
	}
}
