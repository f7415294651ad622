/**
 * The catalogue from a folder (README "The catalogue from a folder"): `./mliy catalog:sync` loads
 * fixtures/catalog (catalog.yaml, one file per configuration naming its template and script)
 * through the admin import, says per item what it adds, changes or leaves, writes nothing on a dry
 * run or when nothing changes, and refuses a bad folder whole; `./mliy catalog:export` writes such a
 * folder, which syncs back to no change; CATALOG_FOLDER does the sync at start.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { exportCatalog, importCatalog } from "../lib/catalog/document.ts";
import { describeFolderSync, readCatalogFolder, syncCatalogFolder } from "../lib/catalog/folder.ts";
import { saveParam } from "../lib/catalog/save.ts";
import { SECRET_PLACEHOLDER } from "../lib/catalog/secrets.ts";
import { getConfigByName, listConfigs, paramByToken } from "../lib/db/catalog.ts";
import { auditEvents } from "../lib/db/schema.ts";
import { unseal } from "../lib/sealed.ts";
import { UserError } from "../lib/errors.ts";
import { rejection } from "./_helpers/assert.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { seedWorld } from "./_helpers/world.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SAMPLE = `${ROOT}fixtures/catalog`;

/** Runs `./mliy catalog:<mode>` as the operator would, against the test's database: exit code and output. */
async function mliy(deps: TestDeps, mode: "sync" | "export", args: string[]) {
	const out = await new Deno.Command(Deno.execPath(), {
		args: ["run", "-P", "scripts/catalog_folder.ts", mode, ...args],
		cwd: ROOT,
		env: { MLIY_DATABASE_URL: `file:${deps.dir}/test.db`, MLIY_LOG_LOCATION: `${deps.dir}/logs` },
		stdout: "piped",
		stderr: "piped",
	}).output();
	const decode = (b: Uint8Array) => new TextDecoder().decode(b);
	return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** A copy of the sample folder to change. */
async function copyOfSample(deps: TestDeps): Promise<string> {
	const folder = `${deps.dir}/catalog`;
	for (const sub of ["", "/configs", "/templates", "/scripts"]) {
		await Deno.mkdir(`${folder}${sub}`, { recursive: true });
		for await (const entry of Deno.readDir(`${SAMPLE}${sub}`)) {
			if (entry.isFile) await Deno.copyFile(`${SAMPLE}${sub}/${entry.name}`, `${folder}${sub}/${entry.name}`);
		}
	}
	return folder;
}

async function syncAudits(deps: TestDeps) {
	return await deps.db.select().from(auditEvents).where(eq(auditEvents.action, "catalog-sync"));
}

const SAMPLE_ITEMS = [
	"instance type m4.large",
	"instance type r4.xlarge",
	"instance type t2.micro",
	"security group sg-0a1b2c3d4e5f60001",
	"security group sg-0a1b2c3d4e5f60002",
	"param SNAPSHOT_ID",
	"group data-science",
	"configuration MLiy Analyst",
	"configuration Spark cluster",
];

Deno.test("catalog:sync --dry-run lists what the sample folder would add and writes nothing; the real run applies it, and a second changes nothing", async () => {
	await using deps = await createTestDeps();
	const before = await exportCatalog(deps.db);

	const dry = await mliy(deps, "sync", ["--dry-run", "fixtures/catalog"]);
	assert.equal(dry.code, 0, dry.stderr);
	for (const item of SAMPLE_ITEMS) assert.match(dry.stdout, new RegExp(`^\\+ ${item}: added$`, "m"), item);
	assert.match(dry.stdout, /9 added, 0 changed, 0 unchanged, 0 not in the folder: dry run, nothing written/);
	assert.deepEqual(await exportCatalog(deps.db), before, "a dry run writes nothing");
	assert.equal((await syncAudits(deps)).length, 0);

	const run = await mliy(deps, "sync", ["fixtures/catalog/"]);
	assert.equal(run.code, 0, run.stderr);
	assert.match(run.stdout, /^\+ configuration MLiy Analyst: added$/m);
	assert.match(run.stdout, /9 added, 0 changed, 0 unchanged, 0 not in the folder: applied/);
	const analyst = (await getConfigByName(deps.db, "MLiy Analyst"))!;
	assert.equal(
		analyst.templateBody,
		await Deno.readTextFile(`${SAMPLE}/templates/instance.yaml`),
		"the named template",
	);
	assert.equal(analyst.userDataBody, await Deno.readTextFile(`${SAMPLE}/scripts/analyst.sh`), "the named script");
	assert.equal(analyst.volumeSizeGb, 100);
	const spark = (await getConfigByName(deps.db, "Spark cluster"))!;
	assert.equal(spark.kind, "cluster");
	assert.equal(spark.userDataBody, "", "no script named: none");
	const audits = await syncAudits(deps);
	assert.deepEqual(audits.map((a) => [a.actor, a.resourceKind, a.resourceId, a.outcome]), [
		["command line", "catalog", "fixtures/catalog", "ok"],
	]);
	assert.match(
		audits[0]!.detail,
		/^9 added, 0 changed, 0 unchanged, 0 not in the document: .*configuration MLiy Analyst added/,
	);

	const applied = await exportCatalog(deps.db);
	const again = await mliy(deps, "sync", ["fixtures/catalog"]);
	assert.equal(again.code, 0, again.stderr);
	for (const item of SAMPLE_ITEMS) assert.match(again.stdout, new RegExp(`^= ${item}: unchanged$`, "m"), item);
	assert.match(again.stdout, /0 added, 0 changed, 9 unchanged, 0 not in the folder: no change, nothing written/);
	assert.deepEqual(await exportCatalog(deps.db), applied);
	assert.equal((await syncAudits(deps)).length, 1, "a run that changes nothing is not a change to audit");
});

Deno.test("a sync says which items a changed folder changes, and keeps what the folder does not name", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await syncCatalogFolder(deps, SAMPLE, { dryRun: false, origin: { actorId: null, actor: "test" } });
	const folder = await copyOfSample(deps);
	await Deno.writeTextFile(`${folder}/scripts/analyst.sh`, "#!/bin/bash\necho changed\n");
	const catalog = await Deno.readTextFile(`${folder}/catalog.yaml`);
	await Deno.writeTextFile(
		`${folder}/catalog.yaml`,
		catalog.replace("Small general purpose", '"Small, general purpose"') +
			"users:\n  - { username: newcomer, groups: [data-science] }\n",
	);

	await Deno.writeTextFile(`${folder}/templates/unused.yaml`, "Resources: {}\n");

	const dry = await syncCatalogFolder(deps, folder, { dryRun: true, origin: { actorId: null, actor: "test" } });
	const report = describeFolderSync(dry);
	assert.match(report, /^~ configuration MLiy Analyst: changed$/m);
	assert.match(report, /^= configuration Spark cluster: unchanged$/m);
	assert.match(report, /^\+ user newcomer: added$/m);
	assert.match(report, /^\? group science: not in the folder \(kept\)$/m);
	assert.match(report, /^! templates\/unused\.yaml: named by no configuration \(not loaded\)$/m);
	assert.match(report, /: dry run, nothing written \(run without --dry-run to apply\)$/);
	const by = (change: string) => dry.changes.filter((c) => c.change === change).map((c) => `${c.what} ${c.key}`);
	assert.deepEqual(by("changed"), ["instance type t2.micro", "configuration MLiy Analyst"]);
	assert.deepEqual(by("added"), ["user newcomer"]);
	assert.ok(by("unchanged").includes("configuration Spark cluster"));
	assert.ok(by("absent").includes(`group ${world.science.name}`), "the seeded group is not in the folder");
	assert.ok(by("absent").includes("user alice"));
	assert.match(report, /^\? user alice: not in the folder \(kept\)$/m);
	// Many stored items the folder does not name (users who signed in) are counted, not listed one by one.
	const users = Array.from({ length: 12 }, (_, i) => ({ username: `reader${String(i).padStart(2, "0")}` }));
	await importCatalog(deps.db, { version: 1, users });
	const again = await syncCatalogFolder(deps, folder, { dryRun: true, origin: { actorId: null, actor: "test" } });
	const many = describeFolderSync(again);
	assert.match(many, /^\? 17 users: not in the folder \(kept\), among them ada, alice, bob, /m);
	assert.doesNotMatch(many, /^\? user /m);
	assert.equal(dry.written, false);
	assert.notEqual((await getConfigByName(deps.db, "MLiy Analyst"))!.userDataBody, "#!/bin/bash\necho changed\n");

	const run = await syncCatalogFolder(deps, folder, { dryRun: false, origin: { actorId: null, actor: "test" } });
	assert.deepEqual(run.changes, again.changes, "the run does what the dry run said");
	assert.equal(run.written, true);
	assert.equal((await getConfigByName(deps.db, "MLiy Analyst"))!.userDataBody, "#!/bin/bash\necho changed\n");
	assert.ok((await listConfigs(deps.db)).length > 2, "the seeded configurations are kept");
});

