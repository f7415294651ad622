/**
 * The audit view (/admin/audit, /admin/audit.csv): admins read the whole trail — people's actions
 * and the portal's own (sync, launcher, policies with their reason) — filtered by who, group,
 * machine, action, outcome and dates (days in TIME_ZONE), 50 a page by keyset, and as CSV with the
 * same filters. Nobody else may; bad filters are a 400 in our words. The instance and cluster pages
 * link their admins to their part of it.
 */
import assert from "node:assert/strict";
import { recordAudit } from "../lib/db/audit.ts";
import type { NewAuditEvent } from "../lib/db/audit.ts";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addCluster, addInstance, seedWorld } from "./_helpers/world.ts";

const ALICE_BOX = "i-0aaaaaaaaaaaaaaa1";
const OLGA_BOX = "i-0bbbbbbbbbbbbbbb2";
const CLUSTER = "j-3AUDITCLUSTER";

/** A trail with people's and automated events on machines of both groups, over three days (Europe/Paris). */
async function trail(): Promise<{ deps: TestDeps; world: Awaited<ReturnType<typeof seedWorld>> }> {
	const deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED), settings: { TIME_ZONE: "Europe/Paris" } });
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: ALICE_BOX, ownerId: world.alice.id, groupId: world.science.id, state: "running" });
	await addInstance(deps.db, { id: OLGA_BOX, ownerId: world.olga.id, groupId: world.ops.id, state: "running" });
	await addCluster(deps.db, { id: CLUSTER, ownerId: world.alice.id, groupId: world.science.id, stackId: "arn:stack" });
	const event = (at: string, values: Partial<NewAuditEvent>) =>
		recordAudit(deps.db, {
			at: new Date(at),
			actor: "alice",
			actorId: world.alice.id,
			action: "start",
			resourceKind: "instance",
			resourceId: ALICE_BOX,
			outcome: "ok",
			...values,
		});
	// 2025-02-27 23:30 in Paris is 22:30 UTC: the 27th there.
	await event("2025-02-27T22:30:00Z", { action: "launch", actor: "launcher", outcome: "ok", detail: "created" });
	// 00:30 in Paris on the 28th, still the 27th in UTC.
	await event("2025-02-27T23:30:00Z", { action: "stop", actor: "policy", actorId: null, reason: "idle" });
	await event("2025-02-28T09:00:00Z", { actor: "olga", actorId: world.olga.id, resourceId: OLGA_BOX });
	await event("2025-02-28T10:00:00Z", {
		actor: "olga",
		actorId: world.olga.id,
		action: "terminate",
		resourceId: OLGA_BOX,
		outcome: "refused",
		detail: '=HYPERLINK("http://evil.example")',
	});
	await event("2025-02-28T11:00:00Z", { action: "terminate", resourceKind: "cluster", resourceId: CLUSTER });
	await event("2025-02-28T12:00:00Z", { action: "vanished", actor: "sync", actorId: null, outcome: "ok" });
	return { deps, world };
}

/** The rows of the page's table: [who, what, on, outcome] per event. */
function rowsOf(html: string): string[][] {
	const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
	return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
		[...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!.replace(/<[^>]+>/g, "").trim())
	);
}

async function page(deps: TestDeps, query: string, user = "ada"): Promise<{ status: number; html: string }> {
	const res = await request(deps.app, `/admin/audit${query}`, { user });
	return { status: res.status, html: await res.text() };
}

Deno.test("audit view: an admin reads every event, newest first, people's and the portal's own", async () => {
	const { deps } = await trail();
	await using _ = deps;
	// A real action through the portal is on the trail too.
	const stop = await request(deps.app, `/ajax/instance/${ALICE_BOX}/stop`, {
		user: "alice",
		method: "POST",
		headers: { Accept: "application/json" },
	});
	assert.equal(stop.status, 200, await stop.text());

	const { status, html } = await page(deps, "");
	assert.equal(status, 200);
	const rows = rowsOf(html);
	assert.equal(rows.length, 7);
	assert.deepEqual(rows.map((r) => [r[1], r[2], r[4]]), [
		["alice", "stop", "ok"],
		["sync", "vanished", "ok"],
		["alice", "terminate", "ok"],
		["olga", "terminate", "refused"],
		["olga", "start", "ok"],
		["policy", "stopidle", "ok"],
		["launcher", "launch", "ok"],
	]);
	assert.match(html, /<span class="badge">idle<\/span>/, "a policy's reason is shown");
	assert.match(html, new RegExp(`<a class="mono small" href="/clusters/${CLUSTER}">${CLUSTER}</a>`));
	assert.match(html, /aria-current="page">Audit trail</, "a tab of the admin pages");
});

