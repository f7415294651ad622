/**
 * The display plugin (the original's update and parameter plugins): extra columns computed in the
 * sync and stored, shown on My dashboard, the team view and the instance page; controls locked to
 * Terminate with a reason, which the pages show and the control endpoint gives with its 409; launch
 * tokens of its own. And the shipped AMI plugin: one DescribeImages per sync, the image's expiry
 * date as a column, and the lock once it has passed or the image is gone.
 */
import assert from "node:assert/strict";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { CreateTagsCommand, DeregisterImageCommand, RegisterImageCommand } from "@aws-sdk/client-ec2";
import { eq } from "drizzle-orm";
import { auditFor } from "../lib/db/audit.ts";
import { getInstance, updateInstance } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { softwareConfigs } from "../lib/db/schema.ts";
import { awsCallCount } from "../lib/metrics.ts";
import { DISPLAY_PLUGIN_LOCK, syncDisplay } from "../lib/sync/display.ts";
import { syncAll } from "../lib/sync/all.ts";
import { loadPlugins } from "../lib/plugins/loader.ts";
import type { PluginContext } from "../lib/plugins/contract.ts";
import { SHIPPED_PLUGINS } from "../plugins/mod.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { TEST_CREDENTIALS } from "./_fakes/endpoint.ts";
import { rejection } from "./_helpers/assert.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addInstance, addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

/** The test plugin's folder, outside the project's plugins as an operator's own would be. */
const TEST_PLUGIN = new URL("./_data/display_plugin", import.meta.url).pathname;

/** The text of the cells of the table rows of one instance (its `data-instance` row). */
function rowOf(html: string, id: string): string {
	const start = html.indexOf(`data-instance="${id}"`);
	assert.ok(start >= 0, `the page lists ${id}`);
	return html.slice(start, html.indexOf("</tr>", start));
}

/** Launches a t2.micro of the world's configuration as alice through the app; returns the instance id. */
async function launchAsAlice(deps: TestDeps, world: Awaited<ReturnType<typeof seedWorld>>): Promise<string> {
	const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "t2.micro" },
	});
	assert.equal(res.status, 303, await res.clone().text());
	const launchId = res.headers.get("Location")!.split("/").pop()!;
	await deps.background.idle();
	await tick(deps);
	const launch = (await getLaunch(deps.db, launchId))!;
	assert.equal(launch.status, "complete", launch.reason ?? launch.step);
	const instance = (await deps.db.query.instances.findFirst({ where: (i, { eq }) => eq(i.launchId, launchId) }))!;
	return instance.id;
}

/** What CloudFormation recorded of a stack's bootstrap script (the UserData parameter, decoded). */
async function recordedUserData(moto: Moto, stackId: string): Promise<string> {
	const cfn = new CloudFormationClient({ endpoint: moto.url, region: "us-east-1", credentials: TEST_CREDENTIALS });
	const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks!;
	cfn.destroy();
	const userData = stack!.Parameters!.find((p) => p.ParameterKey === "UserData")!.ParameterValue!;
	return new TextDecoder().decode(Uint8Array.from(atob(userData), (c) => c.charCodeAt(0)));
}

