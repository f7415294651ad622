/** Billed periods and reports, with expectations computed by hand. */
import assert from "node:assert/strict";
import { instanceCharge } from "../lib/billing/charges.ts";
import { openBillFor } from "../lib/billing/periods.ts";
import { clusterEstimate, discounted, instanceRate, volumeRate } from "../lib/billing/rates.ts";
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
import { resolveSettings } from "../lib/settings.ts";
import { formatRate } from "../lib/format.ts";
import { formatValue } from "../islands/Chart.tsx";

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

/** A volume's billed period as the report reads it. */
function volumeBill(monthlyRate: number, startedAt: string, endedAt: string | null, id = "vol-1") {
	return {
		id: 1,
		resourceKind: "volume" as const,
		resourceId: id,
		userId: 1,
		groupId: null,
		costCenter: "CC",
		description: "gp3 100 GiB",
		hourlyRate: monthlyRate / 672,
		monthlyRate,
		startedAt: at(startedAt),
		endedAt: endedAt === null ? null : at(endedAt),
		username: "alice",
		userName: "Alice",
		groupName: null,
		machineName: null,
	};
}

const ebsSettings = (region: string, more: Record<string, unknown> = {}) =>
	resolveSettings({ file: { AWS_REGION: region, ...more } });
const monthlyOf = (settings: ReturnType<typeof ebsSettings>, volume: Parameters<typeof volumeRate>[1]) => {
	const { monthly } = volumeRate(settings, volume, at("2026-02-10T00:00:00Z"));
	assert.ok(monthly !== null, `${JSON.stringify(volume)} has a price`);
	return monthly;
};

Deno.test("EBS: each calendar month's share by its own length: half of February (28 days) and half of July (31) cost the same", () => {
	// 100 GiB gp3 in us-east-1 at $0.08/GB-month: $8.00 a month, whatever the month's length.
	const monthly = monthlyOf(ebsSettings("us-east-1"), { volumeType: "gp3", sizeGb: 100 });
	close(monthly, 8, "monthly");
	const range = (from: string, to: string) =>
		rangeInstants({ from: day(from), to: day(to) }, "UTC", at("2027-01-01T00:00:00Z"));
	const now = at("2027-01-01T00:00:00Z");
	// 14 of February 2026's 28 days: $4.00 (730 h would say 336 / 730 × 8 = $3.68).
	const february = summarise(
		[volumeBill(monthly, "2026-02-01T00:00:00Z", "2026-02-15T00:00:00Z")],
		range("2026-02-01", "2026-02-28"),
		now,
	);
	close(february.rows[0]!.cost!, 4, "half of February");
	// 15.5 of July's 31 days: $4.00 (730 h: 372 / 730 × 8 = $4.08).
	const july = summarise(
		[volumeBill(monthly, "2026-07-01T00:00:00Z", "2026-07-16T12:00:00Z")],
		range("2026-07-01", "2026-07-31"),
		now,
	);
	close(july.rows[0]!.cost!, 4, "half of July");
	// One period from mid-February to mid-July: half of February + March-June whole + half of July
	// = 5 months = $40.00 (730 h: 3,636 h / 730 × 8 = $39.85).
	const across = [volumeBill(monthly, "2026-02-15T00:00:00Z", "2026-07-16T12:00:00Z")];
	close(summarise(across, range("2026-01-01", "2026-12-31"), now).rows[0]!.cost!, 40, "February to July");
	// Clipped to a report of February alone: its second half, $4.00.
	close(summarise(across, range("2026-02-01", "2026-02-28"), now).rows[0]!.cost!, 4, "February's share");
	// An hour in February costs 8 / 672; in July 8 / 744.
	const hour = (start: string) =>
		summarise(
			[volumeBill(monthly, start, new Date(at(start).getTime() + 3_600_000).toISOString())],
			range("2026-01-01", "2026-12-31"),
			now,
		).rows[0]!.cost!;
	close(hour("2026-02-10T00:00:00Z"), 8 / 672, "an hour of February");
	close(hour("2026-07-10T00:00:00Z"), 8 / 744, "an hour of July");
	// An hour across midnight of 28 February: half at February's rate, half at March's.
	close(hour("2026-02-28T23:30:00Z"), 4 / 672 + 4 / 744, "across the month boundary");
});

