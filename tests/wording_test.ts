/**
 * How the pages read: every main page, rendered through the app, marks its own item in the
 * navigation (a launch's page is part of launching, not "My dashboard"), and no page says
 * "a admin", "CloudFormation.." (a full stop added to a reason that had one), "(dev)" after a
 * name, or "No launches authorized" in the navigation; the 401 page does not repeat its heading;
 * a portal without an admin says on its 403 page, and the README says, how to make one.
 */
import assert from "node:assert/strict";
import { updateLaunch } from "../lib/db/launches.ts";
import { getUserByUsername } from "../lib/db/users.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addInstance, addLaunch, addLaunchedInstance, addUser, seedWorld } from "./_helpers/world.ts";

/** The visible text of a page: no tags, scripts or styles; entities of our escaping decoded. */
function textOf(html: string): string {
	return html.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/g, " ").replace(/<[^>]+>/g, " ")
		.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")
		.replace(/\s+/g, " ");
}

/** The labels of the main navigation's items marked current. */
function currentNav(html: string): string[] {
	const nav = /<nav aria-label="Main">([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? "";
	return [...nav.matchAll(/<a [^>]*aria-current="page"[^>]*>([^<]*)<\/a>/g)].map((m) => m[1]!);
}

/** The slips no page may show, each with a pattern over the page's text. */
const SLIPS: [string, RegExp][] = [
	['"a admin"', /\ba admin\b/i],
	['a doubled full stop ("CloudFormation..")', /(?<!\.)\.\.(?!\.)/],
	['"(dev)" after a name', /\(dev\)/],
	['"No launches authorized"', /No launches authorized/],
];

function assertReadsWell(html: string, page: string) {
	const text = textOf(html);
	for (const [slip, pattern] of SLIPS) {
		const found = pattern.exec(text);
		assert.equal(
			found,
			null,
			`${page} shows ${slip}: …${text.slice(Math.max(0, (found?.index ?? 0) - 60), (found?.index ?? 0) + 40)}…`,
		);
	}
}

async function wordsWorld() {
	const deps = await createTestDeps({ aws: fakeAws() });
	const world = await seedWorld(deps.db);
	const instance = await addLaunchedInstance(deps.db, world, "token", { name: "Alice's box" });
	// A failed launch whose reason ends with a full stop, as the launcher writes some of them.
	const failed = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
	});
	await updateLaunch(deps.db, failed.id, "queued", {
		status: "failed",
		reason: "The stack no longer exists in CloudFormation.",
		finishedAt: deps.clock(),
	});
	return { deps, world, instance, failed };
}

Deno.test("each main page marks its own item in the navigation; a launch's page marks Launch, not My dashboard", async () => {
	const { deps, world, instance, failed } = await wordsWorld();
	await using _ = deps;
	const pages: [user: string, path: string, current: string[]][] = [
		["alice", "/", ["My dashboard"]],
		["alice", `/instances/${instance.id}`, ["My dashboard"]],
		["alice", "/team", ["Team"]],
		["alice", `/launch/${world.science.id}`, ["Launch"]],
		["alice", `/launch/${world.science.id}/${world.config.id}`, ["Launch"]],
		["alice", `/launches/${failed.id}`, ["Launch"]],
		["alice", `/launches/${instance.launchId}`, ["Launch"]],
		["alice", "/billing", ["Billing"]],
		["alice", "/profile", []],
		["ada", "/admin", ["Admin"]],
		["ada", "/admin/groups", ["Admin"]],
		["ada", "/admin/configs", ["Admin"]],
		["ada", `/admin/configs/${world.config.id}`, ["Admin"]],
		["ada", "/admin/instance-types", ["Admin"]],
		["ada", "/admin/users", ["Admin"]],
		// Someone in no group still has "Launch", whose page says why there is nothing to launch.
		["olga", "/launch", ["Launch"]],
	];
	for (const [user, path, current] of pages) {
		const res = await request(deps.app, path, { user });
		assert.equal(res.status, 200, `${user} ${path}`);
		const html = await res.text();
		assert.deepEqual(currentNav(html), current, `${user} ${path}`);
		assertReadsWell(html, `${user} ${path}`);
	}
});