motoTest(
	"a display plugin's columns are computed in the sync, stored, and shown on My dashboard, the team view and the instance page; its replaceParams reaches the stack",
	async (moto) => {
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a"), DISPLAY_PLUGIN: TEST_PLUGIN },
		});
		const world = await seedWorld(deps.db);
		await deps.db.update(softwareConfigs).set({
			userDataBody: "#!/bin/bash\necho '{{{PLUGIN_GREETING}}}' '{{{GROUP_NAME}}}' '{{{PROGRESS_TOKEN}}}'\n",
		}).where(eq(softwareConfigs.id, world.config.id));
		const id = await launchAsAlice(deps, world);

		// replaceParams: its new token and its override are in the script CloudFormation received; the
		// portal's own progress token is not the plugin's.
		const launch = (await getLaunch(deps.db, (await getInstance(deps.db, id))!.launchId!))!;
		const script = await recordedUserData(moto, launch.stackId!);
		assert.match(script, /echo 'hello alice in science on t2\.micro' 'renamed-by-plugin' '[\w-]{20,}'/);
		assert.ok(!script.includes("a plugin may not change this"));

		// Nothing is computed on a page request: before a sync the columns are empty.
		const before = await (await request(deps.app, "/", { user: "alice" })).text();
		assert.match(before, /<th scope="col">Desk<\/th>/);
		assert.match(rowOf(before, id), /data-extra="Desk"><span class="muted">—<\/span>/);

		await syncAll(deps);
		assert.deepEqual((await getInstance(deps.db, id))!.displayValues, {
			desk: "desk of alice",
			sync_size: "1 instance(s)",
		}, "only the declared columns are stored");

		const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
		assert.match(dashboard, /<th scope="col">Desk<\/th><th scope="col">Synced with<\/th><th scope="col">Actions/);
		assert.match(rowOf(dashboard, id), /data-label="Desk" data-extra="Desk">desk of alice<\/td>/);
		assert.match(rowOf(dashboard, id), /data-label="Synced with" data-extra="Synced with">1 instance\(s\)<\/td>/);
		assert.ok(!dashboard.includes("never shown"));

		// bob shares the group: the team view has the columns too; so do the row fragment and the page.
		const team = await (await request(deps.app, "/team", { user: "bob" })).text();
		assert.match(team, /<th scope="col">Desk<\/th>/);
		assert.match(rowOf(team, id), /data-label="Desk" data-extra="Desk">desk of alice<\/td>/);
		const fragment = await (await request(deps.app, `/instances/${id}/row?view=team`, { user: "bob" })).text();
		assert.match(fragment, /data-extra="Desk">desk of alice</);
		const page = await (await request(deps.app, `/instances/${id}`, { user: "alice" })).text();
		assert.match(page, /<dt>Desk<\/dt><dd data-extra="Desk">desk of alice<\/dd>/);
	},
);

