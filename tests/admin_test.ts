/** The admin pages: admins only; server-side validation with field errors; refused deletes; import/export. */
import assert from "node:assert/strict";
import { exportCatalog, formatCatalog, importCatalog, parseCatalog } from "../lib/catalog/document.ts";
import {
	getConfig,
	getConfigByName,
	getGroup,
	getGroupByName,
	listGroups,
	listSecurityGroups,
	permittedGroupIds,
} from "../lib/db/catalog.ts";
import { listMemberships } from "../lib/db/users.ts";
import { insertVolume } from "../lib/db/volumes.ts";
import { INSTANCE_TEMPLATE } from "../fixtures/mod.ts";
import { GroupFormPage } from "../routes/admin/groups.tsx";
import { UsersPage } from "../routes/admin/users.tsx";
import type { PageContext } from "../routes/ui/Layout.tsx";
import { renderPage } from "../routes/ui/render.tsx";
import { seedDemo } from "../scripts/demo_data.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { PRICING_FILES } from "./_helpers/pricing_file.ts";
import { addCluster, addConfig, addGroup, addInstance, seedWorld } from "./_helpers/world.ts";

Deno.test("admin pages are for admins only, checked on the server for every route", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	for (const path of ["/admin", "/admin/groups", "/admin/configs/new", "/admin/catalog.json"]) {
		assert.equal((await request(deps.app, path, { user: "alice" })).status, 403, path);
		assert.equal((await request(deps.app, path, { user: "mia" })).status, 403, `manager on ${path}`);
		assert.equal((await request(deps.app, path, { user: "ada" })).status, 200, `admin on ${path}`);
	}
	const post = await request(deps.app, "/admin/groups/new", { user: "alice", form: { name: "sneaky" } });
	assert.equal(post.status, 403);
	assert.equal(await getGroupByName(deps.db, "sneaky"), undefined);
});

Deno.test("an admin creates a group through the form; bad input re-renders with field errors and changes nothing", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const bad = await request(deps.app, "/admin/groups/new", {
		user: "ada",
		form: {
			name: "<b>x</b>",
			iamInstanceProfile: "bad profile!",
			settings: "cluster_auto_termination_minutes=soon",
			defaultSecurityGroups: [String(world.sgDefault.id)],
			optionalSecurityGroups: [String(world.sgDefault.id)],
		},
	});
	assert.equal(bad.status, 422);
	const html = await bad.text();
	assert.match(html, /Letters, digits, spaces and/);
	assert.match(html, /Letters, digits and \+=,.@_- only/);
	assert.match(html, /must be a whole number of minutes/);
	assert.match(html, /cannot be both default and optional/);
	assert.match(html, /value="&lt;b>x&lt;\/b>"/, "the bad value is shown escaped");
	assert.equal((await listGroups(deps.db)).length, 2);

	const ok = await request(deps.app, "/admin/groups/new", {
		user: "ada",
		form: {
			name: "research",
			costCenter: "CC-77",
			emrAccess: "on",
			settings: "cluster_auto_termination_minutes=90",
			defaultSecurityGroups: [String(world.sgDefault.id)],
		},
	});
	assert.equal(ok.status, 303);
	const created = (await getGroupByName(deps.db, "research"))!;
	assert.equal(created.costCenter, "CC-77");
	assert.equal(created.emrAccess, true);
	const duplicate = await request(deps.app, "/admin/groups/new", { user: "ada", form: { name: "research" } });
	assert.equal(duplicate.status, 422);
	assert.match(await duplicate.text(), /Another group already uses this/);
});

