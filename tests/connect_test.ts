/**
 * After the launch, through the HTTP app against moto: how to connect to a machine (address, SSH
 * command, application links), its name (chosen at launch, the Name tag, renamed, unique among the
 * owner's live machines) and what it has cost so far next to its hourly rate with its volumes.
 */
import assert from "node:assert/strict";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { DescribeClusterCommand, EMRClient } from "@aws-sdk/client-emr";
import { exportCatalog, importCatalog } from "../lib/catalog/document.ts";
import { auditFor } from "../lib/db/audit.ts";
import { getConfig } from "../lib/db/catalog.ts";
import { openBill } from "../lib/db/bills.ts";
import { getInstance, instancesOfLaunch } from "../lib/db/instances.ts";
import { recentLaunches } from "../lib/db/launches.ts";
import { hoursInMonth } from "../lib/billing/ebs.ts";
import { costsSoFar, monthStart } from "../lib/billing/so_far.ts";
import { applicationLinks, sshCommand } from "../lib/machines/connect.ts";
import { syncKind } from "../lib/sync/all.ts";
import { createTestDeps, testClock, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addCluster, addConfig, addInstance, seedClusterWorld, seedWorld } from "./_helpers/world.ts";

const HOUR = 3_600_000;
const APP_LINKS = "Jupyter | https://{{{ URL }}}:8888/lab\nRStudio | https://{{{URL}}}/rstudio/";

/** A portal on moto with the seed world and a notebook configuration (login user ubuntu, two application links). */
async function notebookWorld(moto: Moto, clock = testClock(new Date(Math.floor(Date.now() / 1000) * 1000))) {
	const deps = await createTestDeps({
		awsEndpoint: moto.url,
		clock,
		settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
	});
	const world = await seedWorld(deps.db);
	const notebook = await addConfig(deps.db, "Notebook", {
		types: [world.types["t2.micro"]!.id, world.types["m4.large"]!.id],
		groups: [world.science.id],
		instanceName: "notebook",
		loginUser: "ubuntu",
		customUrlFormat: APP_LINKS,
	});
	return { deps, world, notebook, clock };
}

/** Launches the configuration as alice through the form, runs the launcher; returns the response and the instance. */
async function launch(deps: TestDeps, path: string, form: Record<string, string>) {
	const res = await request(deps.app, path, { user: "alice", form: { intent: "launch", ...form } });
	if (res.status !== 303) return { res, instance: undefined };
	const launchId = res.headers.get("Location")!.split("/").pop()!;
	await tick(deps);
	const [instance] = await instancesOfLaunch(deps.db, launchId);
	return { res, instance };
}

/** The Name tag moto has for the instance. */
async function nameTag(moto: Moto, id: string): Promise<string | undefined> {
	const out = await moto.ec2().send(new DescribeInstancesCommand({ InstanceIds: [id] }));
	return out.Reservations?.[0]?.Instances?.[0]?.Tags?.find((t) => t.Key === "Name")?.Value;
}

Deno.test("application links: one Label | format a line, {{{ URL }}} with or without spaces; an unlabelled line is the connection", () => {
	assert.deepEqual(applicationLinks(APP_LINKS, "box.example.com"), [
		{ label: "Jupyter", text: "https://box.example.com:8888/lab", href: "https://box.example.com:8888/lab" },
		{ label: "RStudio", text: "https://box.example.com/rstudio/", href: "https://box.example.com/rstudio/" },
	]);
	assert.deepEqual(applicationLinks("jdbc:hive2://{{{ URL }}}:10000/default\n\n", "10.0.0.9"), [
		{ label: "Connection", text: "jdbc:hive2://10.0.0.9:10000/default", href: null },
	]);
	assert.deepEqual(applicationLinks("", "10.0.0.9"), []);
	assert.equal(sshCommand("analyst-key", "ubuntu", "10.0.0.9"), "ssh -i ~/.ssh/analyst-key.pem ubuntu@10.0.0.9");
	assert.equal(sshCommand("", null, "10.0.0.9"), "ssh ec2-user@10.0.0.9");
});

