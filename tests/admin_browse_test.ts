/**
 * Admin browsing of every machine (issue 15, item 67; column sorting of the admin lists, U3): the
 * lists of instances, clusters, volumes left behind and launches answer searches, filters, sorts
 * and pages correctly; each record action (archive, unarchive, lock, unlock, reassign, delete a
 * volume left behind) works, is audited and is refused to non-admins; bad input is a clear 4xx.
 * Through the HTTP app; against moto where AWS is involved (the reassigned instance, the deleted volume).
 */
import assert from "node:assert/strict";
import { CreateVolumeCommand, DescribeVolumesCommand } from "@aws-sdk/client-ec2";
import { auditFor } from "../lib/db/audit.ts";
import { billsOf, openBill } from "../lib/db/bills.ts";
import { getInstance } from "../lib/db/instances.ts";
import { insertVolume } from "../lib/db/volumes.ts";
import { syncAll } from "../lib/sync/all.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { browserSettings, browserTest, launchBrowser, SCREENSHOTS, serve, signedIn } from "./_helpers/browser.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { addCluster, addConfig, addInstance, addLaunch, seedWorld } from "./_helpers/world.ts";

type World = Awaited<ReturnType<typeof seedWorld>>;

/** The ids of the rows a list page shows, in order (each row's first link is its item page). */
async function listed(deps: TestDeps, path: string, user = "ada"): Promise<string[]> {
	const res = await request(deps.app, path, { user });
	assert.equal(res.status, 200, `${path}: ${res.status}`);
	const html = await res.text();
	const body = html.slice(html.indexOf("<tbody>"), html.indexOf("</tbody>") + 1);
	if (!html.includes("<tbody>")) return [];
	return [
		...body.matchAll(
			/<tr><td[^>]*><a class="mono[^"]*" href="\/(?:admin\/(?:instances|clusters|volumes)|launches)\/([^"]+)"/g,
		),
	]
		.map((m) => decodeURIComponent(m[1]!));
}

/** 120 instances over three owners, four types, five states, two configurations and two groups. */
async function seedInstances(deps: TestDeps, world: World) {
	const other = await addConfig(deps.db, "Deep Learning", { types: [], groups: [world.ops.id] });
	const owners = [world.alice, world.bob, world.olga];
	const types = ["t2.micro", "m4.large", "r4.4xlarge", "t2.nano"];
	const states = ["running", "running", "stopped", "pending", "terminated"];
	const made: {
		id: string;
		name: string;
		owner: string;
		type: string;
		state: string;
		group: string;
		config: string;
		createdAt: Date;
	}[] = [];
	for (let i = 0; i < 120; i++) {
		const owner = owners[i % 3]!;
		const inOps = owner === world.olga;
		const row = {
			id: `i-${(0xa000 + i).toString(16).padStart(17, "0")}`,
			name: i === 7 ? "needle-in-haystack" : `box-${i}`,
			ownerId: owner.id,
			groupId: inOps ? world.ops.id : world.science.id,
			configId: inOps ? other.id : world.config.id,
			instanceType: types[i % 4]!,
			state: states[i % 5]!,
			createdAt: new Date(Date.UTC(2025, 0, 1, 0, i)),
		};
		await addInstance(deps.db, row);
		made.push({
			id: row.id,
			name: row.name,
			owner: owner.username,
			type: row.instanceType,
			state: row.state,
			group: inOps ? "ops" : "science",
			config: inOps ? "Deep Learning" : "Analyst",
			createdAt: row.createdAt,
		});
	}
	return { made, other };
}

const byThen = <T>(key: (row: T) => string | number, dir: 1 | -1, id: (row: T) => string) => (a: T, b: T) => {
	const [x, y] = [key(a), key(b)];
	if (x !== y) return (x < y ? -1 : 1) * dir;
	return (id(a) < id(b) ? -1 : 1) * dir;
};

Deno.test("the instance list: filtered by state and owner, sorted by a column either way, paged without repeats", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const { made } = await seedInstances(deps, world);

	// Newest first by default; 50 a page; the pages together are every row once.
	const pages = [
		...await listed(deps, "/admin/instances?page=1"),
		...await listed(deps, "/admin/instances?page=2"),
		...await listed(deps, "/admin/instances?page=3"),
	];
	assert.equal(pages.length, 120);
	assert.deepEqual(pages, [...made].sort(byThen((r) => r.createdAt.getTime(), -1, (r) => r.id)).map((r) => r.id));
	const first = await (await request(deps.app, "/admin/instances", { user: "ada" })).text();
	assert.match(first, /1–50 of 120/);
	assert.match(first, /Page 1 of 3/);

	// Filtered by state and owner, sorted by type: ties in the type keep the id order, both ways.
	const running = made.filter((r) => r.state === "running" && r.owner === "bob");
	for (const dir of ["asc", "desc"] as const) {
		const ids = await listed(deps, `/admin/instances?state=running&owner=bob&sort=type&dir=${dir}`);
		assert.deepEqual(
			ids,
			[...running].sort(byThen((r) => r.type, dir === "asc" ? 1 : -1, (r) => r.id)).map((r) => r.id),
		);
	}
	// A sort with many ties (state: 5 values over 120 rows) pages without repeating or skipping a row.
	const byState = [
		...await listed(deps, "/admin/instances?sort=state&dir=asc&page=1"),
		...await listed(deps, "/admin/instances?sort=state&dir=asc&page=2"),
		...await listed(deps, "/admin/instances?sort=state&dir=asc&page=3"),
	];
	assert.deepEqual(byState, [...made].sort(byThen((r) => r.state, 1, (r) => r.id)).map((r) => r.id));
	// Sorted by owner (a joined column).
	assert.deepEqual(
		await listed(deps, "/admin/instances?sort=owner&dir=desc&group=" + world.science.id),
		[...made].filter((r) => r.group === "science").sort(byThen((r) => r.owner, -1, (r) => r.id)).slice(0, 50).map((r) =>
			r.id
		),
	);

	// The headings link to their sort, the current one the other way round, and say how it is sorted.
	const sorted = await (await request(deps.app, "/admin/instances?sort=type&dir=asc&state=running", { user: "ada" }))
		.text();
	assert.match(
		sorted,
		/aria-sort="ascending"[^>]*><a class="sort" href="\/admin\/instances\?state=running&amp;sort=type&amp;dir=desc"[^>]*>Type/,
	);
	assert.match(
		sorted,
		/<a class="sort" href="\/admin\/instances\?state=running&amp;sort=owner&amp;dir=asc"[^>]*>Owner/,
	);
	// The pager keeps the filters and the sort.
	const paged = await (await request(deps.app, "/admin/instances?sort=name&dir=asc", { user: "ada" })).text();
	assert.match(paged, /href="\/admin\/instances\?sort=name&amp;dir=asc&amp;page=2"/);
});

