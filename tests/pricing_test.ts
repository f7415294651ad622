/**
 * The pricing index over the ec2instances.info format: real files of four eras, hand-made files,
 * the files the portal refuses (at start and on a reload), and a large generated file of today's
 * format loaded without holding the event loop.
 */
import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { createDeps } from "../compose.ts";
import { getLoggers } from "../lib/log.ts";
import {
	createPricing,
	DEFAULT_PRICING_FILE,
	type Price,
	type Pricing,
	PricingFormatError,
	PricingIndex,
} from "../lib/pricing.ts";
import { resolveSettings } from "../lib/settings.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { rejection, thrown } from "./_helpers/assert.ts";
import { generatedType, PRICING_FILES, writeGeneratedPricingFile } from "./_helpers/pricing_file.ts";
import { measureHeldLoop } from "./_helpers/event_loop.ts";

const root = new URL("../", import.meta.url).pathname;
const log = getLoggers().web;

function file(entries: unknown[]): string {
	return JSON.stringify(entries);
}

function reason(price: Price): string {
	assert.equal(price.known, false, `expected an unknown price, got ${JSON.stringify(price)}`);
	return (price as { reason: string }).reason;
}

/** A temporary folder, removed on dispose. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
	const path = await Deno.makeTempDir({ prefix: "mliy-pricing-" });
	return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

/** The portal's log records while it lives (logtape reset on dispose). */
async function captureLogs(): Promise<{ records: LogRecord[]; errors(): string[] } & AsyncDisposable> {
	const records: LogRecord[] = [];
	await configure({
		reset: true,
		sinks: { mem: (r) => records.push(r) },
		loggers: [{ category: ["mliy"], sinks: ["mem"] }, { category: ["logtape", "meta"], sinks: [] }],
	});
	return {
		records,
		errors: () => records.filter((r) => r.level === "error").map((r) => r.message.join("")),
		[Symbol.asyncDispose]: reset,
	};
}

/** Replaces a file's content so that its size or modification time differs (what a reload looks at). */
async function replace(path: string, text: string): Promise<void> {
	await new Promise((r) => setTimeout(r, 20));
	await Deno.writeTextFile(path, text);
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
	const pricing = await createPricing({ path: PRICING_FILES.y2017, log });
	assert.equal(pricing.index.types.size, 88);
	assert.deepEqual(pricing.onDemand("t2.nano", "us-east-1", "linux"), { known: true, hourly: 0.0058 });
	assert.deepEqual(pricing.onDemand("m4.large", "eu-west-1", "linux"), { known: true, hourly: 0.111 });
	assert.deepEqual(pricing.onDemand("r4.4xlarge", "us-east-1", "rhel"), { known: true, hourly: 1.194 });
	assert.deepEqual(pricing.onDemand("t2.micro", "us-east-1", "mswin"), { known: true, hourly: 0.0162 });
	assert.equal(pricing.typeInfo("r4.4xlarge")?.vcpu, 16);
	assert.equal(pricing.typeInfo("r4.4xlarge")?.memoryGib, 122);
	assert.ok(pricing.index.regions.includes("ap-south-1"));
});

Deno.test('the real 2016 file: prices read from it by hand, and its "N/A" is unknown', async () => {
	const pricing = await createPricing({ path: PRICING_FILES.y2016, log });
	assert.equal(pricing.index.types.size, 70);
	assert.deepEqual(pricing.index.systems, ["linux", "mswin", "mswinSQL", "mswinSQLWeb"]);
	assert.deepEqual(pricing.onDemand("m4.large", "us-east-1", "linux"), { known: true, hourly: 0.108 });
	assert.deepEqual(pricing.onDemand("m4.large", "eu-west-1", "mswin"), { known: true, hourly: 0.211 });
	assert.deepEqual(pricing.onDemand("m4.large", "ap-south-1", "mswinSQL"), { known: true, hourly: 0.998 });
	assert.deepEqual(pricing.onDemand("x1.32xlarge", "us-east-1", "mswinSQLWeb"), { known: true, hourly: 21.88 });
	assert.deepEqual(pricing.onDemand("t2.micro", "eu-west-1", "linux"), { known: true, hourly: 0.013 });
	// "m1.small": {"ap-south-1": {"linux": {"ondemand": "N/A", …}}}
	assert.match(
		reason(pricing.onDemand("m1.small", "ap-south-1", "linux")),
		/marks m1.small \(linux\) in ap-south-1 as not available/,
	);
	assert.match(reason(pricing.onDemand("p2.xlarge", "ap-south-1", "linux")), /no price for p2.xlarge/);
	assert.equal(pricing.typeInfo("x1.32xlarge")?.memoryGib, 1952);
});

