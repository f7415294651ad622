/**
 * Lists that sort, filter and page (lib/views/lists.ts): the team view, the billing report and My
 * dashboard, through the HTTP app. Each sortable column in both directions gives rows in that
 * column's order (ties by id in the same direction, what has no value last); the order and filters
 * live in the URL, so a reload, a link and the dashboard's htmx refresh show the same view; the
 * dashboard offers its controls only past a screenful of machines; bad parameters are a 400 in
 * our words or fall back (a page past the end is the last page), never a 5xx.
 */
import assert from "node:assert/strict";
import { openBill } from "../lib/db/bills.ts";
import { DASHBOARD_SCREENFUL, DASHBOARD_SORTS } from "../lib/views/dashboard.ts";
import { BILLING_SORTS } from "../lib/views/billing.ts";
import { TEAM_SORTS } from "../lib/views/team.ts";
import type { SortDirection } from "../lib/views/lists.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { HOUR, type Key, seedMine, seedTeam, type World } from "./_helpers/lists.ts";
import { addInstance, addLaunch, seedWorld } from "./_helpers/world.ts";

/** The rows of a page's tables, in order: each machine's (or billed resource's) id and its cells by label, as text. */
function rowsOf(html: string): { id: string; cells: Record<string, string> }[] {
	const rows = [...html.matchAll(/<tr\b[^>]*data-(?:instance|cluster)="([^"]+)"[^>]*>(.*?)<\/tr>/gs)];
	return rows.map(([, id, body]) => ({
		id: id!,
		cells: Object.fromEntries(
			[...body!.matchAll(/<td data-label="([^"]+)"[^>]*>(.*?)<\/td>/gs)].map(([, label, cell]) => [
				label!,
				cell!.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim(),
			]),
		),
	}));
}

/** The billed resources of the billing report, in order. */
function billedIdsOf(html: string): string[] {
	return [...html.matchAll(/<td data-label="Resource">(?:<a href="[^"]*">|<span class="mono">)([^<]+)</g)].map((m) =>
		m[1]!
	);
}

/** The order a list promises: by the key in the direction asked, ties by id alike, a missing key last either way. */
function expectedOrder(ids: string[], key: (id: string) => Key, dir: SortDirection): string[] {
	const text = (v: Key) => typeof v === "string" ? v.toLowerCase() : v;
	const compare = (a: Key, b: Key) => {
		if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
		const [x, y] = [text(a)!, text(b)!];
		const order = x < y ? -1 : x > y ? 1 : 0;
		return dir === "asc" ? order : -order;
	};
	return [...ids].sort((a, b) => compare(key(a), key(b)) || compare(a, b));
}

/** The hourly cost a row shows, as a number; null for "—" or "price unknown". */
function shownRate(text: string): number | null {
	const match = /^\$([\d.]+)\/h$/.exec(text);
	return match ? Number(match[1]) : null;
}

/** Milliseconds of an uptime as shown ("3 h 20 min", "2 d 4 h", "40 s"); null for "—". */
function shownUptime(text: string): number | null {
	if (text === "—") return null;
	const units: Record<string, number> = { d: 24 * HOUR, h: HOUR, min: 60_000, s: 1000 };
	return [...text.matchAll(/(\d+) (d|h|min|s)\b/g)].reduce((ms, [, n, unit]) => ms + Number(n) * units[unit!]!, 0);
}

Deno.test("the team view sorts by each sortable column both ways, across its pages, with aria-sort on the heading", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const { ids, keys } = await seedTeam(deps, world);
	assert.deepEqual(Object.keys(keys).sort(), Object.keys(TEAM_SORTS.columns).sort(), "every order is checked");
	for (const [column, key] of Object.entries(keys)) {
		for (const dir of ["asc", "desc"] as const) {
			const shown: string[] = [];
			for (const page of [1, 2]) {
				const res = await request(deps.app, `/team?sort=${column}&dir=${dir}&page=${page}`, { user: "mia" });
				assert.equal(res.status, 200, `${column} ${dir} page ${page}`);
				const html = await res.text();
				shown.push(...rowsOf(html).map((r) => r.id));
				if (page === 1 && column !== "created") {
					const ariaSort = dir === "asc" ? "ascending" : "descending";
					assert.match(
						html,
						new RegExp(
							`<th scope="col"[^>]*aria-sort="${ariaSort}"[^>]*><a class="sort" href="[^"]*sort=${column}&amp;dir=${
								dir === "asc" ? "desc" : "asc"
							}`,
						),
						`${column} ${dir}: its heading says so and turns the order`,
					);
					assert.match(html, new RegExp(`<option value="${column}" selected>`), "the form's Sort by shows it");
				}
			}
			assert.deepEqual(shown, expectedOrder(ids, key, dir), `${column} ${dir}`);
		}
	}
	// The default is newest first, and its URL stays plain.
	const plain = rowsOf(await (await request(deps.app, "/team", { user: "mia" })).text()).map((r) => r.id);
	assert.deepEqual(plain, expectedOrder(ids, keys.created!, "desc").slice(0, 25));
	// A filter keeps the order, and the pager's links carry both.
	const html = await (await request(deps.app, `/team?state=running&sort=owner&dir=desc`, { user: "mia" })).text();
	const running = ids.filter((id) => keys.state!(id) === "running");
	assert.deepEqual(rowsOf(html).map((r) => r.id), expectedOrder(running, keys.owner!, "desc"));
	// htmx asks for the table alone: it carries the form's sort fields out of band, so a later filter keeps the order.
	const fragment = await (await request(deps.app, "/team?sort=type&dir=asc&page=2", { user: "mia", htmx: true }))
		.text();
	assert.match(fragment, /^<section id="team-table">/);
	assert.match(fragment, /<div id="team-sort" class="sort-fields" hx-swap-oob="true">/);
	assert.match(fragment, /<option value="type" selected>Type<\/option>/);
	assert.match(fragment, /href="\/team\?sort=type&amp;dir=asc"[^>]*>← Previous/);
});