Deno.test("a configuration's template must declare the portal's parameters, and its description is sanitized", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const base = {
		name: "Sanitized",
		kind: "instance",
		amiId: "ami-0123456789abcdef0",
		userDataBody: "#!/bin/bash\necho hi",
		compatibleTypes: [String(world.types["t2.micro"]!.id)],
		permittedGroups: [String(world.science.id)],
		descriptionHtml: '<p onclick="steal()">Hello<script>alert(1)</script><a href="javascript:alert(2)">x</a></p>',
	};
	const missing = await request(deps.app, "/admin/configs/new", {
		user: "ada",
		form: {
			...base,
			templateBody: '{"Parameters":{"ImageId":{"Type":"String"}},"Resources":{"I":{"Type":"AWS::EC2::Instance"}}}',
		},
	});
	assert.equal(missing.status, 422);
	assert.match(await missing.text(), /missing: KeyName, InstanceType/);
	const notYaml = await request(deps.app, "/admin/configs/new", {
		user: "ada",
		form: { ...base, templateBody: "{ not: [json" },
	});
	assert.equal(notYaml.status, 422);

	const ok = await request(deps.app, "/admin/configs/new", {
		user: "ada",
		form: { ...base, templateBody: INSTANCE_TEMPLATE },
	});
	assert.equal(ok.status, 303, await ok.clone().text());
	const saved = (await getConfigByName(deps.db, "Sanitized"))!;
	assert.equal(saved.descriptionHtml, `<p>Hello<a rel="noopener noreferrer" target="_blank">x</a></p>`);
	const catalogue = await (await request(deps.app, `/launch/${world.science.id}`, { user: "alice" })).text();
	assert.doesNotMatch(catalogue, /<script>alert|onclick=|javascript:/);

	// "Save as" clones the configuration under the new name.
	const clone = await request(deps.app, `/admin/configs/${saved.id}`, {
		user: "ada",
		form: { ...base, name: "Sanitized copy", templateBody: INSTANCE_TEMPLATE, intent: "saveas" },
	});
	assert.equal(clone.status, 303);
	const copy = (await getConfigByName(deps.db, "Sanitized copy"))!;
	assert.notEqual(copy.id, saved.id);
	assert.deepEqual(await permittedGroupIds(deps.db, copy.id), [world.science.id]);
});

Deno.test("deletes that would orphan data are refused with a reason", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, {
		id: "i-0000000000000000a",
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
	});
	const attempts: [string, RegExp][] = [
		[`/admin/groups/${world.science.id}/delete`, /Cannot delete this group: 1 instance refer to it/],
		[`/admin/configs/${world.config.id}/delete`, /Cannot delete this configuration: 1 instance were launched from it/],
		[
			`/admin/instance-types/${world.types["t2.micro"]!.id}/delete`,
			/offered by &quot;Analyst&quot;|offered by "Analyst"/,
		],
		[`/admin/security-groups/${world.sgDefault.id}/delete`, /used by &quot;science&quot;|used by "science"/],
	];
	for (const [path, reason] of attempts) {
		const res = await request(deps.app, path, { user: "ada", form: {} });
		assert.equal(res.status, 303, path);
		const next = await request(deps.app, res.headers.get("Location")!, {
			user: "ada",
			headers: { Cookie: res.headers.get("Set-Cookie")!.split(";")[0]! },
		});
		assert.match(await next.text(), reason, path);
	}
	assert.equal((await listSecurityGroups(deps.db)).length, 2, "nothing was deleted");
	const free = await request(deps.app, `/admin/groups/${world.ops.id}/delete`, { user: "ada", form: {} });
	assert.equal(free.status, 303);
	assert.equal(await getGroup(deps.db, world.ops.id), undefined);
});

/** Posts a delete as ada and returns the status and the flash shown on the page it redirects to. */
async function deleteAndReadFlash(deps: Awaited<ReturnType<typeof createTestDeps>>, path: string) {
	const res = await request(deps.app, path, { user: "ada", form: {} });
	const location = res.headers.get("Location");
	if (res.status !== 303 || !location) return { status: res.status, page: await res.text() };
	const next = await request(deps.app, location, {
		user: "ada",
		headers: { Cookie: res.headers.get("Set-Cookie")!.split(";")[0]! },
	});
	return { status: res.status, page: await next.text() };
}

