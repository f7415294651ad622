import assert from "node:assert/strict";
import { ConfigError } from "../lib/errors.ts";
import { thrown } from "./_helpers/assert.ts";
import { VOLUME_TYPES } from "../lib/catalog/schemas.ts";
import { volumeRate } from "../lib/billing/rates.ts";
import { addressInRanges, parseCidr } from "../lib/net.ts";
import { loadSettings, redactedSettings, resolveSettings } from "../lib/settings.ts";

Deno.test("resolveSettings() gives the documented defaults", () => {
	const s = resolveSettings();
	assert.equal(s.HOST, "127.0.0.1");
	assert.equal(s.PORT, 8080);
	assert.equal(s.DATABASE_URL, "file:./data/mliy.db");
	assert.equal(s.AUTH_PLUGIN, "plugins/auth_header");
	assert.equal(s.DNS_PLUGIN, "plugins/dns_none");
	assert.deepEqual(s.REPLACEMENT_TOKENS, []);
	assert.equal(s.LOG_LOCATION, "./logs");
	assert.equal(s.WEB_LOG_LEVEL, "INFO");
	assert.equal(s.LAUNCH_LOG_LEVEL, "INFO");
	assert.deepEqual(s.TRUSTED_PROXIES.map((range) => range.text), ["127.0.0.1", "::1"]);
	assert.equal(s.AWS_DISCOUNT, 0);
	assert.equal(s.DEFAULT_CHARGE_CODE, "CHANGEME");
});

Deno.test("resolveSettings() applies MLIY_ environment overrides over the file", () => {
	const s = resolveSettings({
		file: { PORT: 9000, LOG_LOCATION: "/var/log/mliy", REPLACEMENT_TOKENS: [["A", "1"]] },
		env: {
			MLIY_PORT: "9100",
			MLIY_ADMIN_USERNAMES: "alice, bob",
			MLIY_REPLACEMENT_TOKENS: '[["LDAP_HOST","ldap.example.com"]]',
			MLIY_LAUNCH_LOG_LEVEL: "warn",
			MLIY_TRUSTED_PROXIES: "10.0.0.0/8,::1",
			UNRELATED: "ignored",
		},
	});
	assert.equal(s.PORT, 9100);
	assert.equal(s.LOG_LOCATION, "/var/log/mliy");
	assert.deepEqual(s.ADMIN_USERNAMES, ["alice", "bob"]);
	assert.deepEqual(resolveSettings({ env: { MLIY_ADMIN_USERNAMES: "Alice,BOB" } }).ADMIN_USERNAMES, ["alice", "bob"]);
	assert.deepEqual(s.REPLACEMENT_TOKENS, [["LDAP_HOST", "ldap.example.com"]]);
	assert.equal(s.LAUNCH_LOG_LEVEL, "WARNING");
	assert.deepEqual(s.TRUSTED_PROXIES.map((range) => range.text), ["10.0.0.0/8", "::1"]);
});

Deno.test("resolveSettings() names every bad setting and what is wrong with it", () => {
	const error = thrown(
		() =>
			resolveSettings({
				env: {
					MLIY_PORT: "eighty",
					MLIY_DATABASE_URL: "postgres://db",
					MLIY_TRUSTED_PROXIES: "10.0.0.0/33",
					MLIY_AWS_DISCOUNT: "1.5",
					MLIY_TIME_ZONE: "Mars/Olympus",
					MLIY_WEB_LOG_LEVEL: "LOUD",
				},
			}),
	);
	assert.ok(error instanceof ConfigError);
	for (const name of ["PORT", "DATABASE_URL", "TRUSTED_PROXIES", "AWS_DISCOUNT", "TIME_ZONE", "WEB_LOG_LEVEL"]) {
		assert.match(error.message, new RegExp(`"${name}"`), `message names ${name}: ${error.message}`);
	}
	assert.match(error.message, /"10\.0\.0\.0\/33" is not an IP address or CIDR range/);
	assert.match(error.message, /current value is "eighty"/);
});

Deno.test("resolveSettings() takes only http(s) URLs for PUBLIC_URL and AWS_ENDPOINT_URL", () => {
	for (const key of ["PUBLIC_URL", "AWS_ENDPOINT_URL"]) {
		for (const bad of ["portal.example.com:8080", "ftp://portal.example.com", "javascript:alert(1)"]) {
			assert.throws(
				() => resolveSettings({ env: { [`MLIY_${key}`]: bad } }),
				new RegExp(`"${key}" must be an absolute http\\(s\\) URL`),
				`${key}=${bad}`,
			);
		}
		for (const good of ["https://portal.example.com", "http://10.0.0.5:8080", "http://localhost:5000"]) {
			assert.equal(resolveSettings({ env: { [`MLIY_${key}`]: good } })[key as "PUBLIC_URL"], good);
		}
	}
});

