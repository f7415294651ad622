/** The pricing index over the ec2instances.info format: real 2017 data, hand-made files, bad files, reloads. */
import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { getLoggers } from "../lib/log.ts";
import { createPricing, PricingFormatError, PricingIndex } from "../lib/pricing.ts";
import { rejection, thrown } from "./_helpers/assert.ts";

/** fixtures/instances.json is a byte-for-byte copy of the team's shared ec2instances-2017-11.json. */
const realPath = new URL("../fixtures/instances.json", import.meta.url).pathname;

function file(entries: unknown[]): string {
	return JSON.stringify(entries);
}

const handMade = [
	{
		instance_type: "z9.large",
		pretty_name: "Z9 Large",
		vCPU: 2,
		memory: 8,
		pricing: {
			"us-east-1": { linux: { ondemand: "0.25" }, mswin: { ondemand: "N/A" }, emr: { emr: "0.063" }, ebs: "0.00" },
			"eu-west-1": { linux: { ondemand: 0.3 } },
		},
	},
	{ instance_type: "z9.none" },
];

Deno.test("the real 2017 file gives per-region, per-OS on-demand prices, sub-cent ones exact", async () => {
	const pricing = await createPricing({ path: realPath, log: getLoggers().web });
	assert.equal(pricing.index.types.size, 88);
	assert.deepEqual(pricing.onDemand("t2.nano", "us-east-1", "linux"), { known: true, hourly: 0.0058 });
	assert.deepEqual(pricing.onDemand("m4.large", "eu-west-1", "linux"), { known: true, hourly: 0.111 });
	assert.deepEqual(pricing.onDemand("r4.4xlarge", "us-east-1", "rhel"), { known: true, hourly: 1.194 });
	assert.deepEqual(pricing.onDemand("t2.micro", "us-east-1", "mswin"), { known: true, hourly: 0.0162 });
	assert.equal(pricing.typeInfo("r4.4xlarge")?.vcpu, 16);
	assert.equal(pricing.typeInfo("r4.4xlarge")?.memoryGib, 122);
	assert.ok(pricing.index.regions.includes("ap-south-1"));
});

Deno.test("missing and N/A prices are 'price unknown' with a reason, never 0", () => {
	const index = PricingIndex.fromText(file(handMade));
	assert.deepEqual(index.onDemand("z9.large", "us-east-1", "linux"), { known: true, hourly: 0.25 });
	assert.deepEqual(index.onDemand("z9.large", "eu-west-1", "linux"), { known: true, hourly: 0.3 });
	assert.match(
		reason(index.onDemand("z9.large", "us-east-1", "mswin")),
		/marks z9.large \(mswin\) in us-east-1 as not available/,
	);
	assert.match(
		reason(index.onDemand("z9.large", "eu-west-1", "mswin")),
		/no price for z9.large \(mswin\) in eu-west-1/,
	);
	assert.match(reason(index.onDemand("z9.none", "us-east-1", "linux")), /no price for/);
	assert.match(reason(index.onDemand("q1.tiny", "us-east-1", "linux")), /q1.tiny is not in the pricing file/);
	assert.match(reason(index.onDemand("z9.large", "mars-north-1", "linux")), /no prices for region mars-north-1/);
	assert.match(reason(index.onDemand("z9.large", "us-east-1", "beos")), /no prices for operating system "beos"/);
	assert.deepEqual(index.emrSurcharge("z9.large", "us-east-1"), { known: true, hourly: 0.063 });
	assert.equal(index.emrSurcharge("z9.large", "eu-west-1").known, false);
});

function reason(price: { known: boolean; reason?: string }): string {
	assert.equal(price.known, false);
	return price.reason!;
}

