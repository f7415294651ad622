/**
 * The portal on a libSQL server (DATABASE_URL `http://…` with DATABASE_AUTH_TOKEN): what only the
 * remote path has — a server that refuses the token or cannot be reached at start — and the paths
 * that differ there from an embedded file: the report queue has no connection of its own (its batch
 * goes through the server, and nothing is cached, so every report reads its instance), and the
 * identity generation and cached pages are kept true by the server's own triggers. The db tests
 * themselves run on both engines (tests/db_test.ts, tests/local_client_test.ts).
 *
 * The server is tests/_fakes/libsql_server.ts: a stand-in for sqld (which cannot be installed here)
 * speaking the Hrana protocol `@libsql/client` uses, over a real SQLite file. Nothing else is stubbed
 * but AWS (the fake AWS, or moto where the launch needs one).
 */
import assert from "node:assert/strict";
// @ts-types="../lib/db/libsql_types.d.ts"
import Database from "libsql";
import { openDatabase } from "../lib/db/client.ts";
import { MIGRATIONS } from "../lib/db/migrations.ts";
import { getInstance, instancesOfLaunch } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { activityOf } from "../lib/db/policies.ts";
import { reportStore } from "../lib/db/reports.ts";
import { progressReportsOf } from "../lib/db/timeline.ts";
import { updateInstance } from "../lib/db/instances.ts";
import { progressToken } from "../lib/tokens.ts";
import { startLibsqlServer } from "./_fakes/libsql_server.ts";
import { errorText, rejection } from "./_helpers/assert.ts";
import { createTestDeps, TEST_DATABASE_TOKEN, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { postJson } from "./_helpers/policies.ts";
import { startPortal } from "./_helpers/portal_process.ts";
import { tick } from "./_helpers/tick.ts";
import { addInstance, addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

const ID = "i-0123456789abcdef0";
const TOKEN = "the-launch-token";
const OLGAS = "i-0000000000000019a";

const progress = (deps: TestDeps, spec: string, token = TOKEN) =>
	request(deps.app, `/ajax/progress/${ID}/${spec}`, { method: "POST", headers: { "X-MLiy-Progress-Token": token } });

async function withServerFile(test: (path: string) => Promise<void>): Promise<void> {
	const dir = await Deno.makeTempDir({ prefix: "mliy-remote-" });
	try {
		await test(`${dir}/served.db`);
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
}

Deno.test("a libSQL server that refuses the token stops the start, in words naming DATABASE_AUTH_TOKEN, and nothing is written", async () => {
	await withServerFile(async (path) => {
		await using server = startLibsqlServer({ path, token: "the-right-token" });
		const refused =
			/^The database server at http:\/\/127\.0\.0\.1:\d+ refused the portal's credentials \(HTTP 401\): check DATABASE_AUTH_TOKEN\.$/;
		for (const authToken of ["a-wrong-token-1234", undefined]) {
			const error = await rejection(openDatabase({ url: server.url, authToken }));
			assert.match((error as Error).message, refused, `token ${authToken}: ${errorText(error)}`);
			assert.match(errorText((error as Error).cause), /401/, "the client's own error is its cause");
		}
		// The portal's own start (createDeps, as main.ts calls it) and a real process of it.
		const deps = await rejection(
			createTestDeps({ settings: { DATABASE_URL: server.url, DATABASE_AUTH_TOKEN: "a-wrong-token-1234" } }),
		);
		assert.match((deps as Error).message, refused);
		const started = await rejection(startPortal({
			MLIY_DATABASE_URL: server.url,
			MLIY_DATABASE_AUTH_TOKEN: "a-wrong-token-1234",
			MLIY_LOG_LOCATION: `${path}-logs`,
		}));
		const output = (started as Error).message;
		assert.match(output, /exited with code [1-9]/, "the process stops");
		assert.match(output, /refused the portal's credentials \(HTTP 401\): check DATABASE_AUTH_TOKEN/);
		assert.ok(!output.includes("a-wrong-token-1234"), "the token itself is not printed");

		assert.ok(server.requests >= 4, "each start reached the server");
		const file = new Database(path);
		try {
			const tables = file.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number };
			assert.equal(tables.n, 0, "no migration ran");
		} finally {
			file.close();
		}
	});
});

Deno.test("a libsql:// URL reaches the same server (over plain HTTP with ?tls=0), and its error leaves the query out", async () => {
	await withServerFile(async (path) => {
		await using server = startLibsqlServer({ path, token: "the-right-token" });
		const url = `${server.url.replace("http://", "libsql://")}?tls=0`;
		await using database = await openDatabase({ url, authToken: "the-right-token" });
		assert.equal(database.client.protocol, "http");
		const applied = await database.client.execute("SELECT count(*) AS n FROM __drizzle_migrations");
		assert.equal(Number(applied.rows[0]!.n), MIGRATIONS.length, "migrated through it");
		const error = await rejection(openDatabase({ url, authToken: "a-wrong-token" }));
		assert.match((error as Error).message, /^The database server at libsql:\/\/127\.0\.0\.1:\d+ refused/);
	});
});

Deno.test("a libSQL server that cannot be reached stops the start, naming its address", async () => {
	const error = await rejection(openDatabase({ url: "http://127.0.0.1:9", authToken: "t" }));
	assert.match((error as Error).message, /^The database server at http:\/\/127\.0\.0\.1:9 could not be reached: /);
});

Deno.test("on a libSQL server the report queue has no connection of its own: batches go through the server, nothing is cached, another portal's change counts on the next report", async () => {
	await using a = await createTestDeps({ remote: true });
	await using b = await createTestDeps({
		remote: true,
		clock: a.clock,
		settings: { DATABASE_URL: a.settings.DATABASE_URL },
	});
	assert.equal(a.database.writer, undefined, "no writer connection: the server is the only way in");
	assert.equal(await reportStore(a.database).changeMark(), undefined, "no data_version to watch: nothing is cached");
	await addLaunchedInstance(a.db, await seedWorld(a.db), TOKEN, { progressPercent: 5, progressText: "start" });

	// Answered at once, written at the end of their window (one batch through the server), with their history.
	for (const stage of ["installing(20)", "installing(30)"]) {
		const before = a.server!.requests;
		assert.equal((await progress(a, stage)).status, 200, stage);
		assert.ok(
			a.server!.requests > before,
			"each report reads its instance from the server (an embedded file's cache would not)",
		);
	}
	await a.reports.flush();
	assert.equal((await getInstance(a.db, ID))!.progressPercent, 30);
	assert.deepEqual((await progressReportsOf(a.db, ID)).map((h) => h.percent), [20, 30]);

	// Another portal on the same server ends the setup: this one refuses the next report.
	assert.equal((await progress(b, "done(100)")).status, 200);
	assert.equal((await progress(a, "installing(40)")).status, 409, "the other portal's done counts at once");
	assert.deepEqual((await progressReportsOf(a.db, ID)).map((h) => h.percent), [20, 30, 100]);

	// Activity reports take the same way.
	assert.equal((await postJson(a.app, `/ajax/activity/${ID}`, { cpu: 42 }, TOKEN)).status, 200);
	await a.reports.flush();
	assert.equal((await activityOf(a.db, ID))!.cpuPercent, 42);
	assert.equal(a.server!.openStreams, 0, "every batch's stream was closed");
});

Deno.test("on a libSQL server, a write by another portal counts on the next request to a cached page and to a cached identity", async () => {
	await using a = await createTestDeps({ remote: true });
	await using b = await createTestDeps({
		remote: true,
		clock: a.clock,
		settings: { DATABASE_URL: a.settings.DATABASE_URL },
	});
	const w = await seedWorld(a.db);
	await addInstance(a.db, { id: ID, ownerId: w.alice.id, groupId: w.science.id, name: "before-rename" });
	const page = async (deps: TestDeps, user: string, path = "/") =>
		await (await request(deps.app, path, { user })).text();
	assert.ok((await page(a, "alice")).includes("before-rename"));
	assert.ok((await page(a, "alice")).includes("before-rename"), "kept");
	await updateInstance(b.db, ID, { name: "after-rename" });
	assert.ok((await page(a, "alice")).includes("after-rename"), "the data generation moved on the server");

	// The other portal puts alice in ops too (an admin's membership form): her next request here has
	// the rights, so her team view shows olga's machine.
	await addInstance(a.db, { id: OLGAS, ownerId: w.olga.id, groupId: w.ops.id });
	const team = async () => (await page(a, "alice", "/team")).includes(OLGAS);
	assert.equal(await team(), false);
	assert.equal(await team(), false, "kept");
	const saved = await request(b.app, `/admin/users/${w.alice.id}`, {
		user: "ada",
		form: { role: "user", groups: [String(w.science.id), String(w.ops.id)] },
	});
	assert.equal(saved.status, 303, await saved.clone().text());
	assert.equal(await team(), true, "the identity generation moved on the server");
	assert.equal(a.server!.openStreams, 0);
});

motoTest(
	"a launch over a libSQL server: recorded, submitted, completed by the poller, its progress shown on the dashboard",
	async (moto) => {
		const subnet = await moto.subnet("us-east-1a");
		await using deps = await createTestDeps({
			remote: true,
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: subnet },
		});
		assert.match(deps.settings.DATABASE_URL, /^http:\/\/127\.0\.0\.1:\d+$/);
		const world = await seedWorld(deps.db);
		const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
			user: "alice",
			form: { intent: "launch", instanceType: "t2.micro", securityGroups: [world.sgOptional.sgId] },
		});
		assert.equal(res.status, 303, await res.clone().text());
		const launchId = res.headers.get("Location")!.slice("/launches/".length);
		await deps.background.idle();
		assert.equal((await getLaunch(deps.db, launchId))!.status, "creating");
		await tick(deps);
		assert.equal((await getLaunch(deps.db, launchId))!.status, "complete");
		const [instance] = await instancesOfLaunch(deps.db, launchId);
		assert.ok(instance, "the instance is recorded");

		const token = await progressToken(deps.secret, launchId);
		const reported = await request(deps.app, `/ajax/progress/${instance.id}/installing_base_packages(40)`, {
			from: "203.0.113.50",
			headers: { "X-MLiy-Progress-Token": token },
		});
		assert.equal(reported.status, 200);
		await deps.reports.flush();
		const page = await (await request(deps.app, "/", { user: "alice" })).text();
		assert.match(page, new RegExp(`data-instance="${instance.id}"`));
		assert.match(page, /aria-valuenow="40"/);
		assert.match(page, /installing base packages/);
		assert.equal(deps.server!.openStreams, 0, "no stream left open");
	},
);

