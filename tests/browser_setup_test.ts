/**
 * Real Chromium against the app with moto behind it: a setup that fails shows as "setup failed"
 * on the dashboard row without a reload, with its stage, time and the actions that make sense, and
 * the instance's page shows the tail of its console (moto's GetConsoleOutput). Also the pages
 * around a failure (a failed launch, the empty dashboard) at 1280 and 390 px: screenshots, and no
 * page wider than the phone's screen. Screenshots go to tests/.output/screenshots (ignored by git).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { instancesOfLaunch } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { progressToken } from "../lib/tokens.ts";
import { browserSettings, browserTest, launchBrowser, SCREENSHOTS, serve, signedIn } from "./_helpers/browser.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { moto } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addLaunch, seedWorld } from "./_helpers/world.ts";

await Deno.mkdir(SCREENSHOTS, { recursive: true });

async function portal() {
	await moto!.reset();
	const deps = await createTestDeps({
		awsEndpoint: moto!.url,
		realClock: true,
		settings: { ...browserSettings(), LAUNCH_SUBNET_ID: await moto!.subnet("us-east-1a") },
	});
	const world = await seedWorld(deps.db);
	const server = serve(deps);
	const browser = await launchBrowser();
	return {
		deps,
		world,
		server,
		browser,
		async [Symbol.asyncDispose]() {
			await browser.close();
			await server.close();
			await deps[Symbol.asyncDispose]();
		},
	};
}

/** The page is no wider than its viewport: nothing to scroll sideways on a phone. */
async function assertFits(page: Page, what: string) {
	const { scroll, viewport } = await page.evaluate(() => ({
		scroll: document.documentElement.scrollWidth,
		viewport: document.documentElement.clientWidth,
	}));
	assert.ok(scroll <= viewport, `${what}: ${scroll} px wide in a ${viewport} px viewport`);
}

/** Full-page screenshots of what `page` shows, at 1280 and at 390 px wide. */
async function shoot(page: Page, name: string) {
	for (const width of [1280, 390]) {
		await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
		await page.screenshot({ path: `${SCREENSHOTS}${name}-${width}.png`, fullPage: true });
		if (width === 390) await assertFits(page, name);
	}
	await page.setViewportSize({ width: 1280, height: 900 });
}

browserTest(
	"a failed setup shows on the dashboard row without a reload, and the console's tail on its page",
	async () => {
		await using it = await portal();
		const { deps, world, server, browser } = it;
		const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
			user: "alice",
			form: { intent: "launch", instanceType: "t2.micro" },
		});
		assert.equal(res.status, 303, await res.clone().text());
		const launchId = res.headers.get("Location")!.split("/").pop()!;
		await deps.background.idle();
		await tick(deps);
		assert.equal((await getLaunch(deps.db, launchId))!.status, "complete");
		const [instance] = await instancesOfLaunch(deps.db, launchId);
		const id = instance!.id;
		const token = await progressToken(deps.secret, launchId);
		const report = async (stage: string) => {
			const answer = await fetch(`${server.url}/ajax/progress/${id}/${stage}`, {
				headers: { "X-MLiy-Progress-Token": token },
			});
			assert.equal(answer.status, 200);
			await answer.body?.cancel();
		};

		const { page, context, errors } = await signedIn(browser, "alice");
		await report("installing_base_packages(40)");
		await page.goto(`${server.url}/`);
		const row = page.locator(`tr[data-instance="${id}"]`);
		await row.locator('[role="progressbar"][aria-valuenow="40"]').waitFor();

		// The sample bootstrap's error trap; the row, polling while the setup reports, shows it in place.
		await report("failed(100)");
		const failed = row.locator('[data-setup="failed"]');
		await failed.waitFor({ timeout: 10_000 });
		assert.match(await failed.innerText(), /^setup failed at failed, \d{4}-\d\d-\d\d \d\d:\d\d/);
		assert.equal(await row.locator('[role="progressbar"]').count(), 0, "the bar is gone");
		await row.getByRole("link", { name: "Launch again" }).waitFor();
		await row.getByRole("button", { name: `Terminate ${id}` }).waitFor();
		assert.equal(await row.getByRole("button", { name: new RegExp(`^(Stop|Restart) ${id}$`) }).count(), 0);
		await deps.background.idle(); // the console's tail, fetched after the failure report
		await shoot(page, "setup-failed-dashboard");

		// The instance's page: the failure and the console's tail (moto answers with a Linux boot log).
		await row.locator(`a[href="/instances/${id}"]`).click();
		await page.waitForURL(`${server.url}/instances/${id}`);
		await page.getByRole("heading", { name: "Console output" }).waitFor();
		const tail = page.locator("pre[data-console]");
		assert.match(await tail.innerText(), /Linux version 2\.6\.16-xenU/);
		await page.locator('[data-setup="failed"]').first().waitFor();
		await shoot(page, "setup-failed-detail");
		assert.deepEqual(errors, [], "no console errors");
		await context.close();
	},
	{ needsMoto: true },
);

browserTest("a failed launch's page, its dismissable notice and the empty dashboard, at 1280 and 390 px", async () => {
	await using it = await portal();
	const { deps, world, server, browser } = it;
	const launch = await addLaunch(deps.db, {
		userId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		status: "failed",
		reason: "Instance (AWS::EC2::Instance): The key pair 'analyst' does not exist",
		finishedAt: new Date(),
	});
	const { page, context, errors } = await signedIn(browser, "alice");
	await page.goto(`${server.url}/launches/${launch.id}`);
	await page.getByRole("heading", { name: "The launch of Analyst failed" }).waitFor();
	await shoot(page, "failed-launch");

	await page.goto(`${server.url}/`);
	const notice = page.locator(`[data-failed-launch="${launch.id}"]`);
	await notice.waitFor();
	await shoot(page, "failed-launch-notice");
	await notice.getByRole("button", { name: /^Dismiss/ }).click();
	await page.getByText("You do not have any instances.").waitFor();
	assert.equal(await notice.count(), 0);
	await shoot(page, "empty-dashboard");
	await page.reload();
	assert.equal(await page.locator("[data-failed-launch]").count(), 0, "it stays dismissed");
	assert.deepEqual(errors, [], "no console errors");
	await context.close();
}, { needsMoto: true });
