/**
 * The request body limit: 1 MiB for every request but the catalogue import (6 MiB), checked before
 * identity and CSRF read the body; a larger body is a clear 413 and changes nothing.
 */
import assert from "node:assert/strict";
import { groups } from "../lib/db/schema.ts";
import { listConfigs, listParams } from "../lib/db/catalog.ts";
import { INSTANCE_TEMPLATE } from "../fixtures/mod.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { csrfFor, request } from "./_helpers/http.ts";
import { seedWorld } from "./_helpers/world.ts";

const MiB = 1024 * 1024;

/** Posts a multipart form as an admin's browser would (the import form is multipart). */
async function postMultipart(deps: TestDeps, path: string, fields: Record<string, string | Blob>) {
	const body = new FormData();
	body.set("_csrf", await csrfFor(deps.app, { user: "ada" }));
	for (const [name, value] of Object.entries(fields)) body.set(name, value);
	return await deps.app.request(path, { method: "POST", headers: { REMOTE_USER: "ada" }, body }, {
		remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" },
	});
}

Deno.test("a form body over 1 MiB is refused with 413 before anything reads it", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const before = (await deps.db.select().from(groups)).length;
	const res = await request(deps.app, "/admin/groups/new", {
		user: "ada",
		form: { name: "huge", settings: "x".repeat(MiB) },
	});
	assert.equal(res.status, 413);
	const page = await res.text();
	assert.match(page, /larger than 1 MiB/);
	assert.match(page, /Back to your dashboard/, "the limit comes before identity, but the page does not ask to sign in");
	assert.match(await (await request(deps.app, "/")).text(), /Sign in through your organisation/, "a 401 does");
	assert.equal((await deps.db.select().from(groups)).length, before, "nothing was saved");

	const anonymous = await request(deps.app, "/admin/groups/new", { form: { name: "x".repeat(2 * MiB) } });
	assert.equal(anonymous.status, 413, "refused before identity (a 401) is even looked at");
	const json = await request(deps.app, "/ajax/instance/i-00000000000000001/stop", {
		user: "alice",
		headers: { Accept: "application/json" },
		form: { padding: "x".repeat(MiB) },
	});
	assert.equal(json.status, 413);
	assert.match((await json.json()).error, /larger than 1 MiB/);
});

Deno.test("the largest configuration an admin may save fits under the form limit", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	// Three-byte characters, each sent as %XX%XX%XX: the worst case for every long field.
	const filler = (length: number) => "€".repeat(length);
	const comment = "\n# ";
	const template = INSTANCE_TEMPLATE + comment + filler(51_200 - INSTANCE_TEMPLATE.length - comment.length);
	const res = await request(deps.app, "/admin/configs/new", {
		user: "ada",
		form: {
			name: "Biggest",
			kind: "instance",
			amiId: "ami-0123456789abcdef0",
			templateBody: template,
			userDataBody: "#!/bin/bash\n#" + filler(16_384 - 13),
			descriptionHtml: `<p>${filler(10_000 - 7)}</p>`,
			compatibleTypes: [String(world.types["t2.micro"]!.id)],
			permittedGroups: [String(world.science.id)],
		},
	});
	assert.equal(res.status, 303, await res.clone().text().then((t) => t.slice(0, 300)));
	assert.ok((await listConfigs(deps.db)).some((c) => c.name === "Biggest" && c.templateBody.length === 51_200));
});

Deno.test("the catalogue import takes documents beyond the form limit, up to 6 MiB", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const params = Array.from({ length: 500 }, (_, i) => ({ token: `BIG_${i}`, value: "v".repeat(3_000) }));
	const document = JSON.stringify({ version: 1, params });
	assert.ok(document.length > 1.2 * MiB);
	const res = await postMultipart(deps, "/admin/catalog", { file: new File([document], "catalog.json") });
	assert.equal(
		res.status,
		200,
		await res.clone().text().then((t) => t.replace(/[^]*error-box[^>]*>/, "").slice(0, 300)),
	);
	assert.match(await res.text(), /Imported: 500 created/);

	const before = (await listParams(deps.db)).length;
	const tooBig = JSON.stringify({
		version: 1,
		params: [{ token: "TOO_BIG", value: "x" }],
		padding: "x".repeat(6 * MiB),
	});
	const refused = await postMultipart(deps, "/admin/catalog", { file: new File([tooBig], "catalog.json") });
	assert.equal(refused.status, 413);
	assert.match(await refused.text(), /larger than 6 MiB/);
	assert.equal((await listParams(deps.db)).length, before, "nothing was imported");
});
