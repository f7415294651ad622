/**
 * Secrets: the progress token is stored only as a hash; the values substituted into user data
 * (which may hold credentials), the portal's own secret, its tokens, and the identity and session
 * headers requests carry never reach a log line or the console, even at DEBUG.
 */
import assert from "node:assert/strict";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { eq } from "drizzle-orm";
import { getInstance, instancesOfLaunch } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { params, softwareConfigs } from "../lib/db/schema.ts";
import { progressToken, sha256Hex } from "../lib/tokens.ts";
import { closeLogging, configureLogging } from "../lib/log.ts";
import { tick } from "./_helpers/tick.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { csrfFor, request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { startPortal } from "./_helpers/portal_process.ts";
import { seedWorld } from "./_helpers/world.ts";

/** Distinct values, so that finding one anywhere means it leaked. */
const SECRET = {
	replacementToken: "rt-Zq8v1LmK4pWx7Ns2",
	configParam: "cp-Hy3tR9eB6uJc0Vf5",
	globalParam: "gp-Qa5wE2sD8fG1hJ4k",
	metricsToken: "mt-Lp0oKi9uJy8hGt7f",
	databaseToken: "db-Xc6vBn3mMa1sSd4f",
	password: "pw-Rt5yUi8oPa2sDf6g",
	sessionCookie: "sc-Mn4bVc7xZl1kJh3g",
	proxySecret: "ps-Tg7yHn2uJm5iKo9lPq3wEr6t",
	memberOf: "CN=Quiet Team Wq2e,OU=Teams,DC=example,DC=com;CN=Other Er4t,OU=Teams,DC=example,DC=com",
};

/** The identity and session headers a proxy in front of the portal may pass along. */
const identityHeaders = {
	AUTHORIZE_MEMBEROF: SECRET.memberOf,
	Authorization: `Basic ${btoa(`alice:${SECRET.password}`)}`,
	Cookie: `session=${SECRET.sessionCookie}`,
	"X-MLiy-Proxy-Secret": SECRET.proxySecret,
};

async function readAll(dir: string): Promise<string> {
	let text = "";
	for await (const entry of Deno.readDir(dir)) {
		if (entry.isFile) text += await Deno.readTextFile(`${dir}/${entry.name}`);
	}
	return text;
}

function assertAbsent(haystack: string, needles: Record<string, string>, where: string) {
	for (const [name, value] of Object.entries(needles)) {
		assert.ok(value.length >= 8, `${name} is distinctive enough to search for`);
		assert.ok(!haystack.includes(value), `${name} appears in ${where}`);
	}
}

