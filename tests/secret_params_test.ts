/**
 * Secret params (the original's key table): stored sealed, never shown after saving, exported as a
 * placeholder that an import keeps, never put into a bootstrap script, passed to a launch only as the
 * NoEcho stack parameter of their name, readable by plugins, and refused clearly (not a crash) when
 * the portal's key cannot decrypt them.
 */
import assert from "node:assert/strict";
import {
	CloudFormationClient,
	DescribeStacksCommand,
	GetTemplateCommand,
	type Parameter,
} from "@aws-sdk/client-cloudformation";
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import { eq } from "drizzle-orm";
import { parseTemplate } from "../lib/cfn.ts";
import { SECRET_PLACEHOLDER } from "../lib/catalog/secrets.ts";
import { getConfigByName, listParams } from "../lib/db/catalog.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { params, softwareConfigs } from "../lib/db/schema.ts";
import { closeLogging, configureLogging } from "../lib/log.ts";
import { seal, unseal, UnsealError } from "../lib/sealed.ts";
import { CLUSTER_TEMPLATE, INSTANCE_TEMPLATE } from "../fixtures/mod.ts";
import { rejection } from "./_helpers/assert.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { seedClusterWorld, seedWorld } from "./_helpers/world.ts";

/** Distinct values, so that finding one anywhere means it leaked. */
const SECRET = "dns-Kq7wZp3xTb9rLm2v";
const NEW_SECRET = "dns-Hf4sYc8nWj1eQa6u";
/** A CloudFormation parameter name (alphanumeric), so the launch can pass it. */
const TOKEN = "DnsApiKey";
const admin = { user: "ada" };

/**
 * A shipped template with a NoEcho parameter named after the secret, and a security group whose
 * description is that parameter: what the stack received can be read back from EC2.
 */
const withSecret = (template: string) =>
	template
		.replace("Parameters:\n", `Parameters:\n  ${TOKEN}:\n    Type: String\n    NoEcho: true\n`)
		.replace(
			"Resources:\n",
			`Resources:\n  SecretProbe:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupName: !Sub "\${AWS::StackName}-probe"\n      GroupDescription: !Ref ${TOKEN}\n`,
		);
const SECRET_TEMPLATE = withSecret(INSTANCE_TEMPLATE);

/** Saves a secret param through the admin form; returns its id. */
async function saveSecret(deps: TestDeps, value = SECRET): Promise<number> {
	const res = await request(deps.app, "/admin/params/new", {
		...admin,
		form: { token: TOKEN, value, description: "the DNS provider's API key", secret: "on" },
	});
	assert.equal(res.status, 303, await res.clone().text());
	return (await listParams(deps.db)).find((p) => p.token === TOKEN)!.id;
}

/** The database file and its write-ahead log, as bytes read as text. */
async function databaseBytes(dir: string): Promise<string> {
	let text = "";
	for (const file of ["test.db", "test.db-wal"]) {
		const bytes = await Deno.readFile(`${dir}/${file}`).catch(() => new Uint8Array());
		text += new TextDecoder("latin1").decode(bytes);
	}
	return text;
}

async function readAll(dir: string): Promise<string> {
	let text = "";
	for await (const entry of Deno.readDir(dir)) {
		if (entry.isFile) text += await Deno.readTextFile(`${dir}/${entry.name}`);
	}
	return text;
}

Deno.test("a sealed value opens only with the same secret and the same token, and says why otherwise", async () => {
	const sealed = await seal("portal-secret-one", SECRET, TOKEN);
	assert.match(sealed, /^v1\.[\w-]+\.[\w-]+$/);
	assert.ok(!sealed.includes(SECRET));
	assert.notEqual(await seal("portal-secret-one", SECRET, TOKEN), sealed, "each seal has its own IV");
	assert.equal(await unseal("portal-secret-one", sealed, TOKEN), SECRET);
	for (
		const [secret, text, context] of [
			["portal-secret-two", sealed, TOKEN],
			["portal-secret-one", sealed, "OtherToken"],
			["portal-secret-one", sealed.slice(0, -2) + (sealed.endsWith("AA") ? "BB" : "AA"), TOKEN],
			["portal-secret-one", "not sealed at all", TOKEN],
		]
	) {
		const error = await rejection(unseal(secret!, text!, context!));
		assert.ok(error instanceof UnsealError, String(error));
	}
});