Deno.test("a group or configuration used only by a cluster or a volume is refused with a reason, not a 500", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const cluster = await addConfig(deps.db, "Spark", { kind: "cluster", types: [], groups: [] });
	await addCluster(deps.db, {
		id: "j-0000000000001",
		ownerId: world.olga.id,
		groupId: world.ops.id,
		configId: cluster.id,
		instanceType: "m4.large",
		coreNodes: 1,
	});
	const volumeGroup = await addGroup(deps.db, "storage");
	await insertVolume(deps.db, { id: "vol-0000000000000001", ownerId: world.olga.id, groupId: volumeGroup.id });
	const attempts: [string, RegExp][] = [
		[`/admin/groups/${world.ops.id}/delete`, /Cannot delete this group: 1 cluster refer to it/],
		[`/admin/groups/${volumeGroup.id}/delete`, /Cannot delete this group: 1 volume refer to it/],
		[`/admin/configs/${cluster.id}/delete`, /Cannot delete this configuration: 1 cluster were launched from it/],
	];
	for (const [path, reason] of attempts) {
		const { status, page } = await deleteAndReadFlash(deps, path);
		assert.equal(status, 303, path);
		assert.match(page, reason, path);
	}
	assert.ok(await getGroup(deps.db, world.ops.id));
	assert.ok(await getGroup(deps.db, volumeGroup.id));
	assert.ok(await getConfig(deps.db, cluster.id));
});

Deno.test("a reference written after the delete counted (a race) still gives the 409, not a 500", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	// A table the counts do not know stands in for a row written between the count and the delete.
	await deps.database.client.execute("CREATE TABLE late_refs (group_id INTEGER REFERENCES groups(id))");
	await deps.database.client.execute({ sql: "INSERT INTO late_refs VALUES (?)", args: [world.ops.id] });
	const { status, page } = await deleteAndReadFlash(deps, `/admin/groups/${world.ops.id}/delete`);
	assert.equal(status, 303);
	assert.match(page, /Cannot delete this group: other records refer to it/);
	assert.ok(await getGroup(deps.db, world.ops.id));
});

Deno.test("an admin sets a user's role and manual memberships", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const res = await request(deps.app, `/admin/users/${world.olga.id}`, {
		user: "ada",
		form: { role: "manager", groups: [String(world.science.id)] },
	});
	assert.equal(res.status, 303);
	const rows = (await listMemberships(deps.db)).filter((m) => m.userId === world.olga.id);
	assert.deepEqual(rows.map((m) => m.groupId), [world.science.id], "manual memberships replaced");
	const bad = await request(deps.app, `/admin/users/${world.olga.id}`, { user: "ada", form: { role: "emperor" } });
	assert.equal(bad.status, 422);
});

Deno.test("the catalogue exports and imports as one YAML or JSON document, validated before anything is written", async () => {
	await using source = await createTestDeps();
	await seedWorld(source.db);
	const yaml = formatCatalog(await exportCatalog(source.db), "yaml");
	await using target = await createTestDeps();
	const summary = await importCatalog(target.db, parseCatalog(yaml));
	assert.ok(summary.created > 10);
	assert.deepEqual(await exportCatalog(target.db), await exportCatalog(source.db), "a round trip changes nothing");
	const again = await importCatalog(target.db, parseCatalog(formatCatalog(await exportCatalog(source.db), "json")));
	assert.equal(again.created, 0, "importing twice updates instead of duplicating");

	const broken = JSON.parse(formatCatalog(await exportCatalog(source.db), "json"));
	broken.groups[0].defaultSecurityGroups = ["sg-doesnotexist00"];
	broken.params = [{ token: "NEW_TOKEN", value: "x" }];
	const res = await request(target.app, "/admin/catalog", {
		user: "ada",
		form: { document: JSON.stringify(broken) },
	});
	assert.equal(res.status, 422);
	assert.match(await res.text(), /not valid at groups\.\d+: .*unknown security group/);
	const exported = await exportCatalog(target.db);
	assert.ok(!exported.params?.some((p) => p.token === "NEW_TOKEN"), "a failed import writes nothing");
	const export2 = await request(target.app, "/admin/catalog.yaml", { user: "ada" });
	assert.match(export2.headers.get("Content-Disposition") ?? "", /attachment/);
});

