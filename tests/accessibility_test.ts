/**
 * Navigation marks one current item by whole path segments, and every element htmx replaces
 * (outerHTML) sits inside a live region that stays in the page instead of being the region.
 */
import assert from "node:assert/strict";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addConfig, addGroup, addLaunch, addMember, seedWorld } from "./_helpers/world.ts";

function currentItems(html: string): string[] {
	return [...html.matchAll(/<a href="[^"]*" aria-current="page">([^<]*)<\/a>/g)].map((m) => m[1]!);
}

Deno.test("the navigation marks only the item whose path segments match", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
	});
	const cases: [string, string[]][] = [
		["/", ["My dashboard"]],
		["/dashboard", ["My dashboard"]],
		// A launch's page is part of launching (issue 14: it marked My dashboard).
		[`/launches/${launch.id}`, ["Launch"]],
		[`/launch/${world.science.id}/${world.config.id}`, ["Launch"]],
		["/team", ["Team"]],
		["/billing", ["Billing"]],
	];
	for (const [path, current] of cases) {
		const res = await request(deps.app, path, { user: "alice" });
		assert.equal(res.status, 200, path);
		assert.deepEqual(currentItems(await res.text()), current, path);
	}
});

/** The element with `id`, which must be the only child opening a polite live region. */
function assertInStableRegion(html: string, id: string, where: string) {
	assert.match(
		html,
		new RegExp(`<div aria-live="polite"><(section|div) id="${id}"`),
		`${where}: #${id} in a live region`,
	);
	assert.doesNotMatch(html, new RegExp(`id="${id}"[^>]*aria-live`), `${where}: #${id} is not the region itself`);
}

Deno.test("elements htmx swaps are inside live regions that stay, and fragments carry no live region", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
	});
	const emr = await addGroup(deps.db, "sparkers", { emrAccess: true });
	await addMember(deps.db, world.alice.id, emr.id);
	const spark = await addConfig(deps.db, "Spark", {
		kind: "cluster",
		types: [world.types["m4.large"]!.id],
		groups: [emr.id],
	});
	const pages: [string, string[]][] = [
		["/", ["my-instances"]],
		[`/launches/${launch.id}`, ["launch-status"]],
		["/team", ["team-table"]],
		[`/launch/${world.science.id}/${world.config.id}`, ["type-info"]],
		[`/launch/${emr.id}/${spark.id}`, ["cluster-estimate", "type-info"]],
	];
	for (const [path, ids] of pages) {
		const res = await request(deps.app, path, { user: "alice" });
		assert.equal(res.status, 200, path);
		const html = await res.text();
		for (const id of ids) assertInStableRegion(html, id, path);
	}
	const fragments = [
		"/dashboard/instances",
		`/launches/${launch.id}/status`,
		"/team?page=1",
		`/launch/${world.science.id}/${world.config.id}/type-info?instanceType=t2.micro`,
		`/launch/${emr.id}/${spark.id}/estimate?instanceType=m4.large&coreNodes=2`,
	];
	for (const path of fragments) {
		const res = await request(deps.app, path, { user: "alice", htmx: true });
		assert.equal(res.status, 200, path);
		assert.doesNotMatch(await res.text(), /aria-live/, path);
	}
});