Deno.test("a secret param is kept sealed, never shown after saving, and exported as a placeholder that an import keeps", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const id = await saveSecret(deps);
	await deps.db.insert(params).values({ token: "PLAIN_TOKEN", value: "plain-Value-1234" });

	// Stored sealed: neither the row nor the database file holds the plain text.
	const row = (await listParams(deps.db)).find((p) => p.id === id)!;
	assert.equal(row.secret, true);
	assert.match(row.value, /^v1\./);
	const stored = await databaseBytes(deps.dir);
	assert.ok(stored.includes(row.value.slice(0, 20)), "the sealed value is in the file (the search works)");
	assert.ok(!stored.includes(SECRET), "the plain text is not in the database file");

	// The list says it is set; the form leaves it empty and says an empty value keeps it.
	const list = await (await request(deps.app, "/admin/params", admin)).text();
	assert.match(list, /set \(secret\)/);
	assert.match(list, /plain-Value-1234/, "a param that is not secret is shown as before");
	const form = await (await request(deps.app, `/admin/params/${id}`, admin)).text();
	assert.match(form, /Set; leave empty to keep the saved value/);
	assert.match(form, /name="secret" checked/);
	for (const page of [list, form]) assert.ok(!page.includes(SECRET), "the value is not in the page");

	// Saved again with an empty value: the value is kept (plugins read it through their context).
	const kept = await request(deps.app, `/admin/params/${id}`, {
		...admin,
		form: { token: TOKEN, value: "", description: "still the DNS key", secret: "on" },
	});
	assert.equal(kept.status, 303);
	assert.equal(await deps.plugins.context.secretParam(TOKEN), SECRET);
	assert.equal(await deps.plugins.context.secretParam("PLAIN_TOKEN"), undefined, "only secrets are read so");
	assert.equal(await deps.plugins.context.secretParam("NoSuchToken"), undefined);

	// A refused save does not show the value typed back.
	const refused = await request(deps.app, "/admin/params/new", {
		...admin,
		form: { token: "not a token!", value: NEW_SECRET, secret: "on" },
	});
	assert.equal(refused.status, 422);
	assert.ok(!(await refused.text()).includes(NEW_SECRET), "a refused secret is not echoed");
	const empty = await request(deps.app, "/admin/params/new", { ...admin, form: { token: "Fresh", secret: "on" } });
	assert.equal(empty.status, 422);
	assert.match(await empty.text(), /Enter the secret&#39;s value|Enter the secret's value/);

	// Exports carry the placeholder; importing the export keeps the stored value.
	const json = await (await request(deps.app, "/admin/catalog.json", admin)).text();
	const yaml = await (await request(deps.app, "/admin/catalog.yaml", admin)).text();
	for (const text of [json, yaml]) {
		assert.ok(!text.includes(SECRET), "the value is not exported");
		assert.ok(!text.includes(row.value.slice(3, 20)), "nor is its sealed form");
		assert.ok(text.includes(SECRET_PLACEHOLDER));
	}
	const exported = JSON.parse(json).params.find((p: { token: string }) => p.token === TOKEN);
	assert.deepEqual(exported, {
		token: TOKEN,
		value: SECRET_PLACEHOLDER,
		description: "still the DNS key",
		secret: true,
	});
	const reimport = await request(deps.app, "/admin/catalog", { ...admin, form: { document: json } });
	assert.equal(reimport.status, 200, await reimport.clone().text());
	assert.equal(await deps.plugins.context.secretParam(TOKEN), SECRET, "the import kept the value");

	// A document with a value sets it; a placeholder for a secret this portal does not hold is refused.
	const changed = JSON.parse(json);
	changed.params.find((p: { token: string }) => p.token === TOKEN).value = NEW_SECRET;
	changed.params.push({ token: "Unknown", value: SECRET_PLACEHOLDER, secret: true });
	const unknown = await request(deps.app, "/admin/catalog", { ...admin, form: { document: JSON.stringify(changed) } });
	assert.equal(unknown.status, 422);
	assert.match(await unknown.text(), /this portal holds no value for it/);
	assert.equal(await deps.plugins.context.secretParam(TOKEN), SECRET, "a refused import changes nothing");
	changed.params.pop();
	const set = await request(deps.app, "/admin/catalog", { ...admin, form: { document: JSON.stringify(changed) } });
	assert.equal(set.status, 200);
	assert.equal(await deps.plugins.context.secretParam(TOKEN), NEW_SECRET);
	assert.ok(!(await databaseBytes(deps.dir)).includes(NEW_SECRET), "the imported value is stored sealed");

	// Users never see the params page.
	assert.equal((await request(deps.app, "/admin/params", { user: "alice" })).status, 403);
});