Deno.test("the team view searches by id, name or owner, and refuses bad filters with a 400", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0aaaaaaaaaaaaaaa1", ownerId: world.alice.id, name: "notebook" });
	await addInstance(deps.db, { id: "i-0bbbbbbbbbbbbbbb2", ownerId: world.bob.id, name: "spark 100%_box" });
	const table = async (q: string) =>
		await (await request(deps.app, `/team?q=${encodeURIComponent(q)}`, { user: "alice", htmx: true })).text();
	assert.match(await table("notebook"), /i-0aaaaaaaaaaaaaaa1/);
	assert.doesNotMatch(await table("notebook"), /i-0bbbbbbbbbbbbbbb2/);
	assert.match(await table("bob"), /i-0bbbbbbbbbbbbbbb2/);
	assert.match(await table("100%_"), /i-0bbbbbbbbbbbbbbb2/);
	assert.doesNotMatch(await table("1%"), /i-0aaaaaaaaaaaaaaa1/, "% in the search is a literal, not a wildcard");
	for (const bad of ["state=exploded", "owner=abc", "page=0", "page=-1", `q=${"x".repeat(101)}`]) {
		assert.equal((await request(deps.app, `/team?${bad}`, { user: "alice" })).status, 400, bad);
	}
});

Deno.test("the instance type, security group and param forms answer a refused save with the form at 422", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const cases: [string, Record<string, string>][] = [
		["/admin/instance-types/new", { name: "t2.micro" }],
		["/admin/security-groups/new", { sgId: world.sgDefault.sgId, name: "again" }],
		["/admin/params/new", { token: "", value: "x" }],
	];
	for (const [path, form] of cases) {
		const res = await request(deps.app, path, { user: "ada", form });
		assert.equal(res.status, 422, path);
		const html = await res.text();
		assert.match(html, new RegExp(`<form method="post" action="${path}"`), path);
		assert.match(html, /class="error" id="f-\w+-error" role="alert">[^<]+</, path);
	}
});

Deno.test("admin page components render from plain props, without a database", () => {
	const ctx: PageContext = {
		viewer: { id: 1, username: "ada", name: "Ada", email: "", role: "admin", groupIds: [], managedGroupIds: [] },
		csrf: "the-csrf-token",
		path: "/admin/groups/new",
		launchHref: null,
		timeZone: "UTC",
		now: new Date("2025-03-01T12:00:00Z"),
	};
	const form = renderPage(GroupFormPage({
		ctx,
		values: { name: "<b>x</b>", defaultSecurityGroups: ["7"], emrAccess: "on" },
		errors: { name: "Letters, digits, spaces and . _ - ( ) / only" },
		securityGroups: [{ id: 7, sgId: "sg-0000000000000000a", name: "default-ssh" }, { id: 8, sgId: "sg-0b", name: "" }],
		instanceTypes: [{ id: 3, name: "t2.micro", description: "" }],
	}));
	assert.match(form, /<form method="post" action="\/admin\/groups\/new"/);
	assert.match(form, /name="_csrf" value="the-csrf-token"/);
	assert.match(form, /value="&lt;b>x&lt;\/b>"[^>]*aria-invalid="true"/, "the value is escaped and marked invalid");
	assert.match(form, /id="f-name-error" role="alert">Letters, digits/);
	assert.match(
		form,
		/value="7" checked\s*\/?>\s*default-ssh \(sg-0000000000000000a\)/,
		"the chosen default group is checked",
	);
	assert.match(form, /value="8"\s*\/?>\s*sg-0b \(sg-0b\)/, "an unnamed security group shows its id");
	assert.match(form, /name="emrAccess" checked/);
	assert.match(form, /aria-current="page">Groups</, "the section's tab is current");
	assert.doesNotMatch(form, /Delete/, "a new group has nothing to delete");

	const users = renderPage(UsersPage({
		ctx: { ...ctx, path: "/admin/users" },
		rows: [{
			id: 4,
			username: "olga",
			firstName: "Olga",
			lastName: "",
			email: "",
			role: "user",
			directoryRole: "manager",
			lastLoginAt: null,
			createdAt: new Date(0),
			updatedAt: new Date(0),
			adminBySettings: true,
			groups: ["ops (directory)", "science (manual)"],
		}],
	}));
	assert.match(users, /<a href="\/admin\/users\/4">olga<\/a>/);
	assert.match(
		users,
		/user<span class="muted small">, manager from the directory<\/span><span class="muted small">, admin by settings/,
	);
	assert.match(users, /ops \(directory\), science \(manual\)/);
});

