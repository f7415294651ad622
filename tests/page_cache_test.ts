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
import { OTHER_WRITERS_MS } from "../lib/db/connections.ts";
import { PAGE_CACHE_BYTES, pageCacheOf } from "../lib/views/page_cache.ts";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { startPortal } from "./_helpers/portal_process.ts";
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
	fc.record({
		kind: fc.constant("launch step" as const),
		step: fc.constantFrom("Creating", "Waiting"),
		fail: fc.boolean(),
	}),
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
			// Written now, not in the report queue's next window: the comparison below renders twice,
			// and a window landing between the two would make them differ though both are true.
			await deps.reports.flush();
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

Deno.test("every table is watched by the data generation, or left out because the cached pages read none of it", async () => {
	await using deps = await createTestDeps();
	const { rows: tables } = await deps.database.client.execute(
		"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__drizzle%'",
	);
	const { rows: triggers } = await deps.database.client.execute(
		"SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'data_generation_%'",
	);
	// A machine's own page (its audit trail, boot timeline), the profile (API tokens, used on every call);
	// the instances' tallies only move with a write to instances, which is watched.
	const leftOut = ["audit_events", "progress_reports", "stack_events", "api_tokens", "instance_tallies"];
	for (const { name } of tables) {
		const watched = triggers.filter((t) => t.tbl_name === name).map((t) => String(t.name)).sort();
		if (leftOut.includes(String(name))) {
			assert.deepEqual(watched, [], `${name} is left out`);
		} else {
			assert.deepEqual(
				watched,
				["delete", "insert", "update"].map((op) => `data_generation_${name}_${op}`),
				`${name}: a new table the pages read needs its three triggers in a migration (see 0021)`,
			);
		}
	}
	// The sync's banner counts, a lease's heartbeat does not; nor does /health's probe or a counter itself.
	const generation = async () => (await generations(deps.db)).data!;
	const start = await generation();
	await deps.database.client.execute("UPDATE job_leases SET expires_at = 1 WHERE 0");
	await deps.database.client.execute("INSERT INTO job_leases (name, runs) VALUES ('bench', 0)");
	assert.equal(await generation(), start + 1);
	await deps.database.client.execute("UPDATE job_leases SET holder = 'x', expires_at = 5, runs = 3");
	assert.equal(await generation(), start + 1, "a heartbeat changes no page");
	await deps.database.client.execute("UPDATE job_leases SET last_success_at = 5");
	assert.equal(await generation(), start + 2);
	await deps.database.client.execute(
		"INSERT INTO app_state (key, value) VALUES ('health_probe', '1') ON CONFLICT DO UPDATE SET value = '2'",
	);
	assert.equal(await generation(), start + 2, "the health probe changes no page");
	await deps.database.client.execute("INSERT INTO app_state (key, value) VALUES ('cost-explorer', '{}')");
	assert.equal(await generation(), start + 3);
});

Deno.test("a page is only its viewer's: users with other rights, or the same rights, never get each other's cached bytes", async () => {
	await using deps = await createTestDeps();
	const w = await seedWorld(deps.db);
	await addInstance(deps.db, { id: MACHINES[2]!, ownerId: w.olga.id, groupId: w.ops.id });
	await addInstance(deps.db, { id: MACHINES[1]!, ownerId: w.bob.id, groupId: w.science.id });
	const team = async (user: string) => await (await request(deps.app, "/team", { user })).text();
	const token = (html: string) => /<meta name="csrf-token" content="([^"]+)"/.exec(html)![1];

	const alice = await team("alice");
	const mia = await team("mia");
	const bob = await team("bob");
	assert.equal(pageCacheOf(deps).size.pages, 3, "one page each");
	assert.equal(await team("alice"), alice, "answered from her cached bytes");
	assert.equal(await team("mia"), mia);
	assert.equal(await team("bob"), bob);
	assert.ok(mia.includes(MACHINES[2]!), "the manager sees olga's machine");
	assert.ok(!alice.includes(MACHINES[2]!) && !bob.includes(MACHINES[2]!), "science does not");
	// Alice and Bob see the same machines, yet each page carries its own viewer and token.
	assert.notEqual(alice, bob);
	assert.notEqual(token(alice), token(bob));
	const who = (html: string) => /class="who"[^>]*>([^<]+)</.exec(html)![1];
	assert.equal(who(alice), "Alice Ng");
	assert.equal(who(bob), "Bob Ray");
	for (const [user, page] of [["alice", alice], ["mia", mia], ["bob", bob]] as const) {
		const again = await request(deps.app, "/team", { user });
		assert.equal(again.headers.get("X-CSRF-Token"), token(page), `${user}'s page has ${user}'s token`);
		assert.equal(again.headers.get("Cache-Control"), "no-store");
		assert.equal(again.headers.get("Content-Type"), "text/html; charset=UTF-8");
		await again.body?.cancel();
	}
});