Deno.test("the instance list's search finds text in the name, owner, id, type, configuration and group", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const { made } = await seedInstances(deps, world);
	const ids = (filter: (r: (typeof made)[number]) => boolean) =>
		made.filter(filter).sort(byThen((r) => r.createdAt.getTime(), -1, (r) => r.id)).map((r) => r.id).slice(0, 50);

	assert.deepEqual(await listed(deps, "/admin/instances?q=NEEDLE"), ids((r) => r.name === "needle-in-haystack"));
	assert.deepEqual(await listed(deps, "/admin/instances?q=olga"), ids((r) => r.owner === "olga"));
	assert.deepEqual(await listed(deps, `/admin/instances?q=${made[42]!.id.slice(-5)}`), [made[42]!.id]);
	assert.deepEqual(await listed(deps, "/admin/instances?q=r4.4x"), ids((r) => r.type === "r4.4xlarge"));
	assert.deepEqual(await listed(deps, "/admin/instances?q=deep%20learn"), ids((r) => r.config === "Deep Learning"));
	assert.deepEqual(await listed(deps, "/admin/instances?q=scien"), ids((r) => r.group === "science"));
	// LIKE's wildcards are text like any other.
	assert.deepEqual(await listed(deps, "/admin/instances?q=%25"), []);
	assert.deepEqual(await listed(deps, "/admin/instances?q=box_1"), []);
	// Search and filters narrow together; the configuration filter by its number.
	const [dl] = await listed(
		deps,
		`/admin/instances?q=box-1&config=${(await addConfig(deps.db, "Unused", { types: [], groups: [] })).id}`,
	);
	assert.equal(dl, undefined);
});