Deno.test("resolveSettings() says what is wrong with a number in the settings' own words", () => {
	const error = thrown(() =>
		resolveSettings({
			env: {
				MLIY_USER_REFRESH_SECONDS: "99999",
				MLIY_PORT: "-1",
				MLIY_AWS_MAX_ATTEMPTS: "1.5",
				MLIY_AWS_TIMEOUT_SECONDS: "0.5",
				MLIY_HOST: " ",
				MLIY_PLUGIN_SETTINGS: "[1]",
				MLIY_EBS_PRICE_PER_GB_MONTH: '{"gp3": "cheap"}',
				MLIY_AWS_DISCOUNT: "-0.1",
			},
		})
	);
	for (
		const expected of [
			'"USER_REFRESH_SECONDS" must be at most 3600',
			'"PORT" must be at least 0',
			'"AWS_MAX_ATTEMPTS" must be a whole number',
			'"AWS_TIMEOUT_SECONDS" must be at least 1',
			'"HOST" must not be empty',
			'"PLUGIN_SETTINGS" must be a JSON object of names to text',
			'"EBS_PRICE_PER_GB_MONTH" must map volume types to numbers',
			'"AWS_DISCOUNT" must be at least 0',
		]
	) {
		assert.ok(error.message.includes(expected), `${expected} in ${error.message}`);
	}
	assert.doesNotMatch(error.message, /Too big|Too small|Invalid input|expected/);
});

Deno.test("resolveSettings() reads EBS price overrides for every region or per region, and refuses a bad one", () => {
	const s = resolveSettings({ env: { MLIY_EBS_PRICE_PER_GB_MONTH: '{"gp3": 0.09, "eu-west-1": {"gp2": 0.2}}' } });
	assert.deepEqual(s.EBS_PRICE_PER_GB_MONTH, { gp3: 0.09, "eu-west-1": { gp2: 0.2 } });
	assert.equal(resolveSettings().EBS_PRICE_PER_GB_MONTH, undefined, "none by default: the region's table applies");
	const at = new Date("2026-02-10T00:00:00Z");
	assert.ok(volumeRate(resolveSettings(), { volumeType: "gp2", sizeGb: 100 }, at).rate.known, "gp2 has a table price");
	for (const type of VOLUME_TYPES) {
		assert.ok(volumeRate(resolveSettings(), { volumeType: type, sizeGb: 1 }, at).rate.known, `${type} is priced`);
	}
	assert.throws(
		() => resolveSettings({ env: { MLIY_EBS_PRICE_PER_GB_MONTH: '{"gp3x": {"gp3": 0.1}}' } }),
		/"gp3x" is not a region like eu-west-1 \(only regions take objects\)/,
	);
	assert.throws(
		() => resolveSettings({ env: { MLIY_EBS_PRICE_PER_GB_MONTH: '{"eu-west-1": {"gp3": -1}}' } }),
		/EBS_PRICE_PER_GB_MONTH/,
	);
});

Deno.test("resolveSettings() requires LAUNCH_AVAILABILITY_ZONE to be a zone of AWS_REGION", () => {
	assert.throws(
		() => resolveSettings({ env: { MLIY_AWS_REGION: "eu-west-1", MLIY_LAUNCH_AVAILABILITY_ZONE: "us-east-1a" } }),
		/"LAUNCH_AVAILABILITY_ZONE" must be a zone of AWS_REGION "eu-west-1", like eu-west-1a/,
	);
	assert.throws(
		() => resolveSettings({ env: { MLIY_LAUNCH_AVAILABILITY_ZONE: "us-east-2a" } }),
		/AWS_REGION "us-east-1"/,
	);
	const s = resolveSettings({ env: { MLIY_AWS_REGION: "eu-west-1", MLIY_LAUNCH_AVAILABILITY_ZONE: "eu-west-1b" } });
	assert.equal(s.LAUNCH_AVAILABILITY_ZONE, "eu-west-1b");
});

Deno.test("resolveSettings() takes only sync intervals that divide an hour", () => {
	assert.throws(
		() => resolveSettings({ env: { MLIY_SYNC_INTERVAL_MINUTES: "7" } }),
		/"SYNC_INTERVAL_MINUTES" must divide an hour evenly: one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30/,
	);
	assert.throws(() => resolveSettings({ env: { MLIY_SYNC_INTERVAL_MINUTES: "45" } }), /must be at most 30/);
	for (const n of [1, 15, 30]) {
		assert.equal(resolveSettings({ env: { MLIY_SYNC_INTERVAL_MINUTES: String(n) } }).SYNC_INTERVAL_MINUTES, n);
	}
});

