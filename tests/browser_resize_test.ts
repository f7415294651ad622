/**
 * Real Chromium against the app with moto behind it: an instance's page with its boot timeline
 * (a slow stage flagged), "Launch again" opening the wizard pre-filled, and a resize chosen from
 * the types with its cost before and after, confirmed, and seen in EC2. Screenshots at 1280 and
 * 390 px go to tests/.output/screenshots (ignored by git); no page is wider than the phone.
 */
import assert from "node:assert/strict";
import { DescribeInstancesCommand, StopInstancesCommand } from "@aws-sdk/client-ec2";
import type { Page } from "playwright-core";
import { insertProgressReport, saveStackEvents } from "../lib/db/timeline.ts";
import { browserSettings, browserTest, launchBrowser, SCREENSHOTS, serve, signedIn } from "./_helpers/browser.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { moto } from "./_helpers/moto.ts";
import { addInstance, addLaunch, seedWorld } from "./_helpers/world.ts";

await Deno.mkdir(SCREENSHOTS, { recursive: true });

const MINUTE = 60_000;

/** Full-page screenshots at 1280 and 390 px; at 390 the page must not scroll sideways. */
async function shoot(page: Page, name: string) {
	for (const width of [1280, 390]) {
		await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
		await page.screenshot({ path: `${SCREENSHOTS}${name}-${width}.png`, fullPage: true });
		if (width === 390) {
			const { scroll, viewport } = await page.evaluate(() => ({
				scroll: document.documentElement.scrollWidth,
				viewport: document.documentElement.clientWidth,
			}));
			assert.ok(scroll <= viewport, `${name}: ${scroll} px wide in a ${viewport} px viewport`);
		}
	}
	await page.setViewportSize({ width: 1280, height: 900 });
}