motoTest(
	"a launch at DEBUG: the progress token is stored hashed, and no secret it handles reaches the logs",
	async (moto) => {
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: {
				LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a"),
				AUTH_PLUGIN: "plugins/auth_ldap",
				REPLACEMENT_TOKENS: [["DB_PASSWORD", SECRET.replacementToken]],
				METRICS_TOKEN: SECRET.metricsToken,
			},
		});
		const logs = `${deps.dir}/logs`;
		await configureLogging({ LOG_LOCATION: logs, WEB_LOG_LEVEL: "DEBUG", LAUNCH_LOG_LEVEL: "DEBUG" }, {
			console: false,
		});
		const world = await seedWorld(deps.db);
		await deps.db.update(softwareConfigs).set({
			params: { DB_USER_PASSWORD: SECRET.configParam },
			userDataBody: [
				"#!/bin/bash",
				"export PORTAL_DB_PASSWORD='{{{DB_PASSWORD}}}'",
				"export USER_DB_PASSWORD='{{{DB_USER_PASSWORD}}}'",
				"export SHARED_KEY='{{{SHARED_KEY}}}'",
				"curl -H 'X-MLiy-Progress-Token: {{{PROGRESS_TOKEN}}}' '{{{PROGRESS_URL}}}/{{{LAUNCH_ID}}}/started(1)'",
			].join("\n"),
		}).where(eq(softwareConfigs.id, world.config.id));
		await deps.db.insert(params).values({ token: "SHARED_KEY", value: SECRET.globalParam });
		const as = { user: "alice", headers: identityHeaders };
		let launchId: string;
		let token: string;
		let userData: string;
		let csrf: string;
		try {
			// Launch through the form, submit, complete.
			const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
				...as,
				form: { intent: "launch", instanceType: "t2.micro" },
			});
			assert.equal(res.status, 303, await res.clone().text());
			launchId = res.headers.get("Location")!.split("/").pop()!;
			await deps.background.idle();
			await tick(deps);
			const launch = (await getLaunch(deps.db, launchId))!;
			assert.equal(launch.status, "complete", launch.reason ?? launch.step);
			const [instance] = await instancesOfLaunch(deps.db, launchId);
			token = await progressToken(deps.secret, launchId);

			// What went to AWS holds the secrets (so finding none in the logs means something).
			const cfn = new CloudFormationClient({
				endpoint: moto.url,
				region: "us-east-1",
				credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
			});
			const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: launch.stackId! }))).Stacks!;
			cfn.destroy();
			userData = stack!.Parameters!.find((p) => p.ParameterKey === "UserData")!.ParameterValue!;
			const script = new TextDecoder().decode(Uint8Array.from(atob(userData), (c) => c.charCodeAt(0)));
			for (const value of [SECRET.replacementToken, SECRET.configParam, SECRET.globalParam, token]) {
				assert.ok(script.includes(value), `the user data carries ${value.slice(0, 3)}…`);
			}

			// Progress calls with the token in the header; in the query (which proxies log) it is refused; a wrong token.
			const header = await request(deps.app, `/ajax/progress/${instance!.id}/installing(40)`, {
				from: "203.0.113.50",
				headers: { "X-MLiy-Progress-Token": token },
			});
			assert.equal(header.status, 200);
			const query = await request(
				deps.app,
				`/ajax/progress/${instance!.id}/configuring(60)?token=${encodeURIComponent(token)}`,
				{ from: "203.0.113.50" },
			);
			assert.equal(query.status, 403, "a token in the query string is not accepted");
			assert.equal(
				(await request(deps.app, `/ajax/progress/${instance!.id}/configuring(60)`, {
					from: "203.0.113.50",
					headers: { "X-MLiy-Progress-Token": token },
				})).status,
				200,
			);
			const wrong = await request(deps.app, `/ajax/progress/${instance!.id}/x(1)`, {
				from: "203.0.113.50",
				headers: { "X-MLiy-Progress-Token": `${token}x` },
			});
			assert.equal(wrong.status, 403);
			await deps.reports.flush();
			assert.equal((await getInstance(deps.db, instance!.id))!.progressPercent, 60);

			// Metrics with the token; pages and a state change with the identity headers.
			const metrics = await request(deps.app, "/metrics", {
				from: "203.0.113.9",
				headers: { Authorization: `Bearer ${SECRET.metricsToken}` },
			});
			assert.equal(metrics.status, 200);
			await metrics.body?.cancel();
			for (const path of ["/", "/team", "/billing", `/instances/${instance!.id}`]) {
				const page = await request(deps.app, path, as);
				assert.equal(page.status, 200, path);
				await page.body?.cancel();
			}
			csrf = await csrfFor(deps.app, as);
			const terminated = await request(deps.app, `/ajax/instance/${instance!.id}/terminate`, { ...as, form: {} });
			assert.equal(terminated.status, 200, await terminated.clone().text());
			await deps.background.idle();
		} finally {
			await closeLogging();
		}

		const logged = await readAll(logs);
		// The logs did record the flow (the check below is not vacuous).
		for (const expected of [/CreateStack ok/, /stack \S+ submitted/, /launch \S+ complete/, /terminate i-/]) {
			assert.match(logged, expected);
		}
		assertAbsent(logged, {
			...SECRET,
			progressToken: token,
			portalSecret: deps.secret,
			csrfToken: csrf,
			userData: userData.slice(0, 64),
			basicCredentials: identityHeaders.Authorization.slice("Basic ".length),
		}, "the logs");

		// The database keeps the token's hash, never the token.
		assert.equal((await getLaunch(deps.db, launchId))!.progressTokenHash, await sha256Hex(token));
		let stored = "";
		for (const file of ["test.db", "test.db-wal"]) {
			const bytes = await Deno.readFile(`${deps.dir}/${file}`).catch(() => new Uint8Array());
			stored += new TextDecoder("latin1").decode(bytes);
		}
		assert.ok(stored.includes(await sha256Hex(token)), "the hash is in the file (the search works)");
		assertAbsent(stored, { progressToken: token }, "the database file");
	},
);