Deno.test("the team view: an empty filtered result says so and offers to clear the filters, keeping the order", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await seedTeam(deps, world);
	const html = await (await request(deps.app, "/team?q=no-such-machine&sort=name&dir=asc", { user: "mia" })).text();
	assert.match(html, /No instances match\.[\s\S]*Nothing matches these filters\./);
	assert.match(html, /<a class="btn" href="\/team\?sort=name&amp;dir=asc" data-clear-filters>Clear the filters<\/a>/);
});

Deno.test("the billing report sorts its billed resources by each column both ways, the unknown cost last", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const day = "2025-03-01T";
	// [resource, owner, group, cost center, type, periods as [from hour, to hour], $/h (null: unknown)]
	const billed: [string, World["alice"], World["science"] | null, string, string, [number, number][], number | null][] =
		[
			["i-000000000000000a1", world.alice, world.science, "CC-B", "t2.micro", [[0, 2]], 0.0116],
			["i-000000000000000b2", world.bob, world.science, "CC-A", "m4.large", [[1, 2], [3, 7]], 0.1],
			["i-000000000000000c3", world.olga, world.ops, "CC-C", "r4.4xlarge", [[0, 1]], 1.064],
			["vol-0000000000000d4", world.alice, null, "CC-A", "gp2 100 GiB", [[2, 10]], 0.0137],
			["i-000000000000000e5", world.bob, world.ops, "CC-B", "x9.unknown", [[0, 3]], null],
		];
	for (const [resourceId, user, group, costCenter, description, periods, rate] of billed) {
		for (const [from, to] of periods) {
			await openBill(deps.db, {
				resourceKind: resourceId.startsWith("vol-") ? "volume" : "instance",
				resourceId,
				userId: user.id,
				groupId: group?.id ?? null,
				costCenter,
				description,
				hourlyRate: rate,
				startedAt: new Date(`${day}${String(from).padStart(2, "0")}:00:00Z`),
				endedAt: new Date(`${day}${String(to).padStart(2, "0")}:00:00Z`),
			});
		}
	}
	const row = new Map(billed.map((b) => [b[0], b]));
	const hours = (id: string) => row.get(id)![5].reduce((n, [from, to]) => n + to - from, 0);
	const keys: Record<string, (id: string) => Key> = {
		resource: (id) => id,
		owner: (id) => `${row.get(id)![1].firstName} ${row.get(id)![1].lastName}`.trim(),
		group: (id) => row.get(id)![2]?.name ?? null,
		costCenter: (id) => row.get(id)![3],
		type: (id) => row.get(id)![4],
		periods: (id) => row.get(id)![5].length,
		hours,
		cost: (id) => row.get(id)![6] === null ? null : hours(id) * row.get(id)![6]!,
	};
	assert.deepEqual(Object.keys(keys).sort(), Object.keys(BILLING_SORTS.columns).sort(), "every order is checked");
	const ids = billed.map((b) => b[0]);
	for (const [column, key] of Object.entries(keys)) {
		for (const dir of ["asc", "desc"] as const) {
			const res = await request(deps.app, `/billing?from=2025-03-01&to=2025-03-01&sort=${column}&dir=${dir}`, {
				user: "mia",
			});
			assert.equal(res.status, 200, `${column} ${dir}`);
			const html = await res.text();
			assert.deepEqual(billedIdsOf(html), expectedOrder(ids, key, dir), `${column} ${dir}`);
			const ariaSort = dir === "asc" ? "ascending" : "descending";
			const turned = dir === "asc" ? "desc" : "asc";
			// The heading turns the order; the default order (the most expensive first) has the plain address.
			const query = column === "cost" && turned === "desc" ? "" : `&amp;sort=${column}&amp;dir=${turned}`;
			const href = `/billing\\?from=2025-03-01&amp;to=2025-03-01${query}"`;
			assert.match(html, new RegExp(`aria-sort="${ariaSort}"[^>]*><a class="sort" href="${href}`), `${column} ${dir}`);
		}
	}
	// The most expensive first by default; the unknown cost last.
	const plain = await (await request(deps.app, "/billing?from=2025-03-01&to=2025-03-01", { user: "mia" })).text();
	assert.deepEqual(billedIdsOf(plain), expectedOrder(ids, keys.cost!, "desc"));
	assert.equal(billedIdsOf(plain).at(-1), "i-000000000000000e5");
	// The form keeps the order when the dates or filters change, and the CSV follows it.
	const sorted = await (await request(deps.app, "/billing?from=2025-03-01&to=2025-03-01&sort=owner&dir=asc", {
		user: "mia",
	})).text();
	assert.match(sorted, /<select id="billing-sort-by" name="sort">[\s\S]*?<option value="owner" selected>/);
	assert.match(sorted, /<option value="asc" selected>Ascending<\/option>/);
	const csv = await (await request(deps.app, "/billing.csv?from=2025-03-01&to=2025-03-01&sort=resource&dir=desc", {
		user: "mia",
	})).text();
	const csvIds = ids.filter((id) => csv.includes(id)).sort((a, b) => csv.indexOf(a) - csv.indexOf(b));
	assert.deepEqual(csvIds, expectedOrder(ids, keys.resource!, "desc"));
});

