/**
 * The instance types a launch form offers: ordered by family and size (not by their names'
 * letters), with the admin's descriptions, the configuration's default type preselected, and a
 * type not offered refused with a 422 that changes nothing.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { compareInstanceTypes, sortInstanceTypes } from "../lib/catalog/instance_types.ts";
import { upsertById } from "../lib/db/catalog.ts";
import { launches } from "../lib/db/schema.ts";
import { CLUSTER_TEMPLATE, INSTANCE_TEMPLATE } from "../fixtures/mod.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addConfig, addGroup, addMember, seedWorld } from "./_helpers/world.ts";

const sorted = (names: string[]) => sortInstanceTypes(names.map((name) => ({ name }))).map((t) => t.name);

Deno.test("instance types are ordered by family, then by size as people read sizes", () => {
	assert.deepEqual(
		sorted(["t3.2xlarge", "t3.xlarge", "t3.large", "t3.medium", "t3.small", "t3.micro", "t3.nano"]),
		["t3.nano", "t3.micro", "t3.small", "t3.medium", "t3.large", "t3.xlarge", "t3.2xlarge"],
	);
	assert.deepEqual(
		sorted(["m5.metal", "m5.12xlarge", "m5.2xlarge", "m5.xlarge", "m5.large"]),
		["m5.large", "m5.xlarge", "m5.2xlarge", "m5.12xlarge", "m5.metal"],
	);
	assert.deepEqual(
		sorted(["m10.large", "m5d.large", "m5.large", "m4.large", "c5.large", "m7i.metal-48xl", "m7i.metal-24xl"]),
		["c5.large", "m4.large", "m5.large", "m5d.large", "m7i.metal-24xl", "m7i.metal-48xl", "m10.large"],
		"families like words with numbers in them; metal variants by their number",
	);
	assert.deepEqual(
		sorted(["x1.weird", "x1.large", "x1.metal"]),
		["x1.large", "x1.metal", "x1.weird"],
		"unknown sizes last",
	);
});

/** Instance type names as the admin form accepts them, with the sizes AWS uses and some it does not. */
const typeName = fc.tuple(
	fc.constantFrom("t2", "t3", "t3a", "m4", "m5", "m5d", "m10", "r4", "c6gn", "p2", "u-6tb1"),
	fc.oneof(
		fc.constantFrom("nano", "micro", "small", "medium", "large", "xlarge", "metal", "metal-24xl"),
		fc.integer({ min: 2, max: 48 }).map((n) => `${n}xlarge`),
		fc.stringMatching(/^[a-z0-9]{1,6}$/),
	),
).map(([family, size]) => `${family}.${size}`);

Deno.test("the order is total: antisymmetric, transitive, equal only for equal names, independent of the input's order", () => {
	fc.assert(
		fc.property(typeName, typeName, (a, b) => {
			const ab = Math.sign(compareInstanceTypes(a, b));
			// `|| 0`: for equal names the negated sign is -0, which strict equality tells from 0.
			assert.equal(ab, -Math.sign(compareInstanceTypes(b, a)) || 0);
			assert.equal(ab === 0, a === b);
		}),
		{ examples: [["p2.metal", "p2.metal"]] },
	);
	fc.assert(fc.property(typeName, typeName, typeName, (a, b, c) => {
		if (compareInstanceTypes(a, b) < 0 && compareInstanceTypes(b, c) < 0) assert.ok(compareInstanceTypes(a, c) < 0);
	}));
	fc.assert(fc.property(fc.uniqueArray(typeName, { maxLength: 12 }), (names) => {
		assert.deepEqual(sorted(names), sorted([...names].reverse()));
	}));
});

Deno.test("within a family, a bigger multiple of xlarge always comes later", () => {
	fc.assert(fc.property(fc.integer({ min: 1, max: 96 }), fc.integer({ min: 1, max: 96 }), (m, n) => {
		const name = (k: number) => `m5.${k === 1 ? "" : k}xlarge`;
		assert.equal(Math.sign(compareInstanceTypes(name(m), name(n))), Math.sign(m - n));
		assert.ok(compareInstanceTypes("m5.large", name(m)) < 0 && compareInstanceTypes(name(m), "m5.metal") < 0);
	}));
});

/** The offered types of a form page, in their order, with their labels and the preselected one. */
function options(html: string): { values: string[]; labels: string[]; selected: string[] } {
	const select = /<select id="f-instanceType"[^>]*>([\s\S]*?)<\/select>/.exec(html)?.[1] ?? "";
	const found = [...select.matchAll(/<option value="([^"]+)"( selected)?\s*>([^<]*)<\/option>/g)];
	return {
		values: found.map((m) => m[1]!),
		labels: found.map((m) => m[3]!),
		selected: found.filter((m) => m[2]).map((m) => m[1]!),
	};
}