Deno.test("archived records are hidden by default, shown with archived=yes, both with any", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0000000000000000a", ownerId: world.alice.id, state: "running" });
	await addInstance(deps.db, {
		id: "i-0000000000000000b",
		ownerId: world.alice.id,
		state: "terminated",
		archived: true,
	});
	assert.deepEqual(await listed(deps, "/admin/instances"), ["i-0000000000000000a"]);
	assert.deepEqual(await listed(deps, "/admin/instances?archived=no"), ["i-0000000000000000a"]);
	assert.deepEqual(await listed(deps, "/admin/instances?archived=yes"), ["i-0000000000000000b"]);
	assert.deepEqual(await listed(deps, "/admin/instances?archived=any&sort=id&dir=asc"), [
		"i-0000000000000000a",
		"i-0000000000000000b",
	]);
	// The archived one's admin page says so and offers to bring it back.
	const page = await (await request(deps.app, "/admin/instances/i-0000000000000000b", { user: "ada" })).text();
	assert.match(page, /<span class="badge">archived<\/span>/);
	assert.match(page, /action="\/admin\/instances\/i-0000000000000000b\/unarchive"/);
});

Deno.test("clusters, volumes left behind and launches: each filtered and sorted", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addCluster(deps.db, { id: "j-AAA", ownerId: world.alice.id, state: "WAITING", instanceType: "m4.large" });
	await addCluster(deps.db, { id: "j-BBB", ownerId: world.olga.id, state: "TERMINATED", instanceType: "r4.4xlarge" });
	await addCluster(deps.db, { id: "j-CCC", ownerId: world.bob.id, state: "WAITING", instanceType: "c5.xlarge" });
	assert.deepEqual(await listed(deps, "/admin/clusters?state=WAITING&sort=type&dir=asc"), ["j-CCC", "j-AAA"]);
	assert.deepEqual(await listed(deps, "/admin/clusters?q=olga"), ["j-BBB"]);

	// Volumes: left behind are those nothing alive holds (detached, or on an ended instance).
	await addInstance(deps.db, { id: "i-00000000000000001", ownerId: world.alice.id, state: "running" });
	await addInstance(deps.db, { id: "i-00000000000000002", ownerId: world.alice.id, state: "terminated" });
	const volume = (id: string, values: Record<string, unknown>) =>
		insertVolume(deps.db, { id, ownerId: world.alice.id, sizeGb: 10, state: "available", ...values });
	await volume("vol-00000000000000001", { instanceId: "i-00000000000000001", state: "in-use" });
	await volume("vol-00000000000000002", { instanceId: "i-00000000000000002", state: "in-use", sizeGb: 50 });
	await volume("vol-00000000000000003", { instanceId: null, sizeGb: 20, ownerId: world.olga.id });
	await volume("vol-00000000000000004", { instanceId: null, state: "deleted" });
	assert.deepEqual(await listed(deps, "/admin/volumes?sort=size&dir=desc"), [
		"vol-00000000000000002",
		"vol-00000000000000003",
	]);
	assert.deepEqual(await listed(deps, "/admin/volumes?owner=olga"), ["vol-00000000000000003"]);
	assert.deepEqual(await listed(deps, "/admin/volumes?which=all&sort=id&dir=asc"), [
		"vol-00000000000000001",
		"vol-00000000000000002",
		"vol-00000000000000003",
		"vol-00000000000000004",
	]);
	// The instance's admin page lists its volumes.
	const instancePage = await (await request(deps.app, "/admin/instances/i-00000000000000001", { user: "ada" })).text();
	assert.match(instancePage, /href="\/admin\/volumes\/vol-00000000000000001"/);

	// Launches: by kind and status, sorted by who launched.
	const ids = [];
	for (
		const [user, kind, status] of [[world.alice, "instance", "complete"], [world.olga, "instance", "failed"], [
			world.bob,
			"cluster",
			"complete",
		]] as const
	) {
		ids.push(
			(await addLaunch(deps.db, {
				userId: user.id,
				groupId: world.science.id,
				configId: world.config.id,
				kind,
				status,
			}))
				.id,
		);
	}
	assert.deepEqual(await listed(deps, "/admin/launches?state=complete&sort=owner&dir=asc"), [ids[0], ids[2]]);
	assert.deepEqual(await listed(deps, "/admin/launches?kind=cluster"), [ids[2]]);
});