motoTest(
	"the AMI plugin: one DescribeImages per sync shows the image's expiry; an expired or deregistered image locks the controls to Terminate, the pages say why and the other actions get a 409",
	async (moto) => {
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: {
				LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a"),
				DISPLAY_PLUGIN: "plugins/display_ami",
				PLUGIN_SETTINGS: { AMI_EXPIRATION_TAG: "ExpiresOn" },
			},
		});
		const world = await seedWorld(deps.db);
		const ec2 = moto.ec2();
		const { ImageId: imageId } = await ec2.send(new RegisterImageCommand({ Name: "analyst-2026-01" }));
		await ec2.send(new CreateTagsCommand({ Resources: [imageId!], Tags: [{ Key: "ExpiresOn", Value: "2099-06-30" }] }));
		await deps.db.update(softwareConfigs).set({ amiId: imageId! }).where(eq(softwareConfigs.id, world.config.id));
		const id = await launchAsAlice(deps, world);
		// A second instance on an image that was never in EC2 (ids recorded by the portal, e.g. adopted).
		await addInstance(deps.db, { id: "i-0fffffffffffffff1", ownerId: world.bob.id, amiId: "ami-0000000000000dead" });

		const calls = await awsCallCount(deps.metrics, "DescribeImages");
		await syncAll(deps);
		assert.equal(await awsCallCount(deps.metrics, "DescribeImages") - calls, 1, "one DescribeImages for every image");
		const fresh = (await getInstance(deps.db, id))!;
		assert.equal(fresh.amiId, imageId, "moto launched it from the registered image");
		assert.deepEqual(fresh.displayValues, { ami_expiration: "2099-06-30" });
		assert.equal(fresh.controlsLocked, false);
		const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
		assert.match(dashboard, /<th scope="col">AMI expiration<\/th>/);
		assert.match(rowOf(dashboard, id), /data-extra="AMI expiration">2099-06-30</);
		assert.match(rowOf(dashboard, id), /data-action="stop"/);
		// Opening the dashboard refreshed alice's machines in the background: let it finish first.
		await deps.background.idle();

		// The image is deregistered: the next sync locks the instance, saying why.
		await ec2.send(new DeregisterImageCommand({ ImageId: imageId! }));
		await syncAll(deps);
		const locked = (await getInstance(deps.db, id))!;
		assert.equal(locked.controlsLocked, true);
		assert.equal(locked.controlsLockedBy, DISPLAY_PLUGIN_LOCK);
		assert.match(locked.controlsLockedReason!, new RegExp(`its image ${imageId} is no longer available in EC2`));
		assert.deepEqual(locked.displayValues, { ami_expiration: "image gone" });
		const [audit] = await auditFor(deps.db, id, 1);
		assert.equal(audit?.action, "lock");
		assert.equal(audit?.actor, "display plugin");

		// The page and the rows say why, and offer only Terminate.
		const page = await (await request(deps.app, `/instances/${id}`, { user: "alice" })).text();
		assert.match(page, /data-locked>.*controls are locked: its image ami-\w+ is no longer available in EC2/s);
		assert.match(page, /It can only be terminated\./);
		assert.match(page, /data-extra="AMI expiration">image gone</);
		const actions = [...page.matchAll(/data-action="(\w+)"/g)].map((m) => m[1]);
		assert.deepEqual(actions, ["terminate"]);
		const row = rowOf(await (await request(deps.app, "/", { user: "alice" })).text(), id);
		assert.match(row, /data-locked/);
		assert.deepEqual([...row.matchAll(/data-action="(\w+)"/g)].map((m) => m[1]), ["terminate"]);
		const json = (await (await request(deps.app, "/ajax/user-instances", { user: "alice" })).json()).instances;
		const listed = json.find((i: { id: string }) => i.id === id);
		assert.deepEqual(listed.extra, { "AMI expiration": "image gone" });
		assert.match(listed.locked, /controls are locked: its image ami-\w+ is no longer available/);

		// The control endpoint refuses the others with a 409 that says why; terminate works.
		for (const action of ["stop", "restart"]) {
			const refused = await request(deps.app, `/ajax/instance/${id}/${action}`, {
				user: "alice",
				headers: { Accept: "application/json" },
				method: "POST",
			});
			assert.equal(refused.status, 409, action);
			assert.match(await refused.text(), /controls are locked: its image ami-\w+ is no longer available/);
		}
		assert.equal((await getInstance(deps.db, id))!.state, "running", "nothing was stopped");
		const terminated = await request(deps.app, `/ajax/instance/${id}/terminate`, {
			user: "alice",
			headers: { Accept: "application/json" },
			method: "POST",
		});
		assert.equal(terminated.status, 200, await terminated.clone().text());
		assert.equal((await terminated.json()).status, "ok");

		// The image that was never in EC2 is gone as well.
		const other = (await getInstance(deps.db, "i-0fffffffffffffff1"))!;
		assert.equal(other.controlsLocked, true);
		assert.deepEqual(other.displayValues, { ami_expiration: "image gone" });
	},
);

Deno.test("the AMI plugin reads EC2's DeprecationTime: a date to come is shown, a past one locks; the lock is lifted once the image is fine again", async () => {
	// moto 5.2 keeps no deprecation time (EnableImageDeprecation is not implemented): the fake answers
	// DescribeImages as EC2 does for a deprecated image.
	let deprecation = new Date("2025-03-08T00:00:00Z");
	const aws = fakeAws({
		ec2: {
			describeImages: (ids) =>
				Promise.resolve(
					ids.filter((i) => i === "ami-0aaaaaaaaaaaaaaaa").map((i) => ({
						id: i,
						state: "available",
						deprecationTime: deprecation,
						tags: {},
					})),
				),
		},
	});
	await using deps = await createTestDeps({ aws, settings: { DISPLAY_PLUGIN: "plugins/display_ami" } });
	const world = await seedWorld(deps.db);
	await addLaunchedInstance(deps.db, world, "t", { amiId: "ami-0aaaaaaaaaaaaaaaa" });
	const id = "i-0123456789abcdef0";

	assert.deepEqual(await syncDisplay(deps), { instances: 1, changed: 1, failed: 0 });
	assert.deepEqual((await getInstance(deps.db, id))!.displayValues, { ami_expiration: "2025-03-08" });
	assert.equal((await getInstance(deps.db, id))!.controlsLocked, false);
	assert.deepEqual(
		await syncDisplay(deps),
		{ instances: 1, changed: 0, failed: 0 },
		"nothing written when nothing changed",
	);

	deps.clock.set("2025-03-09T00:00:00Z");
	await syncDisplay(deps);
	let row = (await getInstance(deps.db, id))!;
	assert.deepEqual(row.displayValues, { ami_expiration: "expired 2025-03-08" });
	assert.equal(row.controlsLockedReason, "its image ami-0aaaaaaaaaaaaaaaa expired on 2025-03-08");
	const stop = await request(deps.app, `/ajax/instance/${id}/stop`, {
		user: "alice",
		headers: { Accept: "application/json" },
		method: "POST",
	});
	assert.equal(stop.status, 409);
	assert.match(
		await stop.text(),
		/controls are locked: its image ami-0aaaaaaaaaaaaaaaa expired on 2025-03-08\. It can only be terminated/,
	);

	// The image's deprecation is moved on: the plugin lifts the lock it set.
	deprecation = new Date("2026-01-01T00:00:00Z");
	await syncDisplay(deps);
	row = (await getInstance(deps.db, id))!;
	assert.equal(row.controlsLocked, false);
	assert.equal(row.controlsLockedReason, null);
	assert.deepEqual((await auditFor(deps.db, id, 3)).map((e) => `${e.action} ${e.outcome}`), [
		"unlock ok",
		"stop refused",
		"lock ok",
	]);
	assert.equal(aws.calls.filter((c) => c === "ec2.describeImages").length, 4, "one call per sync");
});

