/**
 * The team view counts what it lists, and its chart counts states, from `instance_tallies`: a few
 * rows per owner that triggers on `instances` keep (migration 0022) instead of counting every
 * instance per render. What must hold whatever is written, by the portal's functions or by hand:
 * the tallies are exactly a count of the instances that are not archived, by owner, group and
 * state; and every total and state count the team view shows equals a count of the instances it
 * lists, made here from the rows themselves, for every kind of scope and filter. On both engines.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { stateCounts, type TeamFilters, teamInstanceRows, updateInstance } from "../lib/db/instances.ts";
import { migrate } from "../lib/db/migrate.ts";
import type { TeamScope } from "../lib/db/scope.ts";
import { INSTANCE_ENDED_STATES } from "../lib/machines/lifecycle.ts";
import { createTestDeps, DATABASE_ENGINES, type TestDeps } from "./_helpers/deps.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

type World = Awaited<ReturnType<typeof seedWorld>>;

const STATES = ["pending", "running", "stopping", "stopped", "shutting-down", "terminated", "vanished"] as const;
const DAY = 86_400_000;

/** An instance's fields the counts depend on, as stored. */
interface Stored {
	owner_id: number;
	group_id: number | null;
	state: string;
	archived: number;
	updated_at: number;
}

/** The writes drawn: through lib/db's own functions where the portal has one, else by hand (a migration, an operator). */
type Write =
	| { kind: "insert"; owner: number; group: number; state: string; archived: boolean; ageMs: number }
	| { kind: "state"; pick: number; state: string }
	| { kind: "archive"; pick: number; archived: boolean }
	| { kind: "owner by hand"; pick: number; owner: number }
	| { kind: "group by hand"; pick: number; group: number }
	| { kind: "delete by hand"; pick: number }
	| { kind: "owner's states by hand"; owner: number; state: string }
	| { kind: "unchanged by hand"; pick: number };

const write: fc.Arbitrary<Write> = fc.oneof(
	fc.record({
		kind: fc.constant("insert" as const),
		owner: fc.nat(3),
		group: fc.nat(2),
		state: fc.constantFrom(...STATES),
		archived: fc.boolean(),
		ageMs: fc.integer({ min: 0, max: 2 * DAY }),
	}),
	fc.record({ kind: fc.constant("state" as const), pick: fc.nat(), state: fc.constantFrom(...STATES) }),
	fc.record({ kind: fc.constant("archive" as const), pick: fc.nat(), archived: fc.boolean() }),
	fc.record({ kind: fc.constant("owner by hand" as const), pick: fc.nat(), owner: fc.nat(3) }),
	fc.record({ kind: fc.constant("group by hand" as const), pick: fc.nat(), group: fc.nat(2) }),
	fc.record({ kind: fc.constant("delete by hand" as const), pick: fc.nat() }),
	fc.record({
		kind: fc.constant("owner's states by hand" as const),
		owner: fc.nat(3),
		state: fc.constantFrom(...STATES),
	}),
	fc.record({ kind: fc.constant("unchanged by hand" as const), pick: fc.nat() }),
);

function people(w: World) {
	return { owners: [w.alice.id, w.bob.id, w.olga.id, w.mia.id], groups: [null, w.science.id, w.ops.id] };
}

async function ids(deps: TestDeps): Promise<string[]> {
	const { rows } = await deps.database.client.execute("SELECT id FROM instances ORDER BY id");
	return rows.map((r) => String(r.id));
}

