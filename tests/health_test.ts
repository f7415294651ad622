import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { jobLeases } from "../lib/db/schema.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";

Deno.test("GET /health needs no login and is 200 while the first sync is pending", async () => {
	await using deps = await createTestDeps();
	const res = await request(deps.app, "/health", { from: "198.51.100.4" });
	assert.equal(res.status, 200);
	const body = await res.json();
	assert.equal(body.database, "ok");
	assert.equal(body.sync, "pending");
	assert.equal(body.lastSync, null);
});

Deno.test("GET /health reports the age of the last successful sync: 200 when fresh, 503 when stale", async () => {
	await using deps = await createTestDeps({ settings: { SYNC_STALE_MINUTES: 15 } });
	const now = deps.clock();
	await deps.db.insert(jobLeases).values({ name: "sync-aws", lastSuccessAt: new Date(now.getTime() - 4 * 60_000) });
	let res = await request(deps.app, "/health");
	assert.equal(res.status, 200);
	assert.equal((await res.json()).syncAgeSeconds, 240);
	deps.clock.advance(20 * 60_000);
	res = await request(deps.app, "/health");
	assert.equal(res.status, 503);
	const body = await res.json();
	assert.equal(body.sync, "stale");
	assert.equal(body.syncAgeSeconds, 1440);
});

Deno.test("GET /health is 503 when no sync ever succeeded after the grace period", async () => {
	await using deps = await createTestDeps({ settings: { SYNC_STALE_MINUTES: 5 } });
	deps.clock.advance(6 * 60_000);
	const res = await request(deps.app, "/health");
	assert.equal(res.status, 503);
	assert.equal((await res.json()).sync, "never");
});

Deno.test("GET /health is 503 when the database cannot be reached, without saying why to the public", async () => {
	await using deps = await createTestDeps();
	deps.database.close();
	const res = await request(deps.app, "/health", { from: "198.51.100.4" });
	assert.equal(res.status, 503);
	const body = await res.json();
	assert.equal(body.status, "unhealthy");
	assert.equal(body.database, "error");
	assert.doesNotMatch(JSON.stringify(body), /closed|client|libsql/i, "the driver's message stays in the log");
});

Deno.test("GET /health reports a failing sync by its status only: the raw AWS error stays private", async () => {
	await using deps = await createTestDeps({ settings: { SYNC_STALE_MINUTES: 15 } });
	await deps.db.insert(jobLeases).values({
		name: "sync-aws",
		lastSuccessAt: new Date(deps.clock().getTime() - 30 * 60_000),
		lastError: "ec2.describeInstances: User: arn:aws:iam::123456789012:user/portal is not authorized",
		lastErrorNotice: "AWS denied the portal a permission it needs (an admin must check its IAM policy)",
	});
	const res = await request(deps.app, "/health", { from: "198.51.100.4" });
	assert.equal(res.status, 503);
	const body = await res.json();
	assert.equal(body.sync, "stale");
	assert.equal(body.database, "ok");
	assert.deepEqual(Object.keys(body).sort(), [
		"database",
		"lastSync",
		"status",
		"stuckJobs",
		"sync",
		"syncAgeSeconds",
		"uptimeSeconds",
	]);
	assert.doesNotMatch(JSON.stringify(body), /123456789012|arn:|not authorized|denied/);
});

Deno.test("GET /health is 503 for a job whose lease is held by a run that started too long ago, with a fresh sync", async () => {
	await using deps = await createTestDeps({ settings: { SYNC_STALE_MINUTES: 15 } });
	const now = deps.clock();
	const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
	await deps.db.insert(jobLeases).values([
		{ name: "sync-aws", lastStartedAt: ago(3), lastSuccessAt: ago(2) },
		// The launcher's holder renews its lease (it expires in the future) but its run began 40 minutes ago.
		{
			name: "poll-launches",
			holder: "host:42:abc",
			expiresAt: new Date(now.getTime() + 20_000),
			lastStartedAt: ago(40),
			lastSuccessAt: ago(41),
		},
		// A dashboard refresh's rate limit is a lease too, but no run.
		{
			name: "refresh-user-1",
			holder: "rate-limit",
			expiresAt: new Date(now.getTime() + 60_000),
			lastStartedAt: ago(60),
		},
	]);
	const res = await request(deps.app, "/health");
	assert.equal(res.status, 503);
	const body = await res.json();
	assert.equal(body.sync, "ok");
	assert.deepEqual(body.stuckJobs, ["poll-launches"]);
	assert.equal(body.status, "unhealthy");

	// A run held for less than that is just running.
	await deps.db.update(jobLeases).set({ lastStartedAt: ago(1) }).where(eq(jobLeases.name, "poll-launches"));
	const fresh = await request(deps.app, "/health");
	assert.equal(fresh.status, 200);
	assert.deepEqual((await fresh.json()).stuckJobs, []);
});