Deno.test("a display plugin lifts only the locks it set, keeps the values when it fails, and never fails the sync", async () => {
	const aws = fakeAws({ ec2: { describeImages: () => Promise.reject(new Error("simulated DescribeImages outage")) } });
	await using deps = await createTestDeps({ aws, settings: { DISPLAY_PLUGIN: "plugins/display_ami" } });
	const world = await seedWorld(deps.db);
	await addLaunchedInstance(deps.db, world, "t", {
		amiId: "ami-0aaaaaaaaaaaaaaaa",
		displayValues: { ami_expiration: "2030-01-01" },
	});
	const id = "i-0123456789abcdef0";
	assert.deepEqual(await syncDisplay(deps), { instances: 1, changed: 0, failed: 1 });
	assert.deepEqual((await getInstance(deps.db, id))!.displayValues, { ami_expiration: "2030-01-01" }, "kept");

	// A lock someone else set (an admin, say) stays, whatever the plugin thinks of the image.
	await using other = await createTestDeps({
		aws: fakeAws({
			ec2: {
				describeImages: (ids) => Promise.resolve(ids.map((i) => ({ id: i, state: "available", tags: {} }))),
			},
		}),
		settings: { DISPLAY_PLUGIN: "plugins/display_ami" },
	});
	const w2 = await seedWorld(other.db);
	await addLaunchedInstance(other.db, w2, "t", { amiId: "ami-0aaaaaaaaaaaaaaaa" });
	await updateInstance(other.db, id, {
		controlsLocked: true,
		controlsLockedReason: "held for an audit",
		controlsLockedBy: "ada",
	});
	await syncDisplay(other);
	const row = (await getInstance(other.db, id))!;
	assert.equal(row.controlsLocked, true);
	assert.equal(row.controlsLockedReason, "held for an audit");
	assert.deepEqual(row.displayValues, { ami_expiration: "no expiry set" });
	const page = await (await request(other.app, `/instances/${id}`, { user: "alice" })).text();
	assert.match(page, /controls are locked: held for an audit/);
});

Deno.test("a test plugin's lock and columns come from a folder outside the project; the default plugin costs the sync nothing", async () => {
	await using deps = await createTestDeps({ settings: { DISPLAY_PLUGIN: TEST_PLUGIN } });
	const world = await seedWorld(deps.db);
	await addLaunchedInstance(deps.db, world, "t", { name: "lock-me please" });
	await syncDisplay(deps);
	const row = (await getInstance(deps.db, "i-0123456789abcdef0"))!;
	assert.equal(row.controlsLockedReason, "the test plugin locks lock-me");
	assert.deepEqual(row.displayValues, { desk: "desk of alice", sync_size: "1 instance(s)" });
	assert.equal(deps.plugins.display.sources.displayValues, `${TEST_PLUGIN}/team_display.ts`);

	await using plain = await createTestDeps();
	assert.equal(plain.plugins.display.folder, "plugins/display_none");
	assert.deepEqual(plain.plugins.display.columns, []);
	assert.deepEqual(await syncDisplay(plain), { instances: 0, changed: 0, failed: 0 });
});

