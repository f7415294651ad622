/**
 * Sortable lists in Chromium: a heading clicked (or pressed from the keyboard) sorts the team
 * table in place and puts the order in the address and in the form, so a filter chosen next keeps
 * it and a reload shows the same; My dashboard past a screenful filters as one types and pages
 * without losing the filter. Screenshots at 1280 and 390 px go to tests/.output/screenshots (and
 * REVIEW_SHOTS_DIR when set).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { browserSettings, browserTest, launchBrowser, SCREENSHOTS, serve, signedIn } from "./_helpers/browser.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { seedMine, seedTeam } from "./_helpers/lists.ts";
import { seedWorld } from "./_helpers/world.ts";

const REVIEW_SHOTS = Deno.env.get("REVIEW_SHOTS_DIR");

/** A full-page screenshot at 1280 px and one at 390 px (a phone). */
async function shootBoth(page: Page, name: string) {
	for (const width of [1280, 390]) {
		await page.setViewportSize({ width, height: 900 });
		const path = `${SCREENSHOTS}${name}-${width}.png`;
		await page.screenshot({ path, fullPage: true });
		if (REVIEW_SHOTS) await Deno.copyFile(path, `${REVIEW_SHOTS}/${name}-${width}.png`);
	}
	await page.setViewportSize({ width: 1280, height: 900 });
}

/** The owners of the team table's rows, in order. */
async function owners(page: Page): Promise<string[]> {
	return await page.locator('#team-table tr[data-instance] td[data-label="Owner"]').allTextContents();
}

browserTest(
	"the team view: a heading sorts in place, the form keeps the order through a filter and a reload",
	async () => {
		await Deno.mkdir(SCREENSHOTS, { recursive: true });
		await using deps = await createTestDeps({ settings: browserSettings() });
		const world = await seedWorld(deps.db);
		await seedTeam(deps, world);
		const server = serve(deps);
		const browser = await launchBrowser();
		try {
			const { page, errors } = await signedIn(browser, "mia");
			await page.goto(`${server.url}/team`);
			// From the keyboard: the Owner heading's link, focused and pressed.
			await page.locator("#team-table th a.sort", { hasText: "Owner" }).focus();
			await page.keyboard.press("Enter");
			await page.waitForURL(/sort=owner&dir=asc/);
			await page.locator('#team-table th[aria-sort="ascending"]', { hasText: "Owner" }).waitFor();
			assert.equal(
				await page.locator("#team-sort-by").inputValue(),
				"owner",
				"the form's Sort by followed the heading",
			);
			const sorted = await owners(page);
			assert.deepEqual(sorted, [...sorted].sort(), "owners A to Z");

			// A filter chosen next keeps the order.
			await page.locator("#f-state").selectOption("running");
			await page.waitForURL(/state=running/);
			assert.match(page.url(), /sort=owner&dir=asc/);
			const running = await owners(page);
			assert.deepEqual(running, [...running].sort());
			assert.ok(
				(await page.locator("#team-table tr[data-instance] [data-state]").evaluateAll((els) =>
					els.map((e) => e.getAttribute("data-state"))
				)).every((s) => s === "running"),
			);

			// The same heading again turns the order; a reload shows the same view.
			await page.locator("#team-table th a.sort", { hasText: "Owner" }).click();
			await page.waitForURL(/sort=owner&dir=desc/);
			await page.reload();
			assert.equal(await page.locator("#f-state").inputValue(), "running");
			assert.equal(await page.locator("#team-sort-dir").inputValue(), "desc");
			const reloaded = await owners(page);
			assert.deepEqual(reloaded, [...reloaded].sort().reverse(), "owners Z to A after the reload");
			await shootBoth(page, "team-sorted");
			assert.deepEqual(errors, []);
		} finally {
			await browser.close();
			await server.close();
		}
	},
);

browserTest(
	"My dashboard past a screenful: typing filters, the pager keeps the filter, an empty result clears",
	async () => {
		await Deno.mkdir(SCREENSHOTS, { recursive: true });
		await using deps = await createTestDeps({ settings: browserSettings() });
		const world = await seedWorld(deps.db);
		await seedMine(deps, world, 60);
		const server = serve(deps);
		const browser = await launchBrowser();
		try {
			const { page, errors } = await signedIn(browser, "alice");
			await page.goto(`${server.url}/`);
			await page.getByText("Page 1 of 3 · 64 in all").waitFor();

			await page.locator("#f-q").fill("lab");
			await page.waitForURL(/q=lab/);
			await page.getByText(/\d+ of your 64 machines match\./).waitFor();
			const names = await page.locator('#my-instances tr[data-instance] td[data-label="Instance"] a').allTextContents();
			assert.ok(names.length > 0 && names.every((n) => n.toLowerCase().includes("lab")), names.join(", "));

			await page.locator("#dash-sort-by").selectOption("name");
			await page.waitForURL(/sort=name/);
			assert.match(page.url(), /q=lab/);
			const byName = await page.locator('#my-instances tr[data-instance] td[data-label="Instance"] a')
				.allTextContents();
			// The Order field kept its value (newest first: descending), so names run Z to A.
			assert.match(page.url(), /dir=desc/);
			assert.deepEqual(byName, [...byName].sort((a, b) => a.toLowerCase() < b.toLowerCase() ? 1 : -1));

			await page.locator("#f-kind").selectOption("instance");
			await page.waitForURL(/kind=instance/);
			await shootBoth(page, "dashboard-filtered");

			await page.locator("#f-q").fill("nothing-like-this");
			await page.getByText("No machines match.").waitFor();
			await page.getByRole("link", { name: "Clear the filters" }).click();
			await page.waitForURL((url) => !url.search.includes("q="));
			assert.equal(await page.locator("#f-q").inputValue(), "");
			await page.getByText("Page 1 of 3 · 64 in all").waitFor();
			await page.getByRole("link", { name: "Next →" }).click();
			await page.waitForURL(/page=2/);
			assert.match(page.url(), /sort=name&dir=desc/, "the order outlived the cleared filters");
			assert.deepEqual(errors, []);
		} finally {
			await browser.close();
			await server.close();
		}
	},
);