Deno.test("bad input is a clear 4xx: an unknown sort column, direction, page, state, filter or id", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0000000000000000a", ownerId: world.alice.id });
	const cases: [string, number, RegExp][] = [
		["/admin/instances?sort=password", 400, /Unknown sort column &quot;password&quot;: sort by created, id/],
		["/admin/instances?sort=type&dir=sideways", 400, /Unknown sort direction &quot;sideways&quot;: use asc or desc/],
		["/admin/instances?page=0", 400, /page must be a positive number/],
		["/admin/instances?page=abc", 400, /page must be a positive number/],
		["/admin/instances?state=exploded", 400, /state filter must be one of pending, running/],
		["/admin/instances?group=science", 400, /group filter must be one of the groups/],
		["/admin/instances?owner=%3Cscript%3E", 400, /owner filter must be a username/],
		["/admin/instances?archived=maybe", 400, /archived filter must be no, yes or any/],
		["/admin/instances?kind=cluster", 400, /cannot be filtered by kind/],
		["/admin/volumes?sort=name", 400, /Unknown sort column &quot;name&quot;/],
		["/admin/launches?kind=robot", 400, /kind filter must be instance or cluster/],
		["/admin/instances/i-ffffffffffffffff0", 404, /No instance i-ffffffffffffffff0 is known/],
		["/admin/instances/not-an-id", 404, /No such instance/],
		["/admin/clusters/j-NOPE", 404, /No cluster j-NOPE is known/],
		["/admin/volumes/vol-0000000000000dead", 404, /No volume vol-0000000000000dead is known/],
		["/admin/volumes/vol-0000000000000dead/delete", 404, /No volume/],
	];
	for (const [path, status, message] of cases) {
		const res = await request(deps.app, path, { user: "ada" });
		assert.equal(res.status, status, path);
		assert.match(await res.text(), message, path);
	}
	// A past-the-end page is an empty page, not an error.
	assert.deepEqual(await listed(deps, "/admin/instances?page=9"), []);
});

Deno.test("archive and unarchive: only ended machines are archived; each attempt audited; non-admins refused", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0000000000000000a", ownerId: world.alice.id, state: "running" });
	await addInstance(deps.db, { id: "i-0000000000000000b", ownerId: world.alice.id, state: "terminated" });
	await addCluster(deps.db, { id: "j-ENDED", ownerId: world.alice.id, state: "TERMINATED" });

	for (const user of ["alice", "mia", "bob"]) {
		const res = await request(deps.app, "/admin/instances/i-0000000000000000b/archive", { user, form: {} });
		assert.equal(res.status, 403, user);
	}
	assert.equal((await getInstance(deps.db, "i-0000000000000000b"))!.archived, false);

	// A running one: refused (409 in the record's words, as a flash), audited, unchanged.
	const refused = await request(deps.app, "/admin/instances/i-0000000000000000a/archive", { user: "ada", form: {} });
	assert.equal(refused.status, 303);
	assert.equal(refused.headers.get("location"), "/admin/instances/i-0000000000000000a");
	assert.equal((await getInstance(deps.db, "i-0000000000000000a"))!.archived, false);
	const [refusal] = await auditFor(deps.db, "i-0000000000000000a");
	assert.equal(refusal!.outcome, "refused");
	assert.match(refusal!.detail, /the instance is running; only an ended one is archived \(terminate it first\)/);

	const done = await request(deps.app, "/admin/instances/i-0000000000000000b/archive", { user: "ada", form: {} });
	assert.equal(done.status, 303);
	assert.equal((await getInstance(deps.db, "i-0000000000000000b"))!.archived, true);
	const [archived] = await auditFor(deps.db, "i-0000000000000000b");
	assert.deepEqual([archived!.action, archived!.actor, archived!.outcome], ["archive", "ada", "ok"]);
	// Hidden from its owner's pages, shown on the admin's archived list.
	assert.equal((await request(deps.app, "/instances/i-0000000000000000b", { user: "alice" })).status, 404);
	assert.deepEqual(await listed(deps, "/admin/instances?archived=yes"), ["i-0000000000000000b"]);

	assert.equal(
		(await request(deps.app, "/admin/instances/i-0000000000000000b/unarchive", { user: "ada", form: {} })).status,
		303,
	);
	assert.equal((await getInstance(deps.db, "i-0000000000000000b"))!.archived, false);
	assert.equal((await auditFor(deps.db, "i-0000000000000000b"))[0]!.action, "unarchive");

	// Clusters the same way.
	assert.equal((await request(deps.app, "/admin/clusters/j-ENDED/archive", { user: "ada", form: {} })).status, 303);
	assert.deepEqual(await listed(deps, "/admin/clusters?archived=yes"), ["j-ENDED"]);
	// Without the CSRF token: refused, nothing changed.
	const forged = await request(deps.app, "/admin/clusters/j-ENDED/unarchive", { user: "ada", form: {}, csrf: false });
	assert.equal(forged.status, 403);
	assert.deepEqual(await listed(deps, "/admin/clusters?archived=yes"), ["j-ENDED"]);
});