Deno.test("a role or membership change takes effect on the next request to a cached page, whoever writes it", async () => {
	await using deps = await createTestDeps();
	const w = await seedWorld(deps.db);
	await addInstance(deps.db, { id: MACHINES[2]!, ownerId: w.olga.id, groupId: w.ops.id });
	const sees = async () => (await (await request(deps.app, "/team", { user: "alice" })).text()).includes(MACHINES[2]!);
	const save = async (role: string, groups: number[]) => {
		const res = await request(deps.app, `/admin/users/${w.alice.id}`, {
			user: "ada",
			form: { role, groups: groups.map(String) },
		});
		await res.body?.cancel();
		assert.equal(res.status, 303);
	};
	assert.equal(await sees(), false);
	assert.equal(await sees(), false, "cached");
	await save("user", [w.science.id, w.ops.id]);
	assert.equal(await sees(), true, "a membership given counts at once");
	await save("user", [w.science.id]);
	assert.equal(await sees(), false, "and taken away");
	await save("manager", [w.science.id]);
	assert.equal(await sees(), true, "a role given");
	await save("user", [w.science.id]);
	assert.equal(await sees(), false, "and taken away");
	// An operator's SQL (no lib function) moves the counter too.
	await deps.database.client.execute({
		sql: "INSERT INTO memberships (user_id, group_id, source) VALUES (?, ?, 'manual')",
		args: [w.alice.id, w.ops.id],
	});
	assert.equal(await sees(), true);
	await deps.database.client.execute({ sql: "DELETE FROM memberships WHERE group_id = ?", args: [w.ops.id] });
	assert.equal(await sees(), false);
});