Deno.test("audit view: filters by who, group, machine, action, outcome and days in TIME_ZONE, together", async () => {
	const { deps, world } = await trail();
	await using _ = deps;
	const whats = async (query: string) => rowsOf((await page(deps, query)).html).map((r) => `${r[1]} ${r[2]}`);
	assert.deepEqual(await whats("?user=OLGA"), ["olga terminate", "olga start"]);
	assert.deepEqual(await whats("?user=policy"), ["policy stopidle"]);
	assert.deepEqual(await whats(`?group=${world.ops.id}`), ["olga terminate", "olga start"]);
	assert.deepEqual(await whats(`?group=${world.science.id}`), [
		"sync vanished",
		"alice terminate",
		"policy stopidle",
		"launcher launch",
	]);
	assert.deepEqual(await whats(`?machine=${CLUSTER}`), ["alice terminate"]);
	assert.deepEqual(await whats("?action=terminate"), ["alice terminate", "olga terminate"]);
	assert.deepEqual(await whats("?outcome=refused"), ["olga terminate"]);
	// Days in Paris: the policy's stop at 23:30 UTC on the 27th is on the 28th there.
	assert.deepEqual(await whats("?to=2025-02-27"), ["launcher launch"]);
	assert.deepEqual(await whats("?from=2025-02-28&to=2025-02-28"), [
		"sync vanished",
		"alice terminate",
		"olga terminate",
		"olga start",
		"policy stopidle",
	]);
	assert.deepEqual(await whats(`?group=${world.science.id}&action=terminate&from=2025-02-28`), ["alice terminate"]);
	assert.deepEqual(await whats("?from=2025-03-01"), [], "nothing after");
	assert.match((await page(deps, "?from=2025-03-01")).html, /No events match/);
	// The form keeps what was chosen.
	const { html } = await page(deps, `?user=olga&outcome=refused&from=2025-02-28`);
	assert.match(html, /name="user" value="olga"/);
	assert.match(html, /<option value="refused" selected>refused<\/option>/);
	assert.match(html, /name="from" value="2025-02-28"/);
});

Deno.test("audit view: 50 a page, older pages by keyset, nothing shown twice or skipped", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	// 120 events, some sharing a time (the keyset orders them by id within it).
	for (let i = 0; i < 120; i++) {
		await recordAudit(deps.db, {
			at: new Date(Date.UTC(2025, 1, 1, 0, Math.floor(i / 3))),
			actor: "alice",
			actorId: world.alice.id,
			action: "start",
			resourceKind: "instance",
			resourceId: `i-${String(i).padStart(17, "0")}`,
			outcome: "ok",
		});
	}
	const seen: string[] = [];
	let next: string | undefined = "/admin/audit";
	const sizes: number[] = [];
	while (next) {
		const res = await request(deps.app, next, { user: "ada" });
		assert.equal(res.status, 200);
		const html = await res.text();
		const rows = rowsOf(html);
		sizes.push(rows.length);
		seen.push(...rows.map((r) => r[3]!.replace(/^instance\s*/, "")));
		next = /<a class="btn" href="([^"]+)">Older →<\/a>/.exec(html)?.[1]?.replaceAll("&amp;", "&");
		if (sizes.length > 1) assert.match(html, /href="\/admin\/audit">← Newest<\/a>/);
	}
	assert.deepEqual(sizes, [50, 50, 20]);
	const expected = Array.from({ length: 120 }, (_, i) => `i-${String(119 - i).padStart(17, "0")}`);
	assert.deepEqual(seen, expected, "newest first, each once");
});

