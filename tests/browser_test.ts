/**
 * Real Chromium against the app on 127.0.0.1 with moto behind it: the launch wizard, a moving
 * progress bar, stop/start/terminate with confirmation, a teammate's view, the admin pages and
 * field errors. Screenshots go to tests/.output/screenshots (ignored by git).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { instancesOfLaunch } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { closeBill, openBill } from "../lib/db/bills.ts";
import { runJob } from "../lib/jobs.ts";
import { readActualCostsJob } from "../jobs/read_actual_costs.ts";
import { progressToken } from "../lib/tokens.ts";
import { tick } from "./_helpers/tick.ts";
import { browserSettings, browserTest, launchBrowser, SCREENSHOTS, serve, signedIn } from "./_helpers/browser.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { moto } from "./_helpers/moto.ts";
import {
	addConfig,
	addGroup,
	addInstance,
	addLaunch,
	addMember,
	seedClusterWorld,
	seedWorld,
} from "./_helpers/world.ts";
import { holdWriteLock } from "./_helpers/db_lock.ts";
import { instances, launches } from "../lib/db/schema.ts";
import { eq } from "drizzle-orm";
import { CLUSTER_TEMPLATE } from "../fixtures/mod.ts";

await Deno.mkdir(SCREENSHOTS, { recursive: true });

/** Plays the cron job: runs the launch poller every half second while the test runs. */
function pollerTicking(deps: TestDeps): () => Promise<void> {
	let running = true;
	const loop = (async () => {
		while (running) {
			await tick(deps).catch(() => {});
			await new Promise((r) => setTimeout(r, 500));
		}
	})();
	return async () => {
		running = false;
		await loop;
	};
}

async function setup() {
	await moto!.reset();
	const deps = await createTestDeps({
		awsEndpoint: moto!.url,
		realClock: true,
		settings: { LAUNCH_SUBNET_ID: await moto!.subnet("us-east-1a"), ...browserSettings() },
	});
	const world = await seedWorld(deps.db);
	return { ...await running(deps, { poller: true }), world };
}

/** The portal on `deps`, served and opened in Chromium; disposing it stops and closes all of it. */
async function running(deps: TestDeps, options: { poller?: boolean } = {}) {
	const server = serve(deps);
	const browser = await launchBrowser();
	const stopPoller = options.poller ? pollerTicking(deps) : undefined;
	return {
		deps,
		server,
		browser,
		async [Symbol.asyncDispose]() {
			await stopPoller?.();
			await browser.close();
			await server.close();
			await deps[Symbol.asyncDispose]();
		},
	};
}

function acceptDialogs(page: Page, seen: string[]) {
	page.on("dialog", async (dialog) => {
		seen.push(dialog.message());
		await dialog.accept();
	});
}

async function rowState(page: Page, id: string): Promise<string | null> {
	return await page.locator(`tr[data-instance="${id}"] [data-state]`).first().getAttribute("data-state");
}

async function waitForState(page: Page, id: string, state: string) {
	await page.locator(`tr[data-instance="${id}"] [data-state="${state}"]`).first().waitFor({ timeout: 20_000 });
}

