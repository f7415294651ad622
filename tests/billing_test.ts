/** Billed periods and reports, with expectations computed by hand. */
import assert from "node:assert/strict";
import { instanceCharge } from "../lib/billing/charges.ts";
import { openBillFor } from "../lib/billing/periods.ts";
import { clusterEstimate, discounted, HOURS_PER_MONTH, instanceRate, volumeRate } from "../lib/billing/rates.ts";
import { buildReport, burnRate, overlapHours, rangeInstants, reportCsv, summarise } from "../lib/billing/reports.ts";
import { billsOf, openBill, openBillOf } from "../lib/db/bills.ts";
import { getInstance, type Instance } from "../lib/db/instances.ts";
import { controlMachine } from "../lib/control/control.ts";
import type { Deps } from "../lib/deps.ts";
import { MACHINE_KINDS } from "../lib/machines/kinds.ts";
import { observeMachine } from "../lib/sync/observe.ts";
import { toViewer } from "../lib/auth/identify.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { ACTIONS_ACCEPTED, fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { addGroup, addInstance, addMember, addUser, seedWorld } from "./_helpers/world.ts";
import type { Pricing } from "../lib/pricing.ts";

const day = (s: string) => Temporal.PlainDate.from(s);
/** Opens the instance's period at `at`, as a start (or the sync seeing it running) does. */
const openInstanceBill = async (deps: Deps, instance: Instance, at: Date) =>
	await openBillFor(deps, { kind: "instance", ...instance }, await instanceCharge(deps, instance), at);
const at = (s: string) => new Date(s);
const close = (actual: number, expected: number, what = "") =>
	assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

Deno.test("a period spanning the report's boundaries is clipped to the range, in the configured time zone", () => {
	const period = { startedAt: at("2025-01-31T20:00:00Z"), endedAt: at("2025-02-02T04:00:00Z") };
	const now = at("2025-03-01T00:00:00Z");
	const utc = rangeInstants({ from: day("2025-02-01"), to: day("2025-02-01") }, "UTC", now);
	close(overlapHours(period, utc, now), 24, "UTC day");
	// 1 Feb in New York is 05:00Z 1 Feb to 05:00Z 2 Feb; the period ends at 04:00Z: 23 hours.
	const ny = rangeInstants({ from: day("2025-02-01"), to: day("2025-02-01") }, "America/New_York", now);
	assert.equal(ny.start.toISOString(), "2025-02-01T05:00:00.000Z");
	close(overlapHours(period, ny, now), 23, "New York day");
	// An open period runs until now, and a range ending in the future ends now.
	const open = { startedAt: at("2025-02-28T22:30:00Z"), endedAt: null };
	close(
		overlapHours(open, rangeInstants({ from: day("2025-02-28"), to: day("2025-03-31") }, "UTC", now), now),
		1.5,
		"open",
	);
});

Deno.test("a stop and start inside the range: two periods at a sub-cent rate, exact hours, no rounding up", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const rate = instanceRate(deps, { type: "t2.nano", os: "linux" });
	assert.deepEqual(rate, { known: true, hourly: 0.0058 });
	const common = {
		resourceKind: "instance" as const,
		resourceId: "i-nano",
		userId: world.alice.id,
		groupId: world.science.id,
		costCenter: "CC-science",
		description: "t2.nano",
		hourlyRate: 0.0058,
	};
	await openBill(deps.db, { ...common, startedAt: at("2025-02-10T09:00:00Z"), endedAt: at("2025-02-10T10:30:00Z") });
	await openBill(deps.db, { ...common, startedAt: at("2025-02-10T13:00:00Z"), endedAt: at("2025-02-10T15:15:00Z") });
	const report = await buildReport(deps.db, {
		scope: { everyone: true, viewerId: world.ada.id, groupIds: [] },
		range: { from: day("2025-02-01"), to: day("2025-02-28") },
		timeZone: "UTC",
		now: at("2025-03-01T00:00:00Z"),
	});
	assert.equal(report.rows.length, 1);
	assert.equal(report.rows[0]!.periods, 2);
	close(report.rows[0]!.hours, 3.75, "hours");
	close(report.rows[0]!.cost!, 0.02175, "cost"); // 3.75 h × $0.0058
	close(report.total.cost, 0.02175, "total");
	close(report.byCostCenter.get("CC-science")!.cost, 0.02175, "cost center total");
});