Deno.test("the running portal's console and log files show secret settings redacted and no identity headers", async () => {
	const dir = await Deno.makeTempDir({ prefix: "mliy-secrets-" });
	const portal = await startPortal({
		MLIY_DATABASE_URL: `file:${dir}/mliy.db`,
		MLIY_LOG_LOCATION: `${dir}/logs`,
		MLIY_WEB_LOG_LEVEL: "DEBUG",
		MLIY_LAUNCH_LOG_LEVEL: "DEBUG",
		MLIY_AUTH_PLUGIN: "plugins/auth_ldap",
		MLIY_REPLACEMENT_TOKENS: JSON.stringify([["DB_PASSWORD", SECRET.replacementToken]]),
		MLIY_METRICS_TOKEN: SECRET.metricsToken,
		MLIY_DATABASE_AUTH_TOKEN: SECRET.databaseToken,
		MLIY_PROXY_SECRET: SECRET.proxySecret,
	});
	try {
		const home = await fetch(`${portal.url}/`, { headers: { REMOTE_USER: "alice", ...identityHeaders } });
		assert.equal(home.status, 200);
		const csrf = /<meta name="csrf-token" content="([^"]+)"/.exec(await home.text())![1]!;
		const action = await fetch(`${portal.url}/ajax/instance/i-0123456789abcdef0/stop`, {
			method: "POST",
			headers: { REMOTE_USER: "alice", ...identityHeaders, "X-CSRF-Token": csrf, Accept: "application/json" },
		});
		assert.equal(action.status, 404, "a state change passed CSRF and reached the (empty) portal");
		await action.body?.cancel();
		const forged = await fetch(`${portal.url}/`, { headers: { REMOTE_USER: "", ...identityHeaders } });
		assert.ok(forged.status >= 400);
		await forged.body?.cancel();
		const metrics = await fetch(`${portal.url}/metrics`, {
			headers: { Authorization: `Bearer ${SECRET.metricsToken}` },
		});
		assert.equal(metrics.status, 200);
		await metrics.body?.cancel();
		portal.child.kill("SIGTERM");
		const { code, output } = await portal.finished();
		assert.equal(code, 0);
		const files = await readAll(`${dir}/logs`);
		for (const [where, text] of [["the console", output], ["the log files", files]]) {
			assert.match(text, /starting MLiy with settings/, `${where} has the startup line`);
			assert.match(text, /\[redacted\]/, `${where} shows secret settings redacted`);
			assertAbsent(text, {
				replacementToken: SECRET.replacementToken,
				metricsToken: SECRET.metricsToken,
				databaseToken: SECRET.databaseToken,
				password: SECRET.password,
				sessionCookie: SECRET.sessionCookie,
				memberOf: SECRET.memberOf,
				proxySecret: SECRET.proxySecret,
				basicCredentials: identityHeaders.Authorization.slice("Basic ".length),
				csrfToken: csrf,
			}, where);
		}
	} finally {
		portal.kill();
		await Deno.remove(dir, { recursive: true });
	}
});
