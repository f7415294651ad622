/**
 * The instance state cell and hourly cost are built once (lib/views/instance.ts, and the one
 * InstanceState component): the dashboard row and the detail panel must show the same thing for
 * the same instance.
 */
import assert from "node:assert/strict";
import { instanceRate } from "../lib/billing/rates.ts";
import { formatRate } from "../lib/format.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

function between(html: string, pattern: RegExp, what: string): string {
	const match = html.match(pattern);
	assert.ok(match, `${what} not found`);
	return match[1]!.trim();
}

Deno.test("the dashboard row and the detail panel show the same state cell and hourly cost", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, {
		id: "i-00000000000000001",
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		state: "running",
		progressPercent: 40,
		progressText: "Installing R",
	});
	// No configuration: no OS to price by (Linux is assumed), and progress text without a percentage.
	await addInstance(deps.db, {
		id: "i-00000000000000002",
		ownerId: world.alice.id,
		instanceType: "m4.large",
		state: "pending",
		progressText: "Waiting for the disk",
	});
	const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
	const cases = [
		["i-00000000000000001", "t2.micro", /role="progressbar"[^>]*aria-valuenow="40"[\s\S]*40% · Installing R/],
		["i-00000000000000002", "m4.large", /<div class="small muted">Waiting for the disk<\/div>/],
	] as const;
	for (const [id, type, progress] of cases) {
		const row = between(dashboard, new RegExp(`(<tr id="row-${id}"[\\s\\S]*?</tr>)`), `row ${id}`);
		const rowState = between(row, /<td data-label="State">([\s\S]*?)<\/td>/, `${id} row state`);
		const rowCost = between(row, /<td data-label="Hourly cost" class="num">([\s\S]*?)<\/td>/, `${id} row cost`);
		const detail = await (await request(deps.app, `/instances/${id}`, { user: "alice" })).text();
		const panelState = between(detail, /<dt>State<\/dt>\s*<dd>([\s\S]*?)<\/dd>/, `${id} panel state`);
		const panelCost = between(detail, /<dt>Hourly cost<\/dt>\s*<dd>([\s\S]*?)<\/dd>/, `${id} panel cost`);
		assert.match(rowState, progress, id);
		assert.equal(panelState, rowState, `${id}: the panel's state cell is the row's`);
		const linux = instanceRate(deps, { type, os: "linux" });
		assert.ok(linux.known, `${type} has a Linux price`);
		assert.equal(rowCost, formatRate(linux.hourly), `${id} row priced as Linux`);
		assert.equal(panelCost, rowCost, `${id}: the panel's hourly cost is the row's`);
	}
});
