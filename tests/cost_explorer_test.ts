/**
 * Estimates against the bill, through the HTTP app with a controlled clock: an instance really runs
 * in moto and is billed by the portal; what AWS billed is injected into moto's Cost Explorer (its
 * results API), read by the daily job through the real SDK, and the billing page sets it beside the
 * estimate with the gap hand-computed here. Cost Explorer not enabled is the one answer moto cannot
 * give: a scripted endpoint answers AccessDeniedException as AWS does.
 */
import assert from "node:assert/strict";
import { readActualCostsJob } from "../jobs/read_actual_costs.ts";
import { writeChargebacksJob } from "../jobs/write_chargebacks.ts";
import { instanceRate } from "../lib/billing/rates.ts";
import { runJob } from "../lib/jobs.ts";
import { actualCosts } from "../lib/db/schema.ts";
import { scriptedEndpoint } from "./_fakes/endpoint.ts";
import { billedInstances } from "./_helpers/budgets.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { seedWorld } from "./_helpers/world.ts";

const HOUR = 3_600_000;

/** One Cost Explorer group: the cost of a cost center and launch on a day, as GetCostAndUsage names it. */
function group(costCenter: string, launchId: string, amount: string) {
	return {
		Keys: [`Cost Center$${costCenter}`, `mliy:launch-id$${launchId}`],
		Metrics: { NetUnblendedCost: { Amount: amount, Unit: "USD" } },
	};
}

function day(start: string, end: string, groups: unknown[], estimated = false) {
	return { TimePeriod: { Start: start, End: end }, Groups: groups, Estimated: estimated };
}

async function readActuals(deps: TestDeps) {
	assert.equal(await runJob(deps, readActualCostsJob, { scheduled: false }), "ok");
}

/** The billing page's "Estimates against the bill" section as `user` sees it. */
async function comparisonOf(deps: TestDeps, user: string): Promise<string> {
	const res = await request(deps.app, "/billing", { user });
	assert.equal(res.status, 200);
	const page = await res.text();
	const start = page.indexOf('<section class="panel" aria-labelledby="h-actuals">');
	assert.ok(start >= 0, "the page has the section");
	return page.slice(start, page.indexOf("</section>", start));
}

/** A row of a comparison table: its cells' text in order. */
function cells(html: string, attribute: string): string[] {
	const row = new RegExp(`<tr ${attribute}>([\\s\\S]*?)</tr>`).exec(html);
	assert.ok(row, `a row ${attribute}`);
	return [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, "").trim());
}

