/** Every refusal of the launch, control and progress paths: a clear 4xx, and nothing written or sent to AWS. */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { auditEvents, launches } from "../lib/db/schema.ts";
import { getInstance } from "../lib/db/instances.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import {
	addConfig,
	addInstance,
	addLaunchedInstance,
	addSecurityGroup,
	attachSecurityGroup,
	excludeType,
	seedWorld,
} from "./_helpers/world.ts";

async function setup() {
	const aws = fakeAws();
	const deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	return { deps, aws, world };
}

async function launchCount(deps: Awaited<ReturnType<typeof createTestDeps>>) {
	return (await deps.db.select().from(launches)).length;
}

Deno.test("launching with a group the user is not in is refused with 403", async () => {
	const { deps, aws, world } = await setup();
	await using _ = deps;
	const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "olga",
		form: { intent: "launch", instanceType: "t2.micro" },
	});
	assert.equal(res.status, 403);
	assert.match(await res.text(), /not a member of &quot;science&quot;|not a member of "science"/);
	assert.equal(await launchCount(deps), 0);
	assert.deepEqual(aws.changes(), []);
	assert.equal((await request(deps.app, `/launch/${world.science.id}`, { user: "olga" })).status, 403);
});

Deno.test("launching a configuration not permitted to the group is refused with 404: it is not in the group's catalogue", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	const opsOnly = await addConfig(deps.db, "Ops tool", {
		types: [world.types["t2.micro"]!.id],
		groups: [world.ops.id],
	});
	const res = await request(deps.app, `/launch/${world.science.id}/${opsOnly.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "t2.micro" },
	});
	assert.equal(res.status, 404);
	assert.match(await res.text(), /no such configuration in the catalogue of &quot;science&quot;/);
	assert.equal(await launchCount(deps), 0);
});

Deno.test("an excluded or incompatible instance type is refused with a field error", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	await excludeType(deps.db, world.science.id, world.types["r4.4xlarge"]!.id);
	for (const type of ["r4.4xlarge", "t2.nano", "x1e.32xlarge<script>"]) {
		const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
			user: "alice",
			form: { intent: "launch", instanceType: type },
		});
		assert.equal(res.status, 422, type);
		const html = await res.text();
		assert.match(html, /is not allowed for this configuration and group/);
		assert.doesNotMatch(html, /<script>/);
	}
	const form = await (await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, { user: "alice" }))
		.text();
	assert.doesNotMatch(form, /value="r4.4xlarge"/, "the excluded type is not offered");
	assert.equal(await launchCount(deps), 0);
});

Deno.test("six security groups (defaults included) are refused; the message says why", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	const extra = [];
	for (let i = 0; i < 5; i++) {
		const sg = await addSecurityGroup(deps.db, `sg-00000000000000${10 + i}`, `extra-${i}`);
		await attachSecurityGroup(deps.db, world.science.id, sg.id, "optional");
		extra.push(sg.sgId);
	}
	const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "review", instanceType: "t2.micro", securityGroups: extra },
	});
	assert.equal(res.status, 422);
	assert.match(await res.text(), /5 optional plus 1 default security groups is 6; AWS allows at most 5/);
	const unknown = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "t2.micro", securityGroups: ["sg-99999999999999999"] },
	});
	assert.equal(unknown.status, 422);
	assert.equal(await launchCount(deps), 0);
});

Deno.test("a bootstrap script over 4096 bytes after encoding is refused with how far over it is", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	const big = await addConfig(deps.db, "Big", {
		types: [world.types["t2.micro"]!.id],
		groups: [world.science.id],
		userDataBody: "#!/bin/bash\n" + "echo padding-padding-padding\n".repeat(120),
	});
	const res = await request(deps.app, `/launch/${world.science.id}/${big.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "t2.micro" },
	});
	assert.equal(res.status, 422);
	assert.match(
		await res.text(),
		/is \d+ bytes: \d+ bytes over CloudFormation&#39;s 4096-byte parameter limit|bytes over CloudFormation/,
	);
	assert.equal(await launchCount(deps), 0);
});

Deno.test("a forged progress call from another address (or with a wrong token) is refused and writes nothing", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	await addLaunchedInstance(deps.db, world, "the-real-token", {
		privateIp: "10.1.2.3",
		progressPercent: 10,
		progressText: "start",
	});
	const cases: [string, Parameters<typeof request>[2], number][] = [
		["from another address", { from: "10.9.9.9" }, 403],
		["with a wrong token", { from: "10.1.2.3", headers: { "X-MLiy-Progress-Token": "guess" } }, 403],
		["forwarded-for from an untrusted peer", { from: "10.9.9.9", headers: { "X-Forwarded-For": "10.1.2.3" } }, 403],
	];
	for (const [what, options, status] of cases) {
		const res = await request(deps.app, "/ajax/progress/i-0123456789abcdef0/hacked(99)", options);
		assert.equal(res.status, status, what);
		assert.match((await res.json()).error, /not from the instance/);
	}
	await deps.reports.flush();
	assert.equal((await getInstance(deps.db, "i-0123456789abcdef0"))!.progressPercent, 10, "nothing was written");
	const viaProxy = await request(deps.app, "/ajax/progress/i-0123456789abcdef0/via_proxy(20)", {
		from: "127.0.0.1",
		headers: { "X-Forwarded-For": "10.1.2.3" },
	});
	assert.equal(viaProxy.status, 200, "the instance's address forwarded by a trusted proxy is accepted");
	for (
		const [path, status] of [
			["/ajax/progress/i-0123456789abcdef0/bad-stage(10)", 400],
			["/ajax/progress/i-0123456789abcdef0/stage(101)", 400],
			["/ajax/progress/i-0123456789abcdef0/stage(-1)", 400],
			// Unknown and malformed ids are answered as a forbidden report is: no id oracle.
			["/ajax/progress/i-fffffffffffffffff/stage(10)", 403],
			["/ajax/progress/not-an-id/stage(10)", 403],
		] as const
	) {
		assert.equal((await request(deps.app, path, { from: "10.1.2.3" })).status, status, path);
	}
	await deps.reports.flush();
	assert.equal((await getInstance(deps.db, "i-0123456789abcdef0"))!.progressPercent, 20);
});