Deno.test("today's format (one real 2026 record): EMR, dedicated, ubuntu, linuxSQL* and rhelSQL* prices read by hand", async () => {
	const pricing = await createPricing({ path: PRICING_FILES.y2026, log });
	const type = "x2iedn.32xlarge";
	assert.equal(pricing.index.types.size, 1);
	assert.equal(pricing.index.regions.length, 25);
	for (const os of ["dedicated", "ubuntu", "linuxSQL", "linuxSQLWeb", "rhelSQL", "rhelSQLEnterprise", "mswinSQL"]) {
		assert.ok(pricing.index.systems.includes(os), os);
	}
	assert.ok(!pricing.index.systems.includes("emr"), "emr is a surcharge, not an operating system");
	const hourly = (region: string, os: string) => pricing.onDemand(type, region, os);
	assert.deepEqual(hourly("us-east-1", "linux"), { known: true, hourly: 26.676 });
	assert.deepEqual(hourly("us-east-1", "dedicated"), { known: true, hourly: 29.344 });
	assert.deepEqual(hourly("us-east-1", "ubuntu"), { known: true, hourly: 26.9 });
	assert.deepEqual(hourly("us-east-1", "linuxSQLWeb"), { known: true, hourly: 28.8392 });
	assert.deepEqual(hourly("us-east-1", "rhelSQL"), { known: true, hourly: 43.2648 });
	assert.deepEqual(hourly("ap-south-1", "rhelSQLEnterprise"), { known: true, hourly: 78.0968 });
	assert.deepEqual(hourly("eu-west-1", "mswin"), { known: true, hourly: 37.9 });
	assert.match(reason(hourly("eu-west-1", "dedicated")), /no price for x2iedn.32xlarge \(dedicated\) in eu-west-1/);
	// "emr": {"emr": "6.6690000000"} in us-east-1; none in eu-west-1.
	assert.deepEqual(pricing.emrSurcharge(type, "us-east-1"), { known: true, hourly: 6.669 });
	assert.match(reason(pricing.emrSurcharge(type, "eu-west-1")), /no price for EMR on x2iedn.32xlarge in eu-west-1/);
	assert.deepEqual(pricing.typeInfo(type), {
		name: type,
		prettyName: "X2IEDN 32xlarge",
		vcpu: 128,
		memoryGib: 4096,
		ecu: 0,
		ebsOptimized: true,
		gpus: 0,
	});
});

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
	// mswin is in the file but never priced ("N/A"): not an operating system a configuration can be priced as.
	assert.deepEqual(index.systems, ["linux", "mswin"]);
	assert.deepEqual(index.platforms, ["linux"]);
});