motoTest(
	"Cost Explorer's figures appear beside the estimates per month with the gap, the days off by more than the threshold flagged",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url });
		const world = await seedWorld(deps.db);
		const rate = instanceRate(deps, { type: "r4.4xlarge" });
		assert.ok(rate.known);
		assert.equal(rate.hourly, 1.064, "the shipped pricing file's on-demand r4.4xlarge rate, used by hand below");
		// Alice's r4.4xlarge in science runs from 2025-03-01 12:00 UTC: 12 hours that day, 24 the next.
		const [id] = await billedInstances(deps, moto, world, ["r4.4xlarge"]);
		const launchId = (await deps.db.query.instances.findFirst({ where: (i, { eq }) => eq(i.id, id!) }))!.launchId!;
		deps.clock.advance(42 * HOUR); // 2025-03-03 06:00 UTC: the job reads up to yesterday, 2025-03-02.

		assert.match(await comparisonOf(deps, "ada"), /What AWS billed has not been read yet/);
		assert.doesNotMatch(await comparisonOf(deps, "ada"), /data-cost-comparison/, "no zeros before the first read");

		await moto.queueCostAndUsage([{
			ResultsByTime: [
				day("2025-03-01", "2025-03-02", [group("CC-science", launchId, "13.00")]),
				// Tagged cost of the portal whose launch the tags do not name (a volume tagged by hand, say): an admin's only.
				day(
					"2025-03-02",
					"2025-03-03",
					[group("CC-science", launchId, "30.00"), group("CC-science", "", "0.75")],
					true,
				),
			],
		}]);
		await readActuals(deps);
		const stored = await deps.db.select().from(actualCosts);
		assert.deepEqual(
			stored.map((r) => [r.day, r.costCenter, r.launchId, r.groupId, r.amount, r.estimated]).sort(),
			[
				["2025-03-01", "CC-science", launchId, world.science.id, 13, false],
				["2025-03-02", "CC-science", "", null, 0.75, true],
				["2025-03-02", "CC-science", launchId, world.science.id, 30, true],
			].sort(),
		);

		// By hand: estimate 12 h × $1.064 = $12.768 (1st) and 24 h × $1.064 = $25.536 (2nd), $38.304 in all.
		// Ada (an admin) sees all AWS billed: $13.00 + $30.75 = $43.75; gap $5.446, 14.2 % of the estimate.
		const admin = await comparisonOf(deps, "ada");
		assert.deepEqual(cells(admin, 'data-month="2025-03"'), [
			"2025-03 (2025-03-01 to 2025-03-03, not included)",
			"$38.30",
			"$43.75",
			"+$5.45",
			"+14.2 %",
		]);
		// The 2nd is off by $30.75 − $25.536 = $5.214, 20.4 %: flagged; the 1st by $0.232, 1.8 %: not.
		assert.match(admin, /<h3>Days off by more than 10 %<\/h3>/);
		assert.deepEqual(cells(admin, 'data-flagged-day="2025-03-02"'), [
			"2025-03-02",
			"$25.54",
			"$30.75",
			"+$5.21",
			"+20.4 %",
		]);
		assert.doesNotMatch(admin, /data-flagged-day="2025-03-01"/);

		// Alice sees her group's: $43.00 billed; gap $4.696, 12.3 %; the 2nd off by $4.464, 17.5 %.
		const alice = await comparisonOf(deps, "alice");
		assert.deepEqual(cells(alice, 'data-month="2025-03"').slice(1), ["$38.30", "$43.00", "+$4.70", "+12.3 %"]);
		assert.deepEqual(cells(alice, 'data-flagged-day="2025-03-02"').slice(1), ["$25.54", "$30.00", "+$4.46", "+17.5 %"]);

		// A day later AWS revised the 2nd: the read replaces its figures instead of adding to them.
		deps.clock.advance(24 * HOUR);
		await moto.queueCostAndUsage([{
			ResultsByTime: [
				day("2025-03-01", "2025-03-02", [group("CC-science", launchId, "13.00")]),
				day("2025-03-02", "2025-03-03", [group("CC-science", launchId, "26.00")]),
				day("2025-03-03", "2025-03-04", [group("CC-science", launchId, "25.00")], true),
			],
		}]);
		await readActuals(deps);
		// Estimate now 12 + 24 + 24 hours: $63.84; billed $64.00; gap $0.16, 0.3 %; no day off by more than 10 %.
		const revised = await comparisonOf(deps, "ada");
		assert.deepEqual(cells(revised, 'data-month="2025-03"').slice(1), ["$63.84", "$64.00", "+$0.16", "+0.3 %"]);
		assert.doesNotMatch(revised, /Days off by more than/);
	},
);