Deno.test("the discount applies to the stored rate, kept at full precision", async () => {
	await using deps = await createTestDeps({ settings: { AWS_DISCOUNT: 0.25 } });
	const world = await seedWorld(deps.db);
	const instance = await addInstance(deps.db, {
		id: "i-disc",
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		instanceType: "t2.nano",
	});
	await openInstanceBill(deps, instance, at("2025-02-10T00:00:00Z"));
	const bill = (await openBillOf(deps.db, "i-disc"))!;
	close(bill.hourlyRate!, 0.0058 * 0.75, "discounted rate"); // 0.00435, not rounded to 0.00
	assert.equal(bill.costCenter, "CC-science");
	assert.equal(bill.description, "t2.nano");
});

Deno.test("EBS volumes cost their GB-month price for the hours they exist: a partial month", () => {
	const settings = { AWS_REGION: "us-east-1", AWS_DISCOUNT: 0, EBS_PRICE_PER_GB_MONTH: { gp2: 0.1 } };
	const rate = volumeRate(settings, "gp2", 100);
	assert.ok(rate.known);
	close(rate.hourly, 10 / HOURS_PER_MONTH, "hourly");
	// 10 days of a 100 GiB gp2 volume: 100 × $0.10 × 240 / 730 = $3.2876712...
	const report = summarise(
		[{
			id: 1,
			resourceKind: "volume",
			resourceId: "vol-1",
			userId: 1,
			groupId: null,
			costCenter: "CC",
			description: "gp2 100 GiB",
			hourlyRate: rate.hourly,
			startedAt: at("2025-04-01T00:00:00Z"),
			endedAt: at("2025-04-11T00:00:00Z"),
			username: "alice",
			userName: "Alice",
			groupName: null,
		}],
		rangeInstants({ from: day("2025-04-01"), to: day("2025-04-30") }, "UTC", at("2025-06-01T00:00:00Z")),
		at("2025-06-01T00:00:00Z"),
	);
	close(report.rows[0]!.cost!, 100 * 0.1 * 240 / 730, "volume cost");
	assert.equal(volumeRate(settings, "io9", 100).known, false);
});

Deno.test("a price-unknown type is billed with an unknown rate: shown as unknown, never as $0", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const instance = await addInstance(deps.db, {
		id: "i-odd",
		ownerId: world.alice.id,
		groupId: world.science.id,
		instanceType: "q9.huge",
	});
	await openInstanceBill(deps, instance, deps.clock());
	assert.equal((await openBillOf(deps.db, "i-odd"))!.hourlyRate, null);
	deps.clock.advance(3_600_000);
	const report = await buildReport(deps.db, {
		scope: { everyone: true, viewerId: world.ada.id, groupIds: [] },
		range: { from: day("2025-03-01"), to: day("2025-03-01") },
		timeZone: "UTC",
		now: deps.clock(),
	});
	assert.equal(report.rows[0]!.cost, null);
	assert.equal(report.total.unknown, 1);
	assert.match(reportCsv(report), /i-odd,instance,alice,science,CC-science,q9.huge,1,1.0000,unknown,yes/);
	const page = await (await request(deps.app, "/billing?from=2025-03-01&to=2025-03-01", { user: "ada" })).text();
	assert.match(page, /price unknown/);
	assert.equal((await burnRate(deps.db, { everyone: true, viewerId: 0, groupIds: [] })).unknown, 1);
});

