// deno-lint-ignore-file no-console
/**
 * What the page cache (lib/views/page_cache.ts) saves a request, in process: the whole app
 * (every middleware) answering the dashboard (20 instances) and the team view (2,000 instances,
 * a manager) from cached bytes, against the same requests rendered anew (the cache cleared before
 * each). Sequential requests through `app.request`, so the figures are the portal's own time per
 * request, without HTTP or other load.
 *
 * Usage: deno run -A bench/page_cache_probe.ts [requests per case, default 1000]
 */
import { pageCacheOf } from "../lib/views/page_cache.ts";
import { insertInstance } from "../lib/db/instances.ts";
import { createTestDeps } from "../tests/_helpers/deps.ts";
import { seedWorld } from "../tests/_helpers/world.ts";

const count = Number(Deno.args[0] ?? 1000);
await using deps = await createTestDeps({ settings: { USER_REFRESH_SECONDS: 3600 } });
const world = await seedWorld(deps.db);
const startedAt = new Date(deps.clock().getTime() - 3_600_000);
for (let i = 0; i < 2000; i++) {
	const owner = i < 20 ? world.alice : [world.bob, world.olga][i % 2]!;
	await insertInstance(deps.db, {
		id: `i-${String(i).padStart(17, "0")}`,
		ownerId: owner.id,
		groupId: owner === world.olga ? world.ops.id : world.science.id,
		instanceType: "m4.large",
		state: i % 3 ? "running" : "stopped",
		startedAt,
		configId: world.config.id,
	});
}

async function microsPerRequest(path: string, user: string, cached: boolean): Promise<number> {
	const once = async () => {
		if (!cached) pageCacheOf(deps).clear();
		const res = await deps.app.request(path, { headers: { REMOTE_USER: user } }, {
			remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" },
		});
		if (res.status !== 200) throw new Error(`${path}: status ${res.status}`);
		await res.arrayBuffer();
	};
	for (let i = 0; i < 50; i++) await once();
	const start = performance.now();
	for (let i = 0; i < count; i++) await once();
	return (performance.now() - start) * 1000 / count;
}

for (const [name, path, user] of [["dashboard", "/", "alice"], ["team view", "/team", "mia"]] as const) {
	const fresh = await microsPerRequest(path, user, false);
	const cached = await microsPerRequest(path, user, true);
	console.log(
		`${name}: rendered ${fresh.toFixed(0)} µs, cached ${cached.toFixed(0)} µs a request (${
			(fresh / cached).toFixed(1)
		}×)`,
	);
}
await deps.background.idle();
