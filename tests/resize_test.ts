/**
 * Resizing an instance through the app against moto: a stopped instance's type changes in EC2
 * (DescribeInstances shows it) and its next billed period uses the new type's rate; a type its
 * configuration does not offer its group is refused with nothing changed; a running instance is
 * refused a plain resize, and "stop, resize, start" ends with it running as the new type, also
 * when the portal restarted in between (the resize job takes it over).
 */
import assert from "node:assert/strict";
import { DescribeInstancesCommand, StopInstancesCommand } from "@aws-sdk/client-ec2";
import { instanceRate } from "../lib/billing/rates.ts";
import { advanceResizes } from "../lib/control/resize.ts";
import { auditFor } from "../lib/db/audit.ts";
import { billsOf } from "../lib/db/bills.ts";
import { getInstance } from "../lib/db/instances.ts";
import { getResize, insertResize } from "../lib/db/resizes.ts";
import { formatRate } from "../lib/format.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

/** The instance's type and state as EC2 has them. */
async function inEc2(moto: Moto, id: string): Promise<{ type: string; state: string }> {
	const out = await moto.ec2().send(new DescribeInstancesCommand({ InstanceIds: [id] }));
	const instance = out.Reservations![0]!.Instances![0]!;
	return { type: instance.InstanceType!, state: instance.State!.Name! };
}

/** Alice's t2.micro of the world's configuration in science, started in moto, and stopped unless `running`. */
async function aliceInstance(
	deps: TestDeps,
	moto: Moto,
	world: Awaited<ReturnType<typeof seedWorld>>,
	running = false,
) {
	const [id] = await moto.runInstances(1, { LaunchedBy: "MLIY", userid: "alice" }, "t2.micro");
	if (!running) await moto.ec2().send(new StopInstancesCommand({ InstanceIds: [id!] }));
	await addInstance(deps.db, {
		id: id!,
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		state: running ? "running" : "stopped",
		instanceType: "t2.micro",
	});
	return id!;
}

function rate(deps: TestDeps, type: string): number {
	const price = instanceRate(deps, { type, os: "linux" });
	assert.ok(price.known, `${type} has a price`);
	return price.hourly;
}

motoTest(
	"a stopped instance is resized in EC2, shown the cost before and after, and billed at the new rate from its next start",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url, realClock: true });
		const world = await seedWorld(deps.db);
		const id = await aliceInstance(deps, moto, world);

		const panel = await (await request(deps.app, `/instances/${id}`, { user: "alice" })).text();
		assert.match(panel, new RegExp(`<a class="btn" href="/instances/${id}/resize">Resize…</a>`));
		const choose = await (await request(deps.app, `/instances/${id}/resize`, { user: "alice" })).text();
		const offered = [...choose.matchAll(/<a class="mono" href="[^"]+">([\w.]+)<\/a>/g)].map((m) => m[1]);
		assert.deepEqual(offered, ["m4.large", "r4.4xlarge"], "the configuration's types for science, less its own");

		const confirm = await (await request(deps.app, `/instances/${id}/resize?type=m4.large`, { user: "alice" })).text();
		const before = rate(deps, "t2.micro");
		const after = rate(deps, "m4.large");
		assert.match(confirm, new RegExp(`<span data-rate-before>${formatRate(before).replace(/[$.]/g, "\\$&")}</span>`));
		assert.match(confirm, new RegExp(`<span data-rate-after>${formatRate(after).replace(/[$.]/g, "\\$&")}</span>`));
		assert.match(
			confirm,
			new RegExp(`<strong data-delta>\\+${formatRate(after - before).replace(/[$.]/g, "\\$&")}</strong>`),
		);
		assert.match(confirm, /<button type="submit" class="primary">Resize<\/button>/);

		const res = await request(deps.app, `/instances/${id}/resize`, {
			user: "alice",
			form: { instanceType: "m4.large", mode: "stopped" },
		});
		assert.equal(res.status, 303, await res.clone().text());
		assert.equal(res.headers.get("Location"), `/instances/${id}`);
		assert.deepEqual(await inEc2(moto, id), { type: "m4.large", state: "stopped" }, "EC2 has the new type");
		assert.equal((await getInstance(deps.db, id))!.instanceType, "m4.large");
		const [audited] = await auditFor(deps.db, id, 1);
		assert.deepEqual([audited!.action, audited!.outcome, audited!.detail], ["resize", "ok", "t2.micro → m4.large"]);
		assert.deepEqual(await billsOf(deps.db, id), [], "nothing is billed while it is stopped");

		const start = await request(deps.app, `/ajax/instance/${id}/start?view=detail`, {
			user: "alice",
			htmx: true,
			form: {},
		});
		assert.equal(start.status, 200, await start.clone().text());
		await deps.background.idle();
		const [bill] = await billsOf(deps.db, id);
		assert.equal(bill?.description, "m4.large");
		assert.equal(bill?.hourlyRate, after, "the next billed period uses the new type's rate");
		assert.equal((await inEc2(moto, id)).state, "running");
	},
);