Deno.test("resolveSettings() parses address lists once, and the startup line shows them as written", () => {
	const s = resolveSettings({ env: { MLIY_TRUSTED_PROXIES: "10.0.0.0/8, ::1", MLIY_METRICS_ALLOWED_ADDRESSES: "" } });
	assert.deepEqual(s.TRUSTED_PROXIES, [parseCidr("10.0.0.0/8"), parseCidr("::1")]);
	assert.ok(s.TRUSTED_PROXIES[0]!.bytes instanceof Uint8Array, "held parsed, not re-parsed per request");
	assert.deepEqual(s.METRICS_ALLOWED_ADDRESSES, []);
	assert.ok(addressInRanges("10.9.8.7", s.TRUSTED_PROXIES));
	assert.deepEqual(redactedSettings(s).TRUSTED_PROXIES, ["10.0.0.0/8", "::1"]);
	assert.deepEqual(redactedSettings(resolveSettings()).METRICS_ALLOWED_ADDRESSES, ["127.0.0.1", "::1"]);
});

Deno.test("resolveSettings() refuses unknown keys in the file and in MLIY_ variables", () => {
	assert.throws(
		() => resolveSettings({ file: { PROT: 80 }, fileName: "settings.json" }),
		/"PROT" in settings.json is not a known setting/,
	);
	assert.throws(() => resolveSettings({ env: { MLIY_DEBUGG: "1" } }), /"MLIY_DEBUGG" is not a known setting/);
	assert.throws(() => resolveSettings({ file: [1, 2] }), /must hold a JSON object/);
});

Deno.test("resolveSettings() never echoes a secret's value in an error", () => {
	const error = thrown(() => resolveSettings({ env: { MLIY_METRICS_TOKEN: "short" } }));
	assert.match(error.message, /"METRICS_TOKEN"/);
	assert.doesNotMatch(error.message, /short/);
});

Deno.test("resolveSettings() never echoes plugin settings, replacement values or URL credentials in an error", () => {
	const error = thrown(() =>
		resolveSettings({
			env: {
				MLIY_PLUGIN_SETTINGS: '{"LDAP_PASSWORD": ["hunter2"]}',
				MLIY_REPLACEMENT_TOKENS: '[["DB_PASSWORD", "s3cr3t-replacement"], "oops"]',
				MLIY_DATABASE_URL: "postgres://admin:db-password@db.example.com/mliy?authToken=db-token",
			},
		})
	);
	assert.ok(error instanceof ConfigError);
	for (const name of ["PLUGIN_SETTINGS", "REPLACEMENT_TOKENS", "DATABASE_URL"]) {
		assert.match(error.message, new RegExp(`"${name}"`), `message names ${name}: ${error.message}`);
	}
	assert.doesNotMatch(error.message, /hunter2|s3cr3t-replacement|db-password|db-token/);
	assert.match(error.message, /current value is "postgres:\/\/\[redacted\]@db\.example\.com\/mliy\?\[redacted\]"/);
	const unparsable = thrown(() =>
		resolveSettings({
			env: { MLIY_PLUGIN_SETTINGS: '{"LDAP_PASSWORD": "hunter2"', MLIY_REPLACEMENT_TOKENS: "hunter3" },
		})
	);
	assert.match(unparsable.message, /"PLUGIN_SETTINGS"/);
	assert.doesNotMatch(unparsable.message, /hunter2|hunter3/);
});