Deno.test("EBS: eu-west-1's own prices, io1/io2 provisioned IOPS, gp3 beyond its free 3,000 IOPS and 125 MB/s", () => {
	const ireland = ebsSettings("eu-west-1");
	// gp3 in eu-west-1 is $0.088/GB-month (us-east-1: $0.08): 100 GiB for all of February 2026 = $8.80.
	const gp3 = monthlyOf(ireland, { volumeType: "gp3", sizeGb: 100 });
	close(gp3, 8.8, "gp3 in eu-west-1");
	const now = at("2027-01-01T00:00:00Z");
	const february = rangeInstants({ from: day("2026-02-01"), to: day("2026-02-28") }, "UTC", now);
	close(
		summarise([volumeBill(gp3, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")], february, now).total.cost,
		8.8,
		"February",
	);
	close(monthlyOf(ireland, { volumeType: "gp2", sizeGb: 100 }), 11, "gp2: 100 × $0.11");
	// io1: 500 GiB × $0.138 + 4,000 IOPS × $0.072 = 69 + 288 = $357.00 a month.
	close(monthlyOf(ireland, { volumeType: "io1", sizeGb: 500, iops: 4000 }), 357, "io1 with IOPS");
	close(monthlyOf(ireland, { volumeType: "io1", sizeGb: 500 }), 69, "io1 whose IOPS are not recorded: storage only");
	// io2 in us-east-1, tiered: 100 GiB × $0.125 + 32,000 × $0.065 + 8,000 × $0.0455 = 12.5 + 2,080 + 364.
	close(monthlyOf(ebsSettings("us-east-1"), { volumeType: "io2", sizeGb: 100, iops: 40_000 }), 2456.5, "io2 tiers");
	// gp3 in us-east-1 with 6,000 IOPS and 250 MB/s: 100 × 0.08 + 3,000 × 0.005 + 125 × 0.04 = 8 + 15 + 5.
	close(
		monthlyOf(ebsSettings("us-east-1"), { volumeType: "gp3", sizeGb: 100, iops: 6000, throughput: 250 }),
		28,
		"gp3 extra",
	);
	close(
		monthlyOf(ebsSettings("us-east-1"), { volumeType: "gp3", sizeGb: 100, iops: 3000, throughput: 125 }),
		8,
		"baseline is free",
	);
	// Each listed region has its own table; the other three US-priced ones match us-east-1.
	for (const region of ["us-east-2", "us-west-2"]) {
		close(monthlyOf(ebsSettings(region), { volumeType: "gp3", sizeGb: 100 }), 8, region);
	}
	close(monthlyOf(ebsSettings("eu-central-1"), { volumeType: "gp3", sizeGb: 100 }), 9.52, "eu-central-1");
	close(monthlyOf(ebsSettings("ap-southeast-2"), { volumeType: "gp3", sizeGb: 100 }), 9.6, "ap-southeast-2");
	// An hourly rate is the month's: February's hour costs more than July's.
	const feb = volumeRate(ireland, { volumeType: "gp3", sizeGb: 100 }, at("2026-02-10T00:00:00Z")).rate;
	const jul = volumeRate(ireland, { volumeType: "gp3", sizeGb: 100 }, at("2026-07-10T00:00:00Z")).rate;
	assert.ok(feb.known && jul.known);
	close(feb.hourly, 8.8 / 672, "February hour");
	close(jul.hourly, 8.8 / 744, "July hour");
});

Deno.test("EBS: EBS_PRICE_PER_GB_MONTH overrides a type everywhere or one region's own; a region without prices is unknown", () => {
	const everywhere = ebsSettings("eu-west-1", { EBS_PRICE_PER_GB_MONTH: { gp3: 0.07 } });
	close(monthlyOf(everywhere, { volumeType: "gp3", sizeGb: 100 }), 7, "a type for every region");
	close(monthlyOf(everywhere, { volumeType: "gp2", sizeGb: 100 }), 11, "other types keep eu-west-1's table");
	const regional = ebsSettings("eu-west-1", {
		EBS_PRICE_PER_GB_MONTH: { gp3: 0.07, "eu-west-1": { gp3: 0.09 }, "us-east-1": { gp3: 0.01 } },
	});
	close(monthlyOf(regional, { volumeType: "gp3", sizeGb: 100 }), 9, "the region's own override wins");
	const mars = volumeRate(ebsSettings("sa-east-1"), { volumeType: "gp3", sizeGb: 100 }, at("2026-02-10T00:00:00Z"));
	assert.deepEqual(mars, {
		rate: { known: false, reason: "no EBS prices are known for region sa-east-1 (set EBS_PRICE_PER_GB_MONTH)" },
		monthly: null,
	});
	close(
		monthlyOf(ebsSettings("sa-east-1", { EBS_PRICE_PER_GB_MONTH: { "sa-east-1": { gp3: 0.152 } } }), {
			volumeType: "gp3",
			sizeGb: 100,
		}),
		15.2,
		"an unlisted region priced by the setting",
	);
	assert.equal(
		volumeRate(ebsSettings("us-east-1"), { volumeType: "io9", sizeGb: 1 }, at("2026-02-10T00:00:00Z")).monthly,
		null,
	);
	// The discount applies to the monthly rate too.
	close(
		monthlyOf(ebsSettings("us-east-1", { AWS_DISCOUNT: 0.25 }), { volumeType: "gp3", sizeGb: 100 }),
		6,
		"discounted",
	);
});

Deno.test("EBS: an open volume period burns the hourly rate of the current month", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await openBill(deps.db, {
		resourceKind: "volume",
		resourceId: "vol-open",
		userId: world.alice.id,
		groupId: world.science.id,
		costCenter: "CC",
		description: "gp3 100 GiB",
		hourlyRate: 8.8 / 672,
		monthlyRate: 8.8,
		startedAt: at("2026-02-01T00:00:00Z"),
	});
	const scope = { everyone: true, viewerId: 0, groupIds: [] };
	close((await burnRate(deps.db, scope, at("2026-02-10T00:00:00Z"))).total, 8.8 / 672, "burn in February");
	close((await burnRate(deps.db, scope, at("2026-07-10T00:00:00Z"))).total, 8.8 / 744, "burn in July");
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
	assert.equal((await burnRate(deps.db, { everyone: true, viewerId: 0, groupIds: [] }, deps.clock())).unknown, 1);
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
	const burn = await burnRate(deps.db, { everyone: true, viewerId: 0, groupIds: [] }, deps.clock());
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
	const volume = volumeRate(deps.settings, { volumeType: "gp2", sizeGb: 100 }, at("2026-02-10T00:00:00Z"));
	close(volume.monthly!, 100 * 0.1 * 0.75, "volume");
});

Deno.test("/billing never says 'Nothing is running' while a price-unknown machine runs: it lists it as price unknown, and the sums say they exclude it", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const instance = await addInstance(deps.db, {
		id: "i-0dd",
		ownerId: world.alice.id,
		groupId: world.science.id,
		instanceType: "q9.huge",
	});
	await openInstanceBill(deps, instance, deps.clock());
	deps.clock.advance(3_600_000);
	const page = await (await request(deps.app, "/billing", { user: "alice" })).text();
	assert.doesNotMatch(page, /Nothing is running/);
	const burning = page.slice(page.indexOf("<h2>Burning now</h2>"));
	assert.match(
		burning,
		/\$0\.00\/h<\/span><span class="muted"> for what has a known price; it excludes 1 running at price unknown:/,
	);
	assert.match(
		burning,
		/<li><a href="\/instances\/i-0dd">i-0dd<\/a> <span class="mono small">q9.huge<\/span> <span class="muted small">\(Alice Ng\)<\/span>: <strong>price unknown<\/strong><\/li>/,
	);
	assert.match(burning, /Nothing with a known price is running\./);
	// The report's totals are $0.00 of what is known, and say what they leave out.
	assert.match(
		page,
		/<td class="num">\$0\.00<div class="muted small excluded" title="Periods whose price is unknown are not counted in this sum">excludes 1 price unknown<\/div><\/td><\/tr><\/tfoot>/,
	);
	// The team page's burn chart says the same.
	const team = await (await request(deps.app, "/team", { user: "alice" })).text();
	assert.doesNotMatch(team, /Nothing is running/);
	assert.match(team, /plus 1 with an unknown price/);
});

Deno.test("rates read to the price list's precision on every page and chart: $0.133/h, not $0.13/h", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	// m3.large is $0.133/h in us-east-1 (the shipped 2017 file).
	const instance = await addInstance(deps.db, {
		id: "i-m3",
		ownerId: world.alice.id,
		groupId: world.science.id,
		configId: world.config.id,
		instanceType: "m3.large",
	});
	await openInstanceBill(deps, instance, deps.clock());
	const pages = {
		dashboard: await (await request(deps.app, "/", { user: "alice" })).text(),
		detail: await (await request(deps.app, "/instances/i-m3", { user: "alice" })).text(),
		billing: await (await request(deps.app, "/billing", { user: "alice" })).text(),
		team: await (await request(deps.app, "/team", { user: "alice" })).text(),
	};
	for (const [name, page] of Object.entries(pages)) {
		assert.match(page, /\$0\.133\/h/, name);
		assert.doesNotMatch(page, /\$0\.13\/h/, name);
	}
	// The charts' tooltips and axes (islands/Chart.tsx) format with the same function.
	assert.equal(formatValue(0.133, "usd-per-hour"), "$0.133/h");
	assert.equal(formatValue(0.0058, "usd-per-hour"), "$0.0058/h");
	assert.equal(formatValue(26.676, "usd-per-hour"), "$26.676/h");
	assert.equal(formatValue(1.5, "usd-per-hour"), "$1.50/h");
	assert.equal(formatValue(1234.5, "usd"), "$1,234.50");
	assert.equal(formatRate(0.133), "$0.133/h");
	assert.equal(formatRate(0.10000000001), "$0.10/h");
});
