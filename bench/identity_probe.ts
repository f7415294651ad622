// deno-lint-ignore-file no-console
/**
 * What the identity middleware costs a signed-in request, in process: a no-op route behind
 * routes/middleware/identity.ts (who is asking, their CSRF token), against the same route behind
 * nothing (the LDAP-attribute-header plugin), for a user from the identity header alone and for one whose directory groups come with
 * each request (AUTHORIZE_MEMBEROF, as behind an LDAP-backed proxy). Sequential requests through
 * `app.request`, so the figure is the middleware's own time, without HTTP or other load.
 *
 * Usage: deno run -A bench/identity_probe.ts [requests per case, default 3000]
 */
import { Hono } from "hono";
import type { AppEnv } from "../routes/context.ts";
import { identity } from "../routes/middleware/identity.ts";
import { createTestDeps } from "../tests/_helpers/deps.ts";
import { addGroup, addMember, addUser } from "../tests/_helpers/world.ts";

const count = Number(Deno.args[0] ?? 3000);
await using deps = await createTestDeps({ settings: { AUTH_PLUGIN: "plugins/auth_ldap" } });
const science = await addGroup(deps.db, "science", { directoryName: "CN=Data Science,OU=Teams,DC=example,DC=com" });
await addGroup(deps.db, "ops", { directoryName: "CN=Ops,OU=Teams,DC=example,DC=com" });
const alice = await addUser(deps.db, "alice");
await addMember(deps.db, alice.id, science.id);

function appOf(withIdentity: boolean): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.use(async (c, next) => {
		c.set("remoteAddress", "127.0.0.1");
		await next();
	});
	if (withIdentity) app.use(identity(deps));
	app.get("/noop", (c) => c.text("ok"));
	return app;
}

async function microsPerRequest(app: Hono<AppEnv>, headers: Record<string, string>): Promise<number> {
	const once = async () => {
		const res = await app.request("/noop", { headers });
		if (res.status !== 200) throw new Error(`status ${res.status}`);
		await res.text();
	};
	for (let i = 0; i < 200; i++) await once(); // warm-up (and the first sign-in's writes)
	const start = performance.now();
	for (let i = 0; i < count; i++) await once();
	return (performance.now() - start) * 1000 / count;
}

const bare = appOf(false);
const guarded = appOf(true);
const cases = {
	"identity header": { REMOTE_USER: "alice" },
	"identity header + directory groups": {
		REMOTE_USER: "alice",
		AUTHORIZE_MEMBEROF: "CN=Data Science,OU=Teams,DC=example,DC=com;CN=Ops,OU=Teams,DC=example,DC=com",
	},
};
const floor = await microsPerRequest(bare, {});
console.log(`no-op route behind nothing: ${floor.toFixed(1)} µs a request`);
for (const [name, headers] of Object.entries(cases)) {
	const total = await microsPerRequest(guarded, headers);
	console.log(`${name}: ${total.toFixed(1)} µs a request, identity ${(total - floor).toFixed(1)} µs`);
}