motoTest(
	"the connection panel of a launched instance shows the SSH command and the application links; its row has them folded",
	async (moto) => {
		const { deps, world, notebook } = await notebookWorld(moto);
		await using _ = deps;
		const { instance } = await launch(deps, `/launch/${world.science.id}/${notebook.id}`, { instanceType: "t2.micro" });
		assert.equal(instance?.state, "running");
		const host = instance!.dnsName || instance!.privateIp!;
		assert.ok(host, "moto gave the instance a private IP");

		const page = await (await request(deps.app, `/instances/${instance!.id}`, { user: "alice" })).text();
		const panel = page.slice(page.indexOf('id="connect"'));
		assert.match(panel, /<h2 id="connect-heading">Connect<\/h2>/);
		// The group's key pair (analyst-key) and the configuration's login user.
		const ssh = `ssh -i ~/.ssh/analyst-key.pem ubuntu@${host}`;
		assert.ok(panel.includes(`<code>${ssh}</code>`), "the SSH command, as selectable text");
		assert.ok(panel.includes(`data-copy="${ssh}"`), "a copy button for it");
		assert.ok(panel.includes(`<a class="mono" href="https://${host}:8888/lab"`), "the Jupyter link");
		assert.ok(panel.includes(`href="https://${host}/rstudio/"`), "the RStudio link");
		assert.match(panel, /<dt>Jupyter<\/dt>/);
		// Without JavaScript the copy buttons are hidden (the page glue shows them), the text stays.
		assert.match(
			panel,
			/<button type="button" class="copy small" data-copy="[^"]+" aria-label="Copy SSH command" hidden>/,
		);

		const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
		const row = dashboard.slice(dashboard.indexOf(`id="row-${instance!.id}"`));
		assert.match(row, /<details class="connect-compact"><summary class="small">Connect<\/summary>/);
		assert.ok(row.includes(`<code>${ssh}</code>`), "the row's compact form has the SSH command");
	},
);

motoTest(
	"a machine without an address yet says when it will have one; an ended one has no connection panel",
	async (moto) => {
		const { deps, world } = await notebookWorld(moto);
		await using _ = deps;
		await addInstance(deps.db, {
			id: "i-0aaaaaaaaaaaaaaa1",
			ownerId: world.alice.id,
			configId: world.config.id,
			groupId: world.science.id,
			state: "pending",
		});
		const page = await (await request(deps.app, "/instances/i-0aaaaaaaaaaaaaaa1", { user: "alice" })).text();
		assert.match(
			page,
			/data-connect="waiting">The address appears when the instance is running — usually within 2 minutes of launch\./,
		);
		assert.doesNotMatch(page, /ssh -i/);
		await addInstance(deps.db, {
			id: "i-0aaaaaaaaaaaaaaa2",
			ownerId: world.alice.id,
			state: "terminated",
			privateIp: "10.0.0.7",
		});
		const ended = await (await request(deps.app, "/instances/i-0aaaaaaaaaaaaaaa2", { user: "alice" })).text();
		assert.doesNotMatch(ended, /id="connect"/);
	},
);

motoTest(
	"the name chosen at launch is the Name tag; a rename changes it and is audited; a duplicate among live machines is refused",
	async (moto) => {
		const { deps, world, notebook, clock } = await notebookWorld(moto);
		await using _ = deps;
		const path = `/launch/${world.science.id}/${notebook.id}`;

		// The wizard offers the configuration's name.
		const form = await (await request(deps.app, path, { user: "alice" })).text();
		assert.match(form, /<input id="f-name" name="name" type="text" maxLength="100" value="notebook"/i);

		const { instance } = await launch(deps, path, { instanceType: "t2.micro", name: "churn-model" });
		assert.equal(instance?.name, "churn-model");
		assert.equal(await nameTag(moto, instance!.id), "churn-model");

		// The same name again (any case) is refused in the form, and nothing is launched.
		const before = (await recentLaunches(deps.db, world.alice.id, 100)).length;
		const dup = await request(deps.app, path, {
			user: "alice",
			form: { intent: "review", instanceType: "t2.micro", name: "Churn-Model" },
		});
		assert.equal(dup.status, 409);
		const dupPage = await dup.text();
		assert.match(dupPage, /already the name of instance/i);
		const refused = await launch(deps, path, { instanceType: "t2.micro", name: "churn-model" });
		assert.equal(refused.res.status, 409);
		assert.equal((await recentLaunches(deps.db, world.alice.id, 100)).length, before);

		// Left to the portal, the name is the configuration's, made free: the wizard now offers it too.
		const second = await launch(deps, path, { instanceType: "t2.micro" });
		assert.equal(second.instance?.name, "notebook");
		assert.equal(await nameTag(moto, second.instance!.id), "notebook");
		const offered = await (await request(deps.app, path, { user: "alice" })).text();
		assert.match(offered, /name="name" type="text" maxLength="100" value="notebook-2"/i);
		// Bob (another owner) may use the name alice has.
		const bobs = await request(deps.app, path, {
			user: "bob",
			form: { intent: "review", instanceType: "t2.micro", name: "churn-model" },
		});
		assert.equal(bobs.status, 200);

		// A rename to a live machine's name is refused, tags and row unchanged.
		const clash = await request(deps.app, `/instances/${instance!.id}/rename`, {
			user: "alice",
			htmx: true,
			form: { name: "notebook" },
		});
		assert.equal(clash.status, 409);
		assert.equal(await nameTag(moto, instance!.id), "churn-model");
		// Not a name at all.
		const bad = await request(deps.app, `/instances/${instance!.id}/rename`, { user: "alice", form: { name: "‮evil" } });
		assert.equal(bad.status, 422);

		// A teammate renames it: the tag in AWS, the row, the page and the audit trail follow.
		const renamed = await request(deps.app, `/instances/${instance!.id}/rename`, {
			user: "bob",
			htmx: true,
			form: { name: "churn model v2" },
		});
		assert.equal(renamed.status, 200);
		assert.match(await renamed.text(), /Renamed &quot;churn-model&quot; to &quot;churn model v2&quot;/);
		assert.equal(await nameTag(moto, instance!.id), "churn model v2");
		assert.equal((await getInstance(deps.db, instance!.id))?.name, "churn model v2");
		const [event] = await auditFor(deps.db, instance!.id, 1);
		assert.deepEqual([event?.action, event?.actor, event?.outcome], ["rename", "bob", "ok"]);
		assert.equal(event?.detail, '"churn-model" → "churn model v2"');
		const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
		assert.match(dashboard, /churn model v2/);
		// The sync keeps the name (it never takes it back from an old tag).
		await syncKind(deps, "instance");
		assert.equal((await getInstance(deps.db, instance!.id))?.name, "churn model v2");

		// Without htmx: a redirect to the page with the outcome.
		const plain = await request(deps.app, `/instances/${instance!.id}/rename`, {
			user: "alice",
			form: { name: "churn-final" },
		});
		assert.equal(plain.status, 303);
		assert.equal(plain.headers.get("Location"), `/instances/${instance!.id}`);
		assert.equal(await nameTag(moto, instance!.id), "churn-final");

		// The billing report names the machine too (a minute on, so the report's range holds some of its period).
		clock.advance(60_000);
		const billing = await (await request(deps.app, "/billing", { user: "alice" })).text();
		assert.match(billing, /<div data-machine-name>churn-final<\/div>/);

		// Olga (another group) may not rename it, and the refusal is audited.
		const olga = await request(deps.app, `/instances/${instance!.id}/rename`, { user: "olga", form: { name: "mine" } });
		assert.equal(olga.status, 403);
		assert.equal((await auditFor(deps.db, instance!.id, 1))[0]?.outcome, "refused");
	},
);