Deno.test("an out-of-band stop observed by the sync closes the period at the time EC2 reports", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	deps.clock.set("2025-03-01T12:00:00Z");
	const row = await addInstance(deps.db, {
		id: "i-oob",
		ownerId: world.alice.id,
		groupId: world.science.id,
		state: "running",
		startedAt: at("2025-03-01T08:00:00Z"),
	});
	await openInstanceBill(deps, row, at("2025-03-01T08:00:00Z"));
	await observeMachine(deps, MACHINE_KINDS.instance, row, {
		id: "i-oob",
		state: "stopped",
		type: "t2.micro",
		imageId: "ami-1",
		tags: {},
		stateTransitionReason: "User initiated (2025-03-01 10:15:00 GMT)",
	}, deps.clock());
	const [bill] = await billsOf(deps.db, "i-oob");
	assert.equal(
		bill!.endedAt?.toISOString(),
		"2025-03-01T10:15:00.000Z",
		"closed when it stopped, not when the sync saw it",
	);
	assert.equal((await getInstance(deps.db, "i-oob"))!.stoppedAt?.toISOString(), "2025-03-01T10:15:00.000Z");
	// Seen running again (started in the console): a second period opens at the new launch time.
	deps.clock.set("2025-03-01T14:00:00Z");
	await observeMachine(deps, MACHINE_KINDS.instance, (await getInstance(deps.db, "i-oob"))!, {
		id: "i-oob",
		state: "running",
		type: "t2.micro",
		imageId: "ami-1",
		tags: {},
		launchTime: at("2025-03-01T13:30:00Z"),
	}, deps.clock());
	const periods = await billsOf(deps.db, "i-oob");
	assert.equal(periods.length, 2);
	assert.equal(periods[1]!.startedAt.toISOString(), "2025-03-01T13:30:00.000Z");
	close(periods[1]!.hourlyRate!, 0.0116, "t2.micro rate");
});

Deno.test("a sync working from a snapshot taken before a Stop does not bill the earlier period again", async () => {
	await using deps = await createTestDeps({ aws: fakeAws(ACTIONS_ACCEPTED) });
	const world = await seedWorld(deps.db);
	deps.clock.set("2025-03-01T12:00:00Z");
	const started = at("2025-03-01T10:00:00Z");
	await addInstance(deps.db, {
		id: "i-0123456789abcdef1",
		ownerId: world.alice.id,
		groupId: world.science.id,
		state: "running",
		startedAt: started,
	});
	// The sync reads its rows (running since 10:00, billed) and lists the instance running ...
	const snapshot = (await getInstance(deps.db, "i-0123456789abcdef1"))!;
	await openInstanceBill(deps, snapshot, started);
	// ... while Alice clicks Stop, which closes the period at 12:00 ...
	await controlMachine(deps, toViewer(world.alice, [world.science.id], []), {
		kind: "instance",
		id: snapshot.id,
		action: "stop",
	});
	// ... and only then does the sync reach this instance.
	deps.clock.set("2025-03-01T12:00:30Z");
	await observeMachine(deps, MACHINE_KINDS.instance, snapshot, {
		id: snapshot.id,
		state: "running",
		type: "t2.micro",
		imageId: "ami-1",
		tags: {},
		launchTime: started,
	}, deps.clock());
	const [stopped, ...later] = (await billsOf(deps.db, snapshot.id)).toSorted((a, b) => a.id - b.id);
	assert.equal(stopped!.endedAt?.toISOString(), "2025-03-01T12:00:00.000Z", "the Stop closed the first period");
	for (const period of later) {
		assert.ok(
			period.startedAt.getTime() >= stopped!.endedAt!.getTime(),
			`a period opened by the stale sync starts at ${period.startedAt.toISOString()}, inside the closed one`,
		);
	}
	// A period opened from the Stop's time on is closed by the next sync, which sees the stop.
	deps.clock.set("2025-03-01T12:05:00Z");
	await observeMachine(deps, MACHINE_KINDS.instance, (await getInstance(deps.db, snapshot.id))!, {
		id: snapshot.id,
		state: "stopped",
		type: "t2.micro",
		imageId: "ami-1",
		tags: {},
		stateTransitionReason: "User initiated (2025-03-01 12:00:00 GMT)",
	}, deps.clock());
	const hours = (await billsOf(deps.db, snapshot.id)).reduce(
		(sum, b) => sum + (b.endedAt!.getTime() - b.startedAt.getTime()) / 3_600_000,
		0,
	);
	close(hours, 2, "billed hours between the start and the Stop");
});