motoTest(
	"a type the configuration does not offer the group, or the instance's own, is refused and nothing changes",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url, realClock: true });
		const world = await seedWorld(deps.db);
		const id = await aliceInstance(deps, moto, world);
		// t2.nano is a type the portal knows, but the configuration does not offer it.
		for (
			const [type, message] of [[
				"t2.nano",
				/t2\.nano is not a type this instance's configuration offers its group/,
			], [
				"t2.micro",
				/The instance is already a t2\.micro\./,
			], ["m5.24xlarge; DROP", /is not a type/]] as const
		) {
			const res = await request(deps.app, `/instances/${id}/resize`, { user: "alice", form: { instanceType: type } });
			assert.equal(res.status, 422, type);
			assert.match(await res.text(), message);
		}
		assert.deepEqual(await inEc2(moto, id), { type: "t2.micro", state: "stopped" });
		assert.equal((await getInstance(deps.db, id))!.instanceType, "t2.micro");
		assert.ok((await auditFor(deps.db, id, 5)).every((e) => e.outcome === "refused"), "each refusal is audited");
		// Someone outside the group is refused before anything is looked at.
		const olga = await request(deps.app, `/instances/${id}/resize`, {
			user: "olga",
			form: { instanceType: "m4.large" },
		});
		assert.equal(olga.status, 403);
		assert.equal((await inEc2(moto, id)).type, "t2.micro");
	},
);

motoTest(
	"a running instance is refused a plain resize; 'stop, resize, start' ends with it running as the new type",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url, realClock: true });
		const world = await seedWorld(deps.db);
		const id = await aliceInstance(deps, moto, world, true);

		const plain = await request(deps.app, `/instances/${id}/resize`, {
			user: "bob",
			form: { instanceType: "m4.large", mode: "stopped" },
		});
		assert.equal(plain.status, 409);
		assert.match(await plain.text(), /EC2 changes the type of a stopped instance only/);
		assert.deepEqual(await inEc2(moto, id), { type: "t2.micro", state: "running" }, "nothing changed");

		const confirm = await (await request(deps.app, `/instances/${id}/resize?type=m4.large`, { user: "bob" })).text();
		assert.match(confirm, /<button type="submit" class="primary">Stop, resize, start<\/button>/);
		assert.match(confirm, /<input type="hidden" name="mode" value="restart">/);
		const res = await request(deps.app, `/instances/${id}/resize`, {
			user: "bob",
			form: { instanceType: "m4.large", mode: "restart" },
		});
		assert.equal(res.status, 303, await res.clone().text());
		const during = await (await request(deps.app, `/instances/${id}`, { user: "alice" })).text();
		assert.match(
			during,
			/data-resizing>Stop, resize, start to <span class="mono">m4\.large<\/span> on its way: stopping it…/,
		);
		assert.match(during, new RegExp(`hx-get="/instances/${id}/panel"`), "the page follows it");
		// The request's own follow-up sees the stop through, resizes and starts it.
		await deps.background.idle();
		assert.deepEqual(await inEc2(moto, id), { type: "m4.large", state: "running" });
		const row = (await getInstance(deps.db, id))!;
		assert.equal(row.instanceType, "m4.large");
		assert.equal(await getResize(deps.db, id), undefined, "the sequence is done");
		const actions = (await auditFor(deps.db, id, 10)).reverse().map((e) => `${e.actor} ${e.action} ${e.outcome}`);
		assert.deepEqual(
			actions,
			[
				"bob resize refused",
				"bob resize ok",
				"bob stop ok",
				"bob resize ok",
				"bob start ok",
			],
			"the refused plain resize, then the sequence (its record completed once it runs again): stopped, resized, started",
		);
		const sequence = (await auditFor(deps.db, id, 10)).at(-2)!;
		assert.equal(sequence.detail, "stopped, resized from t2.micro to m4.large, started");
		const open = (await billsOf(deps.db, id)).find((b) => b.endedAt === null);
		assert.equal(open?.hourlyRate, rate(deps, "m4.large"), "billed at the new rate once it runs again");
	},
);