Deno.test("a secret is never put into a bootstrap script nor a template parameter without NoEcho: both refused at save", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await saveSecret(deps);
	const base = {
		name: "Uses the key",
		kind: "instance",
		amiId: "ami-0123456789abcdef0",
		templateBody: SECRET_TEMPLATE,
		userDataBody: "#!/bin/bash\necho configured",
		compatibleTypes: [String(world.types["t2.micro"]!.id)],
		permittedGroups: [String(world.science.id)],
	};
	const inScript = await request(deps.app, "/admin/configs/new", {
		...admin,
		form: { ...base, userDataBody: `#!/bin/bash\nexport KEY='{{{${TOKEN}}}}'` },
	});
	assert.equal(inScript.status, 422);
	assert.match(await inScript.text(), /is a secret param, and secrets are never put into a bootstrap script/);
	const clear = await request(deps.app, "/admin/configs/new", {
		...admin,
		form: { ...base, templateBody: SECRET_TEMPLATE.replace("    NoEcho: true\n", "") },
	});
	assert.equal(clear.status, 422);
	assert.match(await clear.text(), /declares DnsApiKey without NoEcho: true/);
	assert.equal(await getConfigByName(deps.db, "Uses the key"), undefined, "nothing saved");
	const ok = await request(deps.app, "/admin/configs/new", { ...admin, form: base });
	assert.equal(ok.status, 303, await ok.clone().text());

	// The other way round: a param cannot become secret while a configuration uses it in clear.
	await request(deps.app, "/admin/params/new", { ...admin, form: { token: "LICENSE", value: "lic-123456789" } });
	const license = (await listParams(deps.db)).find((p) => p.token === "LICENSE")!;
	await deps.db.update(softwareConfigs).set({ userDataBody: "#!/bin/bash\necho '{{{LICENSE}}}'" }).where(
		eq(softwareConfigs.id, world.config.id),
	);
	const marked = await request(deps.app, `/admin/params/${license.id}`, {
		...admin,
		form: { token: "LICENSE", value: "", secret: "on" },
	});
	assert.equal(marked.status, 422);
	assert.match(await marked.text(), /LICENSE cannot be secret while &quot;Analyst&quot; would use it in clear/);
	assert.equal((await listParams(deps.db)).find((p) => p.token === "LICENSE")!.secret, false);
});