browserTest("a user launches through the wizard, watches the progress bar, stops, starts and terminates", async () => {
	await using portal = await setup();
	const { deps, server, browser } = portal;
	const { page, context, errors } = await signedIn(browser, "alice");
	const dialogs: string[] = [];
	acceptDialogs(page, dialogs);

	// The wizard: one group, so it starts at the catalogue.
	await page.goto(`${server.url}/launch`);
	await page.getByRole("link", { name: "Launch Analyst" }).click();
	await page.getByLabel("Instance type").selectOption("r4.4xlarge");
	await page.locator("#type-info").getByText("$1.064/h").waitFor();
	await page.screenshot({ path: `${SCREENSHOTS}wizard.png`, fullPage: true });
	await page.getByLabel("Instance type").selectOption("t2.micro");
	await page.locator("#type-info").getByText("$0.0116/h").waitFor();
	await page.getByLabel(/jupyter/).check();
	await page.getByRole("button", { name: "Review launch" }).click();
	await page.getByRole("heading", { name: "Confirm the launch" }).waitFor();
	await page.getByRole("button", { name: "Launch now" }).click();

	// The launch page follows the steps and moves to the dashboard when the stack is complete.
	await page.waitForURL(`${server.url}/`, { timeout: 30_000 });
	const launchId = (await deps.db.query.launches.findFirst())!.id;
	assert.equal((await getLaunch(deps.db, launchId))!.status, "complete");
	const [instance] = await instancesOfLaunch(deps.db, launchId);
	const id = instance!.id;
	// The stack is complete, but the bootstrap has not reported done: running, not "ready".
	await page.locator(".flash.ok").getByText("its setup is still going").waitFor();
	await waitForState(page, id, "running");

	// The instance reports progress; the bar moves in place.
	const token = await progressToken(deps.secret, launchId);
	const report = (stage: string) =>
		fetch(`${server.url}/ajax/progress/${id}/${stage}`, { headers: { "X-MLiy-Progress-Token": token } }).then((r) => {
			assert.equal(r.status, 200);
			return r.body?.cancel();
		});
	await report("installing_base_packages(40)");
	const bar = page.locator(`tr[data-instance="${id}"] [role="progressbar"]`);
	await page.waitForFunction(
		(sel) => document.querySelector(sel)?.getAttribute("aria-valuenow") === "40",
		`tr[data-instance="${id}"] [role="progressbar"]`,
		{ timeout: 10_000 },
	);
	assert.match(await bar.textContent() ?? "", /installing base packages/);
	await page.screenshot({ path: `${SCREENSHOTS}dashboard.png`, fullPage: true });
	await report("done(100)");
	await bar.waitFor({ state: "detached", timeout: 10_000 });

	// Stop (confirmed), then start, then terminate (confirmed).
	await page.getByRole("button", { name: `Stop ${id}` }).click();
	await waitForState(page, id, "stopped");
	assert.match(dialogs.at(-1)!, /^Stop i-/);
	await page.getByRole("button", { name: `Start ${id}` }).click();
	await waitForState(page, id, "running");
	await page.getByRole("button", { name: `Terminate ${id}` }).click();
	assert.match(dialogs.at(-1)!, /This cannot be undone/);
	await waitForState(page, id, "terminated");
	assert.equal(await rowState(page, id), "terminated");
	assert.deepEqual(errors, [], "no console errors");
	await context.close();
}, { needsMoto: true });

browserTest("a teammate sees the instance on the team view, with charts, but cannot terminate it", async () => {
	await using portal = await setup();
	const { deps, world, server, browser } = portal;
	// Alice launches (through the form posts, as the browser would).
	const alice = await signedIn(browser, "alice");
	await alice.page.goto(`${server.url}/launch/${world.science.id}/${world.config.id}`);
	await alice.page.getByRole("button", { name: "Review launch" }).click();
	await alice.page.getByRole("button", { name: "Launch now" }).click();
	await alice.page.waitForURL(`${server.url}/`, { timeout: 30_000 });
	const [instance] = await instancesOfLaunch(deps.db, (await deps.db.query.launches.findFirst())!.id);

	const bob = await signedIn(browser, "bob");
	await bob.page.goto(`${server.url}/team`);
	const row = bob.page.locator(`tr[data-instance="${instance!.id}"]`);
	await row.waitFor();
	assert.equal(
		await row.getByRole("button", { name: /^Terminate/ }).count(),
		0,
		"no terminate button for a teammate",
	);
	assert.equal(await row.getByRole("button", { name: /^Stop/ }).count(), 1);
	await bob.page.locator('[data-island="Chart"] canvas').first().waitFor();
	assert.equal(await bob.page.locator('[data-island="Chart"] canvas').count(), 3, "three charts are drawn");
	await bob.page.screenshot({ path: `${SCREENSHOTS}team.png`, fullPage: true });
	assert.deepEqual(bob.errors, []);
	// Trying the URL anyway (with a valid token) is refused.
	const status = await bob.page.evaluate(async (id) => {
		const token = document.querySelector('meta[name="csrf-token"]')!.getAttribute("content")!;
		const res = await fetch(`/ajax/instance/${id}/terminate`, { method: "POST", headers: { "X-CSRF-Token": token } });
		return res.status;
	}, instance!.id);
	assert.equal(status, 403);

	// Narrow screens get stacked rows.
	const narrow = await signedIn(browser, "alice", { width: 390, height: 844 });
	await narrow.page.goto(`${server.url}/`);
	await narrow.page.screenshot({ path: `${SCREENSHOTS}dashboard-narrow.png`, fullPage: true });
	assert.ok(await narrow.page.getByRole("button", { name: `Stop ${instance!.id}` }).isVisible());
}, { needsMoto: true });