Deno.test("no page says 'a admin', 'CloudFormation..', '(dev)' or 'No launches authorized'", async () => {
	const { deps, failed } = await wordsWorld();
	await using _ = deps;
	const dashboard = await (await request(deps.app, "/", { user: "alice" })).text();
	assert.match(textOf(dashboard), /The stack no longer exists in CloudFormation\. See the launch/);
	assertReadsWell(dashboard, "the dashboard with a failed launch");
	assertReadsWell(
		await (await request(deps.app, `/launches/${failed.id}`, { user: "alice" })).text(),
		"a failed launch",
	);

	const team = textOf(await (await request(deps.app, "/team", { user: "ada" })).text());
	assert.match(team, /As an admin you see every team's instances\./);
	assert.match(textOf(await (await request(deps.app, "/team", { user: "mia" })).text()), /As a manager you see/);

	// The development plugin's user: "Developer (developer)" on an instance's page, not "Developer (dev) (developer)".
	await using dev = await createTestDeps({
		aws: fakeAws(),
		settings: { AUTH_PLUGIN: "plugins/auth_dev", TRUSTED_PROXIES: [] },
	});
	assert.equal((await request(dev.app, "/", {})).status, 200, "the plugin makes the developer");
	const developer = (await getUserByUsername(dev.db, "developer"))!;
	await addInstance(dev.db, { id: "i-0000000000000dead", ownerId: developer.id });
	const page = await (await request(dev.app, "/instances/i-0000000000000dead", {})).text();
	assert.match(textOf(page), /Developer \(developer\)/);
	assertReadsWell(page, "the developer's instance");
});

Deno.test("the 401 page says once that you are not signed in", async () => {
	await using deps = await createTestDeps({ aws: fakeAws() });
	const res = await request(deps.app, "/");
	assert.equal(res.status, 401);
	const html = await res.text();
	const heading = /<h1>([^<]*)<\/h1>/.exec(html)![1]!;
	assert.equal(heading, "You are not signed in");
	const body = textOf(html.slice(html.indexOf("<body")));
	assert.equal(body.split(heading).length - 1, 1, `the heading appears once: ${body}`);
	assert.equal((html.match(/<h1>/g) ?? []).length, 1);
});

Deno.test("without any admin, the 403 of the admin pages says how to make one; once there is one it does not", async () => {
	await using deps = await createTestDeps({ aws: fakeAws() });
	await addUser(deps.db, "alice");
	const res = await request(deps.app, "/admin", { user: "alice" });
	assert.equal(res.status, 403);
	const text = textOf(await res.text());
	assert.match(text, /Only admins may use the admin pages\./);
	assert.match(text, /This portal has no admin yet: list the first admins' usernames in the setting ADMIN_USERNAMES/);
	assert.match(text, /MLIY_ADMIN_USERNAMES=alice \.\/mliy start/, "with the viewer's own username");

	await addUser(deps.db, "ada", { role: "admin" });
	const refused = textOf(await (await request(deps.app, "/admin/groups", { user: "alice" })).text());
	assert.match(refused, /Only admins may use the admin pages\./);
	assert.doesNotMatch(refused, /ADMIN_USERNAMES/, "an admin exists: ask them");

	await using listed = await createTestDeps({ aws: fakeAws(), settings: { ADMIN_USERNAMES: ["root"] } });
	const named = textOf(await (await request(listed.app, "/admin", { user: "alice" })).text());
	assert.doesNotMatch(named, /ADMIN_USERNAMES/, "an admin is configured, even before signing in");
});

Deno.test("the README says how a fresh portal gets its first admin", async () => {
	const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
	const start = readme.slice(readme.indexOf("## The two commands"), readme.indexOf("## Try it: the demo"));
	assert.match(start, /A fresh portal has no admin/);
	assert.match(start, /MLIY_ADMIN_USERNAMES=alice \.\/mliy start/);
});