async function typesWorld() {
	const deps = await createTestDeps({ aws: fakeAws() });
	const world = await seedWorld(deps.db);
	const described: Record<string, string> = {
		"t3.2xlarge": "8 vCPU, 32 GiB",
		"t3.nano": "Tiny, for trying things",
		"m5.12xlarge": "48 vCPU",
		"m5.large": "2 vCPU, 8 GiB",
		"m5.metal": "",
		"m5.xlarge": "4 vCPU, 16 GiB",
		"t3.micro": "",
		"m5.2xlarge": "8 vCPU",
	};
	const ids: number[] = [];
	for (const [name, description] of Object.entries(described)) {
		ids.push((await upsertById(deps.db, "instanceTypes", undefined, { name, description }))!);
	}
	return { deps, world, ids };
}

Deno.test("the launch form offers its types by family and size, with their descriptions, the template's default preselected", async () => {
	const { deps, world, ids } = await typesWorld();
	await using _ = deps;
	const config = await addConfig(deps.db, "Sizes", {
		types: ids,
		groups: [world.science.id],
		templateBody: INSTANCE_TEMPLATE.replace("Default: t2.micro", "Default: m5.xlarge"),
	});
	const form = options(
		await (await request(deps.app, `/launch/${world.science.id}/${config.id}`, { user: "alice" })).text(),
	);
	assert.deepEqual(form.values, [
		"m5.large",
		"m5.xlarge",
		"m5.2xlarge",
		"m5.12xlarge",
		"m5.metal",
		"t3.nano",
		"t3.micro",
		"t3.2xlarge",
	]);
	assert.equal(form.labels[0], "m5.large — 2 vCPU, 8 GiB");
	assert.equal(form.labels[4], "m5.metal", "no description, the bare name");
	assert.deepEqual(form.selected, ["m5.xlarge"], "the configuration's default type");

	// A default the configuration does not offer: the first type offered.
	const other = await addConfig(deps.db, "Other default", { types: ids, groups: [world.science.id] });
	const fallback = options(
		await (await request(deps.app, `/launch/${world.science.id}/${other.id}`, { user: "alice" })).text(),
	);
	assert.deepEqual(fallback.selected, ["m5.large"]);
});

Deno.test("the cluster form orders its node types the same way and preselects the template's default", async () => {
	const { deps, world, ids } = await typesWorld();
	await using _ = deps;
	const emr = await addGroup(deps.db, "emr", { emrAccess: true });
	await addMember(deps.db, world.alice.id, emr.id);
	const spark = await addConfig(deps.db, "Spark sizes", {
		kind: "cluster",
		templateBody: CLUSTER_TEMPLATE.replace("Default: m4.large", "Default: m5.2xlarge"),
		userDataBody: "",
		types: ids,
		groups: [emr.id],
	});
	const form = options(await (await request(deps.app, `/launch/${emr.id}/${spark.id}`, { user: "alice" })).text());
	assert.deepEqual(form.values.slice(0, 5), ["m5.large", "m5.xlarge", "m5.2xlarge", "m5.12xlarge", "m5.metal"]);
	assert.deepEqual(form.selected, ["m5.2xlarge"]);
});

Deno.test("a launch or review with a type the configuration does not offer is refused with a 422 in our words, and nothing changes", async () => {
	const { deps, world, ids } = await typesWorld();
	await using _ = deps;
	const config = await addConfig(deps.db, "Small only", { types: ids.slice(0, 2), groups: [world.science.id] });
	for (const intent of ["review", "launch"]) {
		for (const instanceType of ["m5.large", "r4.4xlarge", "no-such.type"]) {
			const res = await request(deps.app, `/launch/${world.science.id}/${config.id}`, {
				user: "alice",
				form: { intent, instanceType },
			});
			assert.equal(res.status, 422, `${intent} ${instanceType}`);
			const html = await res.text();
			assert.match(html, /Choose one of the instance types offered for this configuration\./);
			assert.ok(html.includes(`${instanceType} is not allowed for this configuration and group`), html);
			assert.doesNotMatch(html, /Launch now/, "no confirmation");
		}
	}
	assert.equal((await deps.db.select().from(launches)).length, 0, "no launch recorded");
	const info = await request(deps.app, `/launch/${world.science.id}/${config.id}/type-info?instanceType=m5.large`, {
		user: "alice",
		htmx: true,
	});
	assert.equal(info.status, 422, "the price panel refuses it too");
});