browserTest(
	"an admin creates a group and a configuration; a user then launches it; bad forms show field errors",
	async () => {
		await using portal = await setup();
		const { deps, world, server, browser } = portal;
		const { page, errors } = await signedIn(browser, "ada");
		// A bad group form first: the errors are shown next to the fields.
		await page.goto(`${server.url}/admin/groups/new`);
		await page.getByLabel("Name", { exact: true }).fill("bad<name>");
		await page.getByLabel("IAM instance profile").fill("has spaces");
		await page.getByRole("button", { name: "Save group" }).click();
		await page.locator(".field.invalid").first().waitFor();
		assert.equal(await page.locator(".field.invalid").count(), 2);
		assert.equal(await page.getByLabel("Name", { exact: true }).getAttribute("aria-invalid"), "true");
		await page.screenshot({ path: `${SCREENSHOTS}admin-form-errors.png`, fullPage: true });

		await page.getByLabel("Name", { exact: true }).fill("research");
		await page.getByLabel("IAM instance profile").fill("");
		await page.getByLabel("Cost center").fill("CC-RES");
		await page.getByLabel(/default-ssh/).first().check();
		await page.getByRole("button", { name: "Save group" }).click();
		await page.getByText("Group saved.").waitFor();

		await page.goto(`${server.url}/admin/configs/new`);
		await page.getByLabel("Name", { exact: true }).fill("Research box");
		await page.getByLabel("AMI").fill("ami-0123456789abcdef0");
		await page.getByLabel("Description (HTML)").fill("<p>For <b>research</b></p>");
		await page.locator('fieldset:has-text("Compatible instance types")').getByLabel("t2.micro").check();
		await page.locator('fieldset:has-text("Permitted groups")').getByLabel("research").check();
		await page.screenshot({ path: `${SCREENSHOTS}admin-config.png`, fullPage: true });
		await page.getByRole("button", { name: "Save configuration" }).click();
		await page.getByText("Configuration saved.").waitFor();

		// Alice is added to the new group; she now picks between two groups.
		await page.goto(`${server.url}/admin/users/${world.alice.id}`);
		await page.getByRole("group", { name: "Manual group memberships" }).getByLabel("research").check();
		await page.getByRole("button", { name: "Save user" }).click();
		await page.getByText("User saved.").waitFor();
		assert.deepEqual(
			errors.filter((e) => !/status of 422/.test(e)),
			[],
			"no console errors beyond the deliberate 422",
		);

		const alice = await signedIn(browser, "alice");
		await alice.page.goto(`${server.url}/launch`);
		await alice.page.getByRole("link", { name: "research" }).click();
		await alice.page.getByRole("link", { name: "Launch Research box" }).click();
		await alice.page.getByRole("button", { name: "Review launch" }).click();
		await alice.page.getByRole("button", { name: "Launch now" }).click();
		await alice.page.waitForURL(`${server.url}/`, { timeout: 30_000 });
		const launch = (await deps.db.query.launches.findFirst())!;
		assert.equal(launch.status, "complete");
		assert.equal((await instancesOfLaunch(deps.db, launch.id))[0]?.instanceType, "t2.micro");
		assert.deepEqual(alice.errors, []);
	},
	{ needsMoto: true },
);