Deno.test("catalog:export writes a folder that syncs back to no change, secret params only as the placeholder", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	await syncCatalogFolder(deps, SAMPLE, { dryRun: false, origin: { actorId: null, actor: "test" } });
	await saveParam(deps.db, deps.paramsKey, undefined, {
		token: "DnsApiKey",
		value: "the-real-dns-key",
		description: "the DNS provider's key",
		secret: true,
	});
	const folder = `${deps.dir}/exported`;
	await Deno.mkdir(`${folder}/configs`, { recursive: true });
	await Deno.writeTextFile(`${folder}/configs/removed-since.yaml`, "name: gone\n");
	await Deno.writeTextFile(`${folder}/README.md`, "kept\n");

	const exported = await mliy(deps, "export", [folder]);
	assert.equal(exported.code, 0, exported.stderr);
	assert.match(exported.stdout, /catalog:export: wrote \d+ files to .*exported/);
	const files: string[] = [];
	let text = "";
	for (const sub of ["", "configs", "templates", "scripts"]) {
		for await (const entry of Deno.readDir(`${folder}/${sub}`)) {
			if (!entry.isFile) continue;
			files.push(sub ? `${sub}/${entry.name}` : entry.name);
			text += await Deno.readTextFile(`${folder}/${sub}/${entry.name}`);
		}
	}
	assert.ok(files.includes("catalog.yaml") && files.includes("configs/mliy-analyst.yaml"), files.join(", "));
	assert.ok(files.includes("README.md"), "other files are left alone");
	assert.ok(!files.includes("configs/removed-since.yaml"), "a configuration since removed is removed");
	assert.ok(!text.includes("the-real-dns-key"), "no secret in the folder");
	assert.ok(text.includes(SECRET_PLACEHOLDER));
	const { document } = await readCatalogFolder(folder);
	assert.equal(document.configs.length, (await listConfigs(deps.db)).length, "every configuration has its file");

	const before = await exportCatalog(deps.db);
	const sync = await mliy(deps, "sync", [folder]);
	assert.equal(sync.code, 0, sync.stderr);
	assert.match(sync.stdout, /0 added, 0 changed, \d+ unchanged, 0 not in the folder: no change, nothing written/);
	assert.deepEqual(await exportCatalog(deps.db), before);
	const stored = (await paramByToken(deps.db, "DnsApiKey"))!;
	assert.equal(await unseal(deps.paramsKey, stored.value, "DnsApiKey"), "the-real-dns-key", "the placeholder kept it");

	// A new value in the folder is a change; the placeholder for a secret the portal does not hold is refused.
	const catalog = await Deno.readTextFile(`${folder}/catalog.yaml`);
	await Deno.writeTextFile(`${folder}/catalog.yaml`, catalog.replace(SECRET_PLACEHOLDER, "a-new-dns-key"));
	const rotated = await syncCatalogFolder(deps, folder, { dryRun: false, origin: { actorId: null, actor: "test" } });
	assert.deepEqual(rotated.changes.filter((c) => c.change === "changed").map((c) => c.key), ["DnsApiKey"]);
	const rotatedRow = (await paramByToken(deps.db, "DnsApiKey"))!;
	assert.equal(await unseal(deps.paramsKey, rotatedRow.value, "DnsApiKey"), "a-new-dns-key");
	await using fresh = await createTestDeps();
	await Deno.writeTextFile(`${folder}/catalog.yaml`, catalog);
	const refused = await rejection(
		syncCatalogFolder(fresh, folder, { dryRun: false, origin: { actorId: null, actor: "test" } }),
	);
	assert.match(refused.message, /catalog\.yaml: params\[\d+\]: value: The document has the placeholder/);
	assert.deepEqual((await exportCatalog(fresh.db)).configs, [], "nothing of the folder was written");
});

