/**
 * The activity endpoint and the scripts the sample bootstrap installs. Hostile calls (no token, a
 * wrong one, garbage and oversized reports) get a clear 4xx and write nothing. The shipped
 * `mliy-activity` and `mliy-keepalive` are run with Debian's sh against a portal listening on
 * loopback, reading a fake /proc, a fake `who` and `nvidia-smi` on PATH, and a fake Jupyter server
 * (this machine has no GPU and no notebook server of its own; the scripts read what they would).
 */
import assert from "node:assert/strict";
import { activityOf, machinePolicyOf } from "../lib/db/policies.ts";
import { base64Utf8, buildUserData } from "../lib/launch/instance.ts";
import { resolveSettings } from "../lib/settings.ts";
import { ACTIVITY_AGENT, KEEPALIVE_COMMAND, SAMPLE_BOOTSTRAP } from "../fixtures/mod.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { postJson, setPolicy } from "./_helpers/policies.ts";
import { addInstance, addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

const TOKEN = "the-launch-token";
const ID = "i-0123456789abcdef0";

async function world(deps: TestDeps) {
	const w = await seedWorld(deps.db);
	await setPolicy(deps.db, { group: w.science.id }, { idleMinutes: 30, maxPostponeMinutes: 480 });
	await addLaunchedInstance(deps.db, w, TOKEN, { groupId: w.science.id, configId: w.config.id, state: "running" });
	return w;
}

Deno.test("activity: a report with the launch's token is judged against the thresholds and recorded", async () => {
	await using deps = await createTestDeps();
	await world(deps);
	const idle = await postJson(deps.app, `/ajax/activity/${ID}`, {
		cpu: 3,
		gpu: null,
		kernels: 0,
		sessions: 0,
		network: 0,
	}, TOKEN);
	assert.equal(idle.status, 200);
	assert.deepEqual(await idle.json(), { status: "ok", active: false });
	await deps.reports.flush();
	const recorded = await activityOf(deps.db, ID);
	assert.equal(recorded?.source, "agent");
	assert.equal(recorded.cpuPercent, 3);
	assert.equal(recorded.activeAt, null);
	assert.equal(recorded.reportedAt?.getTime(), deps.clock().getTime());
	deps.clock.advance(60_000);
	const busy = await postJson(deps.app, `/ajax/activity/${ID}`, { cpu: 3, network: 60_000 }, TOKEN);
	assert.deepEqual(await busy.json(), { status: "ok", active: true }, "60 kB/s is above the default 50 kB/s");
	await deps.reports.flush();
	assert.equal((await activityOf(deps.db, ID))?.activeAt?.getTime(), deps.clock().getTime());
});

Deno.test("activity: hostile calls get a clear 4xx and write nothing", async () => {
	await using deps = await createTestDeps();
	const w = await world(deps);
	await addLaunchedInstance(deps.db, w, "other-token", { id: "i-0fedcba9876543210", state: "running" });
	await addInstance(deps.db, { id: "i-0000000000000dead", ownerId: w.alice.id, state: "terminated" });
	const cases: [string, string, unknown, string | undefined, number, RegExp][] = [
		["no token", ID, { cpu: 1 }, undefined, 403, /token is missing or wrong/],
		["a wrong token", ID, { cpu: 1 }, "guess", 403, /token/],
		["another launch's token", ID, { cpu: 1 }, "other-token", 403, /token/],
		["a huge token", ID, { cpu: 1 }, "x".repeat(5000), 403, /token/],
		["an unknown instance", "i-0000000000000beef", { cpu: 1 }, TOKEN, 404, /known/],
		["a malformed id", "i-0123;reboot", { cpu: 1 }, TOKEN, 404, /No instance i-0123;reboot/],
		["a body that is not JSON", ID, "cpu=1", TOKEN, 400, /JSON object/],
		["a string for a number", ID, { cpu: "50" }, TOKEN, 422, /cpu must be a number/],
		["a percentage over 100", ID, { cpu: 101 }, TOKEN, 422, /cpu is 0 to 100/],
		["a negative percentage", ID, { cpu: -1, gpu: -5 }, TOKEN, 422, /cpu is 0 to 100; gpu: gpu is 0 to 100/],
		["a fraction of a kernel", ID, { cpu: 1, kernels: 1.5 }, TOKEN, 422, /kernels must be a whole number/],
		["an absurd network rate", ID, { cpu: 1, network: 1e15 }, TOKEN, 422, /network is at most/],
		["an unknown field", ID, { cpu: 1, command: "rm -rf /" }, TOKEN, 422, /command: not a field of the report/],
		["no cpu", ID, {}, TOKEN, 422, /cpu/],
		["a list", ID, [1, 2, 3], TOKEN, 422, /not valid/],
		["NaN as text", ID, '{"cpu": NaN}', TOKEN, 400, /JSON/],
		["an oversized report", ID, { cpu: 1, padding: "x".repeat(5000) }, TOKEN, 413, /at most 4096 bytes/],
	];
	for (const [what, id, body, token, status, message] of cases) {
		const res = await postJson(deps.app, `/ajax/activity/${id}`, body, token);
		assert.equal(res.status, status, what);
		const answer = await res.json();
		assert.equal(answer.status, "failed", what);
		assert.match(answer.error, message, `${what}: ${answer.error}`);
	}
	assert.equal(
		(await postJson(deps.app, "/ajax/activity/i-0000000000000dead", { cpu: 1 }, TOKEN)).status,
		403,
		"an instance without the launch's token is refused even when it ended",
	);
	await deps.reports.flush();
	assert.equal(await activityOf(deps.db, ID), undefined, "nothing was written");

	const keepAlive: [unknown, number, RegExp][] = [
		[{ for: "99999d" }, 422, /at most 8 h/],
		[{ for: "3 weeks" }, 422, /a duration like 90m, 3h or 2d/],
		[{ until: "25:00" }, 422, /a time like 18:00/],
		[{ until: "2024-01-01T00:00:00Z" }, 422, /in the future/],
		[{ for: "3h", until: "18:00" }, 422, /either for or until/],
		[{ for: 3 }, 422, /./],
	];
	for (const [body, status, message] of keepAlive) {
		const res = await postJson(deps.app, `/ajax/activity/${ID}/keepalive`, body, TOKEN);
		assert.equal(res.status, status, JSON.stringify(body));
		assert.match((await res.json()).error, message, JSON.stringify(body));
	}
	assert.equal((await postJson(deps.app, `/ajax/activity/${ID}/keepalive`, { for: "1h" })).status, 403, "no token");
	assert.equal(await machinePolicyOf(deps.db, ID), undefined, "nothing was written");
});

/** The portal on a loopback port, as an instance reaches it. */
function serve(deps: TestDeps): { url: string; close(): Promise<void> } {
	const server = Deno.serve(
		{ hostname: "127.0.0.1", port: 0, onListen() {} },
		(request, info) => deps.app.fetch(request, info),
	);
	return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

/** Runs a script with Debian's sh in a scratch folder; PATH starts with the folder's fake commands. */
async function sh(script: string, args: string[], env: Record<string, string>, dir: string) {
	const out = await new Deno.Command("sh", {
		args: [script, ...args],
		env: { PATH: `${dir}/bin:/usr/bin:/bin`, HOME: dir, ...env },
		clearEnv: true,
		stdout: "piped",
		stderr: "piped",
	}).output();
	const decode = (b: Uint8Array) => new TextDecoder().decode(b);
	return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function scratch(): Promise<string> {
	const dir = await Deno.makeTempDir({ prefix: "mliy-agent-" });
	await Deno.mkdir(`${dir}/bin`);
	await Deno.mkdir(`${dir}/proc/net`, { recursive: true });
	await Deno.writeTextFile(`${dir}/mliy-activity`, ACTIVITY_AGENT);
	await Deno.writeTextFile(`${dir}/mliy-keepalive`, KEEPALIVE_COMMAND);
	return dir;
}

async function fakeCommand(dir: string, name: string, output: string) {
	await Deno.writeTextFile(`${dir}/bin/${name}`, `#!/bin/sh\nprintf '${output}'\n`);
	await Deno.chmod(`${dir}/bin/${name}`, 0o755);
}

Deno.test("mliy-activity reports CPU, GPU, busy kernels, active sessions and network from /proc, nvidia-smi, Jupyter and who", async () => {
	await using deps = await createTestDeps();
	await world(deps);
	const portal = serve(deps);
	const dir = await scratch();
	const jupyter = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
		if (request.headers.get("Authorization") !== "token jt") return new Response("no", { status: 403 });
		return Response.json([
			{ id: "k1", name: "python3", execution_state: "busy" },
			{ id: "k2", name: "python3", execution_state: "idle" },
		]);
	});
	try {
		// Since the last run a minute ago: 1,000 jiffies, 300 of them idle (70% busy); 60,000 bytes.
		await Deno.writeTextFile(
			`${dir}/proc/stat`,
			"cpu  500 0 300 1100 100 0 0 0 0 0\ncpu0 250 0 150 550 50 0 0 0 0 0\n",
		);
		await Deno.writeTextFile(
			`${dir}/proc/net/dev`,
			"Inter-|   Receive                            |  Transmit\n" +
				" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets\n" +
				"    lo: 999999 10 0 0 0 0 0 0 999999 10 0 0 0 0 0 0\n" +
				"  eth0: 40000 100 0 0 0 0 0 0 25000 80 0 0 0 0 0 0\n",
		);
		await Deno.writeTextFile(`${dir}/state`, `${Math.floor(Date.now() / 1000) - 60} 1000 900 5000\n`);
		await fakeCommand(dir, "nvidia-smi", "12\\n87\\n");
		await fakeCommand(
			dir,
			"who",
			"alice    pts/0        2025-03-01 12:00   .          1234 (10.0.0.1)\\nbob      pts/1        2025-03-01 11:00 00:20        1235 (10.0.0.2)\\n",
		);
		await Deno.writeTextFile(
			`${dir}/agent.env`,
			`MLIY_URL=${portal.url}\nMLIY_TOKEN=${TOKEN}\nMLIY_INSTANCE_ID=${ID}\nJUPYTER_URL=http://127.0.0.1:${jupyter.addr.port}\nJUPYTER_TOKEN=jt\n`,
		);
		const env = { MLIY_AGENT_ENV: `${dir}/agent.env`, MLIY_PROC: `${dir}/proc`, MLIY_STATE: `${dir}/state` };
		const run = await sh(`${dir}/mliy-activity`, [], env, dir);
		assert.equal(run.code, 0, run.stderr);
		await deps.reports.flush();
		const recorded = (await activityOf(deps.db, ID))!;
		assert.equal(recorded.cpuPercent, 70);
		assert.equal(recorded.gpuPercent, 87, "the busiest GPU");
		assert.equal(recorded.kernelsBusy, 1);
		assert.equal(recorded.sessions, 1, "only the session with input in the last minute");
		assert.ok(Math.abs(recorded.networkBytesPerSecond! - 1000) <= 20, `${recorded.networkBytesPerSecond} B/s`);
		assert.ok(recorded.activeAt, "70% CPU is activity");
		assert.match(await Deno.readTextFile(`${dir}/state`), /^\d+ 2000 1200 65000\n$/, "the counters for the next run");

		// Without GPUs, a notebook server or a previous run: null, 0, and a one-second sample.
		await Deno.remove(`${dir}/bin/nvidia-smi`);
		await Deno.remove(`${dir}/state`);
		await Deno.writeTextFile(
			`${dir}/agent.env`,
			`MLIY_URL=${portal.url}\nMLIY_TOKEN=${TOKEN}\nMLIY_INSTANCE_ID=${ID}\n`,
		);
		const second = await sh(`${dir}/mliy-activity`, [], env, dir);
		assert.equal(second.code, 0, second.stderr);
		await deps.reports.flush();
		const again = (await activityOf(deps.db, ID))!;
		assert.equal(again.gpuPercent, null);
		assert.equal(again.kernelsBusy, 0);
		assert.equal(again.cpuPercent, 0, "the fake counters did not move in that second");

		const refused = await sh(`${dir}/mliy-activity`, [], { ...env, MLIY_AGENT_ENV: `${dir}/none` }, dir);
		assert.notEqual(refused.code, 0);
		assert.match(refused.stderr, /MLIY_URL is not set/);
	} finally {
		await jupyter.shutdown();
		await portal.close();
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("mliy-keepalive --for / --until / --off keeps the machine running within the policy, and says so", async () => {
	await using deps = await createTestDeps();
	await world(deps);
	const portal = serve(deps);
	const dir = await scratch();
	try {
		await Deno.writeTextFile(
			`${dir}/agent.env`,
			`MLIY_URL=${portal.url}\nMLIY_TOKEN=${TOKEN}\nMLIY_INSTANCE_ID=${ID}\n`,
		);
		const env = { MLIY_AGENT_ENV: `${dir}/agent.env` };
		const keep = (...args: string[]) => sh(`${dir}/mliy-keepalive`, args, env, dir);
		let run = await keep("--for", "3h");
		assert.equal(run.code, 0, run.stderr);
		assert.equal(run.stdout, "kept running until 2025-03-01 15:00 UTC\n");
		assert.equal((await machinePolicyOf(deps.db, ID))?.keepAliveUntil?.toISOString(), "2025-03-01T15:00:00.000Z");
		run = await keep("--until", "18:00");
		assert.equal(run.stdout, "kept running until 2025-03-01 18:00 UTC\n");
		run = await keep("--for", "24h");
		assert.equal(run.code, 1);
		assert.equal(run.stderr, "mliy-keepalive: The policy keeps a machine running at most 8 h ahead\n");
		assert.equal((await machinePolicyOf(deps.db, ID))?.keepAliveUntil?.toISOString(), "2025-03-01T18:00:00.000Z");
		run = await keep("--off");
		assert.equal(run.stdout, "keep-alive ended\n");
		assert.equal((await machinePolicyOf(deps.db, ID))?.keepAliveUntil, null);
		for (const bad of [[], ["--for"], ["--for", '3h","until":"x'], ["--for", ""], ["--later"]]) {
			run = await keep(...bad);
			assert.equal(run.code, 2, bad.join(" "));
			assert.match(run.stderr, /^usage: mliy-keepalive/);
		}
	} finally {
		await portal.close();
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("mliy-activity --install fetches both scripts from the portal and schedules the agent; the sample bootstrap installs it", async () => {
	await using deps = await createTestDeps();
	await world(deps);
	const portal = serve(deps);
	const dir = await scratch();
	try {
		const prefix = `${dir}/root`;
		const run = await sh(`${dir}/mliy-activity`, ["--install", portal.url, TOKEN, ID], { MLIY_PREFIX: prefix }, dir);
		assert.equal(run.code, 0, run.stderr);
		assert.equal(
			await Deno.readTextFile(`${prefix}/etc/mliy/agent.env`),
			`MLIY_URL=${portal.url}\nMLIY_TOKEN=${TOKEN}\nMLIY_INSTANCE_ID=${ID}\n`,
		);
		assert.equal(await Deno.readTextFile(`${prefix}/usr/local/bin/mliy-activity`), ACTIVITY_AGENT);
		assert.equal(await Deno.readTextFile(`${prefix}/usr/local/bin/mliy-keepalive`), KEEPALIVE_COMMAND);
		assert.equal(((await Deno.stat(`${prefix}/usr/local/bin/mliy-keepalive`)).mode ?? 0) & 0o777, 0o755);
		assert.equal(
			await Deno.readTextFile(`${prefix}/etc/cron.d/mliy-activity`),
			`* * * * * root ${prefix}/usr/local/bin/mliy-activity >/dev/null 2>&1\n`,
			"without systemd, cron runs it every minute",
		);
		// The installed agent reads the installed settings.
		await Deno.writeTextFile(`${dir}/proc/stat`, "cpu  1 0 1 100 0 0 0 0 0 0\n");
		await Deno.writeTextFile(`${dir}/proc/net/dev`, "h1\nh2\n  eth0: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n");
		const installed = await sh(`${prefix}/usr/local/bin/mliy-activity`, [], {
			MLIY_PREFIX: prefix,
			MLIY_PROC: `${dir}/proc`,
			MLIY_STATE: `${dir}/state`,
		}, dir);
		assert.equal(installed.code, 0, installed.stderr);
		await deps.reports.flush();
		assert.ok(await activityOf(deps.db, ID));
	} finally {
		await portal.close();
		await Deno.remove(dir, { recursive: true });
	}

	// The sample bootstrap installs it, and still fits CloudFormation's parameter limit.
	assert.match(
		SAMPLE_BOOTSTRAP,
		/\/ajax\/activity\/script\/mliy-activity" \| sh -s -- --install "\{\{\{MLIY_URL\}\}\}" "\{\{\{PROGRESS_TOKEN\}\}\}" "\$INSTANCE_ID"/,
	);
	const userData = buildUserData({
		settings: resolveSettings({ file: { PUBLIC_URL: "https://mliy.analytics.example.com" } }),
		group: { name: "data-science-team", directoryName: "CN=Data Science,OU=Teams,DC=example,DC=com" } as never,
		config: { userDataBody: SAMPLE_BOOTSTRAP, params: {}, volumeDevice: "/dev/xvdz" } as never,
		globalParams: {},
		launchId: crypto.randomUUID(),
		stackName: "MLiyAnalyst-MLIY-0123456789abcdef",
		token: "x".repeat(43),
	});
	assert.ok(base64Utf8(userData).length <= 4096, `${base64Utf8(userData).length} bytes of base64`);
});