browserTest(
	"a user launches a cluster through the form and its confirmation; moto ends it at once, so it shows as failed",
	async () => {
		await using portal = await setup();
		const { deps, world, server, browser } = portal;
		const emr = await addGroup(deps.db, "sparkers", {
			emrAccess: true,
			settings: "cluster_auto_termination_minutes=90",
		});
		await addMember(deps.db, world.alice.id, emr.id);
		await addConfig(deps.db, "Spark", {
			kind: "cluster",
			templateBody: CLUSTER_TEMPLATE,
			userDataBody: "",
			hasProgressBar: false,
			instanceName: "MLiySpark",
			types: [world.types["m4.large"]!.id, world.types["r4.4xlarge"]!.id],
			groups: [emr.id],
		});
		const { page, errors } = await signedIn(browser, "alice");
		await page.goto(`${server.url}/launch/${emr.id}`);
		await page.getByRole("link", { name: "Launch Spark" }).click();
		assert.equal(
			await page.locator('input[name="autoTerminateHours"]').inputValue(),
			"1",
			"defaults from the group's settings",
		);
		assert.equal(await page.locator('input[name="autoTerminateMinutes"]').inputValue(), "30");
		await page.getByLabel("Purpose", { exact: true }).fill("Churn model");
		await page.getByLabel("Core nodes", { exact: true }).fill("5");
		await page.getByLabel("Core nodes", { exact: true }).press("Tab");
		// The shipped 2017 pricing file has no EMR prices: the estimate says so rather than showing $0.
		await page.locator("#cluster-estimate").getByText("Price unknown").waitFor();
		await page.getByLabel("Spot", { exact: true }).check();
		await page.getByRole("button", { name: "Review launch" }).click();
		await page.locator(".field.invalid").getByText("A spot cluster needs a bid price").waitFor();
		await page.getByLabel("Spot bid price ($ per node-hour)").fill("0.05");
		await page.screenshot({ path: `${SCREENSHOTS}cluster-form.png`, fullPage: true });
		await page.getByRole("button", { name: "Review launch" }).click();
		// The confirm step, as for instances: what will run and what it costs, then one launch.
		await page.getByRole("heading", { name: "Confirm the launch" }).waitFor();
		assert.match(await page.locator("dl.facts").textContent() ?? "", /5 core nodes and 1 master/);
		await page.screenshot({ path: `${SCREENSHOTS}cluster-confirm.png`, fullPage: true });
		await page.getByRole("button", { name: "Launch now" }).click();
		// moto ends the cluster as soon as it is created: the launch page says the launch failed, with why.
		await page.getByRole("heading", { name: "The launch of Spark failed" }).waitFor({ timeout: 30_000 });
		assert.match(
			await page.locator("#launch-status .error-box").textContent() ?? "",
			/The cluster ended right after it was ready/,
		);
		await page.goto(`${server.url}/`);
		const row = page.locator("#my-clusters tr[data-cluster]");
		await row.waitFor();
		assert.match(await row.textContent() ?? "", /Churn model/);
		assert.match(await row.textContent() ?? "", /SPOT \| m4.large/);
		assert.match(await row.textContent() ?? "", /failed/);
		assert.deepEqual(errors.filter((e) => !/status of 422/.test(e)), []);
	},
	{ needsMoto: true },
);

browserTest(
	"error answers to htmx requests show in the error region; the table stays whole and its rows keep polling",
	async () => {
		// No AWS here: the rows are written to the database, and the dashboard's background refresh
		// (refused by the test's AWS) changes nothing.
		const deps = await createTestDeps({ settings: { DATABASE_BUSY_TIMEOUT_MS: 100, ...browserSettings() } });
		await using portal = await running(deps);
		const { server, browser } = portal;
		const world = await seedWorld(deps.db);
		const polling = "i-0000000000000000a";
		const idle = "i-0000000000000000b";
		await addInstance(deps.db, { id: polling, ownerId: world.alice.id, state: "pending" });
		await addInstance(deps.db, { id: idle, ownerId: world.alice.id, state: "running" });
		const { page, errors } = await signedIn(browser, "alice");
		acceptDialogs(page, []);
		await page.goto(`${server.url}/`);
		const region = page.locator("#htmx-errors");
		assert.equal(await region.isVisible(), false, "the empty error region is hidden");
		const bodyRows = () => page.locator("#my-instances tbody > *").evaluateAll((els) => els.map((e) => e.tagName));

		// The polled row's instance disappears from the portal: its poll answers 404.
		await deps.db.update(instances).set({ archived: true }).where(eq(instances.id, polling));
		await region.getByText(`No instance ${polling} is known to the portal`).waitFor({ timeout: 10_000 });
		assert.deepEqual(await bodyRows(), ["TR", "TR"], "the table keeps its two rows");
		assert.equal(await page.locator(`#row-${polling} [data-state="pending"]`).count(), 1);

		// It comes back: the same row's next poll succeeds, shows the new state and clears the message.
		await deps.db.update(instances).set({ archived: false, state: "running" }).where(eq(instances.id, polling));
		await page.locator(`#row-${polling} [data-state="running"]`).waitFor({ timeout: 10_000 });
		await region.waitFor({ state: "hidden" });

		// A stop while another process holds the database's write lock answers 503.
		const lock = await holdWriteLock(`${deps.dir}/test.db`, 3000);
		await page.getByRole("button", { name: `Stop ${idle}` }).click();
		await region.getByText("database is busy").waitFor({ timeout: 10_000 });
		await lock.released;
		assert.deepEqual(await bodyRows(), ["TR", "TR"]);
		assert.equal(await page.getByRole("button", { name: `Stop ${idle}` }).count(), 1, "the row is as it was");
		assert.equal(await page.locator("#main .error-box").count(), 1, "no error box replaced a row");
		assert.deepEqual(errors.filter((e) => !/status of (404|503)/.test(e)), []);
	},
);