Deno.test('a price of 0, "0", "0.0", "N/A", "", null or anything but a positive number is unknown with a reason, never $0', () => {
	const values: [unknown, RegExp][] = [
		[0, /gives no on-demand price for z9.large \(os0\) in us-east-1 \(it says 0\)/],
		[0.0, /it says 0/],
		["0", /it says 0/],
		["0.0", /it says 0/],
		["0.00", /it says 0/],
		["N/A", /marks z9.large \(os5\) in us-east-1 as not available/],
		["", /as not available/],
		["n/a", /as not available/],
		["free", /as not available/],
		["-0.25", /as not available/],
		[-1, /as not available/],
		["0x10", /as not available/],
		["Infinity", /as not available/],
		[true, /as not available/],
		[{ USD: "0.1" }, /as not available/],
		[null, /has no price for z9.large \(os15\) in us-east-1/],
	];
	const usEast: Record<string, unknown> = {
		linux: { ondemand: " 0.25 " },
		sles: { ondemand: "1e-3" },
		emr: { emr: "0.0" },
	};
	values.forEach(([value], i) => usEast[`os${i}`] = { ondemand: value });
	const index = PricingIndex.fromText(file([
		{ instance_type: "z9.large", pricing: { "us-east-1": usEast, "eu-west-1": { linux: {}, emr: { emr: "N/A" } } } },
	]));
	values.forEach(([value, expected], i) => {
		assert.match(reason(index.onDemand("z9.large", "us-east-1", `os${i}`)), expected, JSON.stringify(value));
	});
	assert.deepEqual(index.onDemand("z9.large", "us-east-1", "linux"), { known: true, hourly: 0.25 });
	assert.deepEqual(index.onDemand("z9.large", "us-east-1", "sles"), { known: true, hourly: 0.001 });
	assert.match(reason(index.onDemand("z9.large", "eu-west-1", "linux")), /has no price for/, "no ondemand key");
	assert.match(
		reason(index.emrSurcharge("z9.large", "us-east-1")),
		/no on-demand price for EMR on z9.large.*it says 0/,
	);
	assert.match(
		reason(index.emrSurcharge("z9.large", "eu-west-1")),
		/marks EMR on z9.large in eu-west-1 as not available/,
	);
});

Deno.test("a malformed file is rejected with a clear message", async () => {
	const cases: [string, RegExp][] = [
		["{not json", /not valid JSON/],
		['{"instance_type": "x"}', /must be a JSON array of instance types/],
		["[]", /lists no instance types/],
		['[{"instance_type": "a.b"}, {"pricing": {}}]', /entry 1 of the pricing file has no "instance_type"/],
		['[{"instance_type": "a.b", "pricing": "cheap"}]', /"pricing" of a.b \(entry 0\) is not an object/],
	];
	for (const [text, message] of cases) {
		const error = thrown(() => PricingIndex.fromText(text));
		assert.ok(error instanceof PricingFormatError);
		assert.match(error.message, message);
	}
	const dir = await Deno.makeTempDir();
	try {
		await Deno.writeTextFile(`${dir}/bad.json`, "[]");
		assert.match(
			(await rejection(createPricing({ path: `${dir}/bad.json`, log: getLoggers().web }))).message,
			/cannot use the pricing file/,
		);
		assert.match(
			(await rejection(createPricing({ path: `${dir}/missing.json`, log: getLoggers().web }))).message,
			/does not exist/,
		);
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("a replaced pricing file is picked up without a restart; a broken replacement keeps the old prices", async () => {
	const dir = await Deno.makeTempDir();
	const records: LogRecord[] = [];
	await configure({
		reset: true,
		sinks: { mem: (r) => records.push(r) },
		loggers: [{ category: ["mliy"], sinks: ["mem"] }, { category: ["logtape", "meta"], sinks: [] }],
	});
	try {
		const path = `${dir}/instances.json`;
		await Deno.writeTextFile(path, file(handMade));
		const pricing = await createPricing({ path, log: getLoggers().web });
		assert.equal(await pricing.reloadIfChanged(), false, "unchanged");
		await new Promise((r) => setTimeout(r, 20));
		const cheaper = structuredClone(handMade);
		(cheaper[0]!.pricing!["us-east-1"] as Record<string, unknown>).linux = { ondemand: "0.2" };
		await Deno.writeTextFile(path, file(cheaper));
		assert.equal(await pricing.reloadIfChanged(), true);
		assert.deepEqual(pricing.onDemand("z9.large", "us-east-1", "linux"), { known: true, hourly: 0.2 });
		await new Promise((r) => setTimeout(r, 20));
		await Deno.writeTextFile(path, "[{broken");
		assert.equal(await pricing.reloadIfChanged(), false);
		assert.deepEqual(
			pricing.onDemand("z9.large", "us-east-1", "linux"),
			{ known: true, hourly: 0.2 },
			"previous index kept",
		);
		assert.ok(
			records.some((r) => r.level === "error" && String(r.message.join("")).includes("keeping the previous prices")),
		);
		// An unknown price is logged once, not on every lookup.
		for (let i = 0; i < 3; i++) pricing.onDemand("q1.tiny", "us-east-1", "linux");
		assert.equal(records.filter((r) => String(r.message.join("")).includes("q1.tiny")).length, 1);
	} finally {
		await reset();
		await Deno.remove(dir, { recursive: true });
	}
});
