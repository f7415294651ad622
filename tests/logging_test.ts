import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { closeLogging, configureLogging, getLoggers, LOG_FILES } from "../lib/log.ts";
import { bufferedFileSink } from "../lib/log_file.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { startPortal } from "./_helpers/portal_process.ts";

async function lines(path: string): Promise<Record<string, unknown>[]> {
	const text = await Deno.readTextFile(path).catch(() => "");
	return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

Deno.test("the four log files receive their lines at the configured levels, with the request id", async () => {
	await using deps = await createTestDeps();
	const dir = `${deps.dir}/logs`;
	await configureLogging({ LOG_LOCATION: dir, WEB_LOG_LEVEL: "WARNING", LAUNCH_LOG_LEVEL: "DEBUG" }, {
		console: false,
	});
	let quietId: string | null;
	let forgedId: string | null;
	try {
		const log = getLoggers();
		log.web.info("web info is below WARNING");
		log.web.warn("web warning is written");
		log.auth.info("auth info is below WARNING");
		log.auth.error("auth error is written");
		log.boto.warn("boto warning is written");
		log.launch.debug("launch debug is written at DEBUG");
		log.web.error("step failed: {message}", { message: "a property named like the line's text" });
		const res = await request(deps.app, "/nowhere", { user: "alice" });
		assert.equal(res.status, 404);
		quietId = res.headers.get("X-Request-Id");
		const forged = await request(deps.app, "/", { user: "mallory", from: "203.0.113.9" });
		forgedId = forged.headers.get("X-Request-Id");
	} finally {
		await closeLogging();
	}
	const web = await lines(`${dir}/${LOG_FILES.web}`);
	const auth = await lines(`${dir}/${LOG_FILES.auth}`);
	const boto = await lines(`${dir}/${LOG_FILES.boto}`);
	const launch = await lines(`${dir}/${LOG_FILES.launch}`);
	const messages = (entries: Record<string, unknown>[]) => entries.map((e) => String(e.message));
	assert.ok(messages(web).includes("web warning is written"));
	assert.ok(
		messages(web).includes("step failed: a property named like the line's text"),
		"a property called message does not replace the rendered line",
	);
	assert.ok(!messages(web).some((m) => m.includes("below WARNING")));
	assert.ok(messages(auth).includes("auth error is written"));
	assert.ok(!messages(auth).some((m) => m.includes("below WARNING")));
	const refused = auth.filter((e) => String(e.message).includes("refused identity header"));
	assert.equal(refused.length, 1, "the forged header is logged to auth.log");
	assert.ok(forgedId);
	assert.equal(refused[0]!.requestId, forgedId, "with the id of the request that sent it");
	// The 404's access line is INFO, below the web log's WARNING: nothing carries its id.
	assert.ok(quietId);
	assert.ok(![...web, ...auth].some((e) => JSON.stringify(e).includes(quietId!)), "an INFO access line was written");
	assert.ok(messages(boto).includes("boto warning is written"));
	assert.ok(messages(launch).includes("launch debug is written at DEBUG"));
	for (const entry of [...web, ...auth]) assert.equal(typeof entry["@timestamp"], "string");
});

Deno.test("request lines carry the request id that the response returns", async () => {
	await using deps = await createTestDeps();
	const dir = `${deps.dir}/logs`;
	await configureLogging({ LOG_LOCATION: dir, WEB_LOG_LEVEL: "INFO", LAUNCH_LOG_LEVEL: "INFO" }, { console: false });
	let requestId: string | null;
	try {
		const res = await request(deps.app, "/", { user: "alice" });
		requestId = res.headers.get("X-Request-Id");
	} finally {
		await closeLogging();
	}
	const auth = await lines(`${dir}/${LOG_FILES.auth}`);
	const web = await lines(`${dir}/${LOG_FILES.web}`);
	const tagged = [...auth, ...web].filter((e) => JSON.stringify(e).includes(requestId!));
	assert.ok(tagged.some((e) => String(e.message).includes("created user")), "auth lines of the request carry its id");
	assert.ok(tagged.some((e) => String(e.message).includes("GET")), "the access line carries its id");
});

/** Waits up to `ms` for a line of the file to match; returns how long it took, or null. */
async function lineWithin(path: string, pattern: RegExp, ms: number): Promise<number | null> {
	const started = performance.now();
	for (;;) {
		const found = (await lines(path)).some((e) => pattern.test(String(e.message)));
		const took = performance.now() - started;
		if (found) return took;
		if (took > ms) return null;
		await new Promise((r) => setTimeout(r, 25));
	}
}

Deno.test("a sign-in is in auth.log within a second, while the portal goes on (no flush at shutdown needed)", async () => {
	await using deps = await createTestDeps();
	const dir = `${deps.dir}/logs`;
	await configureLogging({ LOG_LOCATION: dir, WEB_LOG_LEVEL: "INFO", LAUNCH_LOG_LEVEL: "INFO" }, { console: false });
	try {
		const res = await request(deps.app, "/", { user: "newcomer" });
		assert.equal(res.status, 200);
		await res.body?.cancel();
		const took = await lineWithin(`${dir}/${LOG_FILES.auth}`, /^sign-in newcomer from /, 1000);
		assert.ok(took !== null, "the sign-in reached auth.log within a second");
		const quiet = getLoggers();
		quiet.launch.info("one line on a quiet log");
		assert.ok(
			await lineWithin(`${dir}/${LOG_FILES.launch}`, /^one line on a quiet log$/, 1000) !== null,
			"a lone line is written too, not kept until the next one",
		);
	} finally {
		await closeLogging();
	}
});

Deno.test({
	name: "after kill -9 the portal's start-up and sign-in lines are in its files",
	sanitizeOps: false,
	sanitizeResources: false,
	fn: async () => {
		const dir = await Deno.makeTempDir({ prefix: "mliy-logs-" });
		const portal = await startPortal({
			MLIY_DATABASE_URL: `file:${dir}/mliy.db`,
			MLIY_LOG_LOCATION: `${dir}/logs`,
		});
		try {
			const res = await fetch(`${portal.url}/`, { headers: { REMOTE_USER: "alice" } });
			assert.equal(res.status, 200);
			await res.body?.cancel();
			const took = await lineWithin(`${dir}/logs/${LOG_FILES.auth}`, /^sign-in alice from /, 1000);
			assert.ok(took !== null, "the sign-in reached auth.log within a second");
		} finally {
			portal.kill();
			await portal.finished();
		}
		const web = (await lines(`${dir}/logs/${LOG_FILES.web}`)).map((e) => String(e.message));
		assert.ok(web.some((m) => m.startsWith("starting MLiy")), "the start-up line survived kill -9");
		assert.ok(web.some((m) => m.startsWith("listening on http://")));
		assert.ok(web.some((m) => /^GET \/ 200/.test(m)), "and the request's line");
		await Deno.remove(dir, { recursive: true });
	},
});

Deno.test("the access line goes to mliyweb.log within a second, not to the console; other lines reach both", async () => {
	await using deps = await createTestDeps();
	const dir = `${deps.dir}/logs`;
	// The console sink writes through console.debug/info/warn/error: what it printed is kept here.
	const printed: string[] = [];
	const terminal = globalThis.console;
	const original = { debug: terminal.debug, info: terminal.info, warn: terminal.warn, error: terminal.error };
	for (const method of ["debug", "info", "warn", "error"] as const) {
		terminal[method] = (...args: unknown[]) => void printed.push(args.map(String).join(" "));
	}
	try {
		await configureLogging({ LOG_LOCATION: dir, WEB_LOG_LEVEL: "INFO", LAUNCH_LOG_LEVEL: "INFO" });
		const res = await request(deps.app, "/", { user: "alice" });
		assert.equal(res.status, 200);
		await res.body?.cancel();
		const requestId = res.headers.get("X-Request-Id")!;
		assert.ok(
			await lineWithin(`${dir}/${LOG_FILES.web}`, /^GET \/ 200 \d+ ms$/, 1000) !== null,
			"the access line reached mliyweb.log within a second",
		);
		const access = (await lines(`${dir}/${LOG_FILES.web}`)).find((e) => /^GET \/ 200 /.test(String(e.message)))!;
		assert.equal(access.requestId, requestId);
		assert.equal(access.logger, "mliy.web.access");
		getLoggers().web.info("a page line with {count} rows", { count: 12n, total: 9007199254740993n });
		assert.ok(
			await lineWithin(`${dir}/${LOG_FILES.web}`, /^a page line with 12 rows$/, 1000) !== null,
			"a BigInt is written as its digits",
		);
		const page = (await lines(`${dir}/${LOG_FILES.web}`)).find((e) => e.message === "a page line with 12 rows")!;
		assert.equal(page.total, "9007199254740993");
	} finally {
		await closeLogging();
		Object.assign(terminal, original);
	}
	assert.ok(printed.some((line) => line.includes("created user alice")), "other lines still reach the console");
	assert.ok(printed.some((line) => line.includes("a page line with")));
	assert.ok(!printed.some((line) => /GET \/ 200 /.test(line)), "the access line is not printed");
});

Deno.test("a log file rotates at its size into name.1, name.2 …, keeping maxFiles, and loses no line on the way", async () => {
	const dir = await Deno.makeTempDir({ prefix: "mliy-rotate-" });
	try {
		const path = `${dir}/mliyweb.log`;
		const sink = bufferedFileSink(path, {
			formatter: (record) => `${record.message.join("")}\n`,
			maxSize: 16 * 1024,
			maxFiles: 3,
			flushMs: 1000,
			bufferChars: 1024,
		});
		const record = (i: number): LogRecord => ({
			category: ["mliy", "web"],
			level: "info",
			message: [`line ${String(i).padStart(5, "0")} `.padEnd(99, "x")],
			rawMessage: "",
			timestamp: Date.now(),
			properties: {},
		});
		for (let i = 0; i < 800; i++) sink(record(i));
		await sink[Symbol.asyncDispose]();
		const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
		assert.deepEqual(names, ["mliyweb.log", "mliyweb.log.1", "mliyweb.log.2", "mliyweb.log.3"]);
		for (const name of names) assert.ok(Deno.statSync(`${dir}/${name}`).size <= 16 * 1024, name);
		// The newest lines are in the file itself, the older ones in .1, .2, .3, each a whole line, in order.
		const text = ["mliyweb.log.3", "mliyweb.log.2", "mliyweb.log.1", "mliyweb.log"]
			.map((name) => Deno.readTextFileSync(`${dir}/${name}`)).join("");
		const numbers = text.split("\n").filter(Boolean).map((line) => Number(line.slice(5, 10)));
		assert.deepEqual(numbers, numbers.map((_, i) => 800 - numbers.length + i), "consecutive, up to the last line");
		assert.ok(numbers.length > 400, `${numbers.length} lines kept in four files of 16 KiB`);
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});