browserTest("the launch page's live region stays in place while its polled content is swapped", async () => {
	// No AWS here: the launch's step is written to the database as the poller would.
	const deps = await createTestDeps({ settings: browserSettings() });
	await using portal = await running(deps);
	const { server, browser } = portal;
	const world = await seedWorld(deps.db);
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		step: "Waiting for a worker",
	});
	const { page, errors } = await signedIn(browser, "alice");
	await page.goto(`${server.url}/launches/${launch.id}`);
	await page.locator("#launch-status").getByText("Waiting for a worker…").waitFor();
	// A mark only the element first rendered carries: lost if the region itself is replaced.
	await page.locator("[aria-live]").evaluate((region) => region.setAttribute("data-first-render", ""));
	await deps.db.update(launches).set({ step: "Submitting the stack" }).where(eq(launches.id, launch.id));
	await page.locator("#launch-status").getByText("Submitting the stack…").waitFor({ timeout: 10_000 });
	assert.equal(await page.locator("[aria-live]").count(), 1);
	assert.equal(await page.locator('[aria-live="polite"][data-first-render] > #launch-status').count(), 1);
	assert.deepEqual(errors, []);
});

browserTest(
	"the content security policy allows no inline style or script, and no page, island or swap needs one",
	async () => {
		// No AWS here: the rows are in the database; the dashboard's refresh is refused and changes nothing.
		const deps = await createTestDeps({ settings: browserSettings() });
		await using portal = await running(deps);
		const { server, browser } = portal;
		const world = await seedClusterWorld(deps.db);
		await addInstance(deps.db, {
			id: "i-0000000000000000c",
			ownerId: world.alice.id,
			groupId: world.science.id,
			configId: world.config.id,
			state: "running",
			progressText: "installing packages",
			progressPercent: 40,
		});
		await addInstance(deps.db, { id: "i-0000000000000000d", ownerId: world.bob.id, groupId: world.science.id });
		const res = await fetch(`${server.url}/`, { headers: { REMOTE_USER: "alice" } });
		await res.body?.cancel();
		const policy = res.headers.get("Content-Security-Policy")!;
		assert.match(policy, /style-src 'self';/);
		assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);

		const pages: [string, string][] = [
			["alice", "/"],
			["alice", "/team"],
			["alice", `/launch/${world.science.id}/${world.config.id}`],
			["alice", `/launch/${world.emrGroup.id}/${world.spark.id}`],
			["alice", "/billing"],
			["alice", "/profile"],
			["ada", `/admin/configs/${world.config.id}`],
			["ada", "/admin/users"],
		];
		const violations: string[] = [];
		for (const [user, path] of pages) {
			const { context, page, errors } = await signedIn(browser, user);
			await page.addInitScript(() => {
				document.addEventListener("securitypolicyviolation", (event) => {
					(globalThis as unknown as { violations: string[] }).violations ??= [];
					(globalThis as unknown as { violations: string[] }).violations.push(
						`${event.effectiveDirective} ${event.blockedURI} ${event.sample}`,
					);
				});
			});
			await page.goto(`${server.url}${path}`);
			await page.waitForLoadState("networkidle");
			if (path === "/") {
				// The bar draws its width from a class; an htmx swap of the row keeps to the policy too.
				const fill = page.locator('tr[data-instance="i-0000000000000000c"] .progress .fill');
				assert.equal(await fill.evaluate((el) => getComputedStyle(el).width !== "0px"), true);
				assert.equal(
					await fill.evaluate((el) =>
						Math.round(el.getBoundingClientRect().width / el.parentElement!.getBoundingClientRect().width * 100)
					),
					40,
				);
				page.on("dialog", (dialog) => dialog.accept());
				await page.getByRole("button", { name: "Stop i-0000000000000000c" }).click();
				await page.waitForLoadState("networkidle");
			}
			if (path === "/team") await page.locator("canvas").first().waitFor();
			const seen = await page.evaluate(() => (globalThis as unknown as { violations?: string[] }).violations ?? []);
			violations.push(...seen.map((v) => `${path}: ${v}`));
			violations.push(...errors.filter((e) => /Content Security Policy/i.test(e)).map((e) => `${path}: ${e}`));
			await context.close();
		}
		assert.deepEqual(violations, []);
	},
);

