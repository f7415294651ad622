/**
 * Identity only from the proxy. The nginx block of docs/operations.md runs, as written, in a real
 * nginx in front of the portal (with a stand-in authentication service), and a client tries to
 * smuggle identity headers through it; the portal records what reached it. Then the proxy secret,
 * the development plugin and realms, in-process.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { memberships, users } from "../lib/db/schema.ts";
import { resolveSettings } from "../lib/settings.ts";
import { freePort, onPath } from "../scripts/local_servers.ts";
import { createDeps } from "../compose.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addGroup } from "./_helpers/world.ts";

const SECRET = "proxy-secret-0123456789abcdef0123456789";
const ADMINS = "CN=Portal Admins,OU=Groups,DC=example,DC=com";
const SCIENCE = "CN=Data Science,OU=Teams,DC=example,DC=com";
const IDENTITY_HEADERS = [
	"REMOTE_USER",
	"AUTHENTICATE_GIVENNAME",
	"AUTHENTICATE_SN",
	"AUTHENTICATE_MAIL",
	"AUTHORIZE_MEMBEROF",
];

const nginx = await onPath("nginx") ??
	await Deno.stat("/usr/sbin/nginx").then(() => "/usr/sbin/nginx", () => undefined);
if (!nginx) {
	if (Deno.env.get("CI")) throw new Error("nginx is required in CI for the proxy test (apt-get install nginx)");
	// deno-lint-ignore no-console
	console.warn("\n*** nginx is not installed: SKIPPING the documented-proxy test (apt-get install nginx) ***\n");
}

/** The documented nginx server block, pointed at the test's portal and authentication service. */
async function documentedNginx(values: { port: number; portal: string; auth: string }): Promise<string> {
	const doc = await Deno.readTextFile(new URL("../docs/operations.md", import.meta.url));
	const blocks = [...doc.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]!);
	assert.equal(blocks.length, 1, "docs/operations.md has one nginx example");
	let block = blocks[0]!;
	assert.doesNotMatch(
		block,
		/underscores_in_headers\s+on/,
		"the example never lets client headers with underscores in",
	);
	const replace = (from: string | RegExp, to: string) => {
		assert.match(block, typeof from === "string" ? new RegExp(RegExp.escape(from)) : from, `the example has ${from}`);
		block = block.replaceAll(from, to);
	};
	replace("listen 443 ssl http2;", `listen 127.0.0.1:${values.port};`);
	replace(/^\s*ssl_certificate(_key)?\s.*$/gm, "");
	replace("http://127.0.0.1:8080", values.portal);
	replace("http://127.0.0.1:9000", values.auth);
	replace("change-me-to-the-PROXY_SECRET", SECRET);
	return block;
}

