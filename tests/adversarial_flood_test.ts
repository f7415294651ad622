/**
 * Floods cannot erase the record. A minute of unauthenticated progress calls (the finding: 143,000
 * in 55 s rotated every earlier line out of the logs), compressed: the rate limit reads the portal's
 * clock, so the test's clock moves one second per 400 calls and the minute takes seconds, with the
 * log files written as in production. Then the limits' keys, the sign-in and /health limits, and a
 * real process flooded on the real clock.
 */
import assert from "node:assert/strict";
import { closeLogging, configureLogging } from "../lib/log.ts";
import { redactedSettings } from "../lib/settings.ts";
import { RefusalLog, TokenBuckets } from "../lib/rate_limit.ts";
import { flushRateLimitSummaries } from "../routes/middleware/rate_limit.ts";
import { createTestDeps, testClock, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { startPortal } from "./_helpers/portal_process.ts";
import { addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

const peer = (hostname: string) => ({ remoteAddr: { hostname, port: 40000, transport: "tcp" } });

async function linesOf(path: string): Promise<Record<string, unknown>[]> {
	const text = await Deno.readTextFile(path).catch(() => "");
	return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

async function rateLimited(deps: TestDeps, endpoint: string): Promise<number> {
	return (await deps.metrics.rateLimited.get()).values.filter((v) => v.labels.endpoint === endpoint)
		.reduce((n, v) => n + v.value, 0);
}

Deno.test("a minute-long flood of unauthenticated progress calls gets 429s and leaves the start-up lines in the logs", async () => {
	await using deps = await createTestDeps();
	const logs = `${deps.dir}/logs`;
	await configureLogging({ LOG_LOCATION: logs, WEB_LOG_LEVEL: "INFO", LAUNCH_LOG_LEVEL: "INFO" }, { console: false });
	try {
		// What main.ts writes first.
		deps.log.web.info("starting MLiy with settings {settings}", { settings: redactedSettings(deps.settings) });
		deps.log.web.info("listening on http://{hostname}:{port}", { hostname: "127.0.0.1", port: 8080 });
		const world = await seedWorld(deps.db);
		const token = "progress-token-of-the-real-instance";
		await addLaunchedInstance(deps.db, world, token, { privateIp: "10.0.0.5" });

		const statuses = new Map<number, number>();
		let withRetryAfter = 0;
		let legit = 0;
		const CALLS_PER_SECOND = 2_400;
		for (let second = 0; second < 60; second++) {
			const batch: Promise<void>[] = [];
			for (let i = 0; i < CALLS_PER_SECOND; i++) {
				// One source floods a made-up id, another sprays fresh ids from addresses of one IPv6 /64.
				const [path, from] = i % 2 === 0 ? [`/ajax/progress/i-0aaaaaaaaaaaaaaa1/stage(${i % 100})`, "203.0.113.9"] : [
					`/ajax/progress/i-${(second * CALLS_PER_SECOND + i).toString(16).padStart(17, "0")}/x(1)`,
					`2001:db8:66:1:${((i * 7919) % 65536).toString(16)}::1`,
				];
				batch.push((async () => {
					const res = await deps.app.request(path, { method: i % 4 === 1 ? "POST" : "GET" }, peer(from));
					statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
					if (res.status === 429 && Number(res.headers.get("Retry-After")) >= 1) withRetryAfter += 1;
					await res.body?.cancel();
				})());
			}
			await Promise.all(batch);
			// Meanwhile the real instance reports its boot every ten seconds, from its own address.
			if (second % 10 === 0) {
				const res = await deps.app.request(`/ajax/progress/i-0123456789abcdef0/step_${second}(${second})`, {
					headers: { "X-MLiy-Progress-Token": token },
				}, peer("10.0.0.5"));
				assert.equal(res.status, 200, `the instance's own report at ${second} s`);
				await res.body?.cancel();
				legit += 1;
			}
			deps.clock.advance(1000);
		}
		const refused = statuses.get(429) ?? 0;
		const total = 60 * CALLS_PER_SECOND;
		assert.equal(legit, 6);
		assert.ok(refused > total * 0.9, `most of the flood is refused: ${JSON.stringify([...statuses])}`);
		assert.equal(withRetryAfter, refused, "every 429 says when to come back");
		assert.equal(await rateLimited(deps, "progress"), refused, "the metric counts every refusal");

		flushRateLimitSummaries(deps);
		await closeLogging();
		const web = await linesOf(`${logs}/mliyweb.log`);
		assert.match(String(web[0]?.message), /^starting MLiy with settings/, "the start-up line is still the first");
		assert.match(String(web[1]?.message), /^listening on/);
		for await (const entry of Deno.readDir(logs)) assert.doesNotMatch(entry.name, /\.log\.\d/, "nothing rotated");
		const summaries = web.filter((l) => String(l.message).startsWith("rate limit: refused"));
		assert.deepEqual(
			summaries.map((l) => l.source).sort(),
			["2001:db8:66:1::/64", "203.0.113.9"],
			"one line per source for the minute, not one per call",
		);
		assert.equal(summaries.reduce((n, l) => n + Number(l.count), 0), refused, "the summaries count every refusal");
		// What was allowed through is logged as before; the flood's share of the file is small.
		assert.ok(web.length < 2_000, `${web.length} lines for ${total} calls`);
	} finally {
		await closeLogging();
	}
});

Deno.test("progress calls are limited per instance id too, whichever addresses they come from", async () => {
	await using deps = await createTestDeps({ settings: { RATE_LIMIT_PER_INSTANCE: 10 } });
	const statuses: number[] = [];
	for (let i = 0; i < 40; i++) {
		const res = await deps.app.request("/ajax/progress/i-0bbbbbbbbbbbbbbb2/stage(5)", {}, peer(`198.51.100.${i}`));
		statuses.push(res.status);
		await res.body?.cancel();
	}
	assert.equal(statuses.filter((s) => s !== 429).length, 10, "ten calls for the id, then 429 from every address");
	const other = await deps.app.request("/ajax/progress/i-0ccccccccccccccc3/stage(5)", {}, peer("198.51.100.1"));
	assert.notEqual(other.status, 429, "another id has its own share");
	await other.body?.cancel();
	// A minute later the id has its share again.
	deps.clock.advance(60_000);
	const later = await deps.app.request("/ajax/progress/i-0bbbbbbbbbbbbbbb2/stage(5)", {}, peer("198.51.100.99"));
	assert.notEqual(later.status, 429);
	await later.body?.cancel();
});

Deno.test("activity reports and keep-alives are limited per source and per instance id as progress is", async () => {
	await using deps = await createTestDeps({ settings: { RATE_LIMIT_PER_SOURCE: 20, RATE_LIMIT_PER_INSTANCE: 5 } });
	const post = async (path: string, address: string) => {
		const res = await deps.app.request(path, { method: "POST", body: "{}" }, peer(address));
		await res.body?.cancel();
		return res.status;
	};
	const byInstance: number[] = [];
	for (let i = 0; i < 12; i++) {
		byInstance.push(await post(`/ajax/activity/i-0bbbbbbbbbbbbbbb2${i % 2 ? "/keepalive" : ""}`, `198.51.100.${i}`));
	}
	assert.equal(byInstance.filter((s) => s !== 429).length, 5, "five calls for the id, then 429 from every address");
	const bySource: number[] = [];
	for (let i = 0; i < 30; i++) {
		bySource.push(await post(`/ajax/activity/i-0${String(i).padStart(16, "d")}`, "203.0.113.7"));
	}
	assert.equal(bySource.filter((s) => s !== 429).length, 20, "twenty calls from one address, then 429");
	assert.equal(await rateLimited(deps, "activity"), 7 + 10);
});

Deno.test("the source is the client the trusted proxy names; a client cannot pick its own", async () => {
	const SECRET = "proxy-secret-0123456789abcdef0123456789";
	await using deps = await createTestDeps({
		settings: { RATE_LIMIT_PER_SOURCE: 5, TRUSTED_PROXIES: ["10.0.0.1"], PROXY_SECRET: SECRET },
	});
	const call = async (from: string, headers: Record<string, string>) => {
		const res = await deps.app.request(`/health`, { headers }, peer(from));
		await res.body?.cancel();
		return res.status;
	};
	// Through the proxy, each client has its own share.
	for (const client of ["203.0.113.1", "203.0.113.2"]) {
		const proxied = { "X-Forwarded-For": client, "X-MLiy-Proxy-Secret": SECRET };
		const got = [];
		for (let i = 0; i < 7; i++) got.push(await call("10.0.0.1", proxied));
		assert.deepEqual(got.map((s) => s === 429), [false, false, false, false, false, true, true], client);
	}
	// A direct caller naming other clients is still itself, and so is the proxy's address without the secret.
	const direct = [];
	for (let i = 0; i < 7; i++) direct.push(await call("192.0.2.7", { "X-Forwarded-For": `203.0.113.${100 + i}` }));
	assert.equal(direct.filter((s) => s === 429).length, 2);
	const unproven = [];
	for (let i = 0; i < 7; i++) unproven.push(await call("10.0.0.1", { "X-Forwarded-For": `203.0.113.${200 + i}` }));
	assert.equal(unproven.filter((s) => s === 429).length, 2, "without the secret the proxy's own address is the source");
});

Deno.test("refused sign-ins are limited per source and summarised, not logged one by one", async () => {
	await using deps = await createTestDeps({ settings: { RATE_LIMIT_PER_SOURCE: 20, TRUSTED_PROXIES: ["10.0.0.1"] } });
	const logs = `${deps.dir}/logs`;
	await configureLogging({ LOG_LOCATION: logs, WEB_LOG_LEVEL: "INFO", LAUNCH_LOG_LEVEL: "INFO" }, { console: false });
	try {
		const statuses: number[] = [];
		for (let i = 0; i < 500; i++) {
			const res = await request(deps.app, "/admin", { user: "ada", from: "192.0.2.66" });
			statuses.push(res.status);
			await res.body?.cancel();
		}
		assert.equal(statuses.filter((s) => s === 401).length, 20);
		assert.equal(statuses.filter((s) => s === 429).length, 480);
		// A user behind the proxy is not affected by that address's flood.
		assert.equal((await request(deps.app, "/", { user: "bob", from: "10.0.0.1" })).status, 200);
		flushRateLimitSummaries(deps);
		await closeLogging();
		const auth = await linesOf(`${logs}/auth.log`);
		assert.equal(auth.filter((l) => String(l.message).startsWith("refused identity header")).length, 20);
		const web = await linesOf(`${logs}/mliyweb.log`);
		const summary = web.filter((l) => String(l.message).startsWith("rate limit: refused"));
		assert.deepEqual(summary.map((l) => [l.endpoint, l.source, l.count]), [["sign-in", "192.0.2.66", 480]]);
		assert.ok(web.length < 30, `${web.length} lines in mliyweb.log`);
	} finally {
		await closeLogging();
	}
});

Deno.test("token buckets refill over the minute, name the wait, and stay bounded when every call brings a new key", () => {
	const clock = testClock();
	const buckets = new TokenBuckets({ perMinute: 60, clock, maxKeys: 100 });
	for (let i = 0; i < 60; i++) assert.equal(buckets.take("a"), 0);
	assert.equal(buckets.take("a"), 1, "one token a second: back in a second");
	clock.advance(10_000);
	for (let i = 0; i < 10; i++) assert.equal(buckets.take("a"), 0);
	assert.ok(buckets.take("a") >= 1);
	for (let i = 0; i < 10_000; i++) buckets.take(`spray-${i}`);
	assert.ok(buckets.size <= 100, `${buckets.size} keys held`);
	const slow = new TokenBuckets({ perMinute: 2, clock });
	slow.take("b");
	slow.take("b");
	assert.equal(slow.take("b"), 30, "two a minute: the next in 30 s");
});

Deno.test("a summary waits for the interval to end by the portal's clock, however slowly the machine runs", async () => {
	const lines: string[] = [];
	let now = Date.parse("2025-03-03T12:00:00Z");
	const refusals = new RefusalLog({
		// Only the calls the summary makes are used: the logger's warn and the metric's inc.
		log: {
			warn: (message: string, props: Record<string, unknown>) => lines.push(`${message} ${props.count}`),
		} as never,
		metric: { inc: () => {} } as never,
		clock: () => new Date(now),
		intervalMs: 40,
	});
	try {
		refusals.note("progress", "203.0.113.9");
		// The timer's wait passes on the real clock, but the portal's clock has not reached the interval's end.
		await new Promise((r) => setTimeout(r, 120));
		refusals.note("progress", "203.0.113.9");
		assert.deepEqual(lines, [], "no summary before the interval is over");
		now += 40;
		await new Promise((r) => setTimeout(r, 120));
		assert.equal(lines.length, 1, "one summary for the interval, with both calls");
		assert.match(lines[0]!, / 2$/);
	} finally {
		refusals.close();
	}
});

Deno.test("a real portal flooded on the real clock answers 429s and keeps its start-up line", async () => {
	const dir = await Deno.makeTempDir({ prefix: "mliy-flood-" });
	const portal = await startPortal({
		MLIY_DATABASE_URL: `file:${dir}/mliy.db`,
		MLIY_LOG_LOCATION: `${dir}/logs`,
		MLIY_RATE_LIMIT_PER_SOURCE: "100",
	});
	try {
		const statuses = new Map<number, number>();
		for (let round = 0; round < 40; round++) {
			await Promise.all(Array.from({ length: 50 }, async (_, i) => {
				const res = await fetch(`${portal.url}/ajax/progress/i-0${String(round * 50 + i).padStart(16, "0")}/x(1)`);
				statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
				await res.body?.cancel();
			}));
		}
		assert.ok((statuses.get(429) ?? 0) >= 1_800, JSON.stringify([...statuses]));
		portal.child.kill("SIGTERM");
		const { code } = await portal.finished();
		assert.equal(code, 0);
		const web = await linesOf(`${dir}/logs/mliyweb.log`);
		assert.match(String(web[0]?.message), /^starting MLiy with settings/);
		const summaries = web.filter((l) => String(l.message).startsWith("rate limit: refused"));
		assert.equal(
			summaries.reduce((n, l) => n + Number(l.count), 0),
			statuses.get(429),
			"written at shutdown at the latest",
		);
		assert.ok(web.length < 400, `${web.length} lines for 2,000 calls`);
	} finally {
		portal.kill();
		await Deno.remove(dir, { recursive: true });
	}
});