Deno.test("a broken folder changes nothing and says which file is wrong and why", async () => {
	await using deps = await createTestDeps();
	await syncCatalogFolder(deps, SAMPLE, { dryRun: false, origin: { actorId: null, actor: "test" } });
	const before = await exportCatalog(deps.db);
	const folder = await copyOfSample(deps);
	const analyst = await Deno.readTextFile(`${folder}/configs/analyst.yaml`);
	const catalog = await Deno.readTextFile(`${folder}/catalog.yaml`);
	const restore = async () => {
		await Deno.writeTextFile(`${folder}/configs/analyst.yaml`, analyst);
		await Deno.writeTextFile(`${folder}/catalog.yaml`, catalog);
		for (const copy of ["copy.yaml", "copy.json"]) await Deno.remove(`${folder}/configs/${copy}`).catch(() => {});
	};
	const cases: [string, () => Promise<void>, RegExp][] = [
		[
			"a template that is not there",
			() => Deno.writeTextFile(`${folder}/configs/analyst.yaml`, analyst.replace("instance.yaml", "nowhere.yaml")),
			/configs\/analyst\.yaml: template "nowhere\.yaml" is not in templates\//,
		],
		[
			"a script path out of the folder",
			() => Deno.writeTextFile(`${folder}/configs/analyst.yaml`, analyst.replace("analyst.sh", "../../etc/passwd")),
			/configs\/analyst\.yaml: script must be the name of a file in scripts\//,
		],
		[
			"invalid YAML",
			() => Deno.writeTextFile(`${folder}/configs/analyst.yaml`, analyst + "\n  : [unclosed\n"),
			/configs\/analyst\.yaml is not valid YAML/,
		],
		[
			"invalid JSON",
			() => Deno.writeTextFile(`${folder}/configs/copy.json`, '{"name": "x",'),
			/configs\/copy\.json is not valid JSON/,
		],
		[
			"an unknown field of a configuration",
			() => Deno.writeTextFile(`${folder}/configs/analyst.yaml`, analyst.replace("amiId:", "amiID:")),
			/configs\/analyst\.yaml: unknown field "amiID" \(known: name, kind, amiId,/,
		],
		[
			"an unknown field in catalog.yaml",
			() => Deno.writeTextFile(`${folder}/catalog.yaml`, catalog.replace("keyName:", "keyname:")),
			/catalog\.yaml: groups\[0\]: unknown field "keyname"/,
		],
		[
			"another version",
			() => Deno.writeTextFile(`${folder}/catalog.yaml`, catalog.replace("version: 1", "version: 2")),
			/^catalog\.yaml: version must be 1$/,
		],
		[
			"configurations in catalog.yaml",
			() => Deno.writeTextFile(`${folder}/catalog.yaml`, catalog + "configs: []\n"),
			/catalog\.yaml: configurations go in configs\//,
		],
		[
			"two files with one configuration",
			() => Deno.copyFile(`${folder}/configs/analyst.yaml`, `${folder}/configs/copy.yaml`),
			/configs\/analyst\.yaml and configs\/copy\.yaml both define the configuration "MLiy Analyst"/,
		],
		[
			"a value the import refuses",
			() => Deno.writeTextFile(`${folder}/configs/analyst.yaml`, analyst.replace(/amiId: .*/, "amiId: not-an-ami")),
			/configs\/analyst\.yaml: amiId: Looks like ami-/,
		],
		[
			"a reference the import cannot resolve",
			() => Deno.writeTextFile(`${folder}/configs/analyst.yaml`, analyst.replace("[data-science]", "[nobody]")),
			/configs\/analyst\.yaml: unknown group "nobody"/,
		],
		[
			"a template the import refuses",
			() => Deno.writeTextFile(`${folder}/configs/analyst.yaml`, analyst.replace("instance.yaml", "emr_cluster.yaml")),
			/configs\/analyst\.yaml: template: The template must declare the parameters the portal sends/,
		],
		[
			"no catalog.yaml",
			() => Deno.remove(`${folder}/catalog.yaml`),
			/has no catalog\.yaml \(or catalog\.json\)/,
		],
	];
	for (const [what, breakIt, message] of cases) {
		await breakIt();
		const error = await rejection(
			syncCatalogFolder(deps, folder, { dryRun: false, origin: { actorId: null, actor: "test" } }),
		);
		assert.ok(error instanceof UserError && error.status === 422, `${what}: ${error.stack}`);
		assert.match(error.message, message, `${what}: ${error.message}`);
		assert.deepEqual(await exportCatalog(deps.db), before, `${what}: nothing changed`);
		await restore();
	}
	// An empty section ("users:" with nothing under it) is no section.
	await Deno.writeTextFile(`${folder}/catalog.yaml`, catalog + "users:\n");
	const empty = await syncCatalogFolder(deps, folder, { dryRun: true, origin: { actorId: null, actor: "test" } });
	assert.ok(empty.changes.every((c) => c.change === "unchanged"));
	await restore();
	const missing = await rejection(
		syncCatalogFolder(deps, `${deps.dir}/nowhere`, { dryRun: false, origin: { actorId: null, actor: "test" } }),
	);
	assert.match(missing.message, /nowhere does not exist/);

	// The command: exit code 1, the reason on stderr, nothing on stdout, nothing changed.
	await Deno.writeTextFile(`${folder}/configs/analyst.yaml`, analyst.replace("instance.yaml", "nowhere.yaml"));
	await Deno.writeTextFile(`${folder}/scripts/analyst.sh`, "#!/bin/bash\necho a change that must not land\n");
	const refused = await mliy(deps, "sync", [folder]);
	assert.equal(refused.code, 1);
	assert.match(
		refused.stderr,
		/catalog:sync: configs\/analyst\.yaml: template "nowhere\.yaml" is not in templates\/; nothing was changed/,
	);
	assert.equal(refused.stdout, "");
	assert.deepEqual(await exportCatalog(deps.db), before);
	assert.equal((await syncAudits(deps)).length, 1, "only the first, good sync is audited");
	const usage = await mliy(deps, "sync", []);
	assert.equal(usage.code, 2);
	assert.match(usage.stderr, /usage: \.\/mliy catalog:sync \[--dry-run\] <folder>/);
});

Deno.test("CATALOG_FOLDER syncs the folder once at start; a folder that cannot be loaded stops the start", async () => {
	await using deps = await createTestDeps({ settings: { CATALOG_FOLDER: SAMPLE } });
	assert.deepEqual((await listConfigs(deps.db)).map((c) => c.name), ["MLiy Analyst", "Spark cluster"]);
	assert.deepEqual((await syncAudits(deps)).map((a) => [a.actor, a.resourceId]), [["start (CATALOG_FOLDER)", SAMPLE]]);

	const broken = `${deps.dir}/broken`;
	await Deno.mkdir(broken);
	await Deno.writeTextFile(`${broken}/catalog.yaml`, "version: 1\ninstanceTypes: [{ name: t3.micro, size: 2 }]\n");
	const error = await rejection(createTestDeps({ settings: { CATALOG_FOLDER: broken } }));
	assert.equal(error.name, "ConfigError");
	assert.match(
		error.message,
		/^CATALOG_FOLDER .*broken cannot be synced, nothing was changed: catalog\.yaml: instanceTypes\[0\]: unknown field "size"/,
	);
});

Deno.test("the folder's document is the admin import's: importing it gives what the sync gives", async () => {
	await using synced = await createTestDeps();
	await syncCatalogFolder(synced, SAMPLE, { dryRun: false, origin: { actorId: null, actor: "test" } });
	await using imported = await createTestDeps();
	await importCatalog(imported.db, (await readCatalogFolder(SAMPLE)).document);
	assert.deepEqual(await exportCatalog(imported.db), await exportCatalog(synced.db));
});

Deno.test("the admin import is audited the same way: a change once, an import that changes nothing not at all", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const document = JSON.stringify((await readCatalogFolder(SAMPLE)).document);
	const first = await request(deps.app, "/admin/catalog", { user: "ada", form: { document } });
	assert.equal(first.status, 200);
	assert.match(await first.text(), /Imported: \d+ created, \d+ updated\./);
	const again = await request(deps.app, "/admin/catalog", { user: "ada", form: { document } });
	assert.match(await again.text(), /Imported: 0 created, 9 updated\./);
	const audits = await deps.db.select().from(auditEvents).where(eq(auditEvents.action, "catalog-import"));
	assert.deepEqual(audits.map((a) => [a.actor, a.resourceId, a.outcome]), [["ada", "admin import", "ok"]]);
	assert.match(audits[0]!.detail, /configuration MLiy Analyst added/);
});

Deno.test("the sample folder's templates and script are the shipped ones, byte for byte", async () => {
	const pairs = [
		["fixtures/catalog/templates/instance.yaml", "fixtures/templates/instance.yaml"],
		["fixtures/catalog/templates/emr_cluster.yaml", "fixtures/templates/emr_cluster.yaml"],
		["fixtures/catalog/scripts/analyst.sh", "fixtures/bootstrap/sample_bootstrap.sh"],
	];
	for (const [copy, shipped] of pairs) {
		assert.equal(await Deno.readTextFile(copy!), await Deno.readTextFile(shipped!), `${copy} is a copy of ${shipped}`);
	}
});