Deno.test("a manual lock leaves only Terminate to the owner, shows its reason, is audited and lifted by an admin", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0000000000000000a", ownerId: world.alice.id, state: "running" });
	const lock = (user: string, reason: string) =>
		request(deps.app, "/admin/instances/i-0000000000000000a/lock", { user, form: { reason } });

	assert.equal((await lock("alice", "mine")).status, 403);
	assert.equal((await lock("mia", "mine")).status, 403);
	assert.equal((await lock("ada", "x".repeat(201))).status, 422);
	assert.equal((await getInstance(deps.db, "i-0000000000000000a"))!.controlsLocked, false);

	assert.equal((await lock("ada", "security review INC-42")).status, 303);
	const locked = (await getInstance(deps.db, "i-0000000000000000a"))!;
	assert.equal(locked.manualLockReason, "security review INC-42");
	assert.equal(locked.controlsLocked, false, "the plugin's lock column is the plugin's alone");
	assert.match((await auditFor(deps.db, locked.id))[0]!.detail, /controls locked: security review INC-42/);
	// The owner's stop is refused with the reason; the page says why.
	const stop = await request(deps.app, "/ajax/instance/i-0000000000000000a/stop", { user: "alice", form: {} });
	assert.equal(stop.status, 409);
	assert.match(
		await stop.text(),
		/This instance's controls are locked: an admin locked them \(security review INC-42\)\. It can only be terminated\./,
	);
	assert.match(
		await (await request(deps.app, "/admin/instances?q=i-0000000000000000a", { user: "ada" })).text(),
		/title="security review INC-42">locked</,
	);

	assert.equal(
		(await request(deps.app, "/admin/instances/i-0000000000000000a/unlock", { user: "bob", form: {} })).status,
		403,
	);
	assert.equal(
		(await request(deps.app, "/admin/instances/i-0000000000000000a/unlock", { user: "ada", form: {} })).status,
		303,
	);
	const unlocked = (await getInstance(deps.db, "i-0000000000000000a"))!;
	assert.deepEqual([unlocked.controlsLocked, unlocked.manualLockReason], [false, null]);
	assert.match((await auditFor(deps.db, unlocked.id))[0]!.detail, /controls unlocked \(was: security review INC-42\)/);

	// A lock the display plugin set is not lifted by hand.
	await addInstance(deps.db, {
		id: "i-0000000000000000c",
		ownerId: world.alice.id,
		controlsLocked: true,
		controlsLockedReason: "its image ami-0abc is gone",
		controlsLockedBy: "display plugin",
	});
	await request(deps.app, "/admin/instances/i-0000000000000000c/unlock", { user: "ada", form: {} });
	assert.equal((await getInstance(deps.db, "i-0000000000000000c"))!.controlsLocked, true);
	assert.equal((await auditFor(deps.db, "i-0000000000000000c"))[0]!.outcome, "refused");
});

async function motoDeps(moto: Moto): Promise<TestDeps> {
	const subnet = await moto.subnet("us-east-1a");
	return await createTestDeps({ awsEndpoint: moto.url, realClock: true, settings: { LAUNCH_SUBNET_ID: subnet } });
}