Deno.test("two processes on one database: a change made in either shows in the other's cached page on its first request once OTHER_WRITERS_MS (a millisecond) have passed", async () => {
	await using deps = await createTestDeps();
	const w = await seedWorld(deps.db);
	await addInstance(deps.db, { id: MACHINES[1]!, ownerId: w.alice.id, groupId: w.science.id, name: "before-rename" });
	await addInstance(deps.db, { id: MACHINES[2]!, ownerId: w.olga.id, groupId: w.ops.id });
	const other = await startPortal({
		MLIY_DATABASE_URL: deps.settings.DATABASE_URL,
		...(deps.settings.DATABASE_AUTH_TOKEN ? { MLIY_DATABASE_AUTH_TOKEN: deps.settings.DATABASE_AUTH_TOKEN } : {}),
		MLIY_LOG_LOCATION: `${deps.dir}/other-logs`,
		MLIY_AWS_ENDPOINT_URL: "http://127.0.0.1:9",
		MLIY_LAUNCH_SUBNET_ID: "subnet-0123456789abcdef0",
	});
	try {
		const otherPage = async (path: string, user: string) =>
			await (await fetch(`${other.url}${path}`, { headers: { REMOTE_USER: user } })).text();
		/**
		 * How many requests asked again before `shows()` was true, the first once another process's
		 * commit can no longer be unseen; fails past a second.
		 */
		const within = async (shows: () => Promise<boolean>) => {
			await new Promise((resolve) => setTimeout(resolve, OTHER_WRITERS_MS + 1));
			const start = performance.now();
			let asked = 0;
			while (!(await shows())) {
				asked++;
				assert.ok(performance.now() - start < 1000, `not shown within a second (${asked} requests)`);
			}
			return asked;
		};

		// This process writes (as the sync does); the other one's cached dashboard shows it on its next request.
		assert.ok((await otherPage("/", "alice")).includes("before-rename"));
		assert.ok((await otherPage("/", "alice")).includes("before-rename"), "cached there");
		await updateInstance(deps.db, MACHINES[1]!, { name: "after-rename" });
		assert.equal(await within(async () => (await otherPage("/", "alice")).includes("after-rename")), 0);

		// The other process writes (an admin's membership form); this one's cached team view shows it.
		const sees = async () =>
			(await (await request(deps.app, "/team", { user: "alice" })).text()).includes(MACHINES[2]!);
		assert.equal(await sees(), false);
		assert.equal(await sees(), false, "cached here");
		const adminPage = await fetch(`${other.url}/admin/users/${w.alice.id}`, { headers: { REMOTE_USER: "ada" } });
		const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(await adminPage.text())![1]!;
		const form = new URLSearchParams({ _csrf: csrf, role: "user" });
		form.append("groups", String(w.science.id));
		form.append("groups", String(w.ops.id));
		const saved = await fetch(`${other.url}/admin/users/${w.alice.id}`, {
			method: "POST",
			headers: { REMOTE_USER: "ada", "Content-Type": "application/x-www-form-urlencoded" },
			body: form,
			redirect: "manual",
		});
		await saved.body?.cancel();
		assert.equal(saved.status, 303);
		assert.equal(await within(sees), 0);
	} finally {
		other.kill();
		await other.finished();
	}
});

/** A viewer as the cache keys pages by (the tests below ask the cache directly). */
const ALICE = {
	id: 1,
	username: "alice",
	name: "Alice",
	email: "",
	role: "user" as const,
	groupIds: [],
	managedGroupIds: [],
};

Deno.test("the page cache is bounded by size: the least recently used pages go first", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const res = await request(deps.app, "/team", { user: "alice" });
	await res.body?.cancel();
	const cache = pageCacheOf(deps);
	const viewer = ALICE;
	const big = "x".repeat(1024 * 1024);
	for (let i = 0; i < 40; i++) {
		await cache.page({ viewer, csrf: "t", fragment: false, address: `/team?page=${i}` }, () => Promise.resolve(big));
		assert.ok(cache.size.bytes <= PAGE_CACHE_BYTES, `${cache.size.bytes} bytes kept after ${i + 1} pages`);
	}
	assert.ok(cache.size.pages < 40 && cache.size.pages >= PAGE_CACHE_BYTES / (1024 * 1024) - 2);
	let rendered = false;
	const render = () => {
		rendered = true;
		return Promise.resolve(big);
	};
	await cache.page({ viewer, csrf: "t", fragment: false, address: "/team?page=39" }, render);
	assert.equal(rendered, false, "the newest is kept");
	await cache.page({ viewer, csrf: "t", fragment: false, address: "/team?page=0" }, render);
	assert.equal(rendered, true, "the oldest went first");
});

Deno.test("requests that miss together wait for one render of their page", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const first = await request(deps.app, "/team", { user: "alice" });
	await first.body?.cancel();
	const cache = pageCacheOf(deps);
	const viewer = ALICE;
	let renders = 0;
	const render = async () => {
		renders++;
		await new Promise((resolve) => setTimeout(resolve, 20));
		return `<p>render ${renders}</p>`;
	};
	const asked = { viewer, csrf: "t", fragment: false, address: "/team" };
	const pages = await Promise.all(Array.from({ length: 8 }, () => cache.page(asked, render)));
	assert.equal(renders, 1);
	assert.ok(pages.every((p) => new TextDecoder().decode(p) === "<p>render 1</p>"));
	deps.clock.advance(1000);
	await cache.page(asked, render);
	assert.equal(renders, 2, "the next second renders again");
});
