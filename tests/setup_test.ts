/**
 * The bootstrap's setup as the portal shows it: a failure stage puts the instance in a distinct
 * "setup failed" condition on the dashboard, the team view and its page (stage and time, activity,
 * mliylaunch.log, terminate and "launch again"), with the tail of its console output (EC2
 * GetConsoleOutput, fetched in the background, never by a page); "is ready" only once the setup
 * reported done; and the progress endpoint's refusals: the token only in its header, 409 once the
 * setup can no longer report, and one answer for an unknown and a forbidden instance.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { getInstance, instancesOfLaunch, updateInstance } from "../lib/db/instances.ts";
import { getLaunch, updateLaunch } from "../lib/db/launches.ts";
import { launches, softwareConfigs } from "../lib/db/schema.ts";
import { closeLogging, configureLogging, LOG_FILES } from "../lib/log.ts";
import { consoleTail, syncConsoleTails } from "../lib/sync/console.ts";
import { progressToken, sha256Hex } from "../lib/tokens.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addInstance, addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

const ID = "i-0123456789abcdef0";

function report(deps: TestDeps, stage: string, token = "the-real-token", id = ID) {
	return request(deps.app, `/ajax/progress/${id}/${stage}`, {
		from: "203.0.113.50",
		headers: { "X-MLiy-Progress-Token": token },
	});
}

async function logLines(path: string): Promise<string[]> {
	const text = await Deno.readTextFile(path).catch(() => "");
	return text.split("\n").filter(Boolean).map((line) => String(JSON.parse(line).message));
}

motoTest(
	"failed(100) puts the instance in 'setup failed' with its stage everywhere, with the console's tail",
	async (moto) => {
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
		});
		const logs = `${deps.dir}/logs`;
		await configureLogging({ LOG_LOCATION: logs, WEB_LOG_LEVEL: "INFO", LAUNCH_LOG_LEVEL: "INFO" }, { console: false });
		try {
			const world = await seedWorld(deps.db);
			const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
				user: "alice",
				form: { intent: "launch", instanceType: "t2.micro" },
			});
			assert.equal(res.status, 303, await res.clone().text());
			const launchId = res.headers.get("Location")!.split("/").pop()!;
			await deps.background.idle();
			await tick(deps);
			assert.equal((await getLaunch(deps.db, launchId))!.status, "complete");
			const [instance] = await instancesOfLaunch(deps.db, launchId);
			const id = instance!.id;
			const token = await progressToken(deps.secret, launchId);

			// The stack is complete but the setup goes on: not "ready" yet.
			let launchPage = await (await request(deps.app, `/launches/${launchId}`, { user: "alice" })).text();
			assert.doesNotMatch(launchPage, /is ready/, "a stack complete with its setup at 0% is not ready");
			assert.match(launchPage, /its setup is still going/);

			assert.equal((await report(deps, "installing_base_packages(40)", token, id)).status, 200);
			// The sample bootstrap's error trap.
			assert.equal((await report(deps, "failed(100)", token, id)).status, 200);
			await deps.background.idle();

			const failedCell =
				/data-setup="failed"><span class="badge bad">setup failed<\/span> at <strong>failed<\/strong>, \d{4}-\d\d-\d\d \d\d:\d\d/;
			const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
			assert.match(dashboard, failedCell, "the dashboard shows the failed setup with its stage and time");
			assert.doesNotMatch(dashboard, /role="progressbar"/);
			const team = await (await request(deps.app, "/team", { user: "bob" })).text();
			assert.match(team, failedCell, "the team view too");
			const detail = await (await request(deps.app, `/instances/${id}`, { user: "alice" })).text();
			assert.match(detail, failedCell, "and the detail page");
			assert.match(detail, /<td[^>]*>setup failed<\/td>/, "the failure is in the activity");
			assert.match(
				detail,
				new RegExp(
					`<a class="btn" href="/launch/${world.science.id}/${world.config.id}\\?instanceType=t2\\.micro[^"]*">Launch again</a>`,
				),
			);
			assert.match(detail, new RegExp(`aria-label="Terminate ${id}"`));
			assert.doesNotMatch(detail, new RegExp(`aria-label="(Stop|Restart) ${id}"`), "only terminate is offered");
			// moto's GetConsoleOutput answers with a canned Linux boot log.
			assert.match(detail, /<h2>Console output<\/h2>/);
			assert.match(detail, /<pre class="console" data-console>[^<]*Linux version 2\.6\.16-xenU/);

			// Nothing more is accepted from a failed setup.
			const late = await report(deps, "done(100)", token, id);
			assert.equal(late.status, 409);
			assert.match((await late.json()).error, /already failed/);

			launchPage = await (await request(deps.app, `/launches/${launchId}`, { user: "alice" })).text();
			assert.match(launchPage, /its setup failed at &quot;failed&quot;/);
			assert.doesNotMatch(launchPage, /is ready/);
		} finally {
			await closeLogging();
		}
		const launchLog = await logLines(`${logs}/${LOG_FILES.launch}`);
		assert.ok(
			launchLog.some((m) => /^instance i-\w+: setup failed at failed \(100%\)$/.test(m)),
			`mliylaunch.log reports the failure: ${launchLog.join(" | ")}`,
		);
		assert.equal(
			launchLog.filter((m) => /setup at installing base packages/.test(m)).length,
			1,
			"an accepted report is logged at INFO",
		);
	},
);

Deno.test("a stage the configuration declares as a failure fails the setup; reports are logged once per stage", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await deps.db.update(softwareConfigs).set({ failureStages: "mount_failed, no_license" }).where(
		eq(softwareConfigs.id, world.config.id),
	);
	await addLaunchedInstance(deps.db, world, "the-real-token", {
		configId: world.config.id,
		groupId: world.science.id,
		setupState: "running",
		progressPercent: 0,
		progressText: "Initializing system",
		progressUpdatedAt: deps.clock(),
	});
	const logs = `${deps.dir}/logs`;
	await configureLogging({ LOG_LOCATION: logs, WEB_LOG_LEVEL: "INFO", LAUNCH_LOG_LEVEL: "INFO" }, { console: false });
	try {
		for (const stage of ["installing(20)", "installing(25)", "installing(30)", "mount_failed(30)"]) {
			assert.equal((await report(deps, stage)).status, 200, stage);
		}
	} finally {
		await closeLogging();
	}
	const row = (await getInstance(deps.db, ID))!;
	assert.equal(row.setupState, "failed");
	assert.equal(row.progressText, "mount failed");
	assert.deepEqual(row.setupEndedAt, deps.clock());
	const lines = await logLines(`${logs}/${LOG_FILES.launch}`);
	assert.deepEqual(lines.filter((m) => m.includes(ID)), [
		`instance ${ID}: setup at installing (20%)`,
		`instance ${ID}: setup at mount failed (30%)`,
		`instance ${ID}: setup failed at mount failed (30%)`,
	]);
	assert.match(
		await (await request(deps.app, `/instances/${ID}`, { user: "alice" })).text(),
		/setup failed<\/span> at <strong>mount failed<\/strong>/,
	);
});

Deno.test("progress is refused with 409 once the setup can no longer report", async (t) => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addLaunchedInstance(deps.db, world, "the-real-token", {
		setupState: "running",
		progressPercent: 10,
		progressText: "start",
		progressUpdatedAt: deps.clock(),
	});
	const reset = () =>
		updateInstance(deps.db, ID, {
			state: "running",
			archived: false,
			setupState: "running",
			progressPercent: 10,
			progressText: "start",
			progressUpdatedAt: deps.clock(),
		});
	const cases: [string, Parameters<typeof updateInstance>[2] | "done" | "failed", RegExp][] = [
		["after done(100)", "done", /already reported done/],
		["after a failure", "failed", /already failed/],
		["for a terminated instance", { state: "terminated" }, /is terminated/],
		["for a vanished instance", { state: "vanished" }, /is vanished/],
		["for a removed (archived) instance", { state: "terminated", archived: true }, /is removed/],
		[
			"once PROGRESS_TIMEOUT_MINUTES has passed",
			{ progressUpdatedAt: new Date(deps.clock().getTime() - (240 * 60_000 + 1000)) },
			/No progress was reported for 240 minutes/,
		],
		["once the sync has ended a stalled bar", { setupState: "stalled", progressPercent: null }, /240 minutes/],
	];
	for (const [what, before, message] of cases) {
		await t.step(what, async () => {
			await reset();
			if (before === "done" || before === "failed") {
				assert.equal((await report(deps, `${before}(100)`)).status, 200);
			} else {
				await updateInstance(deps.db, ID, before);
			}
			const written = await getInstance(deps.db, ID);
			const res = await report(deps, "configuring(60)");
			assert.equal(res.status, 409);
			assert.match((await res.json()).error, message);
			assert.deepEqual(await getInstance(deps.db, ID), written, "nothing was written");
		});
	}
	await t.step("within the timeout it is accepted", async () => {
		await reset();
		await updateInstance(deps.db, ID, { progressUpdatedAt: new Date(deps.clock().getTime() - 239 * 60_000) });
		assert.equal((await report(deps, "configuring(60)")).status, 200);
	});
});

Deno.test("the progress token counts only in its header, and an unknown instance is answered as a forbidden one", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addLaunchedInstance(deps.db, world, "the-real-token", { privateIp: "10.1.2.3", setupState: "running" });
	const inQuery = await request(deps.app, `/ajax/progress/${ID}/stage(20)?token=the-real-token`, { from: "10.9.9.9" });
	assert.equal(inQuery.status, 403, "a token in the query string (which proxies log) is not accepted");
	assert.equal((await getInstance(deps.db, ID))!.progressText, null);

	const answer = async (path: string, options: Parameters<typeof request>[2]) => {
		const res = await request(deps.app, path, options);
		return { status: res.status, body: await res.text() };
	};
	const withToken = { from: "10.9.9.9", headers: { "X-MLiy-Progress-Token": "a-guess" } };
	const forbidden = await answer(`/ajax/progress/${ID}/stage(20)`, withToken);
	assert.equal(forbidden.status, 403);
	for (
		const [what, path, options] of [
			["unknown, with a token", "/ajax/progress/i-fffffffffffffffff/stage(20)", withToken],
			["malformed, with a token", "/ajax/progress/i-nope/stage(20)", withToken],
			["unknown, from an address", "/ajax/progress/i-fffffffffffffffff/stage(20)", { from: "10.9.9.9" }],
			["known, from another address", `/ajax/progress/${ID}/stage(20)`, { from: "10.9.9.9" }],
		] as const
	) {
		assert.deepEqual(await answer(path, options), forbidden, what);
	}
});

Deno.test("a token once accepted is not trusted beyond its launch: a guess after it is refused, and a new launch's token replaces it", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const instance = await addLaunchedInstance(deps.db, world, "the-real-token", { setupState: "running" });
	assert.equal((await report(deps, "installing(10)")).status, 200);
	assert.equal((await report(deps, "installing(20)")).status, 200, "the same token again (compared, not hashed)");
	assert.equal((await report(deps, "installing(30)", "the-real-tokeN")).status, 403, "a near guess after it");
	assert.equal((await report(deps, "installing(30)", "")).status, 403, "no token is no shortcut either");
	// The instance's launch now stores another token's hash (as a relaunch would): the old token is done.
	await deps.db.update(launches).set({ progressTokenHash: await sha256Hex("the-next-token") })
		.where(eq(launches.id, instance.launchId!));
	assert.equal((await report(deps, "installing(40)")).status, 403, "the earlier launch's token");
	assert.equal((await report(deps, "installing(40)", "the-next-token")).status, 200);
	await deps.reports.flush();
	assert.equal((await getInstance(deps.db, ID))!.progressText, "installing");
});

Deno.test("consoleTail keeps the last lines, without escapes, control characters or the secrets put into the script", () => {
	const raw = [
		...Array.from({ length: 80 }, (_, i) => `boot line ${i}`),
		"\x1b[31mERROR\x1b[0m: yum failed\r",
		"curl -H 'X-MLiy-Progress-Token: tok-1234567890' http://portal/ajax/progress/i-1/failed(100)",
		"export DB_PASSWORD=hunter2-very-secret\x07\x00",
		"x".repeat(1000),
		"",
		"",
	].join("\r\n");
	const tail = consoleTail(raw, ["tok-1234567890", "hunter2-very-secret", "git"]);
	const lines = tail.split("\n");
	assert.equal(lines.length, 40);
	assert.equal(lines[0], "boot line 44");
	assert.ok(lines.includes("ERROR: yum failed"));
	assert.ok(lines.includes("export DB_PASSWORD=[redacted]"));
	assert.match(tail, /X-MLiy-Progress-Token: \[redacted\]/);
	// deno-lint-ignore no-control-regex
	assert.doesNotMatch(tail, /[\x00-\x08\x0b-\x1f\x7f]/);
	assert.equal(lines.at(-1)!.length, 241, "a long line is cut");
	assert.ok(tail.includes("boot line 79"), "short values (like a package name) are not redacted");
});

Deno.test("the sync fetches the consoles of slow and failed setups; a page never calls AWS for one", async () => {
	const aws = fakeAws({ ec2: { getConsoleOutput: (id) => Promise.resolve(`console of ${id}\nstill installing`) } });
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	const now = deps.clock().getTime();
	const base = { ownerId: world.alice.id, groupId: world.science.id, configId: world.config.id };
	await addInstance(deps.db, {
		id: "i-00000000000000001",
		...base,
		setupState: "running",
		progressUpdatedAt: new Date(now - 20 * 60_000),
	});
	await addInstance(deps.db, {
		id: "i-00000000000000002",
		...base,
		setupState: "running",
		progressUpdatedAt: new Date(now - 60_000),
	});
	await addInstance(deps.db, {
		id: "i-00000000000000003",
		...base,
		setupState: "failed",
		setupEndedAt: new Date(now),
	});
	await addInstance(deps.db, { id: "i-00000000000000004", ...base, setupState: "done" });
	await addInstance(deps.db, { id: "i-00000000000000005", ...base, setupState: "failed", state: "terminated" });

	const page = await request(deps.app, "/instances/i-00000000000000003", { user: "alice" });
	assert.equal(page.status, 200);
	assert.doesNotMatch(await page.text(), /Console output/, "nothing fetched yet, nothing shown");
	assert.deepEqual(aws.calls, [], "a page request does not ask EC2 for the console");

	assert.equal(await syncConsoleTails(deps), 2);
	assert.deepEqual(aws.calls.sort(), ["ec2.getConsoleOutput", "ec2.getConsoleOutput"]);
	for (const id of ["i-00000000000000001", "i-00000000000000003"]) {
		assert.equal((await getInstance(deps.db, id))!.consoleTail, `console of ${id}\nstill installing`);
		const html = await (await request(deps.app, `/instances/${id}`, { user: "alice" })).text();
		assert.match(html, new RegExp(`<pre class="console" data-console>console of ${id}\nstill installing</pre>`));
	}
	assert.equal(await syncConsoleTails(deps), 0, "a fresh tail is not fetched again");
	deps.clock.advance(11 * 60_000);
	assert.equal(await syncConsoleTails(deps), 2, "a tail older than ten minutes is fetched again");
});

Deno.test("a launch is 'ready' only when its instance runs and its setup reported done (or it has no bar)", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const instance = await addLaunchedInstance(deps.db, world, "the-real-token", {
		setupState: "running",
		progressPercent: 40,
		progressText: "installing",
		progressUpdatedAt: deps.clock(),
	});
	await updateLaunch(deps.db, instance.launchId!, "queued", { status: "complete", finishedAt: deps.clock() });
	const page = async () => await (await request(deps.app, `/launches/${instance.launchId}`, { user: "alice" })).text();
	assert.match(await page(), /Analyst is running; its setup is still going \(40%: installing\)\./);
	assert.equal((await report(deps, "done(100)")).status, 200);
	assert.match(await page(), /Analyst is ready\./);
	await deps.db.update(softwareConfigs).set({ hasProgressBar: false }).where(eq(softwareConfigs.id, world.config.id));
	await updateInstance(deps.db, ID, { setupState: null, progressPercent: null });
	assert.match(await page(), /Analyst is ready\./, "without a progress bar, running is ready");
	await updateInstance(deps.db, ID, { state: "stopped" });
	assert.match(await page(), /Analyst is stopped, not running\./);
});