Deno.test({
	name: "the documented nginx setup: client-sent identity headers never reach the portal, the proxy's always do",
	ignore: !nginx,
	sanitizeResources: false,
	sanitizeOps: false,
	async fn() {
		await using deps = await createTestDeps({
			settings: {
				AUTH_PLUGIN: "plugins/auth_ldap",
				PLUGIN_SETTINGS: { LDAP_ADMIN_GROUP: ADMINS },
				PROXY_SECRET: SECRET,
				TRUSTED_PROXIES: ["127.0.0.1"],
			},
		});
		const science = await addGroup(deps.db, "science", { directoryName: SCIENCE });
		// What reached the portal, per path.
		const reached: { path: string; headers: Headers }[] = [];
		const portal = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => {
			reached.push({ path: new URL(req.url).pathname, headers: new Headers(req.headers) });
			return deps.app.fetch(req, info);
		});
		// The authentication service: who the test's "login" header says, with the directory's groups.
		const directory: Record<string, string> = { alice: SCIENCE, carol: `${SCIENCE};${ADMINS}` };
		const auth = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
			const who = req.headers.get("X-Test-Login") ?? "";
			if (!Object.hasOwn(directory, who)) return new Response(null, { status: 401 });
			return new Response(null, {
				status: 200,
				headers: {
					"X-Auth-User": who,
					"X-Auth-Givenname": who[0]!.toUpperCase() + who.slice(1),
					"X-Auth-Mail": `${who}@example.com`,
					"X-Auth-Memberof": directory[who]!,
				},
			});
		});
		const dir = await Deno.makeTempDir({ prefix: "mliy-nginx-" });
		const port = freePort();
		const server = await documentedNginx({
			port,
			portal: `http://127.0.0.1:${portal.addr.port}`,
			auth: `http://127.0.0.1:${auth.addr.port}`,
		});
		await Deno.writeTextFile(
			`${dir}/nginx.conf`,
			[
				"daemon off;",
				`pid ${dir}/nginx.pid;`,
				`error_log ${dir}/error.log;`,
				"events { worker_connections 64; }",
				"http {",
				"access_log off;",
				...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${dir}/${t};`),
				server,
				"}",
			].join("\n"),
		);
		const child = new Deno.Command(nginx!, {
			args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
			stdout: "null",
			stderr: "piped",
		}).spawn();
		const stderr = new Response(child.stderr).text();
		const base = `http://127.0.0.1:${port}`;
		try {
			await waitForPort(port, child);
			const forged = {
				REMOTE_USER: "ada",
				AUTHENTICATE_GIVENNAME: "Forged",
				AUTHENTICATE_SN: "Forged",
				AUTHENTICATE_MAIL: "forged@attacker.example",
				AUTHORIZE_MEMBEROF: ADMINS,
				"X-MLiy-Proxy-Secret": "a guess at the secret",
				"X-Forwarded-For": "10.66.66.66",
				"X-Request-Id": "forged-request-id",
			};
			const send = async (path: string, headers: Record<string, string>) => {
				const res = await fetch(`${base}${path}`, { headers });
				const text = await res.text();
				return { status: res.status, text, seen: reached.at(-1)! };
			};

			// alice signs in through the proxy and sends every identity header herself as well.
			reached.length = 0;
			const home = await send("/profile", { ...forged, "X-Test-Login": "alice" });
			assert.equal(home.status, 200);
			assert.equal(home.seen.path, "/profile");
			assert.equal(home.seen.headers.get("REMOTE_USER"), "alice", "the proxy's user, not the client's");
			assert.equal(home.seen.headers.get("AUTHORIZE_MEMBEROF"), SCIENCE, "the directory's groups only");
			assert.equal(home.seen.headers.get("AUTHENTICATE_MAIL"), "alice@example.com");
			assert.equal(home.seen.headers.get("AUTHENTICATE_SN"), null, "what the directory did not say is removed");
			assert.equal(home.seen.headers.get("X-MLiy-Proxy-Secret"), SECRET);
			assert.equal(home.seen.headers.get("X-Forwarded-For"), "127.0.0.1", "the client's own chain is replaced");
			assert.match(home.seen.headers.get("X-Request-Id")!, /^[0-9a-f]{32}$/, "nginx's request id, not the client's");
			assert.equal((await send("/admin", { ...forged, "X-Test-Login": "alice" })).status, 403, "not an admin");
			const alice = (await deps.db.select().from(users).where(eq(users.username, "alice")))[0]!;
			assert.equal(alice.directoryRole, "user");
			assert.equal(alice.email, "alice@example.com");
			const groups = await deps.db.select().from(memberships).where(eq(memberships.userId, alice.id));
			assert.deepEqual(groups.map((m) => m.groupId), [science.id]);
			assert.equal((await deps.db.select().from(users).where(eq(users.username, "ada"))).length, 0);

			// The directory's admin is one, through the same configuration.
			assert.equal((await send("/admin", { "X-Test-Login": "carol" })).status, 200);

			// Without a sign-in the proxy answers itself; the forged headers reach nothing.
			reached.length = 0;
			assert.equal((await send("/", forged)).status, 401);
			assert.deepEqual(reached.map((r) => r.path), [], "the proxy refused it before the portal");

			// The unauthenticated locations pass no identity, whatever the client sent.
			for (const path of ["/ajax/progress/i-0123456789abcdef0/stage(5)", "/health"]) {
				reached.length = 0;
				await send(path, forged);
				assert.equal(reached.length, 1, path);
				for (const name of IDENTITY_HEADERS) assert.equal(reached[0]!.headers.get(name), null, `${path}: ${name}`);
				assert.equal(reached[0]!.headers.get("X-Forwarded-For"), "127.0.0.1", path);
			}
		} finally {
			child.kill("SIGTERM");
			await child.status;
			const log = await stderr;
			await portal.shutdown();
			await auth.shutdown();
			await Deno.remove(dir, { recursive: true });
			assert.doesNotMatch(log, /\[emerg\]/, log);
		}
	},
});

async function waitForPort(port: number, child: Deno.ChildProcess): Promise<void> {
	let exited = false;
	child.status.then(() => exited = true);
	for (let i = 0; i < 200; i++) {
		try {
			(await Deno.connect({ hostname: "127.0.0.1", port })).close();
			return;
		} catch {
			if (exited) throw new Error("nginx exited before listening");
			await new Promise((resolve) => setTimeout(resolve, 25));
		}
	}
	throw new Error("nginx did not listen within 5 s");
}