async function apply(deps: TestDeps, w: World, change: Write, serial: number): Promise<void> {
	const { owners, groups } = people(w);
	const sql = (text: string, args: (string | number | null)[]) => deps.database.client.execute({ sql: text, args });
	const existing = await ids(deps);
	const picked = "pick" in change && existing.length ? existing[change.pick % existing.length]! : undefined;
	switch (change.kind) {
		case "insert":
			await addInstance(deps.db, {
				id: `i-${serial.toString(16).padStart(17, "0")}`,
				ownerId: owners[change.owner]!,
				groupId: groups[change.group],
				state: change.state,
				archived: change.archived,
				updatedAt: new Date(Date.now() - change.ageMs),
			});
			return;
		case "state":
			if (picked) await updateInstance(deps.db, picked, { state: change.state });
			return;
		case "archive":
			if (picked) await updateInstance(deps.db, picked, { archived: change.archived });
			return;
		case "owner by hand":
			if (picked) await sql("UPDATE instances SET owner_id = ? WHERE id = ?", [owners[change.owner]!, picked]);
			return;
		case "group by hand":
			if (picked) await sql("UPDATE instances SET group_id = ? WHERE id = ?", [groups[change.group]!, picked]);
			return;
		case "delete by hand":
			if (picked) await sql("DELETE FROM instances WHERE id = ?", [picked]);
			return;
		case "owner's states by hand":
			await sql("UPDATE instances SET state = ? WHERE owner_id = ?", [change.state, owners[change.owner]!]);
			return;
		case "unchanged by hand":
			if (picked) {
				await sql("UPDATE instances SET state = state, owner_id = owner_id, archived = archived WHERE id = ?", [
					picked,
				]);
			}
			return;
	}
}

async function stored(deps: TestDeps): Promise<Stored[]> {
	const { rows } = await deps.database.client.execute(
		"SELECT owner_id, group_id, state, archived, updated_at FROM instances",
	);
	return rows.map((r) => ({
		owner_id: Number(r.owner_id),
		group_id: r.group_id === null ? null : Number(r.group_id),
		state: String(r.state),
		archived: Number(r.archived),
		updated_at: Number(r.updated_at),
	}));
}

/** The tallies a count of the instances gives: not archived, by owner, group (0 for none) and state. */
function countedTallies(rows: Stored[]): string[] {
	const counts = new Map<string, number>();
	for (const r of rows.filter((r) => r.archived === 0)) {
		const key = `${r.owner_id}|${r.group_id ?? 0}|${r.state}`;
		counts.set(key, (counts.get(key) ?? 0) + 1);
	}
	return [...counts].map(([key, n]) => `${key}=${n}`).sort();
}

async function storedTallies(deps: TestDeps): Promise<string[]> {
	const { rows } = await deps.database.client.execute(
		"SELECT owner_id, group_key, state, n FROM instance_tallies WHERE n != 0",
	);
	return rows.map((r) => `${r.owner_id}|${r.group_key}|${r.state}=${r.n}`).sort();
}

const STATE_FILTERS: Record<string, readonly string[]> = {
	running: ["running"],
	stopped: ["stopped"],
	transitioning: ["pending", "stopping", "shutting-down"],
	ended: INSTANCE_ENDED_STATES,
};

/** The scopes and filters whose counts are compared: every kind of scope, every kind of filter but the search. */
function views(w: World): { scope: TeamScope; members: number[] | "everyone"; filters: TeamFilters }[] {
	const scopes = [
		{ scope: { everyone: true, viewerId: w.mia.id, groupIds: [] }, members: "everyone" as const },
		{ scope: { everyone: false, viewerId: w.bob.id, groupIds: [] }, members: [w.bob.id] },
		{ scope: { everyone: false, viewerId: w.alice.id, groupIds: [w.science.id] }, members: [w.alice.id, w.bob.id] },
		{ scope: { everyone: false, viewerId: w.mia.id, groupIds: [w.ops.id] }, members: [w.mia.id, w.olga.id] },
	];
	const filters: TeamFilters[] = [
		{},
		{ state: "running" },
		{ state: "transitioning" },
		{ state: "ended" },
		{ state: "pending" },
		{ state: "vanished" },
		{ ownerId: w.bob.id },
		{ groupId: w.science.id },
		{ state: "ended", ownerId: w.alice.id, groupId: w.science.id },
	];
	return scopes.flatMap((s) => filters.map((f) => ({ ...s, filters: f })));
}

function inView(r: Stored, members: number[] | "everyone", filters: TeamFilters): boolean {
	if (members !== "everyone" && !members.includes(r.owner_id)) return false;
	if (filters.state && !(STATE_FILTERS[filters.state] ?? [filters.state]).includes(r.state)) return false;
	if (filters.ownerId !== undefined && r.owner_id !== filters.ownerId) return false;
	if (filters.groupId !== undefined && r.group_id !== filters.groupId) return false;
	return true;
}