motoTest("a 'stop, resize, start' left by a restart is finished by the resize job", async (moto) => {
	await using deps = await createTestDeps({ awsEndpoint: moto.url, realClock: true });
	const world = await seedWorld(deps.db);
	// The portal stopped the instance and then went down: the sequence is recorded, nothing follows it.
	const id = await aliceInstance(deps, moto, world);
	await insertResize(deps.db, {
		instanceId: id,
		fromType: "t2.micro",
		toType: "r4.4xlarge",
		requestedBy: world.alice.id,
	});
	assert.equal(await advanceResizes(deps), 1);
	await deps.background.idle();
	assert.deepEqual(await inEc2(moto, id), { type: "r4.4xlarge", state: "running" });
	assert.equal(await getResize(deps.db, id), undefined);
	assert.equal(await advanceResizes(deps), 0);
	const actions = (await auditFor(deps.db, id, 10)).reverse().map((e) => `${e.actor} ${e.action} ${e.outcome}`);
	assert.deepEqual(
		actions,
		["alice resize ok", "alice start ok", "portal resize ok"],
		"resized and started for its requester through the control path, then the sequence's end recorded",
	);
});

motoTest(
	"the JSON API resizes with a token by the same rules: a stopped instance in EC2, a type not offered is a 422 problem, a running one without mode=restart a 409",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url, realClock: true });
		const world = await seedWorld(deps.db);
		const stopped = await aliceInstance(deps, moto, world);
		const running = await aliceInstance(deps, moto, world, true);
		const made = await (await request(deps.app, "/profile/tokens", { user: "alice", form: { name: "resizer" } }))
			.text();
		const token = /value="(mliy_[A-Za-z0-9_-]+)"/.exec(made)?.[1];
		assert.ok(token, "the profile shows the new token once");
		const resize = (id: string, body: unknown) =>
			deps.app.request(`/api/v1/instances/${id}/resize`, {
				method: "POST",
				headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
				body: JSON.stringify(body),
			}, { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" } });

		const refused = await resize(stopped, { instanceType: "t2.nano" });
		assert.equal(refused.status, 422, await refused.clone().text());
		assert.equal(refused.headers.get("Content-Type"), "application/problem+json");
		assert.deepEqual(await inEc2(moto, stopped), { type: "t2.micro", state: "stopped" }, "nothing changed in EC2");

		const busy = await resize(running, { instanceType: "m4.large" });
		assert.equal(busy.status, 409, await busy.clone().text());
		assert.equal((await inEc2(moto, running)).type, "t2.micro");

		const done = await resize(stopped, { instanceType: "m4.large" });
		const body = await done.json();
		assert.equal(done.status, 200, JSON.stringify(body));
		assert.equal(body.outcome, "resized");
		assert.equal(body.machine.instanceType, "m4.large");
		assert.deepEqual(await inEc2(moto, stopped), { type: "m4.large", state: "stopped" });
		const [audited] = await auditFor(deps.db, stopped, 1);
		assert.deepEqual([audited!.action, audited!.outcome, audited!.actor], ["resize", "ok", "alice"]);
	},
);