Deno.test("with PROXY_SECRET set, identity without the secret is refused, even from a trusted proxy", async () => {
	await using deps = await createTestDeps({
		settings: { PROXY_SECRET: SECRET, TRUSTED_PROXIES: ["10.0.0.0/24"], ADMIN_USERNAMES: ["ada"] },
	});
	const cases: [string, Record<string, string>, string, number][] = [
		["no secret", {}, "10.0.0.7", 401],
		["a wrong secret", { "X-MLiy-Proxy-Secret": SECRET.slice(0, -1) + "x" }, "10.0.0.7", 401],
		["a longer secret", { "X-MLiy-Proxy-Secret": `${SECRET}x` }, "10.0.0.7", 401],
		["the secret from an untrusted address", { "X-MLiy-Proxy-Secret": SECRET }, "192.168.0.9", 401],
		["the secret in another header", { "X-Proxy-Secret": SECRET }, "10.0.0.7", 401],
		["the secret from the proxy", { "X-MLiy-Proxy-Secret": SECRET }, "10.0.0.7", 200],
	];
	for (const [what, headers, from, status] of cases) {
		const res = await request(deps.app, "/admin", { user: "ada", from, headers });
		assert.equal(res.status, status, what);
		if (status === 401) assert.match(await res.text(), /did not come through the portal/, what);
		else await res.body?.cancel();
	}
	assert.deepEqual((await deps.db.select().from(users)).map((u) => u.username), ["ada"], "no user from a refusal");

	// The header's name is a setting too.
	await using renamed = await createTestDeps({
		settings: { PROXY_SECRET: SECRET, PROXY_SECRET_HEADER: "X-Front-Door" },
	});
	assert.equal(
		(await request(renamed.app, "/", { user: "bob", headers: { "X-MLiy-Proxy-Secret": SECRET } })).status,
		401,
	);
	assert.equal((await request(renamed.app, "/", { user: "bob", headers: { "X-Front-Door": SECRET } })).status, 200);
});

Deno.test("the development plugin answers only 127.0.0.1 and ::1, and with a proxy secret only through the proxy", async () => {
	await using dev = await createTestDeps({
		settings: { AUTH_PLUGIN: "plugins/auth_dev", TRUSTED_PROXIES: ["127.0.0.0/8", "10.0.0.0/8"] },
	});
	for (const from of ["127.0.0.1", "::1"]) assert.equal((await request(dev.app, "/", { from })).status, 200, from);
	for (const from of ["127.0.0.2", "127.1.2.3", "10.0.0.7"]) {
		assert.equal((await request(dev.app, "/", { from })).status, 401, from);
		// The X-Dev-User header too, even from an address TRUSTED_PROXIES lists.
		assert.equal((await request(dev.app, "/", { from, header: "X-Dev-User", user: "ada" })).status, 401, from);
	}
	await using guarded = await createTestDeps({ settings: { AUTH_PLUGIN: "plugins/auth_dev", PROXY_SECRET: SECRET } });
	assert.equal((await request(guarded.app, "/", { from: "127.0.0.1" })).status, 401);
	assert.equal(
		(await request(guarded.app, "/", { from: "127.0.0.1", headers: { "X-MLiy-Proxy-Secret": SECRET } })).status,
		200,
	);
});

Deno.test("the LDAP plugin with a manager group does not start without the proxy secret or the acknowledgement", async () => {
	const dir = await Deno.makeTempDir({ prefix: "mliy-ldap-start-" });
	const start = (more: Record<string, unknown>) =>
		createDeps(
			resolveSettings({
				file: {
					DATABASE_URL: `file:${dir}/test.db`,
					AUTH_PLUGIN: "plugins/auth_ldap",
					PLUGIN_SETTINGS: { LDAP_MANAGER_GROUP: ADMINS },
					...more,
				},
			}),
			{ aws: fakeAws() },
		);
	try {
		await assert.rejects(start({}), /LDAP_MANAGER_GROUP grant portal roles from the AUTHORIZE_MEMBEROF header/);
		for (const more of [{ PROXY_SECRET_WAIVED: true }, { PROXY_SECRET: SECRET }]) {
			await (await start(more)).close();
		}
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("X-Request-Id is taken only from the trusted proxy (with its secret when set); anyone else's is replaced", async () => {
	const id = async (app: Parameters<typeof request>[0], from: string, headers: Record<string, string>) => {
		const res = await request(app, "/health", { from, headers });
		await res.body?.cancel();
		return res.headers.get("X-Request-Id")!;
	};
	const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
	await using deps = await createTestDeps({ settings: { TRUSTED_PROXIES: ["10.0.0.1"] } });
	assert.equal(
		await id(deps.app, "10.0.0.1", { "X-Request-Id": "0123456789abcdef0123456789abcdef" }),
		"0123456789abcdef0123456789abcdef",
	);
	assert.match(await id(deps.app, "203.0.113.9", { "X-Request-Id": "planted-by-a-client" }), UUID);
	for (const malformed of ["two words", "x".repeat(129), 'quote"d', "semi;colon"]) {
		assert.match(await id(deps.app, "10.0.0.1", { "X-Request-Id": malformed }), UUID, malformed);
	}
	await using guarded = await createTestDeps({ settings: { PROXY_SECRET: SECRET } });
	assert.match(await id(guarded.app, "127.0.0.1", { "X-Request-Id": "no-secret" }), UUID);
	assert.equal(
		await id(guarded.app, "127.0.0.1", { "X-Request-Id": "with-secret", "X-MLiy-Proxy-Secret": SECRET }),
		"with-secret",
	);
});