Deno.test("a portal process on a libSQL server: /health says the database is ok and its pages show what another portal wrote", async () => {
	await using deps = await createTestDeps({ remote: true });
	const w = await seedWorld(deps.db);
	await addInstance(deps.db, { id: ID, ownerId: w.alice.id, groupId: w.science.id, name: "first-name" });
	const other = await startPortal({
		MLIY_DATABASE_URL: deps.settings.DATABASE_URL,
		MLIY_DATABASE_AUTH_TOKEN: TEST_DATABASE_TOKEN,
		MLIY_LOG_LOCATION: `${deps.dir}/other-logs`,
		MLIY_AWS_ENDPOINT_URL: "http://127.0.0.1:9",
		MLIY_LAUNCH_SUBNET_ID: "subnet-0123456789abcdef0",
	});
	try {
		const health = await (await fetch(`${other.url}/health`)).json();
		assert.equal(health.database, "ok");
		const page = async () => await (await fetch(`${other.url}/`, { headers: { REMOTE_USER: "alice" } })).text();
		assert.ok((await page()).includes("first-name"));
		await updateInstance(deps.db, ID, { name: "second-name" });
		assert.ok((await page()).includes("second-name"), "seen on its next request");
	} finally {
		other.kill();
		await other.finished();
	}
});
