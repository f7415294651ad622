/**
 * Real Chromium against the app with moto behind it: the connection panel's copy buttons put the
 * SSH command and an application link on the clipboard, by mouse and by keyboard, on the machine's
 * page and in the dashboard row's folded form; without JavaScript the buttons are not shown and the
 * text is still there to select. Screenshots of the panel and the row at 1280 and 390 px.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { instancesOfLaunch } from "../lib/db/instances.ts";
import { browserSettings, browserTest, launchBrowser, SCREENSHOTS, serve, signedIn } from "./_helpers/browser.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { moto } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addConfig, seedWorld } from "./_helpers/world.ts";

await Deno.mkdir(SCREENSHOTS, { recursive: true });

async function shoot(page: Page, selector: string, name: string) {
	for (const width of [1280, 390]) {
		await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
		// The row's open form floats over what is below it: the shot reaches down to its end.
		const popups = page.locator(`${selector} .connect-popup`);
		const box = (await page.locator(selector).boundingBox())!;
		const popup = await popups.count() ? await popups.boundingBox() : null;
		const bottom = Math.max(box.y + box.height, popup ? popup.y + popup.height : 0);
		const scrollY = await page.evaluate(() => globalThis.scrollY);
		await page.screenshot({
			path: `${SCREENSHOTS}${name}-${width}.png`,
			fullPage: true,
			clip: { x: 0, y: box.y + scrollY, width, height: bottom - box.y + 8 },
		});
		const { scroll, viewport } = await page.evaluate(() => ({
			scroll: document.documentElement.scrollWidth,
			viewport: document.documentElement.clientWidth,
		}));
		assert.ok(scroll <= viewport, `${name} at ${width} px: ${scroll} px wide in a ${viewport} px viewport`);
	}
	await page.setViewportSize({ width: 1280, height: 900 });
}

browserTest(
	"connect panel copy button: the SSH command and a link reach the clipboard by click and by keyboard",
	async () => {
		await moto!.reset();
		await using deps = await createTestDeps({
			awsEndpoint: moto!.url,
			realClock: true,
			settings: { ...browserSettings(), LAUNCH_SUBNET_ID: await moto!.subnet("us-east-1a") },
		});
		const world = await seedWorld(deps.db);
		const notebook = await addConfig(deps.db, "Notebook", {
			types: [world.types["t2.micro"]!.id],
			groups: [world.science.id],
			instanceName: "notebook",
			loginUser: "ubuntu",
			customUrlFormat: "Jupyter | https://{{{ URL }}}:8888/lab\nRStudio | https://{{{ URL }}}/rstudio/",
		});
		const res = await request(deps.app, `/launch/${world.science.id}/${notebook.id}`, {
			user: "alice",
			form: { intent: "launch", instanceType: "t2.micro", name: "churn-notebook" },
		});
		assert.equal(res.status, 303, await res.clone().text());
		await tick(deps);
		const [instance] = await instancesOfLaunch(deps.db, res.headers.get("Location")!.split("/").pop()!);
		const host = instance!.dnsName || instance!.privateIp!;
		const ssh = `ssh -i ~/.ssh/analyst-key.pem ubuntu@${host}`;

		const server = serve(deps);
		const browser = await launchBrowser();
		try {
			const { page, context, errors } = await signedIn(browser, "alice");
			await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
			await page.goto(`${server.url}/instances/${instance!.id}`);
			const panel = page.locator("#connect");
			await panel.getByRole("heading", { name: "Connect" }).waitFor();

			await panel.getByRole("button", { name: "Copy SSH command" }).click();
			await panel.getByRole("status").filter({ hasText: "Copied" }).waitFor();
			assert.equal(await page.evaluate(() => navigator.clipboard.readText()), ssh);

			// By keyboard: focus the Jupyter button, press Enter.
			await panel.getByRole("button", { name: "Copy Jupyter" }).focus();
			await page.keyboard.press("Enter");
			await page.waitForFunction(
				(want) => navigator.clipboard.readText().then((t) => t === want),
				`https://${host}:8888/lab`,
			);
			assert.equal(await panel.getByRole("status").innerText(), `Copied: https://${host}:8888/lab`);
			await shoot(page, "#connect", "connect-panel");
			await shoot(page, "#instance-panel > .grid", "instance-facts");

			// The dashboard row: the folded form opens by keyboard, and its buttons copy too.
			await page.goto(`${server.url}/`);
			const row = page.locator(`tr[data-instance="${instance!.id}"]`);
			await row.getByText("churn-notebook").waitFor();
			await row.locator("summary").focus();
			await page.keyboard.press("Enter");
			await row.getByRole("button", { name: "Copy address" }).click();
			await page.waitForFunction((want) => navigator.clipboard.readText().then((t) => t === want), host);
			await shoot(page, `tr[data-instance="${instance!.id}"]`, "connect-dashboard-row");
			assert.deepEqual(errors, []);
			await context.close();

			// Without JavaScript: no button that would do nothing, the command still there to select.
			const plain = await browser.newContext({ javaScriptEnabled: false, extraHTTPHeaders: { REMOTE_USER: "alice" } });
			const noJs = await plain.newPage();
			await noJs.goto(`${server.url}/instances/${instance!.id}`);
			assert.equal(await noJs.locator("#connect code").first().innerText(), host);
			assert.equal(await noJs.locator("#connect").getByText(ssh, { exact: true }).count(), 1);
			assert.equal(await noJs.locator("#connect button[data-copy]").first().isVisible(), false);
			await plain.close();
		} finally {
			await browser.close();
			await server.close();
		}
	},
	{ needsMoto: true },
);