Deno.test("a secret this portal's key cannot decrypt is reported, not a crash: the page says so, plugins and launches are refused", async () => {
	await using source = await createTestDeps();
	await seedWorld(source.db);
	await saveSecret(source);
	const sealed = (await listParams(source.db)).find((p) => p.token === TOKEN)!;

	// The same rows in another portal (another secret): a database restored under a new key.
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	assert.notEqual(deps.secret, source.secret);
	await deps.db.insert(params).values({ token: TOKEN, value: sealed.value, description: "", secret: true });
	await deps.db.update(softwareConfigs).set({ templateBody: SECRET_TEMPLATE }).where(
		eq(softwareConfigs.id, world.config.id),
	);
	const id = (await listParams(deps.db)).find((p) => p.token === TOKEN)!.id;

	const list = await request(deps.app, "/admin/params", admin);
	assert.equal(list.status, 200);
	assert.match(await list.text(), /set, but cannot be decrypted with this portal&#39;s key|cannot be decrypted/);
	const form = await (await request(deps.app, `/admin/params/${id}`, admin)).text();
	assert.match(form, /The saved value cannot be decrypted with this portal/);
	const error = await rejection(deps.plugins.context.secretParam(TOKEN));
	assert.match(String(error), /The secret param DnsApiKey cannot be decrypted with this portal's key/);

	const launch = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		headers: { Accept: "application/json" },
		form: { intent: "launch", instanceType: "t2.micro" },
	});
	assert.equal(launch.status, 409);
	assert.match(await launch.text(), /DnsApiKey cannot be decrypted with this portal's key.*set its value again/);

	// Kept with an empty value is refused; a new value is sealed under this portal's key.
	const keep = await request(deps.app, `/admin/params/${id}`, {
		...admin,
		form: { token: TOKEN, value: "", secret: "on" },
	});
	assert.equal(keep.status, 422);
	const again = await request(deps.app, `/admin/params/${id}`, {
		...admin,
		form: { token: TOKEN, value: NEW_SECRET, secret: "on" },
	});
	assert.equal(again.status, 303);
	assert.equal(await deps.plugins.context.secretParam(TOKEN), NEW_SECRET);
});

motoTest(
	"a launch at DEBUG: the secret reaches the stack only as its NoEcho parameter, never the user data, the logs or the pages",
	async (moto) => {
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
		});
		const logs = `${deps.dir}/logs`;
		await configureLogging({ LOG_LOCATION: logs, WEB_LOG_LEVEL: "DEBUG", LAUNCH_LOG_LEVEL: "DEBUG" }, {
			console: false,
		});
		const world = await seedWorld(deps.db);
		await deps.db.update(softwareConfigs).set({ templateBody: SECRET_TEMPLATE }).where(
			eq(softwareConfigs.id, world.config.id),
		);
		const pages: string[] = [];
		let stackId: string;
		try {
			const paramId = await saveSecret(deps);
			const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
				user: "alice",
				form: { intent: "launch", instanceType: "t2.micro" },
			});
			assert.equal(res.status, 303, await res.clone().text());
			const launchPage = res.headers.get("Location")!;
			const launchId = launchPage.split("/").pop()!;
			await deps.background.idle();
			await tick(deps);
			const launch = (await getLaunch(deps.db, launchId))!;
			assert.equal(launch.status, "complete", launch.reason ?? launch.step);
			stackId = launch.stackId!;
			for (
				const [path, as] of [
					[launchPage, "alice"],
					["/", "alice"],
					["/admin/params", "ada"],
					[`/admin/params/${paramId}`, "ada"],
					[`/admin/configs/${world.config.id}`, "ada"],
					["/admin/catalog.json", "ada"],
					["/admin/catalog.yaml", "ada"],
				] as const
			) {
				const page = await request(deps.app, path, { user: as });
				assert.equal(page.status, 200, path);
				pages.push(await page.text());
			}
		} finally {
			await closeLogging();
		}
		for (const page of pages) assert.ok(!page.includes(SECRET), "no page shows the secret");
		const logged = await readAll(logs);
		assert.match(logged, /CreateStack ok/, "the logs recorded the launch (the check is not vacuous)");
		assert.ok(!logged.includes(SECRET), "no log line holds the secret");

		// What CloudFormation holds: the secret only in the parameter its template declares NoEcho.
		const cfn = new CloudFormationClient({
			endpoint: moto.url,
			region: "us-east-1",
			credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
		});
		const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks!;
		const body = (await cfn.send(new GetTemplateCommand({ StackName: stackId }))).TemplateBody!;
		cfn.destroy();
		const declared = parseTemplate(body);
		assert.ok(declared.ok);
		const carrying = (stack!.Parameters ?? []).filter((p: Parameter) =>
			p.ParameterValue === SECRET || p.ParameterValue === "****" && p.ParameterKey === TOKEN
		);
		assert.deepEqual(carrying.map((p) => p.ParameterKey), [TOKEN], "one parameter carries the secret");
		assert.equal(declared.parameters[TOKEN]?.noEcho, true, "and the stack's template declares it NoEcho");
		// moto 5.2 compares values, not keys, with its NoEcho list, so DescribeStacks shows the value that
		// CloudFormation shows as ****: hence the check above on the stack's own template.
		const userData = stack!.Parameters!.find((p) => p.ParameterKey === "UserData")!.ParameterValue!;
		const script = new TextDecoder().decode(Uint8Array.from(atob(userData), (c) => c.charCodeAt(0)));
		assert.match(script, /#!\/bin\/bash/, "the user data was decoded");
		assert.ok(!script.includes(SECRET), "the secret is not in the user data");

		// And it reached the stack: the probe resource made from the parameter holds it.
		const probes = await moto.ec2().send(
			new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [`${stack!.StackName}-probe`] }] }),
		);
		assert.equal(probes.SecurityGroups?.[0]?.Description, SECRET);
	},
);