motoTest(
	"reassigning moves the machine, its volume and its billing to the new owner's dashboard, audited",
	async (moto) => {
		await using deps = await motoDeps(moto);
		const world = await seedWorld(deps.db);
		const [id] = await moto.runInstances(1, { Name: "handed-over" });
		await addInstance(deps.db, { id: id!, ownerId: world.alice.id, groupId: world.science.id, name: "handed-over" });
		await insertVolume(deps.db, {
			id: "vol-0000000000000abcd",
			instanceId: id!,
			ownerId: world.alice.id,
			state: "in-use",
		});
		const started = new Date(Date.now() - 3_600_000);
		await openBill(deps.db, {
			resourceKind: "instance",
			resourceId: id!,
			userId: world.alice.id,
			groupId: world.science.id,
			costCenter: "CC",
			description: "t2.micro",
			hourlyRate: 0.0116,
			startedAt: started,
		});
		// The sync keeps the tags AWS shows; the admin page lists them.
		await syncAll(deps);
		assert.match(
			await (await request(deps.app, `/admin/instances/${id}`, { user: "ada" })).text(),
			/<span class="mono">Name<\/span> = <span class="mono">handed-over<\/span>/,
		);
		const onDashboard = async (user: string) => (await (await request(deps.app, "/", { user })).text()).includes(id!);
		assert.equal(await onDashboard("alice"), true);
		assert.equal(await onDashboard("olga"), false);

		// Refused: non-admins, an unknown user (4xx in our words), the same owner; nothing changes.
		for (const user of ["alice", "mia", "olga"]) {
			assert.equal(
				(await request(deps.app, `/admin/instances/${id}/reassign`, { user, form: { username: "olga" } })).status,
				403,
			);
		}
		const unknown = await request(deps.app, `/admin/instances/${id}/reassign`, {
			user: "ada",
			form: { username: "nobody" },
		});
		assert.equal(unknown.status, 422);
		assert.match(await unknown.text(), /No user nobody: users exist once they have signed in/);
		assert.deepEqual(
			(await auditFor(deps.db, id!)).map((e) => [e.action, e.outcome, e.detail]),
			[["reassign", "refused", "no user nobody"]],
		);
		const same = await request(deps.app, `/admin/instances/${id}/reassign`, {
			user: "ada",
			form: { username: "alice" },
		});
		assert.equal(same.status, 422);
		assert.equal((await getInstance(deps.db, id!))!.ownerId, world.alice.id);

		const moved = await request(deps.app, `/admin/instances/${id}/reassign`, {
			user: "ada",
			form: { username: "Olga" },
		});
		assert.equal(moved.status, 303);
		assert.equal((await getInstance(deps.db, id!))!.ownerId, world.olga.id);
		assert.equal(await onDashboard("olga"), true);
		assert.equal(await onDashboard("alice"), false);
		const [event] = await auditFor(deps.db, id!);
		assert.deepEqual([event!.action, event!.actor, event!.outcome], ["reassign", "ada", "ok"]);
		assert.equal(event!.detail, "owner changed from alice to olga");
		// Until now it was alice's cost; from now on olga's. Its volume went with it.
		const periods = await billsOf(deps.db, id!);
		assert.equal(periods.length, 2);
		const [before, after] = [...periods].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
		assert.equal(before!.userId, world.alice.id);
		assert.ok(before!.endedAt);
		assert.equal(after!.userId, world.olga.id);
		assert.equal(after!.endedAt, null);
		assert.equal(after!.hourlyRate, 0.0116);
		assert.match(
			await (await request(deps.app, "/admin/volumes?which=all&owner=olga", { user: "ada" })).text(),
			/vol-0000000000000abcd/,
		);
		// AWS was not asked to change anything: the owner is the portal's record, not a tag.
		const inMoto = await moto.ec2().send(new DescribeVolumesCommand({}));
		assert.ok(inMoto.Volumes);
	},
);

