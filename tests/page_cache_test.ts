/**
 * The dashboard and the team view are sent from cached bytes (lib/views/page_cache.ts), checked on
 * every request against a data generation that the database's triggers move (migration 0021). What
 * that must never change: after any write — a launch recorded, a sync's new state, an action, a
 * progress report, a membership — the page a request gets is byte for byte the page an uncached
 * render makes at that moment; a write by another process shows on the next request (well within
 * a second); and a page is only ever its own viewer's.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { recordProgress } from "../lib/progress.ts";
import { dismissLaunch, updateLaunch } from "../lib/db/launches.ts";
import { insertInstance, updateInstance } from "../lib/db/instances.ts";
import { generations } from "../lib/db/app_state.ts";
import { pageCacheOf } from "../lib/views/page_cache.ts";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addInstance, addLaunch, addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

type World = Awaited<ReturnType<typeof seedWorld>>;

const TOKEN = "the-progress-token";
const LAUNCHED = "i-0123456789abcdef0";
const MACHINES = [LAUNCHED, "i-00000000000000b0b", "i-0000000000000019a", "i-000000000000000a2"];
const STATES = ["pending", "running", "stopping", "stopped", "shutting-down", "terminated"] as const;

/** The pages compared: each viewer's dashboard, its fragment, and the team view with and without filters. */
const VIEWERS = ["alice", "olga", "mia"];
const PAGES: { path: string; htmx?: boolean }[] = [
	{ path: "/" },
	{ path: "/", htmx: true },
	{ path: "/team" },
	{ path: "/team?state=running&sort=owner&dir=asc" },
];

async function world(): Promise<{ deps: TestDeps; world: World }> {
	const deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const w = await seedWorld(deps.db);
	const startedAt = new Date(deps.clock().getTime() - 3_600_000);
	await addLaunchedInstance(deps.db, w, TOKEN, { configId: w.config.id, launchedAt: startedAt, startedAt });
	await addInstance(deps.db, { id: MACHINES[1]!, ownerId: w.bob.id, groupId: w.science.id, startedAt });
	await addInstance(deps.db, { id: MACHINES[2]!, ownerId: w.olga.id, groupId: w.ops.id, startedAt });
	await addInstance(deps.db, { id: MACHINES[3]!, ownerId: w.alice.id, state: "stopped" });
	return { deps, world: w };
}

/** Every compared page as its viewer gets it now. */
async function pages(deps: TestDeps): Promise<string[]> {
	const out: string[] = [];
	for (const user of VIEWERS) {
		for (const page of PAGES) {
			const res = await request(deps.app, page.path, { user, htmx: page.htmx });
			assert.equal(res.status, 200, `${user} ${page.path}`);
			out.push(await res.text());
		}
	}
	return out;
}

/** The writes the property draws from, each through the function (or route) the portal itself uses. */
type Write =
	| { kind: "launch"; user: number }
	| { kind: "launch step"; step: string; fail: boolean }
	| { kind: "dismiss" }
	| { kind: "sync"; machine: number; state: (typeof STATES)[number]; name: string }
	| { kind: "new instance"; owner: number; state: (typeof STATES)[number] }
	| { kind: "action"; machine: number; action: "stop" | "start" | "reboot" }
	| { kind: "progress"; percent: number }
	| { kind: "membership"; user: number; groups: number[]; role: "user" | "manager" }
	| { kind: "clock"; ms: number };

const writes: fc.Arbitrary<Write> = fc.oneof(
	fc.record({ kind: fc.constant("launch" as const), user: fc.nat(2) }),
	fc.record({ kind: fc.constant("launch step" as const), step: fc.constantFrom("Creating", "Waiting"), fail: fc.boolean() }),
	fc.record({ kind: fc.constant("dismiss" as const) }),
	fc.record({
		kind: fc.constant("sync" as const),
		machine: fc.nat(MACHINES.length - 1),
		state: fc.constantFrom(...STATES),
		name: fc.constantFrom("", "notebook", "big-run"),
	}),
	fc.record({ kind: fc.constant("new instance" as const), owner: fc.nat(2), state: fc.constantFrom(...STATES) }),
	fc.record({
		kind: fc.constant("action" as const),
		machine: fc.nat(MACHINES.length - 1),
		action: fc.constantFrom("stop" as const, "start" as const, "reboot" as const),
	}),
	fc.record({ kind: fc.constant("progress" as const), percent: fc.integer({ min: 0, max: 100 }) }),
	fc.record({
		kind: fc.constant("membership" as const),
		user: fc.nat(2),
		groups: fc.subarray([0, 1]),
		role: fc.constantFrom("user" as const, "manager" as const),
	}),
	fc.record({ kind: fc.constant("clock" as const), ms: fc.integer({ min: 0, max: 90_000 }) }),
);