motoTest("a cluster launch passes the secret to its template's NoEcho parameter too", async (moto) => {
	await using deps = await createTestDeps({
		awsEndpoint: moto.url,
		realClock: true,
		settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
	});
	const world = await seedClusterWorld(deps.db);
	await deps.db.update(softwareConfigs).set({ templateBody: withSecret(CLUSTER_TEMPLATE) }).where(
		eq(softwareConfigs.id, world.spark.id),
	);
	await saveSecret(deps);
	const res = await request(deps.app, `/launch/${world.emrGroup.id}/${world.spark.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "m4.large", purpose: "Secret check", coreNodes: "2", market: "ON_DEMAND" },
	});
	assert.equal(res.status, 303, await res.clone().text());
	await tick(deps);
	const launch = (await getLaunch(deps.db, res.headers.get("Location")!.split("/").pop()!))!;
	assert.ok(launch.stackId, launch.reason ?? launch.step);
	const cfn = new CloudFormationClient({
		endpoint: moto.url,
		region: "us-east-1",
		credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
	});
	const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: launch.stackId }))).Stacks!;
	cfn.destroy();
	const carrying = (stack!.Parameters ?? []).filter((p) => p.ParameterValue === SECRET || p.ParameterValue === "****");
	assert.deepEqual(carrying.map((p) => p.ParameterKey), [TOKEN]);
	const probes = await moto.ec2().send(
		new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [`${stack!.StackName}-probe`] }] }),
	);
	assert.equal(probes.SecurityGroups?.[0]?.Description, SECRET);
});

Deno.test("with SECRET_PARAMS_KEY the key is the operator's: the same database opens the secret with that key only", async () => {
	const key = "operator-key-Vb3nM6qW9eR2tY5uI8oP1aS4";
	await using first = await createTestDeps({ settings: { SECRET_PARAMS_KEY: key } });
	await seedWorld(first.db);
	await saveSecret(first);
	assert.equal(first.paramsKey, key);
	assert.equal(await first.plugins.context.secretParam(TOKEN), SECRET);
	const database = `file:${first.dir}/test.db`;
	{
		// The portal's own secret, which the database holds, does not open it.
		await using without = await createTestDeps({ settings: { DATABASE_URL: database } });
		assert.equal(without.secret, first.secret, "the same database, so the same portal secret");
		assert.match(String(await rejection(without.plugins.context.secretParam(TOKEN))), /cannot be decrypted/);
	}
	{
		await using other = await createTestDeps({
			settings: { DATABASE_URL: database, SECRET_PARAMS_KEY: "another-key-Zx8cV5bN2mQ7wE4rT1yU6iO3" },
		});
		assert.match(String(await rejection(other.plugins.context.secretParam(TOKEN))), /cannot be decrypted/);
	}
	await using same = await createTestDeps({ settings: { DATABASE_URL: database, SECRET_PARAMS_KEY: key } });
	assert.equal(await same.plugins.context.secretParam(TOKEN), SECRET);
});