Deno.test("My dashboard below a screenful stays a plain list: no filters, no sort links, no pager", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await seedMine(deps, world, DASHBOARD_SCREENFUL - 4);
	const html = await (await request(deps.app, "/", { user: "alice" })).text();
	assert.equal(rowsOf(html).length, DASHBOARD_SCREENFUL, "21 instances and 4 clusters, all shown");
	assert.doesNotMatch(html, /data-machine-filters|aria-sort|class="pager"/);
	assert.match(html, /<h2>My instances<\/h2>/);
	assert.match(html, /<h2>My clusters<\/h2>/);
	// Sort and filter parameters change nothing below a screenful (and bad ones are still refused).
	const asked = await (await request(deps.app, "/?state=stopped&sort=name&dir=asc", { user: "alice" })).text();
	assert.deepEqual(rowsOf(asked).map((r) => r.id), rowsOf(html).map((r) => r.id));
	assert.equal((await request(deps.app, "/?sort=owner", { user: "alice" })).status, 400);
});

Deno.test("My dashboard past a screenful filters by state, kind, configuration and text, sorts both ways and pages", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const { byId, beta } = await seedMine(deps, world, 30);
	const all = [...byId.keys()];
	const get = async (path: string) => {
		const res = await request(deps.app, path, { user: "alice" });
		assert.equal(res.status, 200, path);
		return await res.text();
	};

	const first = await get("/");
	assert.match(first, /<h2>My machines<\/h2>/);
	assert.match(first, /<form class="filters" method="get" action="\/"[^>]*data-machine-filters/);
	assert.match(first, /Page 1 of 2 · 34 in all/);
	assert.match(first, /34 machines\./);
	assert.doesNotMatch(first, /<h2>My clusters<\/h2>/, "the clusters are in the list");
	const pages = [...rowsOf(first), ...rowsOf(await get("/?page=2"))].map((r) => r.id);
	assert.deepEqual(pages, expectedOrder(all, (id) => byId.get(id)!.created, "desc"), "newest first over both pages");

	// Every order, both ways, over both pages; cost and uptime as the rows show them.
	const shown = new Map<string, Record<string, string>>();
	for (const row of [...rowsOf(first), ...rowsOf(await get("/?page=2"))]) shown.set(row.id, row.cells);
	const keys: Record<string, (id: string) => Key> = {
		created: (id) => byId.get(id)!.created,
		name: (id) => byId.get(id)!.name || id,
		type: (id) => byId.get(id)!.type,
		state: (id) => byId.get(id)!.state,
		cost: (id) => shownRate(shown.get(id)!["Hourly cost"]!),
		config: (id) => byId.get(id)!.config,
		uptime: (id) => shownUptime(shown.get(id)!["Uptime"]!),
	};
	assert.deepEqual(Object.keys(keys).sort(), Object.keys(DASHBOARD_SORTS.columns).sort(), "every order is checked");
	assert.ok(all.some((id) => keys.cost!(id) === null) && all.some((id) => keys.cost!(id) !== null));
	for (const [column, key] of Object.entries(keys)) {
		for (const dir of ["asc", "desc"] as const) {
			const one = await get(`/?sort=${column}&dir=${dir}`);
			const two = await get(`/?sort=${column}&dir=${dir}&page=2`);
			const ids = [...rowsOf(one), ...rowsOf(two)].map((r) => r.id);
			// Within a page, the instances' table comes before the clusters': compare each page's set and the instances' order.
			const expected = expectedOrder(all, key, dir);
			assert.deepEqual(
				new Set(rowsOf(one).map((r) => r.id)),
				new Set(expected.slice(0, 25)),
				`${column} ${dir} page 1`,
			);
			assert.deepEqual(new Set(ids), new Set(all));
			const instancesOnly = expected.filter((id) => id.startsWith("i-"));
			assert.deepEqual(ids.filter((id) => id.startsWith("i-")), instancesOnly, `${column} ${dir}`);
		}
	}

	// Filters: state, kind, configuration, text; each narrows both kinds.
	const ids = async (path: string) => {
		const html = await get(path);
		return [...rowsOf(html), ...(/Next →/.test(html) ? rowsOf(await get(`${path}&page=2`)) : [])].map((r) => r.id)
			.sort();
	};
	const where = (test: (m: NonNullable<ReturnType<typeof byId.get>>, id: string) => boolean) =>
		all.filter((id) => test(byId.get(id)!, id)).sort();
	assert.deepEqual(await ids("/?state=running"), where((m) => ["running", "WAITING", "RUNNING"].includes(m.state)));
	assert.deepEqual(await ids("/?state=stopped"), where((m) => m.state === "stopped"));
	assert.deepEqual(await ids("/?state=ended"), ["j-CLUSTER4"]);
	assert.deepEqual(await ids("/?kind=cluster"), where((_, id) => id.startsWith("j-")));
	assert.deepEqual(await ids(`/?config=${beta.id}`), where((m) => m.config === "Beta"));
	assert.deepEqual(await ids("/?q=NOTEBOOK"), where((m) => m.name.toLowerCase().includes("notebook")));
	assert.deepEqual(await ids("/?q=cluster2"), ["j-CLUSTER2"], "text in the id");
	const filtered = await get(`/?kind=instance&state=running&sort=name&dir=asc`);
	assert.match(filtered, /<select id="f-kind" name="kind">.*?<option value="instance" selected>/s);
	assert.match(filtered, /<select id="f-state" name="state">.*?<option value="running" selected>/s);
	assert.match(filtered, /\d+ of your 34 machines match\./);
	assert.match(
		filtered,
		/<select id="f-config" name="config"><option value="">Any<\/option><option value="\d+" >Analyst<\/option><option value="\d+" >Beta<\/option>/,
	);

	// Nothing matches: said so, with the way back (keeping the order).
	const none = await get("/?q=nothing-like-this&sort=type&dir=desc");
	assert.match(none, /No machines match\.[\s\S]*Nothing matches these filters\./);
	assert.match(none, /href="\/\?sort=type&amp;dir=desc" data-clear-filters>Clear the filters/);
});