Deno.test("a malformed file is rejected with a clear message", async () => {
	const cases: [string, RegExp][] = [
		["{not json", /not valid JSON/],
		['{"instance_type": "x"}', /must be a JSON array of instance types.*top level is an object/],
		["[]", /lists no instance types/],
		["", /not valid JSON: the text is empty/],
		['[{"instance_type": "a.b"}, {"pricing": {}}]', /entry 1 of the pricing file has no "instance_type"/],
		['[{"instance_type": "a.b", "pricing": "cheap"}]', /"pricing" of a.b \(entry 0\) is not an object/],
		['[{"instance_type": "a.b"}, 7]', /expected an entry after ',' at character 28/],
		['[{"instance_type": "a.b"},]', /expected an entry after ','/],
		['[{"instance_type": "a.b"}] x', /expected nothing after the closing '\]'/],
		['[{"instance_type": "a.b", "pricing": {"us-east-1": {"linux": {"ondemand": "1"}}}}', /cut short/],
		['[{"instance_type": "a.b", "vCPU": 2,}]', /entry 0: /],
	];
	for (const [text, message] of cases) {
		const error = thrown(() => PricingIndex.fromText(text));
		assert.ok(error instanceof PricingFormatError, text);
		assert.match(error.message, message, text);
	}
	await using dir = await tempDir();
	await Deno.writeTextFile(`${dir.path}/bad.json`, "[]");
	assert.match(
		(await rejection(createPricing({ path: `${dir.path}/bad.json`, log }))).message,
		/cannot use the pricing file ".*bad.json": the pricing file lists no instance types/,
	);
	assert.match(
		(await rejection(createPricing({ path: `${dir.path}/missing.json`, log }))).message,
		/the pricing file ".*missing.json" \(setting PRICING_FILE\) does not exist/,
	);
	assert.match((await rejection(createPricing({ path: dir.path, log }))).message, /it is not a file/);
	await Deno.writeFile(`${dir.path}/latin1.json`, new Uint8Array([0x5b, 0x22, 0xe9, 0x22, 0x5d]));
	assert.match((await rejection(createPricing({ path: `${dir.path}/latin1.json`, log }))).message, /not UTF-8 text/);
	await Deno.writeFile(`${dir.path}/cut.json`, new TextEncoder().encode('[{"instance_type": "a.b"}] €').slice(0, -1));
	assert.match((await rejection(createPricing({ path: `${dir.path}/cut.json`, log }))).message, /not UTF-8 text/);
});

Deno.test("characters of any width read right when the pieces cut through them", async () => {
	await using dir = await tempDir();
	const path = `${dir.path}/instances.json`;
	const name = 'Zürich € 😀 \\"quoted\\" \uFFFD';
	await Deno.writeTextFile(path, file([{ ...handMade[0], pretty_name: name }]));
	for (const chunkBytes of [1, 2, 3, 5, 7, 64]) {
		const pricing = await createPricing({ path, log, chunkBytes });
		assert.equal(pricing.typeInfo("z9.large")?.prettyName, name, `pieces of ${chunkBytes} bytes`);
		assert.deepEqual(pricing.onDemand("z9.large", "us-east-1", "linux"), { known: true, hourly: 0.25 });
	}
});

Deno.test("files that are not usable EC2 pricing files are refused, saying what they are", async () => {
	const refused = async (path: string) => {
		const error = await rejection(createPricing({ path, log }));
		assert.ok(error instanceof PricingFormatError);
		assert.ok(error.message.startsWith(`cannot use the pricing file "${path}": `), error.message);
		return error.message;
	};
	// Before 2015-08: {"us-east-1": {"mswin": "0.702", "linux": "0.450"}} — plain strings, no "ondemand".
	assert.match(
		await refused(PRICING_FILES.y2014),
		/no instance type has a usable price: prices are plain strings \(pricing\["us-east-1"\]\["mswin"\] of m3.xlarge is "0.702"\), the ec2instances.info format before August 2015/,
	);
	assert.match(
		await refused(PRICING_FILES.rds),
		/database classes \("db.t3.micro", …\) priced per database engine \("2", "14", "18", "MySQL", "PostgreSQL", "MariaDB"\): this is ec2instances.info's RDS file/,
	);
	await using dir = await tempDir();
	const write = async (name: string, entries: unknown[]) => {
		await Deno.writeTextFile(`${dir.path}/${name}`, file(entries));
		return `${dir.path}/${name}`;
	};
	assert.match(
		await refused(
			await write("engines.json", [{
				instance_type: "m5.large",
				pricing: { "us-east-1": { MySQL: { ondemand: 0.171 } } },
			}]),
		),
		/none of its 1 instance types has an on-demand price for an EC2 operating system \(linux, mswin, rhel, sles, ubuntu, …\): its prices are keyed by "MySQL"; is it the file of another AWS product\?/,
	);
	assert.match(
		await refused(
			await write("zeros.json", [
				{ instance_type: "a.b", pricing: { "us-east-1": { linux: { ondemand: "0.0" }, mswin: { ondemand: "N/A" } } } },
				{ instance_type: "a.c" },
			]),
		),
		/none of its 2 instance types has a usable on-demand price \(each is 0, "N\/A", not a number, or missing\)/,
	);
});