motoTest(
	"Cost Explorer not enabled, or the portal's tags not activated, is said plainly on the billing page instead of zeros",
	async (moto) => {
		// Tags not activated: Cost Explorer answers, but no cost carries them (moto's results API).
		{
			await using deps = await createTestDeps({ awsEndpoint: moto.url });
			const world = await seedWorld(deps.db);
			await billedInstances(deps, moto, world, ["t2.micro"]);
			deps.clock.advance(24 * HOUR);
			await moto.queueCostAndUsage([{
				ResultsByTime: [
					day("2025-02-01", "2025-03-01", []),
					day("2025-03-01", "2025-03-02", []),
				],
				GroupDefinitions: [{ Type: "TAG", Key: "Cost Center" }, { Type: "TAG", Key: "mliy:launch-id" }],
			}]);
			await readActuals(deps);
			const section = await comparisonOf(deps, "ada");
			assert.match(
				section,
				/<p class="notice" data-cost-explorer="untagged">AWS Cost Explorer holds no cost with the portal's tags for these days: activate LaunchedBy, Cost Center and mliy:launch-id as cost allocation tags/,
			);
			assert.doesNotMatch(section, /data-cost-comparison|\$0\.00/);
		}
		// Not enabled: AWS answers AccessDeniedException (moto cannot be told to).
		await using endpoint = scriptedEndpoint(() =>
			Response.json({ __type: "AccessDeniedException", Message: "User not enabled for cost explorer access" }, {
				status: 400,
				headers: { "x-amzn-errortype": "AccessDeniedException" },
			})
		);
		await using deps = await createTestDeps({ awsEndpoint: endpoint.url, settings: { AWS_MAX_ATTEMPTS: 1 } });
		await seedWorld(deps.db);
		await readActuals(deps);
		assert.deepEqual(endpoint.operations(), ["GetCostAndUsage"]);
		const section = await comparisonOf(deps, "alice");
		assert.match(
			section,
			/<p class="notice" data-cost-explorer="disabled">AWS Cost Explorer is not enabled for this account \(or the portal's role may not call ce:GetCostAndUsage\), so what AWS billed cannot be shown\.<\/p>/,
		);
		assert.doesNotMatch(section, /data-cost-comparison|\$0\.00/);
	},
);

motoTest(
	"chargeback: a month's report of a cost center, every machine's hours, estimate and billed cost, downloaded as CSV and JSON and written by the job",
	async (moto) => {
		const dir = await Deno.makeTempDir({ prefix: "mliy-chargeback-" });
		try {
			await using deps = await createTestDeps({ awsEndpoint: moto.url, settings: { CHARGEBACK_DIR: dir } });
			const world = await seedWorld(deps.db);
			const [id] = await billedInstances(deps, moto, world, ["r4.4xlarge"]);
			const launchId = (await deps.db.query.instances.findFirst({ where: (i, { eq }) => eq(i.id, id!) }))!.launchId!;
			deps.clock.advance(42 * HOUR); // 2025-03-03 06:00 UTC
			await moto.queueCostAndUsage([{
				ResultsByTime: [
					day("2025-03-01", "2025-03-02", [group("CC-science", launchId, "13.00")]),
					day("2025-03-02", "2025-03-03", [group("CC-science", launchId, "30.00"), group("CC-science", "", "0.75")]),
				],
			}]);
			await readActuals(deps);

			const url = "/billing/chargeback?month=2025-03&costCenter=CC-science";
			assert.equal((await request(deps.app, `${url}&format=csv`, { user: "alice" })).status, 403, "users do not");
			const csv = await request(deps.app, `${url}&format=csv`, { user: "mia" });
			assert.equal(csv.status, 200);
			assert.match(csv.headers.get("Content-Disposition") ?? "", /filename="chargeback-2025-03-CC-science\.csv"/);
			// By hand: 42 hours at $1.064 = $44.688 estimated; AWS billed $13.00 + $30.00 for the launch, $0.75 unclaimed.
			const lines = (await csv.text()).trim().split("\r\n");
			assert.equal(
				lines[0],
				"month,cost_center,resource,kind,owner,group,launch_id,description,hours,estimated_usd,actual_usd",
			);
			assert.match(
				lines[1]!,
				new RegExp(`^2025-03,CC-science,${id},instance,alice,science,${launchId},[^,]*,42\\.0000,44\\.6880,43\\.0000$`),
			);
			assert.equal(lines[2], "2025-03,CC-science,UNCLAIMED,,,,,,,,0.7500");
			assert.equal(lines[3], "2025-03,CC-science,TOTAL,,,,,,42.0000,44.6880,43.7500");
			const json = await (await request(deps.app, `${url}&format=json`, { user: "ada" })).json();
			assert.equal(json.actualsKnown, true);
			assert.deepEqual(json.totals, { hours: 42, estimated: 44.688, unknownEstimates: 0, actual: 43.75 });
			assert.equal(
				(await request(deps.app, "/billing/chargeback?month=2025-13&costCenter=x", { user: "ada" })).status,
				400,
			);

			// In April the job writes March's files; Cost Explorer was not read for March's last days: "unknown".
			deps.clock.advance(30 * 24 * HOUR); // 2025-04-02 06:00 UTC
			assert.equal(await runJob(deps, writeChargebacksJob, { scheduled: false }), "ok");
			const written = (await Deno.readTextFile(`${dir}/chargeback-2025-03-CC-science.csv`)).trim().split("\r\n");
			assert.match(written[1]!, new RegExp(`^2025-03,CC-science,${id},instance,.*,732\\.0000,778\\.8480,unknown$`));
			assert.equal(written.at(-1), "2025-03,CC-science,TOTAL,,,,,,732.0000,778.8480,unknown");
			const report = JSON.parse(await Deno.readTextFile(`${dir}/chargeback-2025-03-CC-science.json`));
			assert.equal(report.actualsKnown, false);
			assert.equal(report.machines[0].actual, null);
		} finally {
			await Deno.remove(dir, { recursive: true });
		}
	},
);