Deno.test("My dashboard's htmx refresh, its fragment and an action answered with the list keep the filters, order and page", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await seedMine(deps, world, 30);
	// A launch on the way: the list polls its fragment until the instance appears.
	await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		status: "creating",
	});
	const view = "/?sort=name&dir=desc&page=2";
	const page = await (await request(deps.app, view, { user: "alice" })).text();
	const poll = /<section id="my-instances" hx-get="([^"]+)" hx-trigger="every 5s"/.exec(page)?.[1]?.replaceAll(
		"&amp;",
		"&",
	);
	assert.equal(poll, "/dashboard/instances?sort=name&dir=desc&page=2");
	const refreshed = await (await request(deps.app, poll!, { user: "alice", htmx: true })).text();
	assert.deepEqual(
		rowsOf(refreshed).map((r) => r.id),
		rowsOf(page).map((r) => r.id),
		"the refresh shows the same rows",
	);
	assert.match(refreshed, /Page 2 of 2/);
	assert.match(
		refreshed,
		/<div id="dash-sort" class="sort-fields" hx-swap-oob="true">.*?<option value="name" selected>/s,
	);
	// The headings, pager and form ask GET / with HX-Request for the same fragment.
	const swapped = await (await request(deps.app, view, { user: "alice", htmx: true })).text();
	assert.match(swapped, /^<section id="my-instances"/);
	assert.deepEqual(rowsOf(swapped).map((r) => r.id), rowsOf(page).map((r) => r.id));
	assert.match(
		page,
		/<th scope="col" aria-sort="descending" data-sort-column="true"><a class="sort" href="\/\?sort=name&amp;dir=asc" [^>]*hx-get="\/\?sort=name&amp;dir=asc" hx-target="#my-instances"/,
	);

	// Removing a record answers with the list drawn from the address the viewer is on (HX-Current-URL).
	await addInstance(deps.db, {
		id: "i-0000000000000e0d0",
		ownerId: world.alice.id,
		name: "aaa-ended",
		state: "terminated",
		updatedAt: deps.clock(),
	});
	const instancesView = "/?kind=instance&sort=name&dir=desc&page=2";
	const before = rowsOf(await (await request(deps.app, instancesView, { user: "alice" })).text()).map((r) => r.id);
	assert.equal(before.at(-1), "i-0000000000000e0d0", "the ended one comes last by name, descending");
	const res = await request(deps.app, "/ajax/instance/i-0000000000000e0d0/archive?view=dashboard", {
		user: "alice",
		form: {},
		htmx: true,
		headers: { "HX-Current-URL": `http://localhost${instancesView}` },
	});
	assert.equal(res.status, 200);
	const after = await res.text();
	assert.match(after, /Page 2 of 2/);
	assert.deepEqual(rowsOf(after).map((r) => r.id), before.slice(0, -1), "the same page, less the record removed");
});

