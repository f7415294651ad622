/**
 * The instance-type panel of the launch wizard shows the facts the original's "Instance Info" had
 * (mliy-original.md §4): vCPU, memory, ECU and EBS-optimised, from the pricing file, and "unknown"
 * for what the file does not say (never a made-up value).
 */
import assert from "node:assert/strict";
import { createTestDeps } from "./_helpers/deps.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { PRICING_FILES } from "./_helpers/pricing_file.ts";
import { seedWorld } from "./_helpers/world.ts";

/** The panel's facts as term → value, from its HTML. */
function facts(html: string): Record<string, string> {
	const panel = html.slice(html.indexOf('id="type-info"'));
	const strip = (s: string) => s.replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim();
	const out: Record<string, string> = {};
	for (const m of panel.matchAll(/<dt>([\s\S]*?)<\/dt>\s*<dd[^>]*>([\s\S]*?)<\/dd>/g)) out[strip(m[1]!)] = strip(m[2]!);
	return out;
}

Deno.test("the type panel shows ECU and EBS-optimised from the pricing file, on the form and in its fragment", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(), settings: { PRICING_FILE: PRICING_FILES.y2017 } });
	const world = await seedWorld(deps.db);
	const base = `/launch/${world.science.id}/${world.config.id}`;
	const fragment = async (type: string) => {
		const res = await request(deps.app, `${base}/type-info?instanceType=${type}`, { user: "alice", htmx: true });
		assert.equal(res.status, 200, type);
		return facts(await res.text());
	};
	const m4 = await fragment("m4.large");
	assert.equal(m4.ECU, "6.5");
	assert.equal(m4["EBS-optimised"], "yes");
	assert.equal(m4.vCPU, "2");
	assert.equal(m4.Memory, "8 GiB");
	// A burstable type's ECU is the file's own word; t2 types are not EBS-optimised.
	const t2 = await fragment("t2.micro");
	assert.equal(t2.ECU, "variable");
	assert.equal(t2["EBS-optimised"], "no");
	// The form opens with its preselected type's panel.
	const form = facts(await (await request(deps.app, `${base}?instanceType=r4.4xlarge`, { user: "alice" })).text());
	assert.equal(form.ECU, "53");
	assert.equal(form["EBS-optimised"], "yes");
});

Deno.test("the type panel says unknown for ECU and EBS-optimised when the pricing file lacks them", async () => {
	// The shipped file's t2.micro and m4.large records without their ECU and ebs_optimized fields.
	const records = JSON.parse(await Deno.readTextFile(PRICING_FILES.y2017)) as Record<string, unknown>[];
	const trimmed = records.filter((r) => r.instance_type === "t2.micro" || r.instance_type === "m4.large").map((r) => {
		const { ECU: _ecu, ebs_optimized: _ebs, ...rest } = r;
		return rest;
	});
	const file = await Deno.makeTempFile({ suffix: ".json" });
	await Deno.writeTextFile(file, JSON.stringify(trimmed));
	try {
		await using deps = await createTestDeps({ aws: fakeAws(), settings: { PRICING_FILE: file } });
		const world = await seedWorld(deps.db);
		const res = await request(
			deps.app,
			`/launch/${world.science.id}/${world.config.id}/type-info?instanceType=m4.large`,
			{ user: "alice", htmx: true },
		);
		const panel = facts(await res.text());
		assert.equal(panel.ECU, "unknown");
		assert.equal(panel["EBS-optimised"], "unknown");
		assert.equal(panel.vCPU, "2", "what the file has is still shown");
		// A type the file does not know at all: every fact unknown, the price too.
		const unknown = facts(
			await (await request(
				deps.app,
				`/launch/${world.science.id}/${world.config.id}/type-info?instanceType=r4.4xlarge`,
				{ user: "alice", htmx: true },
			)).text(),
		);
		assert.deepEqual(
			[unknown.ECU, unknown["EBS-optimised"], unknown.vCPU, unknown.Memory],
			["unknown", "unknown", "unknown", "unknown"],
		);
		assert.match(unknown["Price per hour"]!, /price unknown/);
	} finally {
		await Deno.remove(file);
	}
});