motoTest(
	"deleting a volume left behind: its size, type and monthly cost first, then gone from moto, audited",
	async (moto) => {
		await using deps = await motoDeps(moto);
		const world = await seedWorld(deps.db);
		const out = await moto.ec2().send(
			new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 8, VolumeType: "gp2" }),
		);
		const id = out.VolumeId!;
		await insertVolume(deps.db, { id, ownerId: world.alice.id, sizeGb: 8, volumeType: "gp2", state: "available" });
		await openBill(deps.db, {
			resourceKind: "volume",
			resourceId: id,
			userId: world.alice.id,
			costCenter: "CC",
			description: "gp2 8 GiB",
			hourlyRate: null,
			monthlyRate: 0.8,
			startedAt: new Date(Date.now() - 86_400_000),
		});
		assert.deepEqual(await listed(deps, "/admin/volumes"), [id]);

		// The confirmation page: what it is and what it costs a month (gp2 in us-east-1: $0.10 per GiB-month).
		assert.equal((await request(deps.app, `/admin/volumes/${id}/delete`, { user: "alice" })).status, 403);
		const confirm = await request(deps.app, `/admin/volumes/${id}/delete`, { user: "ada" });
		assert.equal(confirm.status, 200);
		const page = await confirm.text();
		assert.match(page, /<dt>Size<\/dt><dd>8 GiB<\/dd>/);
		assert.match(page, /<dt>Type<\/dt><dd>gp2<\/dd>/);
		assert.match(page, /<strong>\$0\.80 a month<\/strong>/);
		assert.match(page, /name="confirm"/);

		// Not confirmed, or not an admin: nothing deleted.
		assert.equal(
			(await request(deps.app, `/admin/volumes/${id}/delete`, { user: "mia", form: { confirm: "on" } })).status,
			403,
		);
		const unconfirmed = await request(deps.app, `/admin/volumes/${id}/delete`, { user: "ada", form: {} });
		assert.equal(unconfirmed.status, 422);
		assert.match(await unconfirmed.text(), /Confirm that the volume and everything on it is to be deleted/);
		const still = await moto.ec2().send(new DescribeVolumesCommand({ Filters: [{ Name: "volume-id", Values: [id] }] }));
		assert.equal(still.Volumes?.length, 1);

		const deleted = await request(deps.app, `/admin/volumes/${id}/delete`, { user: "ada", form: { confirm: "on" } });
		assert.equal(deleted.status, 303);
		assert.equal(deleted.headers.get("location"), "/admin/volumes");
		const gone = await moto.ec2().send(new DescribeVolumesCommand({ Filters: [{ Name: "volume-id", Values: [id] }] }));
		assert.equal(gone.Volumes?.length ?? 0, 0);
		const [event] = await auditFor(deps.db, id);
		assert.deepEqual([event!.action, event!.actor, event!.outcome], ["delete-volume", "ada", "ok"]);
		assert.match(event!.detail, /gp2 8 GiB of alice deleted/);
		assert.deepEqual(await listed(deps, "/admin/volumes"), []);
		assert.ok((await billsOf(deps.db, id))[0]!.endedAt, "its billing ended");

		// A volume something alive holds is not deleted here (409), and is never asked of AWS.
		const [instance] = await moto.runInstances(1, { Name: "holder" });
		await addInstance(deps.db, { id: instance!, ownerId: world.alice.id, state: "running" });
		await insertVolume(deps.db, {
			id: "vol-00000000000000a11",
			instanceId: instance!,
			ownerId: world.alice.id,
			state: "in-use",
		});
		assert.equal((await request(deps.app, "/admin/volumes/vol-00000000000000a11/delete", { user: "ada" })).status, 409);
		const held = await request(deps.app, "/admin/volumes/vol-00000000000000a11/delete", {
			user: "ada",
			form: { confirm: "on" },
		});
		assert.equal(held.status, 409);
		assert.equal((await auditFor(deps.db, "vol-00000000000000a11"))[0]!.outcome, "refused");
	},
);

Deno.test("a volume whose price is not known says unknown on its confirmation page, never $0", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await insertVolume(deps.db, {
		id: "vol-0000000000000beef",
		ownerId: world.alice.id,
		sizeGb: 100,
		volumeType: "magnetic-tape",
		state: "available",
	});
	const page = await (await request(deps.app, "/admin/volumes/vol-0000000000000beef/delete", { user: "ada" })).text();
	assert.match(page, /<strong>unknown \(no EBS price is known for volume type &quot;magnetic-tape&quot;/);
	assert.doesNotMatch(page, /\$0(\.00)?\b/);
});

Deno.test("the admin overview and tabs link to the machine pages", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0000000000000000a", ownerId: world.alice.id });
	const overview = await (await request(deps.app, "/admin", { user: "ada" })).text();
	assert.match(overview, /<a class="card" href="\/admin\/instances"><h3>Machines<\/h3><span class="stat">1<\/span>/);
	const clusters = await (await request(deps.app, "/admin/clusters", { user: "ada" })).text();
	assert.match(clusters, /<a href="\/admin\/instances" aria-current="page">Machines<\/a>/);
	assert.match(clusters, /<a href="\/admin\/clusters" aria-current="page">Clusters<\/a>/);
});