/**
 * Runs main.ts from the source tree until it exits (it must not start) with `env`, in `cwd` (the
 * source tree by default); its exit code and console output.
 */
async function mainExit(env: Record<string, string>, cwd = root): Promise<{ code: number; output: string }> {
	await using dir = await tempDir();
	const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
		args: ["run", "-A", "--unstable-cron", "--config", `${root}deno.json`, `${root}main.ts`],
		cwd,
		env: {
			MLIY_RUN_JOBS: "false",
			MLIY_PORT: "0",
			MLIY_LOG_LOCATION: `${dir.path}/logs`,
			MLIY_DATABASE_URL: `file:${dir.path}/mliy.db`,
			...env,
		},
		stdout: "piped",
		stderr: "piped",
		// A portal that does start (the old behaviour) is stopped here instead of hanging the test.
		signal: AbortSignal.timeout(30_000),
	}).output();
	const decoder = new TextDecoder();
	return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

Deno.test("the portal does not start on the 2014 file, an RDS file, unreadable JSON or a missing PRICING_FILE, and says which file", async () => {
	await using dir = await tempDir();
	await Deno.writeTextFile(`${dir.path}/broken.json`, '[{"instance_type": "m4.large", "pricing": {');
	const [old, rds, broken, missing] = await Promise.all([
		mainExit({ MLIY_PRICING_FILE: PRICING_FILES.y2014 }),
		mainExit({ MLIY_PRICING_FILE: PRICING_FILES.rds }),
		mainExit({ MLIY_PRICING_FILE: `${dir.path}/broken.json` }),
		mainExit({ MLIY_PRICING_FILE: `${dir.path}/nowhere.json` }),
	]);
	const quoted = (path: string) => JSON.stringify(path).replace(/[.]/g, "\\.");
	for (
		const [run, expected] of [
			[old, `cannot use the pricing file ${quoted(PRICING_FILES.y2014)}: no instance type has a usable price`],
			[rds, `cannot use the pricing file ${quoted(PRICING_FILES.rds)}: .*RDS file`],
			[broken, `cannot use the pricing file ${quoted(`${dir.path}/broken.json`)}: the pricing file is not valid JSON`],
			[missing, `the pricing file ${quoted(`${dir.path}/nowhere.json`)} \\(setting PRICING_FILE\\) does not exist`],
		] as const
	) {
		assert.equal(run.code, 1, run.output);
		assert.match(run.output, new RegExp(`MLiy cannot start: ${expected}`));
		assert.doesNotMatch(run.output, /listening on|embedded copy/);
	}
});

Deno.test("the source tree never uses the embedded copy: run from a folder without fixtures/instances.json, the portal does not start", async () => {
	await using elsewhere = await tempDir();
	const run = await mainExit({}, elsewhere.path);
	assert.equal(run.code, 1, run.output);
	assert.match(
		run.output,
		/MLiy cannot start: the pricing file "fixtures\/instances\.json" \(setting PRICING_FILE\) does not exist/,
	);
	assert.doesNotMatch(run.output, /embedded copy|listening on/);
});

