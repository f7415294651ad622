/** Billing end to end against moto: launch, run, stop, start, terminate; the report shows two periods. */
import assert from "node:assert/strict";
import { CreateVolumeCommand } from "@aws-sdk/client-ec2";
import { hoursInMonth } from "../lib/billing/ebs.ts";
import { buildReport } from "../lib/billing/reports.ts";
import { openBillOf } from "../lib/db/bills.ts";
import { insertVolume } from "../lib/db/volumes.ts";
import { refreshVolumes } from "../lib/sync/volumes.ts";
import { instancesOfLaunch } from "../lib/db/instances.ts";
import { syncKind } from "../lib/sync/all.ts";
import { tick } from "./_helpers/tick.ts";
import { createTestDeps, testClock } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { seedWorld } from "./_helpers/world.ts";

const HOUR = 3_600_000;

motoTest("the report shows the two running periods of an instance and the right total", async (moto) => {
	// The portal's clock starts now (moto's times are real) and is moved forward between actions.
	// It starts on a whole second: EC2 reports launch times in whole seconds, and a bill starts at
	// the launch time when that is earlier than the portal's clock.
	const clock = testClock(new Date(Math.floor(Date.now() / 1000) * 1000));
	const t0 = clock();
	await using deps = await createTestDeps({
		awsEndpoint: moto.url,
		clock,
		settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
	});
	const world = await seedWorld(deps.db);
	const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "m4.large" },
	});
	const launchId = res.headers.get("Location")!.split("/").pop()!;
	await tick(deps);
	const [instance] = await instancesOfLaunch(deps.db, launchId);
	assert.equal(instance?.state, "running");

	const act = async (action: string) => {
		const r = await request(deps.app, `/ajax/instance/${instance!.id}/${action}`, { user: "alice", form: {} });
		assert.equal(r.status, 200, `${action}: ${await r.clone().text()}`);
		await deps.background.idle();
		await syncKind(deps, "instance");
	};
	clock.advance(2 * HOUR);
	await act("stop"); // first period: 2 h
	clock.advance(1 * HOUR);
	await act("start");
	clock.advance(HOUR / 2);
	await act("terminate"); // second period: 0.5 h
	clock.advance(HOUR);

	const today = Temporal.Instant.fromEpochMilliseconds(t0.getTime()).toZonedDateTimeISO("UTC").toPlainDate();
	const report = await buildReport(deps.db, {
		scope: { everyone: false, viewerId: world.alice.id, groupIds: [world.science.id] },
		range: { from: today.subtract({ days: 1 }), to: today.add({ days: 1 }) },
		timeZone: "UTC",
		now: clock(),
	});
	const row = report.rows.find((r) => r.resourceId === instance!.id)!;
	assert.equal(row.periods, 2);
	assert.ok(Math.abs(row.hours - 2.5) < 1e-6, `hours ${row.hours}`);
	assert.ok(Math.abs(row.cost! - 0.25) < 1e-6, `m4.large at $0.10/h for 2.5 h: ${row.cost}`);
	assert.equal(row.active, false);
	// moto keeps the stack's volume after the stack is deleted, so it is still billed: 20 GiB gp2 for
	// 4.5 h at $2.00 a month, over this month's own hours (not 730; 4.5 h ending across a month's end
	// would straddle two months, which a test run of minutes does not meet but a few hours a year).
	const volume = report.rows.find((r) => r.resourceKind === "volume")!;
	assert.ok(Math.abs(volume.cost! - 20 * 0.1 / hoursInMonth(t0) * 4.5) < 1e-6, `volume cost ${volume.cost}`);
	assert.ok(Math.abs(report.total.cost - (0.25 + volume.cost!)) < 1e-9);
});

motoTest("an io1 volume's provisioned IOPS, as EC2 reports them, are priced on top of its size", async (moto) => {
	await using deps = await createTestDeps({ awsEndpoint: moto.url });
	const world = await seedWorld(deps.db);
	const created = await moto.ec2().send(
		new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 500, VolumeType: "io1", Iops: 4000 }),
	);
	const id = created.VolumeId!;
	// As a launch records its stack's volume: size and type not known yet.
	await insertVolume(deps.db, { id, ownerId: world.alice.id, groupId: world.science.id, state: "creating" });
	await refreshVolumes(deps, [id]);
	const bill = await openBillOf(deps.db, id);
	assert.equal(bill?.description, "io1 500 GiB, 4000 IOPS");
	// us-east-1: 500 GiB × $0.125 + 4,000 IOPS × $0.065 = 62.50 + 260 = $322.50 a month.
	assert.ok(Math.abs(bill!.monthlyRate! - 322.5) < 1e-9, `monthly ${bill!.monthlyRate}`);
});