motoTest(
	"cost so far over a stop and a start matches the hours by hand, next to the hourly rate with the volume",
	async (moto) => {
		const { deps, world, clock } = await notebookWorld(moto);
		await using _ = deps;
		const t0 = clock();
		// The seed configuration: m4.large at $0.10/h, a 20 GiB gp2 volume at $0.10 per GiB-month ($2.00 a month).
		const { instance } = await launch(deps, `/launch/${world.science.id}/${world.config.id}`, {
			instanceType: "m4.large",
		});
		assert.equal(instance?.state, "running");
		const act = async (action: string) => {
			const r = await request(deps.app, `/ajax/instance/${instance!.id}/${action}`, { user: "alice", form: {} });
			assert.equal(r.status, 200, `${action}: ${await r.clone().text()}`);
			await deps.background.idle();
			await syncKind(deps, "instance");
		};
		clock.advance(2 * HOUR);
		await act("stop");
		clock.advance(1 * HOUR);
		await act("start");
		clock.advance(HOUR / 2);
		const now = clock();

		// By hand: the instance ran 2 h + 0.5 h; the volume existed all 3.5 h, priced by this month's own hours.
		const instanceCost = 2.5 * 0.10;
		const volumeCost = 2.0 * 3.5 / hoursInMonth(t0);
		const expected = instanceCost + volumeCost;
		const costs = (await costsSoFar(deps, [instance!.id], now)).get(instance!.id)!;
		assert.ok(costs.sinceLaunch.known && Math.abs(costs.sinceLaunch.usd - expected) < 1e-6, JSON.stringify(costs));
		if (monthStart(now, "UTC").getTime() <= t0.getTime()) {
			assert.ok(costs.month.known && Math.abs(costs.month.usd - expected) < 1e-6, JSON.stringify(costs));
		} else {
			assert.ok(costs.month.known && costs.month.usd < expected, "a run across a month's end counts only this month");
		}

		const page = await (await request(deps.app, `/instances/${instance!.id}`, { user: "alice" })).text();
		assert.ok(
			page.includes(`<dd data-cost="since-launch" >$${expected.toFixed(2)}</dd>`),
			`since launch $${expected.toFixed(2)}`,
		);
		// The hourly rate includes the volume: $0.10 + $2.00 over this month's hours.
		const hourly = 0.10 + 2.0 / hoursInMonth(now);
		assert.ok(page.includes(`$${hourly.toFixed(4)}/h`), `hourly with the volume $${hourly.toFixed(4)}/h`);
		assert.match(page, /with its volumes' \$0\.00\d+\/h, billed while it is stopped too/);
		// The dashboard row shows the same figure.
		const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
		assert.ok(
			dashboard.includes(`<div class="small muted">$${expected.toFixed(2)} in all</div>`),
			"the row's cost so far",
		);
		// And the team view, to a teammate.
		const team = await (await request(deps.app, "/team", { user: "bob" })).text();
		assert.ok(
			team.includes(`<div class="small muted">$${expected.toFixed(2)} in all</div>`),
			"the team row's cost so far",
		);
	},
);

motoTest("a period whose price is unknown makes the cost so far unknown, never $0", async (moto) => {
	const { deps, world } = await notebookWorld(moto);
	await using _ = deps;
	const now = deps.clock();
	await addInstance(deps.db, {
		id: "i-0bbbbbbbbbbbbbbb1",
		ownerId: world.alice.id,
		groupId: world.science.id,
		instanceType: "x9.mega",
		state: "running",
		privateIp: "10.0.0.8",
	});
	await openBill(deps.db, {
		resourceKind: "instance",
		resourceId: "i-0bbbbbbbbbbbbbbb1",
		userId: world.alice.id,
		groupId: world.science.id,
		costCenter: "CC-science",
		description: "x9.mega",
		hourlyRate: null,
		startedAt: new Date(now.getTime() - HOUR),
	});
	const page = await (await request(deps.app, "/instances/i-0bbbbbbbbbbbbbbb1", { user: "alice" })).text();
	assert.match(page, /<dd data-cost="month" title="no price for x9.mega">unknown<\/dd>/);
	assert.match(page, /<dd data-cost="since-launch" title="no price for x9.mega">unknown<\/dd>/);
	assert.doesNotMatch(page, /data-cost="month"[^>]*>\$0/);
});

motoTest(
	"a cluster's rename sets its Name tag through EMR; its page shows the master's connection and the SSH command",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url });
		const world = await seedClusterWorld(deps.db);
		const id = await moto.runJobFlow({ Name: "MLiySpark", LaunchedBy: "MLIY" });
		await addCluster(deps.db, {
			id,
			ownerId: world.alice.id,
			groupId: world.emrGroup.id,
			configId: world.spark.id,
			masterDns: "ip-10-0-0-9.ec2.internal",
		});
		const page = await (await request(deps.app, `/clusters/${id}`, { user: "alice" })).text();
		assert.ok(page.includes("<code>ssh -i ~/.ssh/analyst-key.pem ec2-user@ip-10-0-0-9.ec2.internal</code>"));
		assert.ok(
			page.includes("<code>jdbc:hive2://ip-10-0-0-9.ec2.internal:10000/default</code>"),
			"the connection string",
		);

		const res = await request(deps.app, `/clusters/${id}/rename`, {
			user: "bob",
			htmx: true,
			form: { name: "spark-etl" },
		});
		assert.equal(res.status, 200, await res.clone().text());
		const emr = new EMRClient({
			endpoint: moto.url,
			region: "us-east-1",
			credentials: { accessKeyId: "test", secretAccessKey: "test" },
		});
		const { Cluster } = await emr.send(new DescribeClusterCommand({ ClusterId: id }));
		emr.destroy();
		assert.equal(Cluster?.Tags?.find((t) => t.Key === "Name")?.Value, "spark-etl");
		const [event] = await auditFor(deps.db, id, 1);
		assert.deepEqual([event?.action, event?.resourceKind, event?.outcome], ["rename", "cluster", "ok"]);
	},
);

Deno.test("the login user and the application links are in the catalogue document, exported and imported", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const exported = await exportCatalog(deps.db);
	const analyst = exported.configs!.find((c) => c.name === "Analyst")!;
	assert.equal(analyst.loginUser, "ec2-user", "the default login user");
	const doc = {
		...exported,
		configs: exported.configs!.map((c) =>
			c.name === "Analyst" ? { ...c, loginUser: "ubuntu", customUrlFormat: "Jupyter | https://{{{ URL }}}:8888/" } : c
		),
	};
	await importCatalog(deps.db, doc);
	const saved = await getConfig(deps.db, world.config.id);
	assert.deepEqual([saved?.loginUser, saved?.customUrlFormat], ["ubuntu", "Jupyter | https://{{{ URL }}}:8888/"]);
	// Not a user name: refused, nothing changed.
	const bad = {
		...doc,
		configs: doc.configs.map((c) => c.name === "Analyst" ? { ...c, loginUser: "root; rm -rf /" } : c),
	};
	await assert.rejects(importCatalog(deps.db, bad), /A Linux user name/);
	assert.equal((await getConfig(deps.db, world.config.id))?.loginUser, "ubuntu");
});