async function assertCountsTrue(deps: TestDeps, w: World, since: Date, context: string): Promise<void> {
	const rows = await stored(deps);
	assert.deepEqual(await storedTallies(deps), countedTallies(rows), `tallies: ${context}`);
	for (const view of views(w)) {
		const listed = rows.filter((r) =>
			r.archived === 0 && (!INSTANCE_ENDED_STATES.includes(r.state) || r.updated_at > since.getTime()) &&
			inView(r, view.members, view.filters)
		);
		const { total } = await teamInstanceRows(deps.db, view.scope, view.filters, { offset: 0, limit: 5 }, since);
		const label = `${JSON.stringify(view.scope)} ${JSON.stringify(view.filters)}: ${context}`;
		assert.equal(total, listed.length, `total of ${label}`);
		if (Object.keys(view.filters).length) continue;
		const live: Record<string, number> = {};
		for (const r of rows) {
			if (r.archived === 0 && !INSTANCE_ENDED_STATES.includes(r.state) && inView(r, view.members, {})) {
				live[r.state] = (live[r.state] ?? 0) + 1;
			}
		}
		assert.deepEqual(await stateCounts(deps.db, view.scope), live, `state counts of ${label}`);
	}
}

for (const engine of DATABASE_ENGINES) {
	const suffix = engine === "remote" ? " (through a libSQL server's URL)" : "";

	const runs = engine === "remote" ? 6 : 15;
	Deno.test(`property: after any sequence of writes, the tallies are a count of the instances, and every team total and state count equals a count of what is listed${suffix}`, async () => {
		let checked = 0;
		await fc.assert(
			fc.asyncProperty(fc.array(write, { minLength: 1, maxLength: 25 }), async (sequence) => {
				await using deps = await createTestDeps({ realClock: true, remote: engine === "remote" });
				const w = await seedWorld(deps.db);
				const since = new Date(Date.now() - DAY);
				for (const [i, change] of sequence.entries()) {
					await apply(deps, w, change, i + 1);
					await assertCountsTrue(deps, w, since, `after ${JSON.stringify(sequence.slice(0, i + 1))}`);
					checked++;
				}
			}),
			{ numRuns: runs, seed: 22 },
		);
		assert.ok(checked > runs * 3, `the counts were compared after ${checked} writes`);
	});
}

Deno.test("migration 0022 counts the instances already stored: a database that had them before the tallies gets them counted", async () => {
	await using deps = await createTestDeps({ realClock: true });
	const w = await seedWorld(deps.db);
	const client = deps.database.client;
	// As the database was before 0022: no tallies, no triggers, its bookkeeping row gone (the index it rebuilds is dropped by the migration itself).
	await client.executeMultiple(`
		DROP TRIGGER instance_tallies_insert; DROP TRIGGER instance_tallies_update; DROP TRIGGER instance_tallies_delete;
		DROP TABLE instance_tallies;
		DELETE FROM __drizzle_migrations WHERE created_at = (SELECT max(created_at) FROM __drizzle_migrations);`);
	const seeds = [
		[w.alice.id, w.science.id, "running", false],
		[w.alice.id, w.science.id, "running", false],
		[w.bob.id, null, "stopped", false],
		[w.olga.id, w.ops.id, "terminated", false],
		[w.olga.id, w.ops.id, "running", true],
	] as const;
	for (const [i, [ownerId, groupId, state, archived]] of seeds.entries()) {
		await addInstance(deps.db, { id: `i-${String(i + 1).padStart(17, "0")}`, ownerId, groupId, state, archived });
	}
	assert.deepEqual(await migrate(client), ["0022_instance_tallies"]);
	assert.deepEqual(await storedTallies(deps), [
		`${w.alice.id}|${w.science.id}|running=2`,
		`${w.bob.id}|0|stopped=1`,
		`${w.olga.id}|${w.ops.id}|terminated=1`,
	]);
	await assertCountsTrue(deps, w, new Date(Date.now() - DAY), "after the migration");
});