let instanceCount = 0;

async function apply(deps: TestDeps, w: World, write: Write): Promise<void> {
	const people = [w.alice, w.bob, w.olga];
	const groups = [w.science, w.ops];
	const owners: Record<string, string> = {
		[MACHINES[0]!]: "alice",
		[MACHINES[1]!]: "bob",
		[MACHINES[2]!]: "olga",
		[MACHINES[3]!]: "alice",
	};
	const latest = async () => {
		const { rows } = await deps.database.client.execute(
			"SELECT id, status FROM launches ORDER BY created_at DESC, rowid DESC LIMIT 1",
		);
		return rows[0] as unknown as { id: string; status: "queued" | "creating" | "complete" | "failed" } | undefined;
	};
	switch (write.kind) {
		case "launch": {
			const user = people[write.user]!;
			await addLaunch(deps.db, { userId: user.id, groupId: w.science.id, configId: w.config.id, step: "Queued" });
			break;
		}
		case "launch step": {
			const launch = await latest();
			if (launch) {
				await updateLaunch(
					deps.db,
					launch.id,
					launch.status,
					write.fail
						? { status: "failed", reason: "the stack failed", finishedAt: deps.clock() }
						: { status: "creating", step: write.step },
				);
			}
			break;
		}
		case "dismiss": {
			const launch = await latest();
			if (launch) await dismissLaunch(deps.db, launch.id, deps.clock());
			break;
		}
		case "sync":
			// What the sync writes of an instance it described: its state, name and times.
			await updateInstance(deps.db, MACHINES[write.machine]!, {
				state: write.state,
				name: write.name,
				startedAt: write.state === "running" ? deps.clock() : undefined,
				lastSeenAt: deps.clock(),
			});
			break;
		case "new instance":
			await insertInstance(deps.db, {
				id: `i-1000000000000${String(++instanceCount).padStart(4, "0")}`,
				ownerId: people[write.owner]!.id,
				groupId: write.owner === 2 ? w.ops.id : w.science.id,
				instanceType: "m4.large",
				state: write.state,
				startedAt: deps.clock(),
			});
			break;
		case "action": {
			const id = MACHINES[write.machine]!;
			const res = await request(deps.app, `/ajax/instance/${id}/${write.action}`, {
				user: owners[id],
				method: "POST",
			});
			await res.body?.cancel();
			break;
		}
		case "progress":
			try {
				await recordProgress(deps, {
					instanceId: LAUNCHED,
					spec: `installing(${write.percent})`,
					token: TOKEN,
					peer: "10.0.0.5",
					forwardedFor: null,
				});
			} catch {
				// A setup that has ended (or an instance that has) takes no more reports: nothing is written.
			}
			break;
		case "membership": {
			const res = await request(deps.app, `/admin/users/${people[write.user]!.id}`, {
				user: "ada",
				form: { role: write.role, groups: write.groups.map((g) => String(groups[g]!.id)) },
			});
			await res.body?.cancel();
			assert.equal(res.status, 303);
			break;
		}
		case "clock":
			deps.clock.advance(write.ms);
			break;
	}
	// What an action or a dashboard view started in the background (a refresh, a settle) has written.
	await deps.background.idle();
}

Deno.test("property: after any sequence of launches, syncs, actions, progress reports and memberships, every cached page equals an uncached render", async () => {
	let changed = 0;
	await fc.assert(
		fc.asyncProperty(fc.array(writes, { minLength: 1, maxLength: 6 }), async (sequence) => {
			const { deps, world: w } = await world();
			try {
				await deps.background.idle();
				let before = await pages(deps);
				await deps.background.idle();
				for (const write of sequence) {
					await apply(deps, w, write);
					const cached = await pages(deps);
					await deps.background.idle();
					pageCacheOf(deps).clear();
					const fresh = await pages(deps);
					await deps.background.idle();
					cached.forEach((page, i) => {
						assert.equal(page, fresh[i], `page ${i} after ${JSON.stringify(write)}`);
						if (page !== before[i]) changed++;
					});
					before = fresh;
				}
			} finally {
				await deps[Symbol.asyncDispose]();
			}
		}),
		{ numRuns: 12, seed: 19 },
	);
	assert.ok(changed > 20, `the writes changed what the pages show (${changed} pages changed)`);
});