Deno.test("a control action by a non-teammate is refused with 403 and audited", async () => {
	const { deps, aws, world } = await setup();
	await using _ = deps;
	await addInstance(deps.db, { id: "i-00000000000000001", ownerId: world.alice.id, groupId: world.science.id });
	const res = await request(deps.app, "/ajax/instance/i-00000000000000001/stop", { user: "olga", form: {} });
	assert.equal(res.status, 403);
	assert.equal((await res.json()).status, "failed");
	assert.deepEqual(aws.changes(), []);
	const audit = await deps.db.select().from(auditEvents).where(eq(auditEvents.resourceId, "i-00000000000000001"));
	assert.deepEqual(audit.map((a) => [a.actor, a.action, a.outcome]), [["olga", "stop", "refused"]]);
	assert.equal((await request(deps.app, "/instances/i-00000000000000001", { user: "olga" })).status, 403);
});

Deno.test("terminate by a teammate is refused; the owner and an admin may terminate", async () => {
	const { deps, world } = await setup();
	await using _ = deps;
	await addInstance(deps.db, { id: "i-00000000000000002", ownerId: world.alice.id, groupId: world.science.id });
	const res = await request(deps.app, "/ajax/instance/i-00000000000000002/terminate", { user: "bob", form: {} });
	assert.equal(res.status, 403);
	assert.match((await res.json()).error, /Only the owner or an admin/);
	const row =
		await (await request(deps.app, "/instances/i-00000000000000002/row?view=team", { user: "bob", htmx: true })).text();
	assert.doesNotMatch(row, /data-action="terminate"/, "the teammate sees no terminate button");
	assert.match(row, /data-action="stop"/, "but may stop it");
});

Deno.test("GET on the control URL is refused with 405; a missing CSRF token with 403", async () => {
	const { deps, aws, world } = await setup();
	await using _ = deps;
	await addInstance(deps.db, { id: "i-00000000000000003", ownerId: world.alice.id });
	const get = await request(deps.app, "/ajax/instance/i-00000000000000003/stop", { user: "alice" });
	assert.equal(get.status, 405);
	assert.equal(get.headers.get("Allow"), "POST");
	const noToken = await request(deps.app, "/ajax/instance/i-00000000000000003/stop", {
		user: "alice",
		form: {},
		csrf: false,
	});
	assert.equal(noToken.status, 403);
	const crossSite = await request(deps.app, "/ajax/instance/i-00000000000000003/stop", {
		user: "alice",
		form: {},
		headers: { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
	});
	assert.equal(crossSite.status, 403);
	assert.deepEqual(aws.changes(), []);
	const unknownAction = await request(deps.app, "/ajax/instance/i-00000000000000003/explode", {
		user: "alice",
		form: {},
	});
	assert.equal(unknownAction.status, 400);
});

Deno.test("actions that make no sense for the state are refused with 409", async () => {
	const { deps, aws, world } = await setup();
	await using _ = deps;
	await addInstance(deps.db, { id: "i-00000000000000004", ownerId: world.alice.id, state: "stopped" });
	for (const action of ["stop", "restart"]) {
		const res = await request(deps.app, `/ajax/instance/i-00000000000000004/${action}`, { user: "alice", form: {} });
		assert.equal(res.status, 409, action);
		assert.match((await res.json()).error, /the instance is stopped, not running/);
	}
	await addInstance(deps.db, { id: "i-00000000000000005", ownerId: world.alice.id, state: "terminated" });
	const res = await request(deps.app, "/ajax/instance/i-00000000000000005/terminate", { user: "alice", form: {} });
	assert.equal(res.status, 409);
	assert.deepEqual(aws.changes(), []);
});

Deno.test("an ended instance can be removed from the lists by its owner (not a teammate), keeping its bills", async () => {
	const { deps, aws, world } = await setup();
	await using _ = deps;
	await addInstance(deps.db, { id: "i-00000000000000006", ownerId: world.alice.id, state: "terminated" });
	await addInstance(deps.db, { id: "i-00000000000000007", ownerId: world.alice.id, state: "running" });
	assert.equal(
		(await request(deps.app, "/ajax/instance/i-00000000000000006/archive", { user: "bob", form: {} })).status,
		403,
	);
	assert.equal(
		(await request(deps.app, "/ajax/instance/i-00000000000000007/archive", { user: "alice", form: {} })).status,
		409,
	);
	const res = await request(deps.app, "/ajax/instance/i-00000000000000006/archive?view=dashboard", {
		user: "alice",
		htmx: true,
		form: {},
	});
	assert.equal(res.status, 200);
	// The dashboard's instances are drawn again without it (so the last one leaves the empty state).
	assert.equal(res.headers.get("HX-Retarget"), "#my-instances");
	const fragment = await res.text();
	assert.doesNotMatch(fragment, /i-00000000000000006/, "the row is removed");
	assert.match(fragment, /id="row-i-00000000000000007"/);
	assert.equal((await getInstance(deps.db, "i-00000000000000006"))!.archived, true);
	assert.deepEqual(aws.changes(), []);
	assert.equal((await request(deps.app, "/instances/i-00000000000000006", { user: "alice" })).status, 404);
});