Deno.test("the embedded copy stands in only for the default PRICING_FILE: a missing file that was set stops startup", async () => {
	assert.equal(resolveSettings({}).PRICING_FILE, DEFAULT_PRICING_FILE);
	await using dir = await tempDir();
	const settings = resolveSettings({
		file: {
			DATABASE_URL: `file:${dir.path}/test.db`,
			LOG_LOCATION: `${dir.path}/logs`,
			RUN_JOBS: false,
			PRICING_FILE: `${dir.path}/prices/instances.json`,
		},
	});
	const error = await rejection(createDeps(settings, { aws: fakeAws(), metadataUrl: "http://127.0.0.1:9" }));
	assert.ok(error instanceof PricingFormatError);
	assert.match(error.message, /the pricing file ".*\/prices\/instances.json" \(setting PRICING_FILE\) does not exist/);
	// What lib/deps.ts passes for the default path (tests/bundle_test.ts runs it where that path is absent).
	const embedded = await createPricing({
		path: `${dir.path}/${DEFAULT_PRICING_FILE}`,
		embedded: () => Deno.readTextFile(PRICING_FILES.y2017),
		log,
	});
	assert.equal(embedded.source, "embedded copy of fixtures/instances.json");
	assert.equal(embedded.index.types.size, 88);
});

Deno.test("a replaced pricing file is picked up without a restart; a broken replacement keeps the old prices", async () => {
	await using dir = await tempDir();
	await using logs = await captureLogs();
	const path = `${dir.path}/instances.json`;
	await Deno.writeTextFile(path, file(handMade));
	const pricing = await createPricing({ path, log: getLoggers().web });
	assert.equal(await pricing.reloadIfChanged(), false, "unchanged");
	const cheaper = structuredClone(handMade);
	(cheaper[0]!.pricing!["us-east-1"] as Record<string, unknown>).linux = { ondemand: "0.2" };
	await replace(path, file(cheaper));
	assert.equal(await pricing.reloadIfChanged(), true);
	assert.deepEqual(pricing.onDemand("z9.large", "us-east-1", "linux"), { known: true, hourly: 0.2 });
	await replace(path, "[{broken");
	assert.equal(await pricing.reloadIfChanged(), false);
	assert.deepEqual(
		pricing.onDemand("z9.large", "us-east-1", "linux"),
		{ known: true, hourly: 0.2 },
		"previous index kept",
	);
	assert.ok(logs.errors().some((line) => line.includes("keeping the previous prices")));
	// An unknown price is logged once, not on every lookup.
	for (let i = 0; i < 3; i++) pricing.onDemand("q1.tiny", "us-east-1", "linux");
	assert.equal(logs.records.filter((r) => r.message.join("").includes("q1.tiny")).length, 1);
});

Deno.test("a reload that finds the 2014 file, an RDS file, a truncated file or no file keeps the old index and logs an error naming the file", async () => {
	await using dir = await tempDir();
	await using logs = await captureLogs();
	const path = `${dir.path}/instances.json`;
	await Deno.writeTextFile(path, file(handMade));
	const pricing = await createPricing({ path, log });
	const before = pricing.index;
	const cases: [string, () => Promise<void>, RegExp][] = [
		["the 2014 file", () => replace(path, Deno.readTextFileSync(PRICING_FILES.y2014)), /prices are plain strings/],
		["an RDS file", () => replace(path, Deno.readTextFileSync(PRICING_FILES.rds)), /RDS file/],
		["a truncated file", () => replace(path, file(handMade).slice(0, -30)), /not valid JSON.*cut short/],
		["no file", () => Deno.remove(path), /is gone/],
	];
	for (const [what, change, expected] of cases) {
		const seen = logs.errors().length;
		await change();
		assert.equal(await pricing.reloadIfChanged(), false, what);
		assert.equal(pricing.index, before, `${what}: the old index is kept`);
		assert.deepEqual(pricing.onDemand("z9.large", "us-east-1", "linux"), { known: true, hourly: 0.25 }, what);
		const logged = logs.errors().slice(seen);
		assert.equal(logged.length, 1, `${what}: one error logged: ${logged.join(" | ")}`);
		assert.ok(logged[0]!.includes(path), `${what}: the error names the file: ${logged[0]}`);
		assert.match(logged[0]!, expected, what);
		// Not reported again until the file changes again.
		assert.equal(await pricing.reloadIfChanged(), false);
		assert.equal(logs.errors().length, seen + 1, `${what}: logged once`);
	}
	await Deno.writeTextFile(path, file(handMade).replace('"0.25"', '"0.27"'));
	assert.equal(await pricing.reloadIfChanged(), true, "a good file again is used");
	assert.deepEqual(pricing.onDemand("z9.large", "us-east-1", "linux"), { known: true, hourly: 0.27 });
});