browserTest(
	"the instance list sorts from the keyboard; the list and a confirmation page at 1280 and 390 px",
	async () => {
		await using deps = await createTestDeps({ settings: browserSettings() });
		const world = await seedWorld(deps.db);
		const owners = [world.alice, world.bob, world.olga];
		const states = ["running", "stopped", "running", "pending", "terminated"];
		for (let i = 0; i < 12; i++) {
			const id = `i-0${(0x3c0ffee0 + i * 7919).toString(16)}a1b2c3d4`;
			await addInstance(deps.db, {
				id,
				ownerId: owners[i % 3]!.id,
				groupId: owners[i % 3] === world.olga ? world.ops.id : world.science.id,
				configId: world.config.id,
				name: ["jupyter-lab", "feature-store", "nightly-etl", "rstudio"][i % 4]!,
				instanceType: ["t2.micro", "m4.large", "r4.4xlarge"][i % 3]!,
				state: states[i % 5]!,
				tags: JSON.stringify({
					LaunchedBy: "MLIY",
					Name: "jupyter-lab",
					userid: owners[i % 3]!.username,
					Group: "science",
				}),
				controlsLocked: i === 4,
				manualLockReason: i === 4 ? "security review INC-42" : null,
				createdAt: new Date(Date.UTC(2025, 2, 1, 8, i * 5)),
				lastSeenAt: new Date(Date.UTC(2025, 2, 1, 12)),
			});
			if (i % 2 === 0) {
				await insertVolume(deps.db, {
					id: `vol-0${i}ab12cd34ef5678`,
					instanceId: id,
					ownerId: owners[i % 3]!.id,
					sizeGb: 50,
					state: "in-use",
				});
			}
		}
		await insertVolume(deps.db, {
			id: "vol-0feedbeef00112233",
			ownerId: world.olga.id,
			groupId: world.ops.id,
			sizeGb: 500,
			volumeType: "gp3",
			iops: 6000,
			throughput: 250,
			state: "available",
		});
		const server = serve(deps);
		const browser = await launchBrowser();
		try {
			const { page, errors } = await signedIn(browser, "ada");
			await page.goto(`${server.url}/admin/instances`);
			// Tab to the Type heading's link and press Enter: sorted by type, ascending, in the URL.
			const typeLink = page.getByRole("link", { name: /^Type/ });
			await typeLink.focus();
			await page.keyboard.press("Enter");
			await page.waitForURL(/sort=type&dir=asc/);
			assert.equal((await page.locator('th[aria-sort="ascending"]').textContent())?.trim(), "Type▲");
			const types = await page.locator('td[data-label="Type"]').allInnerTexts();
			assert.deepEqual(types, [...types].sort());
			// Again: the other way round.
			await page.getByRole("link", { name: /^Type/ }).focus();
			await page.keyboard.press("Enter");
			await page.waitForURL(/sort=type&dir=desc/);
			assert.equal(await page.locator('th[aria-sort="descending"]').count(), 1);
			await Deno.mkdir(SCREENSHOTS, { recursive: true });
			for (const width of [1280, 390]) {
				await page.setViewportSize({ width, height: 900 });
				await page.goto(`${server.url}/admin/instances?sort=owner&dir=asc`);
				await page.screenshot({ path: `${SCREENSHOTS}admin-instances-${width}.png`, fullPage: true });
				await page.screenshot({ path: `${SCREENSHOTS}admin-instances-${width}-top.png` });
				await page.goto(`${server.url}/admin/volumes/vol-0feedbeef00112233/delete`);
				await page.screenshot({ path: `${SCREENSHOTS}admin-volume-delete-${width}.png`, fullPage: true });
				await page.goto(`${server.url}/admin/instances?q=jupyter&sort=state`);
				await page.locator('td[data-label="Instance"] a').first().click();
				await page.screenshot({ path: `${SCREENSHOTS}admin-instance-${width}.png`, fullPage: true });
			}
			// The confirmation page shows the volume with its provisioned performance and its monthly cost.
			await page.goto(`${server.url}/admin/volumes/vol-0feedbeef00112233/delete`);
			assert.match(
				await page.locator("dl.facts").innerText(),
				/500 GiB[\s\S]*gp3, 6000 IOPS, 250 MB\/s[\s\S]*\$\d+\.\d\d a month/,
			);
			assert.deepEqual(errors, []);
		} finally {
			await browser.close();
			await server.close();
		}
	},
);
