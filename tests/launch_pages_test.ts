/** The launch wizard's pages and the launch page, as they render from the database. */
import assert from "node:assert/strict";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addConfig, seedWorld } from "./_helpers/seed.ts";

Deno.test("a configuration without an extra volume says so on the form and on the confirmation", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	for (const volumeDevice of ["No Volume", ""]) {
		const config = await addConfig(deps.db, `Plain ${volumeDevice || "empty"}`, {
			types: [world.types["t2.micro"]!.id],
			groups: [world.science.id],
			volumeDevice,
		});
		const path = `/launch/${world.science.id}/${config.id}`;
		const form = await (await request(deps.app, path, { user: "alice" })).text();
		assert.match(form, /No extra volume is attached\./, volumeDevice);
		const review = await request(deps.app, path, {
			user: "alice",
			form: { intent: "review", instanceType: "t2.micro" },
		});
		assert.equal(review.status, 200);
		const html = await review.text();
		assert.match(html, /<dt>Extra volume<\/dt><dd>none<\/dd>/, volumeDevice);
		assert.doesNotMatch(html, /GiB at/, volumeDevice);
	}
	const withVolume = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "review", instanceType: "t2.micro" },
	});
	assert.match(await withVolume.text(), /<dt>Extra volume<\/dt><dd>20 GiB at \/dev\/xvdz<\/dd>/);
});
