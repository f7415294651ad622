// deno-lint-ignore-file no-console
/**
 * What the hot paths ask the database, in process: on the bench's seeded data (bench/seed.ts), each
 * path's requests through `app.request` (no HTTP, no other load), with the SQL statements every
 * request sends the driver counted and timed. A statement that differs between two requests of the
 * same path is SQL built per request; the time is the driver's call (prepare, step, rows) as the
 * client sees it, and the request's own is the whole handler.
 *
 * Usage: deno run -A bench/statements_probe.ts [requests per path, default 300] [--sql]
 */
import type { InStatement } from "@libsql/client";
import { seedBench } from "./seed.ts";
import { createTestDeps } from "../tests/_helpers/deps.ts";

const count = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 300);
const printSql = Deno.args.includes("--sql");
/** `--only=dashboard,team,instance,progress`: those paths alone (for a CPU profile of one). */
const only = Deno.args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",");
// wrk-like load from one address: the probe measures the paths, not their rate limits.
await using deps = await createTestDeps({
	realClock: true,
	settings: { RATE_LIMIT_PER_SOURCE: 10_000_000, RATE_LIMIT_PER_INSTANCE: 10_000_000 },
});
const world = await seedBench(deps.database, { instances: 10_000, withTokens: 1_000 });

/** Every statement sent while `recording`, by its SQL text, with the time the driver took. */
const seen = new Map<string, { calls: number; ms: number }>();
let recording = false;
const client = deps.database.client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
for (const method of ["execute", "batch"] as const) {
	const original = client[method]!.bind(client);
	client[method] = async (...args: unknown[]) => {
		if (!recording) return await original(...args);
		const first = args[0] as InStatement | InStatement[] | string;
		const texts = (Array.isArray(first) ? first : [first]).map((s) =>
			typeof s === "string" ? s : Array.isArray(s) ? String(s[0]) : s.sql
		);
		// The local client does a statement's work before it returns; @libsql/client after a
		// borrow it awaits, so there the time includes waiting for the requests before it.
		const t0 = performance.now();
		const pending = original(...args);
		const sync = performance.now() - t0;
		try {
			return await pending;
		} finally {
			const ms = deps.database.client.protocol === "file" && sync > 0.005 ? sync : performance.now() - t0;
			for (const text of texts) {
				const entry = seen.get(text) ?? { calls: 0, ms: 0 };
				entry.calls++;
				entry.ms += ms / texts.length;
				seen.set(text, entry);
			}
		}
	};
}

const paths: Array<{ key: string; name: string; request: (i: number) => Request }> = [
	{
		key: "dashboard",
		name: "GET / (alice, 20 instances)",
		request: () => new Request("http://x/", { headers: { REMOTE_USER: "alice" } }),
	},
	{
		key: "team",
		name: "GET /team (mia, 10,000 instances)",
		request: () => new Request("http://x/team", { headers: { REMOTE_USER: "mia" } }),
	},
	{
		key: "instance",
		name: "GET /instances/<id> (owner)",
		request: () => new Request(`http://x/instances/${world.progressIds[0]}`, { headers: { REMOTE_USER: "alice" } }),
	},
	{
		key: "progress",
		name: "GET /ajax/progress (valid token)",
		request: (i) => {
			const n = i % world.progressIds.length;
			return new Request(`http://x/ajax/progress/${world.progressIds[n]}/installing_base_packages(${i % 100})`, {
				headers: { "X-MLiy-Progress-Token": world.progressTokens[n]! },
			});
		},
	},
];

async function once(request: Request): Promise<void> {
	const res = await deps.app.request(request, undefined, {
		remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" },
	});
	if (res.status !== 200) throw new Error(`${request.url}: status ${res.status} ${await res.text()}`);
	await res.arrayBuffer();
}

for (const path of paths) {
	if (only && !only.includes(path.key)) continue;
	for (let i = 0; i < 50; i++) await once(path.request(i)); // warm-up
	seen.clear();
	recording = true;
	const t0 = performance.now();
	for (let i = 0; i < count; i++) await once(path.request(i));
	const ms = (performance.now() - t0) / count;
	recording = false;
	const statements = [...seen.values()];
	const calls = statements.reduce((n, s) => n + s.calls, 0) / count;
	const dbMs = statements.reduce((n, s) => n + s.ms, 0) / count;
	const distinct = seen.size;
	console.log(
		`${path.name}: ${ms.toFixed(2)} ms a request; ${calls.toFixed(1)} statements (${distinct} distinct texts), ` +
			`${dbMs.toFixed(2)} ms in the driver`,
	);
	if (printSql) {
		for (const [text, s] of [...seen].sort((a, b) => b[1].ms - a[1].ms)) {
			console.log(`  ${(s.calls / count).toFixed(2)}× ${(s.ms / s.calls * 1000).toFixed(0)} µs  ${text.slice(0, 160)}`);
		}
	}
}
