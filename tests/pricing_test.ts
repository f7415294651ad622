/**
 * The pricing index over the ec2instances.info format: real 2017 data, hand-made files, and the
 * files the portal refuses (at start and on a reload).
 */
import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { createDeps } from "../lib/deps.ts";
import { getLoggers } from "../lib/log.ts";
import { createPricing, DEFAULT_PRICING_FILE, type Price, PricingFormatError, PricingIndex } from "../lib/pricing.ts";
import { resolveSettings } from "../lib/settings.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { rejection, thrown } from "./_helpers/assert.ts";
import { PRICING_FILES } from "./_helpers/pricing_file.ts";

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
			/the pricing file ".*missing.json" \(setting PRICING_FILE\) does not exist/,
		);
	} finally {
		await Deno.remove(dir, { recursive: true });
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

/** Runs main.ts until it exits (it must not start) with `env`; its exit code and console output. */
async function mainExit(env: Record<string, string>): Promise<{ code: number; output: string }> {
	await using dir = await tempDir();
	const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
		args: ["run", "-A", "--unstable-cron", `${root}main.ts`],
		cwd: root,
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
		embedded: () => Deno.readTextFileSync(PRICING_FILES.y2017),
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
		["a truncated file", () => replace(path, file(handMade).slice(0, -30)), /not valid JSON/],
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