/** Reloads `pricing` under {@link measureHeldLoop}; each tick's lookup is checked by `check` (old or new index, never a mix). */
async function reloadUnderLoad(pricing: Pricing, check: (pricing: Pricing) => void) {
	const { result: reloaded, ...held } = await measureHeldLoop(() => pricing.reloadIfChanged(), {
		warmupMs: 50, // the loop is running before the reload starts
		sample: () => check(pricing),
	});
	return { reloaded, ...held };
}

Deno.test("a generated 25 MB file of today's format loads, and a reload of it holds no request and swaps atomically", async () => {
	await using dir = await tempDir();
	const path = `${dir.path}/instances.json`;
	const first = await writeGeneratedPricingFile(path, { targetBytes: 25e6 });
	assert.ok(first.bytes > 24e6 && first.bytes < 26e6, `${first.bytes} bytes`);
	const pricing = await createPricing({ path, log });
	assert.equal(pricing.index.types.size, first.types);
	const last = generatedType(first.types - 1);
	assert.deepEqual(pricing.onDemand(last, "us-east-1", "linux"), { known: true, hourly: 26.676 });
	assert.deepEqual(pricing.onDemand(last, "ap-south-1", "rhelSQLEnterprise"), { known: true, hourly: 78.0968 });
	assert.deepEqual(pricing.emrSurcharge(last, "us-east-1"), { known: true, hourly: 6.669 });

	// The replacement has more types and doubled us-east-1 Linux prices; moved into place whole, as
	// an admin would (mv), so the reload never reads a half-written file.
	const second = await writeGeneratedPricingFile(`${dir.path}/next.json`, { targetBytes: 27e6, scale: 2 });
	await new Promise((r) => setTimeout(r, 20));
	await Deno.rename(`${dir.path}/next.json`, path);
	const added = generatedType(second.types - 1);
	let swapped = false;
	const run = await reloadUnderLoad(pricing, (pricing) => {
		const size = pricing.index.types.size;
		const price = pricing.onDemand(generatedType(0), "us-east-1", "linux");
		if (size === first.types) {
			assert.ok(!swapped, "once the new index is seen, the old one never comes back");
			assert.deepEqual(price, { known: true, hourly: 26.676 });
			assert.equal(pricing.typeInfo(added), undefined);
		} else {
			assert.equal(size, second.types, "the index has the old or the new number of types, never a part");
			swapped = true;
			assert.deepEqual(price, { known: true, hourly: 53.352 });
			assert.equal(pricing.typeInfo(added)?.name, added);
		}
	});
	assert.equal(run.reloaded, true);
	assert.equal(pricing.index.types.size, second.types);
	assert.deepEqual(pricing.onDemand(added, "us-east-1", "linux"), { known: true, hourly: 53.352 });
	// The reload pauses after every 8 ms of work, so requests and timers keep running while it reads;
	// the old reload (one JSON.parse of the file) held the loop for 0.7-0.9 of its duration. The
	// bound is relative to the reload's own duration, so a slow or busy machine does not change the
	// verdict; the times themselves are measured in bench/ (pricing-load), not asserted here.
	const summary = JSON.stringify(run);
	assert.ok(run.samples >= 5 && run.requests >= 5, `lookups and requests ran during the reload: ${summary}`);
	const longest = Math.max(run.longestRequest, run.longestGap);
	assert.ok(longest < run.ms / 3, `the longest stall is under a third of the reload: ${summary}`);
});