Deno.test("the demo's catalogue document goes in through the catalogue import, once", async () => {
	await using deps = await createTestDeps();
	assert.equal(await seedDemo(deps.db), true);
	const doc = await exportCatalog(deps.db);
	assert.deepEqual(doc.configs?.map((c) => [c.name, c.kind, c.compatibleTypes]), [
		["MLiy Analyst", "instance", ["t2.nano", "t2.micro", "m4.large", "r4.xlarge", "p2.xlarge"]],
		["Spark cluster", "cluster", ["m4.large", "r4.xlarge"]],
	]);
	assert.deepEqual(doc.instanceTypes?.find((t) => t.name === "m4.large"), {
		name: "m4.large",
		description: "2 vCPU, 8 GiB",
	});
	assert.deepEqual(doc.users, [
		{ username: "bob", role: "user", groups: ["data-science"] },
		{ username: "developer", role: "admin", groups: ["data-science"] },
	]);
	assert.equal(await seedDemo(deps.db), false, "a second run leaves the database as it is");
});

/** The options of the configuration form's operating-system select. */
function osOptions(page: string): string[] {
	const select = page.match(/<select[^>]*name="os"[^>]*>(.*?)<\/select>/s)?.[1] ?? "";
	return [...select.matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]!);
}

Deno.test("the configuration form's operating systems are the platforms of the loaded pricing file, and only those save", async () => {
	const cases: [string, string[]][] = [
		// The 2016 file prices Linux and Windows (with SQL Server Standard and Web) only.
		[PRICING_FILES.y2016, ["linux", "mswin", "mswinSQL", "mswinSQLWeb"]],
		// Today's format: dedicated, ubuntu, SUSE, RHEL and Linux with SQL Server.
		[PRICING_FILES.y2026, [
			"linux",
			"dedicated",
			"linuxSQL",
			"linuxSQLEnterprise",
			"linuxSQLWeb",
			"mswin",
			"mswinSQL",
			"mswinSQLEnterprise",
			"mswinSQLWeb",
			"rhel",
			"rhelSQL",
			"rhelSQLEnterprise",
			"rhelSQLWeb",
			"sles",
			"ubuntu",
		]],
	];
	for (const [file, expected] of cases) {
		await using deps = await createTestDeps({ settings: { PRICING_FILE: file } });
		const world = await seedWorld(deps.db);
		const form = await (await request(deps.app, "/admin/configs/new", { user: "ada" })).text();
		assert.deepEqual(osOptions(form), expected, file);
		const base = {
			name: "Priced",
			kind: "instance",
			amiId: "ami-0123456789abcdef0",
			templateBody: INSTANCE_TEMPLATE,
			compatibleTypes: [String(world.types["t2.micro"]!.id)],
			permittedGroups: [String(world.science.id)],
		};
		const refused = await request(deps.app, "/admin/configs/new", { user: "ada", form: { ...base, os: "beos" } });
		assert.equal(refused.status, 422);
		assert.match(await refused.text(), /The pricing file has no prices for &quot;beos&quot;/);
		assert.equal(await getConfigByName(deps.db, "Priced"), undefined, "nothing saved");
		const last = expected.at(-1)!;
		const ok = await request(deps.app, "/admin/configs/new", { user: "ada", form: { ...base, os: last } });
		assert.equal(ok.status, 303, await ok.clone().text());
		assert.equal((await getConfigByName(deps.db, "Priced"))?.os, last);
	}
	// A configuration whose OS the file does not price (saved under another file) keeps it, marked.
	await using deps = await createTestDeps({ settings: { PRICING_FILE: PRICING_FILES.y2016 } });
	const world = await seedWorld(deps.db);
	const rhel = await addConfig(deps.db, "RHEL", {
		types: [world.types["t2.micro"]!.id],
		groups: [world.science.id],
		os: "rhel",
	});
	const form = await (await request(deps.app, `/admin/configs/${rhel.id}`, { user: "ada" })).text();
	assert.deepEqual(osOptions(form), ["linux", "mswin", "mswinSQL", "mswinSQLWeb", "rhel"]);
	assert.match(form, /<option value="rhel" selected>rhel \(not in the pricing file\)<\/option>/);
});
