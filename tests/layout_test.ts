/**
 * The layout on a phone: at 390 px wide no main page scrolls sideways (the document is no wider
 * than the window), with the kinds of content that widen pages: long names, ids and reasons,
 * tables of machines and bills, forms, an instance-type list with descriptions. Each page is
 * also shot at 390 and 1280 px into tests/.output/screenshots/layout/ for a person to look at.
 */
import assert from "node:assert/strict";
import { recordAudit } from "../lib/db/audit.ts";
import { openBill } from "../lib/db/bills.ts";
import { upsertById } from "../lib/db/catalog.ts";
import { updateLaunch } from "../lib/db/launches.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { browserTest, launchBrowser, SCREENSHOTS, serve, signedIn } from "./_helpers/browser.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { addCluster, addConfig, addInstance, addLaunch, addLaunchedInstance, seedWorld } from "./_helpers/world.ts";

const SHOTS = `${SCREENSHOTS}layout/`;

async function busyWorld() {
	const deps = await createTestDeps({ aws: fakeAws() });
	const world = await seedWorld(deps.db);
	const now = deps.clock();
	const described = [
		["m5.large", "2 vCPU, 8 GiB, general purpose for notebooks and small models"],
		["m5.12xlarge", "48 vCPU, 192 GiB: large in-memory feature engineering jobs"],
		["p3.2xlarge", "1 NVIDIA V100 GPU, 8 vCPU, 61 GiB: deep learning training"],
	] as const;
	const typeIds = [];
	for (const [name, description] of described) {
		typeIds.push((await upsertById(deps.db, "instanceTypes", undefined, { name, description }))!);
	}
	const config = await addConfig(deps.db, "Analyst workstation with JupyterLab and a long name", {
		types: [...typeIds, world.types["t2.micro"]!.id],
		groups: [world.science.id],
		descriptionHtml: "<p>Amazon Linux analyst workstation with <b>JupyterLab</b>, Python 3, R and git.</p>",
	});
	const instance = await addLaunchedInstance(deps.db, world, "token", {
		name: "MLiyAnalyst-science-alice-experiment-long-name",
		instanceType: "m5.12xlarge",
		privateIp: "10.20.30.40",
		dnsName: "mliyanalyst-science-alice-experiment.analytics.example.com",
		progressPercent: 40,
		progressText: "installing_base_packages",
	});
	await addInstance(deps.db, {
		id: "i-0fedcba9876543210",
		ownerId: world.alice.id,
		state: "stopped",
		name: "Stopped box",
	});
	await addCluster(deps.db, { ownerId: world.alice.id, groupId: world.science.id, name: "MLiySpark-ON_DEMAND-a1b2c3" });
	const failed = await addLaunch(deps.db, { userId: world.alice.id, groupId: world.science.id, configId: config.id });
	await updateLaunch(deps.db, failed.id, "queued", {
		status: "failed",
		reason:
			"CloudFormation refused the stack: Parameter validation failed: parameter value sg-0123456789abcdef0,sg-0fedcba9876543210 for parameter name SecurityGroupIds does not exist",
		finishedAt: now,
	});
	for (const [id, rate] of [[instance.id, 2.304], ["j-ABCDEF", 0.288]] as const) {
		await openBill(deps.db, {
			resourceKind: id.startsWith("j-") ? "cluster" : "instance",
			resourceId: id,
			userId: world.alice.id,
			groupId: world.science.id,
			costCenter: "CC-1042-DATA-SCIENCE-RESEARCH",
			description: id.startsWith("j-") ? "ON DEMAND m4.large x 3" : "m5.12xlarge",
			hourlyRate: rate,
			startedAt: new Date(now.getTime() - 36 * 3600_000),
		});
	}
	await recordAudit(deps.db, {
		at: now,
		actorId: world.alice.id,
		actor: "alice",
		action: "stop",
		resourceKind: "instance",
		resourceId: instance.id,
		outcome: "error",
		detail: "StopInstances: the request was throttled by AWS (RequestLimitExceeded), try again in a minute",
	});
	return { deps, world, config, instance, failed };
}