browserTest("an instance's boot timeline, launch again pre-filled, and a resize showing the cost delta", async () => {
	await moto!.reset();
	await using deps = await createTestDeps({
		awsEndpoint: moto!.url,
		realClock: true,
		settings: browserSettings(),
	});
	const world = await seedWorld(deps.db);
	const server = serve(deps);
	const browser = await launchBrowser();
	try {
		// Alice's stopped t2.micro, launched an hour ago with the optional security group; three
		// earlier launches of the configuration took 5 minutes over Jupyter, this one 20.
		const [id] = await moto!.runInstances(1, { LaunchedBy: "MLIY", userid: "alice" }, "t2.micro");
		await moto!.ec2().send(new StopInstancesCommand({ InstanceIds: [id!] }));
		const start = Date.now() - 60 * MINUTE;
		const at = (minutes: number) => new Date(start + minutes * MINUTE);
		const launch = await addLaunch(deps.db, {
			userId: world.alice.id,
			groupId: world.science.id,
			configId: world.config.id,
			options: { securityGroupIds: [world.sgDefault.sgId, world.sgOptional.sgId] },
			status: "complete",
			createdAt: at(0),
			submittedAt: at(0.2),
		});
		await addInstance(deps.db, {
			id: id!,
			ownerId: world.alice.id,
			groupId: world.science.id,
			configId: world.config.id,
			launchId: launch.id,
			name: "churn-model",
			state: "stopped",
			launchedAt: at(1),
			setupState: "done",
		});
		const stages = (instanceId: string, from: number, jupyter: number) => [
			{ instanceId, stage: "installing base packages", percent: 20, at: at(from) },
			{ instanceId, stage: "configuring jupyter", percent: 60, at: at(from + 4) },
			{ instanceId, stage: "done", percent: 100, at: at(from + 4 + jupyter) },
		];
		for (const [i, earlier] of ["i-00000000000000001", "i-00000000000000002", "i-00000000000000003"].entries()) {
			for (const report of stages(earlier, -300 + i * 60, 5)) {
				await insertProgressReport(deps.db, { ...report, configId: world.config.id });
			}
		}
		for (const report of stages(id!, 3, 20)) {
			await insertProgressReport(deps.db, { ...report, configId: world.config.id });
		}

		const { page, context, errors } = await signedIn(browser, "alice");
		await page.goto(`${server.url}/instances/${id}`);
		const timeline = page.locator("#boot-timeline");
		await timeline.getByRole("heading", { name: "Boot timeline" }).waitFor();
		assert.match(
			await timeline.locator("[data-slow-stages]").innerText(),
			/configuring jupyter took 20 min \(usually 5 min\)/,
		);
		await timeline.scrollIntoViewIfNeeded();
		await shoot(page, "boot-timeline");

		// Launch again: the wizard with the same type and security group, ready to review.
		await page.getByRole("link", { name: "Launch again" }).click();
		await page.waitForURL(new RegExp(`/launch/${world.science.id}/${world.config.id}\\?`));
		assert.equal(await page.locator('select[name="instanceType"]').inputValue(), "t2.micro");
		assert.ok(await page.locator(`input[name="securityGroups"][value="${world.sgOptional.sgId}"]`).isChecked());
		assert.match(new URL(page.url()).searchParams.get("name") ?? "", /^churn-model-2$/);
		await page.goBack();

		// Resize: the types with their difference, then the confirmation with the rate before and after.
		await page.getByRole("link", { name: "Resize…" }).click();
		await page.waitForURL(`${server.url}/instances/${id}/resize`);
		await page.getByRole("link", { name: "m4.large" }).click();
		const confirm = page.locator("#resize-confirm");
		await confirm.waitFor();
		assert.equal(await confirm.locator("[data-rate-before]").innerText(), "$0.0116/h");
		assert.equal(await confirm.locator("[data-rate-after]").innerText(), "$0.10/h");
		assert.equal(await confirm.locator("strong[data-delta]").innerText(), "+$0.0884/h");
		await shoot(page, "resize-confirm");
		await confirm.getByRole("button", { name: "Resize" }).click();
		await page.waitForURL(`${server.url}/instances/${id}`);
		assert.match(await page.locator(".flash.ok").innerText(), new RegExp(`${id} now has type m4\\.large`));
		const out = await moto!.ec2().send(new DescribeInstancesCommand({ InstanceIds: [id!] }));
		assert.equal(out.Reservations![0]!.Instances![0]!.InstanceType, "m4.large", "EC2 has the new type");

		// A failed launch's events page: what the launcher stored, with what failed first.
		const failed = await addLaunch(deps.db, {
			userId: world.alice.id,
			groupId: world.science.id,
			configId: world.config.id,
			status: "failed",
			reason: "Instance (AWS::EC2::Instance): The requested instance type is not supported in your zone.",
			stackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/MLiyAnalyst-MLIY-abc/1",
		});
		const event = (minutes: number, logicalId: string, type: string, status: string, reason: string | null) => ({
			logicalId,
			type,
			status,
			reason,
			at: start + minutes * MINUTE,
		});
		await saveStackEvents(deps.db, {
			launchId: failed.id,
			stackId: failed.stackId!,
			storedAt: new Date(),
			events: [
				event(4, "MLiyAnalyst-MLIY-abc", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", null),
				event(3, "Volume", "AWS::EC2::Volume", "CREATE_FAILED", "Resource creation cancelled"),
				event(
					2,
					"Instance",
					"AWS::EC2::Instance",
					"CREATE_FAILED",
					"The requested instance type is not supported in your zone.",
				),
				event(1, "Instance", "AWS::EC2::Instance", "CREATE_IN_PROGRESS", null),
			],
		});
		await page.goto(`${server.url}/launches/${failed.id}`);
		await page.getByRole("link", { name: "CloudFormation events" }).click();
		await page.waitForURL(`${server.url}/launches/${failed.id}/events`);
		assert.match(
			await page.locator("[data-diagnosis]").innerText(),
			/^What failed first: Instance \(AWS::EC2::Instance\)/,
		);
		await shoot(page, "stack-events-failed");
		assert.deepEqual(errors, [], "no console errors");
		await context.close();
	} finally {
		await browser.close();
		await server.close();
	}
}, { needsMoto: true });