Deno.test("bad list parameters are a 400 in our words or fall back, never a 5xx", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await seedMine(deps, world, 30);
	const refused: [string, RegExp][] = [
		["/team?sort=hourly", /Unknown sort column "hourly": sort by created, name, owner, type, state, config, uptime/],
		["/team?sort=name&dir=up", /Unknown sort direction "up": use asc or desc/],
		["/team?page=0", /The page must be a positive number/],
		["/team?page=-3", /The page must be a positive number/],
		["/team?page=1e3", /The page must be a positive number/],
		["/billing?sort=__proto__", /Unknown sort column "__proto__"/],
		["/billing?sort=toString", /Unknown sort column "toString"/],
		["/billing.csv?dir=sideways", /Unknown sort direction/],
		["/?sort=owner", /Unknown sort column "owner"/],
		["/?state=asleep", /Unknown state filter "asleep"/],
		["/?kind=volume", /Unknown kind "volume": use instance or cluster/],
		["/?config=abc", /The config filter must be an id number/],
		["/?page=two", /The page must be a positive number/],
		["/dashboard/instances?sort=%00", /Unknown sort column/],
		[`/?q=${"x".repeat(101)}`, /The search text is too long/],
	];
	for (const [path, message] of refused) {
		const res = await request(deps.app, path, { user: "alice" });
		assert.equal(res.status, 400, path);
		assert.match((await res.text()).replaceAll("&quot;", '"'), message, path);
	}
	// A page past the end shows the last page.
	const far = await (await request(deps.app, "/?page=999999", { user: "alice" })).text();
	assert.match(far, /Page 2 of 2/);
	const team = await (await request(deps.app, "/team?page=50&sort=name", { user: "mia" })).text();
	assert.match(team, /Page 2 of 2/);
	assert.equal(rowsOf(team).filter((r) => r.id.startsWith("i-")).length, 5, "the last 5 of 30 instances");
	// Repeated and empty parameters: the first value counts, an empty one is no choice.
	for (const path of ["/team?sort=&dir=", "/?sort=name&sort=bogus", "/billing?sort=cost&dir=asc&dir=up", "/?page="]) {
		const res = await request(deps.app, path, { user: "mia" });
		assert.ok(res.status < 500, `${path}: ${res.status}`);
	}
});