Deno.test("loadPlugins() refuses a display plugin whose columns are unusable, naming the folder", async () => {
	const context: PluginContext = {
		settings: {},
		aws: fakeAws(),
		log: (await import("@logtape/logtape")).getLogger(["test"]),
		listen: { hostname: "127.0.0.1", port: 8080 },
		proxy: { secretRequired: false, withoutSecretAccepted: false },
		secretParam: () => Promise.resolve(undefined),
	};
	const dir = await Deno.makeTempDir();
	try {
		for (
			const [columns, message] of [
				['[{ key: "a b", label: "A" }]', /a column key must be 1-40 letters/],
				['[{ key: "a", label: "A" }, { key: "a", label: "B" }]', /column key "a" is declared twice/],
				['[{ key: "a", label: "" }]', /column "a" needs a label/],
				['"nope"', /must return a list/],
			] as const
		) {
			await Deno.writeTextFile(`${dir}/columns.ts`, `export function instanceColumns() { return ${columns}; }`);
			const folder = `${dir}/${crypto.randomUUID()}`;
			await Deno.mkdir(folder);
			await Deno.copyFile(`${dir}/columns.ts`, `${folder}/columns.ts`);
			const error = await rejection(
				loadPlugins({ auth: "plugins/auth_header", dns: "plugins/dns_none", display: folder }, context, {
					shipped: SHIPPED_PLUGINS,
				}),
			);
			assert.match(error.message, new RegExp(`Cannot start with plugin folder "${folder}"`));
			assert.match(error.message, message);
		}
		const ami = await loadPlugins(
			{ auth: "plugins/auth_header", dns: "plugins/dns_none", display: "plugins/display_ami" },
			context,
			{ shipped: SHIPPED_PLUGINS },
		);
		assert.deepEqual(ami.display.columns, [{ key: "ami_expiration", label: "AMI expiration" }]);
	} finally {
		await Deno.remove(dir, { recursive: true });
	}
});

Deno.test("a failing replaceParams refuses the launch in plain words (the log has the plugin's message) and records nothing", async () => {
	const folder = await Deno.makeTempDir();
	await Deno.writeTextFile(
		`${folder}/params.ts`,
		'export function replaceParams() { throw new Error("directory lookup timed out"); }',
	);
	try {
		await using deps = await createTestDeps({ settings: { DISPLAY_PLUGIN: folder } });
		const world = await seedWorld(deps.db);
		const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
			user: "alice",
			headers: { Accept: "application/json" },
			form: { intent: "launch", instanceType: "t2.micro" },
		});
		assert.equal(res.status, 409);
		const text = await res.text();
		assert.match(text, /The portal's parameter plugin failed, so the bootstrap script's values are not known/);
		assert.ok(!text.includes("directory lookup timed out"), "the plugin's own message stays in the log");
		assert.equal((await deps.db.query.launches.findMany()).length, 0, "no launch recorded");
	} finally {
		await Deno.remove(folder, { recursive: true });
	}
});

Deno.test("the AMI plugin's AMI_EXPIRY_DAYS (the original's rule): an image without a deprecation expires that long after its creation", async () => {
	const aws = fakeAws({
		ec2: {
			describeImages: (ids) =>
				Promise.resolve(ids.map((i) => ({
					id: i,
					state: "available",
					creationDate: new Date("2024-12-01T00:00:00Z"),
					tags: {},
				}))),
		},
	});
	await using deps = await createTestDeps({
		aws,
		settings: { DISPLAY_PLUGIN: "plugins/display_ami", PLUGIN_SETTINGS: { AMI_EXPIRY_DAYS: "90" } },
	});
	const world = await seedWorld(deps.db);
	await addLaunchedInstance(deps.db, world, "t", { amiId: "ami-0aaaaaaaaaaaaaaaa" });
	await syncDisplay(deps);
	const row = (await getInstance(deps.db, "i-0123456789abcdef0"))!;
	assert.deepEqual(
		row.displayValues,
		{ ami_expiration: "expired 2025-03-01" },
		"2024-12-01 plus 90 days, due at 12:00",
	);
	assert.equal(row.controlsLockedReason, "its image ami-0aaaaaaaaaaaaaaaa expired on 2025-03-01");
});