/** Where this branch's screenshots are kept for review (besides tests/.output). */
const REVIEW_SHOTS = Deno.env.get("REVIEW_SHOTS_DIR");

/** A full-page screenshot at 1280 px, and one at 390 px (a phone), of the page as it is. */
async function shootBoth(page: Page, name: string) {
	const size = page.viewportSize()!;
	for (const width of [1280, 390]) {
		await page.setViewportSize({ width, height: 900 });
		const path = `${SCREENSHOTS}${name}-${width}.png`;
		await page.screenshot({ path, fullPage: true });
		if (REVIEW_SHOTS) await Deno.copyFile(path, `${REVIEW_SHOTS}/${name}-${width}.png`);
	}
	await page.setViewportSize(size);
}

browserTest(
	"a used-up budget: its bar on the dashboard, the wizard's refusal with a request, a manager approving, the launch going on",
	async () => {
		await using portal = await setup();
		const { deps, server, browser, world } = portal;
		await addMember(deps.db, world.mia.id, world.science.id);
		// Science's budget of $1.00, used up by twenty minutes of bob's r4.4xlarge earlier today (a machine since gone).
		const now = Date.now();
		const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
		const startedAt = new Date(Math.max(now - 25 * 60_000, monthStart));
		await openBill(deps.db, {
			resourceKind: "instance",
			resourceId: "i-0b0b0b0b0b0b0b0b0",
			userId: world.bob.id,
			groupId: world.science.id,
			costCenter: "CC-science",
			description: "r4.4xlarge",
			hourlyRate: 3.2,
			startedAt,
		});
		await closeBill(deps.db, "i-0b0b0b0b0b0b0b0b0", new Date(Math.min(startedAt.getTime() + 20 * 60_000, now)));
		const ada = await signedIn(browser, "ada");
		await ada.page.goto(`${server.url}/budgets`);
		await ada.page.getByLabel("Budget of").selectOption("group");
		await ada.page.getByLabel("Group", { exact: true }).selectOption(String(world.science.id));
		await ada.page.getByLabel("Dollars a month").fill("1");
		await ada.page.getByRole("button", { name: "Set the budget" }).click();
		await ada.page.locator('.budget[data-level="exhausted"]').first().waitFor();
		await shootBoth(ada.page, "budgets");
		await ada.context.close();

		// Alice's dashboard shows the group's budget as a bar, used up.
		const alice = await signedIn(browser, "alice");
		await alice.page.goto(`${server.url}/`);
		const bar = alice.page.getByRole("region", { name: "My budgets" }).locator(".budget");
		await bar.locator(".badge", { hasText: "used up" }).waitFor();
		assert.match(await bar.textContent() ?? "", /science/);
		assert.match(await bar.locator("meter").getAttribute("aria-label") ?? "", /1\d\d % of the budget spent/);
		await shootBoth(alice.page, "dashboard-budget");

		// The wizard refuses the launch with the figures and offers the request.
		await alice.page.goto(`${server.url}/launch`);
		await alice.page.getByRole("link", { name: "Launch Analyst" }).click();
		await alice.page.getByLabel("Instance type").selectOption("t2.micro");
		await alice.page.getByRole("button", { name: "Review launch" }).click();
		await alice.page.getByRole("heading", { name: "This launch needs an approval" }).waitFor();
		assert.match(
			await alice.page.locator("[data-approval-needed]").textContent() ?? "",
			/The group science's budget is used up: \$1\.0\d of \$1\.00 spent in \d{4}-\d\d \(10\d %\)/,
		);
		await shootBoth(alice.page, "wizard-refusal");
		await alice.page.getByLabel("Why").fill("The quarterly report is due on Friday.");
		await alice.page.getByRole("button", { name: "Request an exception" }).click();
		await alice.page.locator(".flash.ok").getByText(/Request #\d+ was sent/).waitFor();
		const requestId = Number(/\/approvals\/(\d+)$/.exec(alice.page.url())?.[1]);
		assert.ok(requestId > 0);
		assert.equal((await deps.db.query.launches.findMany()).length, 0, "nothing launched before the approval");

		// Mia, a manager in science, sees it on the approvals page and approves it with a comment.
		const mia = await signedIn(browser, "mia");
		await mia.page.goto(`${server.url}/approvals?status=pending`);
		const request = mia.page.locator(`[data-request="${requestId}"]`);
		await request.waitFor();
		assert.match(await request.textContent() ?? "", /The quarterly report is due on Friday\./);
		await shootBoth(mia.page, "approvals");
		await request.getByLabel(/Comment/).fill("Fine for the report.");
		await request.getByRole("button", { name: "Approve" }).click();
		await mia.page.locator(".flash.ok").getByText(`Request #${requestId} was approved: its launch is on its way.`)
			.waitFor();
		await mia.context.close();

		// The launch goes on by itself: the poller submits it and alice's dashboard shows her instance running.
		const approval = (await deps.db.query.approvals.findFirst({ where: (a, { eq }) => eq(a.id, requestId) }))!;
		assert.equal(approval.status, "approved");
		assert.ok(approval.launchId);
		const deadline = Date.now() + 30_000;
		while ((await getLaunch(deps.db, approval.launchId))!.status !== "complete") {
			assert.ok(Date.now() < deadline, "the approved launch completes");
			await new Promise((r) => setTimeout(r, 250));
		}
		const [instance] = await instancesOfLaunch(deps.db, approval.launchId);
		await alice.page.goto(`${server.url}/`);
		await waitForState(alice.page, instance!.id, "running");
		await alice.page.goto(`${server.url}/approvals/${requestId}`);
		assert.match(
			await alice.page.locator(`[data-request="${requestId}"]`).getAttribute("data-status") ?? "",
			/approved/,
		);
		// The refusal is a 403 page, which Chromium logs as a failed load; nothing else went wrong.
		assert.deepEqual(alice.errors, ["Failed to load resource: the server responded with a status of 403 (Forbidden)"]);
		await alice.context.close();
	},
	{ needsMoto: true },
);

browserTest(
	"the billing page sets what AWS billed beside the estimate, flags a day off by more than the threshold, and offers the chargeback",
	async () => {
		await using portal = await setup();
		const { deps, server, browser, world } = portal;
		// Ten hours of alice's r4.4xlarge yesterday (UTC), and what Cost Explorer says AWS billed for its launch.
		const today = new Date().toISOString().slice(0, 10);
		const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
		const launch = await addLaunch(deps.db, {
			userId: world.alice.id,
			groupId: world.science.id,
			configId: world.config.id,
			instanceType: "r4.4xlarge",
			status: "complete",
		});
		await openBill(deps.db, {
			resourceKind: "instance",
			resourceId: "i-0a0a0a0a0a0a0a0a0",
			userId: world.alice.id,
			groupId: world.science.id,
			costCenter: "CC-science",
			description: "r4.4xlarge",
			hourlyRate: 1.064,
			startedAt: new Date(`${yesterday}T10:00:00Z`),
		});
		await closeBill(deps.db, "i-0a0a0a0a0a0a0a0a0", new Date(`${yesterday}T20:00:00Z`));
		await moto!.queueCostAndUsage([{
			ResultsByTime: [{
				TimePeriod: { Start: yesterday, End: today },
				Groups: [{
					Keys: ["Cost Center$CC-science", `mliy:launch-id$${launch.id}`],
					Metrics: { NetUnblendedCost: { Amount: "12.00", Unit: "USD" } },
				}],
				Estimated: true,
			}],
		}]);
		assert.equal(await runJob(deps, readActualCostsJob, { scheduled: false }), "ok");

		const ada = await signedIn(browser, "ada");
		await ada.page.goto(`${server.url}/billing?from=${yesterday}&to=${today}`);
		const section = ada.page.getByRole("region", { name: "Estimates against the bill" });
		// $10.64 estimated, $12.00 billed: +$1.36, +12.8 %, above the 10 % threshold.
		const flaggedDay = section.locator(`[data-flagged-day="${yesterday}"]`);
		await flaggedDay.waitFor();
		assert.match((await flaggedDay.textContent())!, /\$10\.64\s*\$12\.00\s*\+\$1\.36\s*\+12\.8 %/);
		await ada.page.getByRole("region", { name: "Chargeback" }).getByRole("button", { name: "Download JSON" })
			.waitFor();
		await shootBoth(ada.page, "billing-estimates");
		assert.deepEqual(ada.errors, [], "no console errors");
		await ada.context.close();
	},
	{ needsMoto: true },
);