Deno.test("loadSettings() does not quote the settings file around a JSON mistake", async () => {
	const dir = await Deno.makeTempDir();
	try {
		await Deno.writeTextFile(`${dir}/s.json`, '{"PORT": 8080, "METRICS_TOKEN": abcdefghijklmnop-secret}');
		const error = await loadSettings({ MLIY_SETTINGS_FILE: `${dir}/s.json` }).then(() => undefined, (e) => e);
		assert.ok(error instanceof ConfigError);
		assert.match(error.message, /is not valid JSON/);
		assert.doesNotMatch(error.message, /abcdefg|secret/);
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("loadSettings() reads MLIY_SETTINGS_FILE and fails clearly when it is missing or not JSON", async () => {
	const dir = await Deno.makeTempDir();
	try {
		await Deno.writeTextFile(`${dir}/s.json`, JSON.stringify({ PORT: 7777, DEFAULT_CHARGE_CODE: "CC-1" }));
		const s = await loadSettings({ MLIY_SETTINGS_FILE: `${dir}/s.json` });
		assert.equal(s.PORT, 7777);
		assert.equal(s.DEFAULT_CHARGE_CODE, "CC-1");
		await assert.rejects(loadSettings({ MLIY_SETTINGS_FILE: `${dir}/missing.json` }), /cannot read/);
		await Deno.writeTextFile(`${dir}/bad.json`, "{ PORT: 1 ");
		await assert.rejects(loadSettings({ MLIY_SETTINGS_FILE: `${dir}/bad.json` }), /is not valid JSON/);
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("redactedSettings() hides secrets and replacement values", () => {
	const s = resolveSettings({
		env: { MLIY_METRICS_TOKEN: "0123456789abcdef-secret", MLIY_REPLACEMENT_TOKENS: '[["PASSWORD","hunter2"]]' },
	});
	const shown = JSON.stringify(redactedSettings(s));
	assert.doesNotMatch(shown, /hunter2|0123456789abcdef-secret/);
	assert.match(shown, /PASSWORD/);
});

Deno.test("redactedSettings() strips credentials and the query string from the database URL", () => {
	const s = resolveSettings({
		env: { MLIY_DATABASE_URL: "libsql://portal:db-password@db.example.com:8080/mliy?authToken=db-token&tls=1" },
	});
	const shown = redactedSettings(s);
	assert.equal(shown.DATABASE_URL, "libsql://[redacted]@db.example.com:8080/mliy?[redacted]");
	assert.equal(
		redactedSettings(resolveSettings()).DATABASE_URL,
		"file:./data/mliy.db",
		"a plain file URL is shown as is",
	);
});

/** Runs main.ts with `env` until it exits; what it printed. */
async function runMain(env: Record<string, string>): Promise<{ code: number; output: string }> {
	const logs = await Deno.makeTempDir({ prefix: "mliy-settings-" });
	try {
		const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
			args: ["run", "-A", "--unstable-cron", new URL("../main.ts", import.meta.url).pathname],
			cwd: new URL("../", import.meta.url).pathname,
			env: { MLIY_RUN_JOBS: "false", MLIY_PORT: "0", MLIY_LOG_LOCATION: logs, ...env },
			stdout: "piped",
			stderr: "piped",
		}).output();
		const decoder = new TextDecoder();
		return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
	} finally {
		await Deno.remove(logs, { recursive: true });
	}
}

Deno.test("main.ts prints neither a malformed plugin setting nor database credentials when it cannot start", async () => {
	const bad = await runMain({
		MLIY_PLUGIN_SETTINGS: '{"LDAP_PASSWORD": "hunter2"',
		MLIY_REPLACEMENT_TOKENS: '[["DB_PASSWORD", "s3cr3t-replacement"]',
	});
	assert.equal(bad.code, 1);
	assert.match(bad.output, /MLiy cannot start: .*"PLUGIN_SETTINGS".*"REPLACEMENT_TOKENS"/);
	assert.doesNotMatch(bad.output, /hunter2|s3cr3t-replacement/);

	// Port 1 is refused: the startup line is written, then opening the database fails.
	const remote = await runMain({ MLIY_DATABASE_URL: "libsql://portal:db-password@127.0.0.1:1?authToken=db-token" });
	assert.equal(remote.code, 1);
	assert.match(remote.output, /starting MLiy with settings/);
	assert.match(remote.output, /libsql:\/\/\[redacted\]@127\.0\.0\.1:1\?\[redacted\]/);
	assert.doesNotMatch(remote.output, /db-password|db-token/);
});

Deno.test("addressInRanges() matches IPv4, IPv6, CIDRs and IPv4-mapped addresses", () => {
	const ranges = (...texts: string[]) => texts.map((text) => parseCidr(text)!);
	assert.ok(addressInRanges("10.1.2.3", ranges("10.0.0.0/8")));
	assert.ok(!addressInRanges("11.1.2.3", ranges("10.0.0.0/8")));
	assert.ok(addressInRanges("::1", ranges("::1")));
	assert.ok(addressInRanges("::ffff:127.0.0.1", ranges("127.0.0.1")));
	assert.ok(addressInRanges("fd00::5", ranges("fd00::/8")));
	assert.ok(!addressInRanges("fe80::1", ranges("fd00::/8")));
	assert.ok(!addressInRanges("not-an-ip", ranges("0.0.0.0/0")));
	assert.ok(!addressInRanges(undefined, ranges("0.0.0.0/0")));
});