browserTest("at 390 px no main page scrolls sideways; every page is shot at 390 and 1280 px", async () => {
	const { deps, world, config, instance, failed } = await busyWorld();
	await using _ = deps;
	const server = serve(deps);
	const browser = await launchBrowser();
	await Deno.mkdir(SHOTS, { recursive: true });
	const launchForm = `/launch/${world.science.id}/${config.id}`;
	// A portal nobody administers yet: its 403 says how to make an admin.
	await using freshDeps = await createTestDeps({ aws: fakeAws() });
	const fresh = serve(freshDeps);
	const pages: {
		name: string;
		user?: string;
		path: string;
		/** The portal asked, when not the busy one. */
		on?: string;
		then?: (page: import("playwright-core").Page) => Promise<void>;
	}[] = [
		{ name: "dashboard", user: "alice", path: "/" },
		{ name: "team", user: "ada", path: "/team" },
		{ name: "launch-groups", user: "ada", path: "/launch" },
		{ name: "launch-configs", user: "alice", path: `/launch/${world.science.id}` },
		{ name: "launch-form", user: "alice", path: launchForm },
		{
			name: "launch-confirm",
			user: "alice",
			path: launchForm,
			then: (page) => page.getByRole("button", { name: "Review launch" }).click().then(() => page.waitForURL(/./)),
		},
		{ name: "launch-failed", user: "alice", path: `/launches/${failed.id}` },
		{ name: "instance", user: "alice", path: `/instances/${instance.id}` },
		{ name: "cluster", user: "alice", path: "/clusters/j-ABCDEF" },
		{ name: "billing", user: "ada", path: "/billing" },
		{ name: "profile", user: "alice", path: "/profile" },
		{ name: "admin", user: "ada", path: "/admin" },
		{ name: "admin-groups", user: "ada", path: "/admin/groups" },
		{ name: "admin-group-form", user: "ada", path: `/admin/groups/${world.science.id}` },
		{ name: "admin-configs", user: "ada", path: "/admin/configs" },
		{ name: "admin-config-form", user: "ada", path: `/admin/configs/${config.id}` },
		{ name: "admin-instance-types", user: "ada", path: "/admin/instance-types" },
		{ name: "admin-users", user: "ada", path: "/admin/users" },
		{ name: "admin-catalog", user: "ada", path: "/admin/catalog" },
		{ name: "admin-guide", user: "ada", path: "/admin/guide" },
		{ name: "401", path: "/" },
		{ name: "403", user: "alice", path: "/admin" },
		{ name: "403-no-admin", user: "alice", path: "/admin", on: fresh.url },
	];
	const overflowing: string[] = [];
	const tablesScrolling: string[] = [];
	try {
		for (const width of [390, 1280]) {
			for (const spec of pages) {
				const { context, page } = spec.user
					? await signedIn(browser, spec.user, { width, height: 844 })
					: await browser.newContext({ viewport: { width, height: 844 } }).then(async (context) => ({
						context,
						page: await context.newPage(),
					}));
				await page.goto(`${spec.on ?? server.url}${spec.path}`);
				if (spec.then) await spec.then(page);
				await page.waitForLoadState("networkidle");
				const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
				// A table may scroll inside its frame; say which do, to see whether a phone must scroll them.
				const scrolledTables = await page.evaluate(() =>
					[...document.querySelectorAll(".table-wrap")].filter((el) => el.scrollWidth > el.clientWidth + 1).length
				);
				if (width === 390 && scrolledTables) tablesScrolling.push(`${spec.name}: ${scrolledTables}`);
				if (width === 390 && scrollWidth > 390) {
					// Name the widest elements, to say what overflows.
					const wide = await page.evaluate(() =>
						[...document.querySelectorAll("body *")]
							.filter((el) => el.getBoundingClientRect().right > 391)
							.slice(-3)
							.map((el) =>
								`${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)})`
							)
					);
					overflowing.push(`${spec.name}: ${scrollWidth} px wide; ${wide.join(", ")}`);
				}
				await page.screenshot({ path: `${SHOTS}${spec.name}-${width}.png`, fullPage: true });
				await context.close();
			}
		}
	} finally {
		await browser.close();
		await server.close();
		await fresh.close();
	}
	assert.deepEqual(overflowing, [], "pages wider than a 390 px phone");
	assert.deepEqual(tablesScrolling, [], "tables that scroll sideways inside their frame at 390 px");
});