Deno.test("audit CSV: the same filters, every page, formulas defused", async () => {
	const { deps } = await trail();
	await using _ = deps;
	const res = await request(deps.app, "/admin/audit.csv?user=olga", { user: "ada" });
	assert.equal(res.status, 200);
	assert.match(res.headers.get("Content-Type")!, /^text\/csv/);
	assert.equal(res.headers.get("Content-Disposition"), 'attachment; filename="mliy-audit-2025-03-01.csv"');
	const lines = (await res.text()).trimEnd().split("\r\n");
	assert.deepEqual(lines, [
		"time,actor,action,resource kind,resource id,outcome,reason,detail",
		`2025-02-28T10:00:00.000Z,olga,terminate,instance,${OLGA_BOX},refused,,"'=HYPERLINK(""http://evil.example"")"`,
		`2025-02-28T09:00:00.000Z,olga,start,instance,${OLGA_BOX},ok,,`,
	]);
	const all = await (await request(deps.app, "/admin/audit.csv", { user: "ada" })).text();
	assert.equal(all.trimEnd().split("\r\n").length, 7);
	assert.match(all, /,policy,stop,instance,i-0aaaaaaaaaaaaaaa1,ok,idle,/);
	// The page links the CSV of its own filters.
	assert.match((await page(deps, "?user=olga")).html, /href="\/admin\/audit.csv\?user=olga" download/);
});

Deno.test("audit CSV: more than 100000 matching events asks for narrower filters (400)", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	await deps.database.client.execute(
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100001)
		 INSERT INTO audit_events (at, actor, action, resource_kind, resource_id, outcome, detail)
		 SELECT 1738368000000 + i, 'sync', 'vanished', 'instance', 'i-' || i, 'ok', '' FROM n`,
	);
	const res = await request(deps.app, "/admin/audit.csv", { user: "ada" });
	assert.equal(res.status, 400);
	assert.match(await res.text(), /100001 events match, more than the 100000 one export holds: narrow the filters/);
	const narrowed = await request(deps.app, "/admin/audit.csv?machine=i-5", { user: "ada" });
	assert.equal(narrowed.status, 200);
	assert.equal((await narrowed.text()).trimEnd().split("\r\n").length, 2);
	const first = await page(deps, "");
	assert.equal(rowsOf(first.html).length, 50, "the page is still one page");
});

Deno.test("audit view: admins only; the machine pages link their admins to their part of the trail", async () => {
	const { deps } = await trail();
	await using _ = deps;
	for (const path of ["/admin/audit", "/admin/audit.csv"]) {
		for (const user of ["alice", "mia", "olga"]) {
			const res = await request(deps.app, path, { user });
			assert.equal(res.status, 403, `${path} as ${user}`);
			await res.body?.cancel();
		}
		const anonymous = await request(deps.app, path);
		assert.equal(anonymous.status, 401);
		await anonymous.body?.cancel();
	}
	const link = `href="/admin/audit?machine=${ALICE_BOX}">All of its audit trail →</a>`;
	assert.ok((await (await request(deps.app, `/instances/${ALICE_BOX}`, { user: "ada" })).text()).includes(link));
	const owner = await (await request(deps.app, `/instances/${ALICE_BOX}`, { user: "alice" })).text();
	assert.match(owner, /Recent activity/, "the owner sees the machine's recent events");
	assert.ok(!owner.includes("/admin/audit"), "but no link to the admin's view");
	const cluster = await (await request(deps.app, `/clusters/${CLUSTER}`, { user: "ada" })).text();
	assert.ok(cluster.includes(`href="/admin/audit?machine=${CLUSTER}">All of its audit trail →</a>`));
});

Deno.test("audit view: filters that are not what they say are a 400 in our words", async () => {
	const { deps } = await trail();
	await using _ = deps;
	const cases: [string, RegExp][] = [
		["?group=science", /The group filter must be one of the groups/],
		["?outcome=maybe", /The outcome filter must be one of ok, refused, error, sent/],
		["?from=2025-13-01", /The start date 2025-13-01 does not exist/],
		["?to=yesterday", /The end date must look like 2025-01-31/],
		["?from=2025-03-02&to=2025-03-01", /The start date is after the end date/],
		["?after=xyz", /That page link is not one the portal made/],
		["?user=%3Cscript%3E", /The user filter must be a username/],
		[`?machine=${"i".repeat(101)}`, /The machine filter must be an id/],
		["?action=DROP%20TABLE", /The action filter must be one of the actions listed/],
	];
	for (const [query, message] of cases) {
		for (const path of ["/admin/audit", "/admin/audit.csv"]) {
			const res = await request(deps.app, `${path}${query}`, { user: "ada" });
			assert.equal(res.status, 400, `${path}${query}`);
			assert.match(await res.text(), message, `${path}${query}`);
		}
	}
});
