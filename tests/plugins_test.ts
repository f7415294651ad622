import assert from "node:assert/strict";
import { AUTH_DEFAULTS, type AuthPlugin, DNS_DEFAULTS, type DnsPlugin } from "../lib/plugins/contract.ts";
import { loadPluginFolder, loadPlugins } from "../lib/plugins/loader.ts";
import { SHIPPED_PLUGINS } from "../plugins/mod.ts";
import { PluginError } from "../lib/errors.ts";
import { getLoggers } from "../lib/log.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { rejection } from "./_helpers/assert.ts";

const context = (
	hostname = "127.0.0.1",
	settings: Record<string, string> = {},
	proxy = { secretRequired: false, withoutSecretAccepted: false },
) => ({
	settings,
	aws: fakeAws(),
	log: getLoggers().web,
	listen: { hostname, port: 8080 },
	proxy,
	secretParam: () => Promise.resolve(undefined),
});

async function withFolder(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
	const dir = await Deno.makeTempDir({ prefix: "mliy-plugins-" });
	try {
		for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
		await fn(dir);
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
}

Deno.test("loadPluginFolder() finds functions by name in a folder outside the project and defaults the rest", async () => {
	await withFolder({
		"sso.ts": 'export function getAuthHeader() { return "X-Sso-User"; }\nexport const helper = 1;',
		"names.js": "export function cleanAuthUsername(name) { return name.split('@')[0]; }",
		"plugin_settings.ts": 'export const DOMAIN = "example.com";',
		"README.md": "not a plugin",
	}, async (dir) => {
		const loaded = await loadPluginFolder<AuthPlugin>(dir, AUTH_DEFAULTS);
		assert.equal(loaded.embedded, false);
		assert.equal(loaded.functions.getAuthHeader(context()), "X-Sso-User");
		assert.equal(loaded.functions.cleanAuthUsername("ann@EXAMPLE.COM", context()), "ann");
		assert.equal(loaded.functions.processAuthUserGroups, AUTH_DEFAULTS.processAuthUserGroups);
		assert.equal(loaded.sources.getAuthHeader, `${dir}/sso.ts`);
		assert.equal(loaded.sources.cleanAuthUsername, `${dir}/names.js`);
		assert.equal(loaded.sources.configureAuthUser, "default");
	});
});

Deno.test("loadPluginFolder() refuses two files exporting the same function, naming both", async () => {
	await withFolder({
		"a_dns.ts": "export function createDnsEntry() {}",
		"b_dns.ts": "export function createDnsEntry() {}",
	}, async (dir) => {
		const error = await rejection(loadPluginFolder<DnsPlugin>(dir, DNS_DEFAULTS));
		assert.ok(error instanceof PluginError);
		assert.match(error.message, /"createDnsEntry" is exported by both .*a_dns\.ts and .*b_dns\.ts/);
	});
});

Deno.test("loadPluginFolder() refuses a contract name that is not a function", async () => {
	await withFolder({ "x.ts": 'export const dnsDisplayName = "oops";' }, async (dir) => {
		assert.match(
			(await rejection(loadPluginFolder<DnsPlugin>(dir, DNS_DEFAULTS))).message,
			/"dnsDisplayName" in .* is not a function/,
		);
	});
});

Deno.test("loadPluginFolder() names the file when a plugin cannot be imported", async () => {
	await withFolder({ "broken.ts": "export function getAuthHeader( {" }, async (dir) => {
		assert.match((await rejection(loadPluginFolder<AuthPlugin>(dir, AUTH_DEFAULTS))).message, /broken\.ts/);
	});
});

Deno.test("loadPluginFolder() uses the embedded shipped plugin when its folder is not on disk", async () => {
	const cwd = Deno.cwd();
	const empty = await Deno.makeTempDir();
	try {
		Deno.chdir(empty);
		const loaded = await loadPluginFolder<AuthPlugin>("plugins/auth_ldap", AUTH_DEFAULTS, { shipped: SHIPPED_PLUGINS });
		assert.equal(loaded.embedded, true);
		assert.equal(loaded.sources.processAuthUserGroups, "plugins/auth_ldap/ldap_auth.ts");
		await assert.rejects(
			loadPluginFolder<AuthPlugin>("plugins/nope", AUTH_DEFAULTS, { shipped: SHIPPED_PLUGINS }),
			/does not exist, and it is not a shipped plugin/,
		);
	} finally {
		Deno.chdir(cwd);
		await Deno.remove(empty, { recursive: true });
	}
});

Deno.test("loadPlugins() refuses the development auth plugin unless the portal listens on loopback", async () => {
	const ok = await loadPlugins({ auth: "plugins/auth_dev", dns: "plugins/dns_none" }, context("127.0.0.1"), {
		shipped: SHIPPED_PLUGINS,
	});
	assert.equal(ok.auth.functions.getAuthHeader(ok.context), "X-Dev-User");
	for (const host of ["0.0.0.0", "10.0.0.5", "::"]) {
		const error = await rejection(
			loadPlugins({ auth: "plugins/auth_dev", dns: "plugins/dns_none" }, context(host), { shipped: SHIPPED_PLUGINS }),
		);
		assert.match(error.message, /development auth plugin only runs on a loopback address/);
	}
});

Deno.test("loadPlugins() refuses the Route 53 plugin without a domain name", async () => {
	await assert.rejects(
		loadPlugins({ auth: "plugins/auth_header", dns: "plugins/dns_route53" }, context(), { shipped: SHIPPED_PLUGINS }),
		/needs DOMAIN_NAME/,
	);
	const ok = await loadPlugins(
		{ auth: "plugins/auth_header", dns: "plugins/dns_route53" },
		context("127.0.0.1", { DOMAIN_NAME: "mliy.example.com" }),
	);
	assert.equal(
		await ok.dns.functions.dnsDisplayName("i-0ABC123", "10.0.0.1", ok.context),
		"mliy-0abc123.mliy.example.com",
	);
});

Deno.test("the shipped auth plugins share the realm stripping, DN comparison and loopback check of the portal", async () => {
	for (const folder of ["plugins/auth_header", "plugins/auth_ldap"]) {
		const loaded = await loadPluginFolder<AuthPlugin>(folder, AUTH_DEFAULTS);
		assert.equal(loaded.embedded, false, "read from disk, where plugins/_shared.ts sits beside the folder");
		assert.match(loaded.sources.cleanAuthUsername, new RegExp(`^${folder}/\\w+_auth\\.ts$`));
		const realms = context("127.0.0.1", { REALMS: "EXAMPLE.COM, example" });
		for (const raw of ["EXAMPLE\\alice", "alice@EXAMPLE.COM", "alice@example.com", " alice "]) {
			assert.equal(loaded.functions.cleanAuthUsername(raw, realms), "alice", `${folder}: ${raw}`);
		}
		// Only the listed realms and domains: anyone else's keeps its suffix (another person, or refused).
		for (const raw of ["breakglass@PARTNER.REALM", "PARTNER\\breakglass", "breakglass@EXAMPLE.COM.PARTNER.REALM"]) {
			assert.equal(loaded.functions.cleanAuthUsername(raw, realms), raw, `${folder}: ${raw}`);
		}
		assert.equal(loaded.functions.cleanAuthUsername("alice@EXAMPLE.COM", context()), "alice@EXAMPLE.COM");
	}

	const ldap = await loadPluginFolder<AuthPlugin>("plugins/auth_ldap", AUTH_DEFAULTS, { shipped: SHIPPED_PLUGINS });
	const request = new Request("http://portal/", {
		headers: { AUTHORIZE_MEMBEROF: "CN=Portal Admins , OU=Groups,DC=example,DC=com;CN=Other,DC=example,DC=com" },
	});
	const ctx = { ...context("127.0.0.1", { LDAP_ADMIN_GROUP: "cn=portal admins,ou=groups,dc=example,dc=com" }) };
	const user = { username: "alice", firstName: "", lastName: "", email: "" };
	assert.equal(ldap.functions.processAuthUserInfo(user, request, { ...ctx, remoteAddress: "10.0.0.1" })?.role, "admin");

	const dev = await loadPluginFolder<AuthPlugin>("plugins/auth_dev", AUTH_DEFAULTS);
	const anonymous = (remoteAddress: string) =>
		dev.functions.anonymousAuthUser(new Request("http://portal/"), { ...context(), remoteAddress });
	const refusal = (remoteAddress: string) =>
		dev.functions.refuseAuthRequest(new Request("http://portal/"), { ...context(), remoteAddress });
	for (const address of ["127.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"]) {
		assert.equal(anonymous(address), "developer", address);
		assert.equal(refusal(address), undefined, address);
	}
	// 127.0.0.1 and ::1 only: other loopback addresses can belong to other software on the machine.
	for (
		const address of ["127.8.9.10", "127.0.0.2", "10.0.0.1", "::ffff:10.0.0.1", "fe80::1", "localhost.example.com", ""]
	) {
		assert.equal(anonymous(address), undefined, address);
		assert.match(refusal(address)!, /answers only 127\.0\.0\.1 and ::1/, address);
	}
	dev.functions.checkAuthStartup(context("LOCALHOST"));
});

Deno.test("the LDAP plugin refuses to start with an admin or manager group unless the proxy secret is set or the risk accepted", async () => {
	const folders = { auth: "plugins/auth_ldap", dns: "plugins/dns_none" };
	for (const name of ["LDAP_ADMIN_GROUP", "LDAP_MANAGER_GROUP"]) {
		const settings = { [name]: "CN=Portal Admins,OU=Groups,DC=example,DC=com" };
		const error = await rejection(loadPlugins(folders, context("127.0.0.1", settings), { shipped: SHIPPED_PLUGINS }));
		assert.match(error.message, new RegExp(`${name} grant portal roles from the AUTHORIZE_MEMBEROF header`));
		assert.match(error.message, /set PROXY_SECRET .* or set PROXY_SECRET_WAIVED=true/);
		for (
			const proxy of [{ secretRequired: true, withoutSecretAccepted: false }, {
				secretRequired: false,
				withoutSecretAccepted: true,
			}]
		) {
			await loadPlugins(folders, context("127.0.0.1", settings, proxy), { shipped: SHIPPED_PLUGINS });
		}
	}
	// Without role groups it grants nothing from headers beyond memberships, and starts as before.
	await loadPlugins(folders, context(), { shipped: SHIPPED_PLUGINS });
});
