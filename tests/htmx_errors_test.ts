/**
 * Error answers to htmx requests: htmx 4 swaps every answer but 204 and 304, so refusals are
 * retargeted to the page's error region instead of replacing the row or panel that asked; the
 * deliberate re-render of a refused action (the row with the reason inline) is not.
 */
import assert from "node:assert/strict";
import { createTestDeps } from "./_helpers/deps.ts";
import { insertCluster } from "../lib/db/clusters.ts";
import { request } from "./_helpers/http.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

Deno.test("pages carry the error region htmx errors are sent to", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const html = await (await request(deps.app, "/", { user: "alice" })).text();
	assert.match(html, /<div id="htmx-errors" class="error-box" role="alert" data-errors><\/div>/);
});

Deno.test("a refused htmx request is retargeted to the error region, whatever the status", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-00000000000000001", ownerId: world.alice.id, state: "pending" });
	const cases: [string, string, Parameters<typeof request>[2], number, RegExp][] = [
		["an unknown instance's row", "/instances/i-0000000000000000f/row", { user: "alice" }, 404, /is known/],
		["another group's row", "/instances/i-00000000000000001/row", { user: "olga" }, 403, /outside your groups/],
		[
			"GET on the control URL",
			"/ajax/instance/i-00000000000000001/stop",
			{ user: "alice" },
			405,
			/must be sent as POST/,
		],
	];
	for (const [what, path, options, status, message] of cases) {
		const res = await request(deps.app, path, { ...options, htmx: true });
		assert.equal(res.status, status, what);
		assert.equal(res.headers.get("HX-Retarget"), "#htmx-errors", what);
		assert.equal(res.headers.get("HX-Reswap"), "innerHTML", what);
		const body = await res.text();
		assert.match(body, message, what);
		assert.doesNotMatch(body, /<tr|<section/, what);
	}
});

Deno.test("a refused action re-renders its row with the reason inline, in place", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-00000000000000002", ownerId: world.alice.id, state: "stopped" });
	const res = await request(deps.app, "/ajax/instance/i-00000000000000002/stop?view=dashboard", {
		user: "alice",
		htmx: true,
		form: {},
	});
	assert.equal(res.status, 409);
	assert.equal(res.headers.get("HX-Retarget"), null);
	const body = await res.text();
	assert.match(body, /^<tr id="row-i-00000000000000002"/);
	assert.match(body, /class="inline-error" role="alert">[^<]*the instance is stopped, not running/);
});

Deno.test("cluster terminate shares the instance routes' refusals: 409 re-renders the panel, 405 goes to the error region", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await insertCluster(deps.db, {
		id: "j-BUSY",
		ownerId: world.alice.id,
		instanceType: "m4.large",
		coreNodes: 2,
		state: "WAITING",
		stackId: "arn:stack",
		pendingAction: "terminate",
		pendingSince: new Date(),
	});
	const refused = await request(deps.app, "/ajax/cluster/j-BUSY/terminate", { user: "alice", htmx: true, form: {} });
	assert.equal(refused.status, 409);
	assert.equal(refused.headers.get("HX-Retarget"), null);
	const panel = await refused.text();
	assert.match(panel, /id="cluster-panel"/);
	assert.match(panel, /role="alert">[^<]*A terminate is already in progress/);

	const get = await request(deps.app, "/ajax/cluster/j-BUSY/terminate", { user: "alice", htmx: true });
	assert.equal(get.status, 405);
	assert.equal(get.headers.get("Allow"), "POST");
	assert.equal(get.headers.get("HX-Retarget"), "#htmx-errors");
	assert.match(await get.text(), /must be sent as POST/);

	const unknown = await request(deps.app, "/ajax/cluster/not-a-cluster/terminate", {
		user: "alice",
		htmx: true,
		form: {},
	});
	assert.equal(unknown.status, 404);
	assert.equal(unknown.headers.get("HX-Retarget"), "#htmx-errors");
	assert.match(await unknown.text(), /No cluster not-a-cluster is known/);
});