Deno.test("the billing report page and CSV show only what the viewer may see", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const bill = (resourceId: string, userId: number, groupId: number) =>
		openBill(deps.db, {
			resourceKind: "instance",
			resourceId,
			userId,
			groupId,
			costCenter: `CC-${groupId}`,
			description: "m4.large",
			hourlyRate: 0.1,
			startedAt: at("2025-02-10T00:00:00Z"),
			endedAt: at("2025-02-10T10:00:00Z"),
		});
	await bill("i-alice", world.alice.id, world.science.id);
	await bill("i-bob", world.bob.id, world.science.id);
	await bill("i-olga", world.olga.id, world.ops.id);
	const csv = async (user: string, query = "") =>
		await (await request(deps.app, `/billing.csv?from=2025-02-01&to=2025-02-28${query}`, { user })).text();
	const alice = await csv("alice");
	assert.match(alice, /i-alice/);
	assert.match(alice, /i-bob/, "a teammate's bills are visible");
	assert.doesNotMatch(alice, /i-olga/);
	assert.match(alice, /TOTAL,,,,,,,20.0000,2.0000/);
	const manager = await csv("mia");
	assert.match(manager, /i-olga/);
	assert.match(await csv("mia", `&group=${world.ops.id}`), /TOTAL,,,,,,,10.0000,1.0000/);
	assert.equal((await request(deps.app, `/billing?group=${world.ops.id}`, { user: "alice" })).status, 403);
	assert.equal((await request(deps.app, `/billing?user=${world.olga.id}`, { user: "alice" })).status, 403);
	for (
		const bad of [
			"from=2025-02-30",
			"from=yesterday",
			"from=2025-03-01&to=2025-02-01",
			"user=abc",
			"costCenter=" + "x".repeat(80),
		]
	) {
		assert.equal((await request(deps.app, `/billing?${bad}`, { user: "alice" })).status, 400, bad);
	}
	const page = await (await request(deps.app, "/billing?from=2025-02-01&to=2025-02-28", { user: "alice" })).text();
	assert.match(page, /These costs are estimates/);
	assert.match(page, /\$2\.00/);
});

Deno.test("the burn rate keeps two users with the same display name apart, labelled by username", async () => {
	await using deps = await createTestDeps();
	const team = await addGroup(deps.db, "smiths");
	const [first, second] = [
		await addUser(deps.db, "jsmith", { firstName: "John", lastName: "Smith" }),
		await addUser(deps.db, "jsmith2", { firstName: "John", lastName: "Smith" }),
	];
	const common = { resourceKind: "instance", groupId: team.id, costCenter: "CC", description: "t2.micro" } as const;
	const startedAt = deps.clock();
	await openBill(deps.db, { ...common, resourceId: "i-1", userId: first.id, hourlyRate: 0.5, startedAt });
	await openBill(deps.db, { ...common, resourceId: "i-2", userId: second.id, hourlyRate: 0.25, startedAt });
	await openBill(deps.db, { ...common, resourceId: "i-3", userId: second.id, hourlyRate: 0.125, startedAt });
	const burn = await burnRate(deps.db, { everyone: true, viewerId: 0, groupIds: [] });
	assert.deepEqual(Object.fromEntries(burn.byUser), {
		jsmith: { name: "John Smith (jsmith)", hourly: 0.5 },
		jsmith2: { name: "John Smith (jsmith2)", hourly: 0.375 },
	});
	close(burn.total, 0.875, "total");
	await addMember(deps.db, first.id, team.id);
	await addMember(deps.db, second.id, team.id);
	const page = await (await request(deps.app, "/team", { user: "jsmith" })).text();
	assert.match(page, /<td>John Smith \(jsmith\)<\/td>/);
	assert.match(page, /<td>John Smith \(jsmith2\)<\/td>/);
});

Deno.test("discounted() is the one discount of instance, volume and cluster rates", async () => {
	await using deps = await createTestDeps({ settings: { AWS_DISCOUNT: 0.25 } });
	close(discounted(10, deps.settings), 7.5, "discounted");
	// The shipped pricing file has no EMR surcharges: a two-price stand-in for the cluster estimate.
	const pricing = {
		onDemand: () => ({ known: true, hourly: 0.2 }),
		emrSurcharge: () => ({ known: true, hourly: 0.05 }),
	} as unknown as Pricing;
	const estimate = clusterEstimate({ pricing, settings: deps.settings }, {
		instanceType: "m4.large",
		coreNodes: 2,
		market: "ON_DEMAND",
	});
	close(estimate.perHour!, (0.2 + 0.05) * 3 * 0.75, "cluster estimate");
	const volume = volumeRate(deps.settings, "gp2", 730);
	assert.ok(volume.known);
	close(volume.hourly, 0.1 * 0.75, "volume");
});
