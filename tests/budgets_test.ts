/**
 * Budgets end to end, through the HTTP app against moto with a controlled clock: machines really
 * run in moto and are billed by the sync, budgets are set through their page, the budgets' job runs
 * as its cron would, and its notices go to a real SMTP server on loopback. The ladder: a warning at
 * the warning share (once, to the user and the managers), refusal of new launches at 100 % (by the
 * wizard and by the launch endpoint, with the figures and a request action), and at the hard limit
 * the scope's running machines stopped after the notice's lead time, the most expensive first.
 */
import assert from "node:assert/strict";
import { auditFor } from "../lib/db/audit.ts";
import { policyActions, userNotices } from "../lib/db/schema.ts";
import { updateUserProfile } from "../lib/db/users.ts";
import { instanceRate } from "../lib/billing/rates.ts";
import { activeNotices } from "../lib/policy/notices.ts";
import { toViewer } from "../lib/auth/identify.ts";
import { groupIdsOf } from "../lib/db/users.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { smtpServer } from "./_helpers/policies.ts";
import { billedInstances, minutesPass, setBudget } from "./_helpers/budgets.ts";
import { addCluster, addMember, seedClusterWorld, seedWorld } from "./_helpers/world.ts";
import { syncAll } from "../lib/sync/all.ts";

const HOUR = 3_600_000;

/** Alice (and Mia, a manager in science) with emails; the world's instance types' hourly rates. */
async function budgetWorld(deps: TestDeps) {
	const world = await seedWorld(deps.db);
	await updateUserProfile(deps.db, world.alice, { email: "alice@example.com" });
	await updateUserProfile(deps.db, world.bob, { email: "bob@example.com" });
	await updateUserProfile(deps.db, world.mia, { email: "mia@example.com" });
	await addMember(deps.db, world.mia.id, world.science.id);
	const rate = (type: string) => {
		const price = instanceRate(deps, { type });
		assert.ok(price.known, type);
		return price.hourly;
	};
	return { ...world, rate };
}

async function noticesOf(deps: TestDeps, username: string) {
	const user = (await deps.db.query.users.findFirst({ where: (u, { eq }) => eq(u.username, username) }))!;
	return await activeNotices(deps, toViewer(user, await groupIdsOf(deps.db, user.id), []));
}

async function awsState(moto: Moto, id: string): Promise<string | undefined> {
	const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
	const out = await moto.ec2().send(new DescribeInstancesCommand({ InstanceIds: [id] }));
	return out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

motoTest(
	"spending crosses the warning share: one warning to the user and the group's managers, not one per tick",
	async (moto) => {
		const smtp = await smtpServer();
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			settings: { SMTP_HOST: "127.0.0.1", SMTP_PORT: smtp.port, PUBLIC_URL: "https://mliy.example.com" },
		});
		try {
			const world = await budgetWorld(deps);
			const rate = world.rate("r4.4xlarge");
			// Alice's budget: ten hours of her r4.4xlarge; the warning at 80 %, after eight.
			await setBudget(deps, "ada", { scope: "user", username: "alice", amount: String(10 * rate) });
			await billedInstances(deps, moto, world, ["r4.4xlarge"]);
			await minutesPass(deps, 7 * 60 + 30);
			assert.equal((await deps.db.select().from(userNotices)).length, 0, "7.5 hours: 75 %, no warning yet");
			assert.equal(smtp.messages.length, 0);

			await minutesPass(deps, 60); // 8.5 hours: 85 %
			const notices = await deps.db.select().from(userNotices);
			assert.deepEqual(notices.map((n) => n.userId).sort(), [world.alice.id, world.mia.id].sort());
			assert.ok(notices.every((n) => n.key === notices[0]!.key && n.topic === "budget"));
			assert.match(notices[0]!.message, /The user alice's budget has reached 80 %: \$\d+\.\d\d of \$\d+\.\d\d spent/);
			assert.deepEqual(smtp.messages.map((m) => m.to[0]).sort(), ["alice@example.com", "mia@example.com"]);
			assert.match(smtp.messages[0]!.subject, /MLiy: the user alice's budget is at 8\d %/);
			assert.match(smtp.messages[0]!.text, /https:\/\/mliy\.example\.com\/budgets/);
			const banner = await noticesOf(deps, "alice");
			assert.equal(banner.filter((n) => n.kind === "budget").length, 1, "the banner shows it");
			assert.equal(banner[0]!.href, "/budgets");

			await minutesPass(deps, 60, 10); // six more ticks past the share
			assert.equal((await deps.db.select().from(userNotices)).length, 2, "still one warning each");
			assert.equal(smtp.messages.length, 2, "still one email each");
			assert.equal((await noticesOf(deps, "bob")).length, 0, "bob, not under alice's budget, hears nothing");
		} finally {
			await smtp.close();
		}
	},
);

motoTest(
	"at 100 % the wizard and the launch endpoint refuse a launch in the budget's scope, with the figures and a request action",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url });
		const world = await budgetWorld(deps);
		const rate = world.rate("r4.4xlarge");
		const amount = Math.round(4 * rate * 100) / 100;
		await setBudget(deps, "ada", { scope: "group", groupId: String(world.science.id), amount: String(amount) });
		await billedInstances(deps, moto, world, ["r4.4xlarge"], world.bob);
		const launch = (user: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
			request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
				user,
				form: { instanceType: "t2.micro", ...form },
				headers,
			});

		const before = await launch("alice", { intent: "review" });
		assert.equal(before.status, 200, "under the budget: the confirmation");
		assert.match(
			await before.text(),
			/This adds about \$0\.\d+\/day; the group science's budget runs out on the 1st\./,
		);

		deps.clock.advance(5 * HOUR); // five hours of the r4.4xlarge: 125 %
		const spent = 5 * rate;
		const figures = new RegExp(
			`The group science's budget is used up: \\$${spent.toFixed(2)} of \\$${
				amount.toFixed(2)
			} spent in 2025-03 \\(12\\d %\\)`,
		);
		const review = await launch("alice", { intent: "review" });
		assert.equal(review.status, 403);
		const page = await review.text();
		assert.match(page, figures);
		assert.match(page, /<form method="post" action="\/approvals" class="stack panel">/);
		assert.match(page, /<input type="hidden" name="launch\.instanceType" value="t2\.micro">/);
		assert.match(page, /<button type="submit" class="primary">Request an exception<\/button>/);
		assert.match(page, /data-budget="\d+" data-level="exhausted"/, "with the budget's bar");

		// The launch endpoint itself refuses, whatever the page showed; nothing is recorded.
		const direct = await launch("alice", { intent: "launch" });
		assert.equal(direct.status, 403);
		assert.match(await direct.text(), figures);
		const json = await launch("alice", { intent: "launch" }, { Accept: "application/json" });
		assert.equal(json.status, 403);
		const body = await json.json();
		assert.equal(body.status, "failed");
		assert.match(body.error, figures);
		assert.equal((await deps.db.query.launches.findMany()).filter((l) => l.userId === world.alice.id).length, 0);
	},
);

motoTest(
	"at the hard limit the scope's running machines are stopped after the notice's lead time, the most expensive first, audited as budget",
	async (moto) => {
		const smtp = await smtpServer();
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			settings: { SMTP_HOST: "127.0.0.1", SMTP_PORT: smtp.port },
		});
		try {
			const world = await budgetWorld(deps);
			const types = ["t2.micro", "r4.4xlarge", "m4.large"];
			const hourly = types.reduce((sum, t) => sum + world.rate(t), 0);
			// The group's budget: two hours of all three; its hard limit at 150 %, noticed 30 minutes ahead.
			await setBudget(deps, "ada", {
				scope: "group",
				groupId: String(world.science.id),
				amount: String(2 * hourly),
				hardPercent: "150",
				noticeMinutes: "30",
			});
			const [micro, r4, m4] = await billedInstances(deps, moto, world, types);
			await minutesPass(deps, 170, 10); // 2 h 50: 142 %
			assert.equal((await deps.db.select().from(policyActions)).length, 0, "below the hard limit: nothing planned");

			await minutesPass(deps, 20, 20); // 3 h 10: 158 %
			const planned = await deps.db.select().from(policyActions);
			assert.equal(planned.length, 3, "each running machine gets its notice");
			assert.ok(planned.every((a) => a.reason === "budget" && a.action === "stop" && a.status === "noticed"));
			assert.ok(planned.every((a) => a.actAt.getTime() === deps.clock().getTime() + 30 * 60_000));
			const mails = smtp.messages.filter((m) => / will be stopped at /.test(m.subject));
			assert.equal(mails.length, 6, "each notice to alice and mia (a manager in science)");
			assert.doesNotMatch(mails[0]!.text, /postpone/i, "a budget's stop offers no extend link");
			assert.match(
				(await deps.db.select().from(userNotices)).find((n) => n.key.endsWith(":hard"))!.message,
				/3 running machine\(s\) in it will be stopped at 2025-03-01 15:40 UTC, the most expensive first/,
			);

			await minutesPass(deps, 20, 10);
			for (const id of [micro!, r4!, m4!]) {
				assert.equal(await awsState(moto, id), "running", "not before the lead time");
			}

			await minutesPass(deps, 10, 10); // 15:40
			for (const id of [micro!, r4!, m4!]) assert.equal(await awsState(moto, id), "stopped");
			const stops = (await Promise.all([micro!, r4!, m4!].map((id) => auditFor(deps.db, id))))
				.flat().filter((e) => e.action === "stop");
			assert.deepEqual(
				stops.sort((a, b) => a.id - b.id).map((e) => e.resourceId),
				[r4, m4, micro],
				"the most expensive first",
			);
			for (const stop of stops) {
				assert.equal(stop.actor, "budget");
				assert.equal(stop.actorId, null);
				assert.equal(stop.reason, "budget");
				assert.equal(stop.outcome, "ok");
				assert.match(stop.detail, /^budget: the group science's budget is past its hard limit of \$/);
			}
			const done = await deps.db.select().from(policyActions);
			assert.ok(done.every((a) => a.status === "done"));
			assert.equal(done.find((a) => a.machineId === r4)!.hourlyRate, world.rate("r4.4xlarge"));

			await minutesPass(deps, 30, 10);
			const again = (await Promise.all([micro!, r4!, m4!].map((id) => auditFor(deps.db, id)))).flat()
				.filter((e) => e.action === "stop");
			assert.equal(again.length, 3, "each stopped once");
		} finally {
			await smtp.close();
		}
	},
);

motoTest(
	"at the hard limit a cluster in the scope is terminated (a cluster cannot be stopped) before a cheaper instance, through the same path",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url });
		// The shipped pricing file has no EMR surcharges (a cluster's price would be unknown, so not
		// counted): AWS's published $0.03/hour for m4.large stands in for it.
		deps.pricing = { ...deps.pricing, emrSurcharge: () => ({ known: true, hourly: 0.03 }) };
		const world = await seedClusterWorld(deps.db);
		const clusterId = await moto.runJobFlow({ Name: "MLiySpark", LaunchedBy: "MLIY" });
		await addCluster(deps.db, {
			id: clusterId,
			ownerId: world.alice.id,
			groupId: world.emrGroup.id,
			configId: world.spark.id,
			state: "WAITING",
			startedAt: deps.clock(),
			lastSeenAt: deps.clock(),
		});
		// Alice's own budget covers her machines in both groups: a cluster in sparkers, an instance in science.
		await setBudget(deps, "ada", {
			scope: "user",
			username: "alice",
			amount: "0.20",
			hardAmount: "0.25",
			noticeMinutes: "10",
		});
		const [micro] = await billedInstances(deps, moto, world, ["t2.micro"]);
		const bills = await deps.db.query.bills.findMany();
		const clusterRate = bills.find((b) => b.resourceId === clusterId)?.hourlyRate;
		const microRate = bills.find((b) => b.resourceId === micro)?.hourlyRate;
		assert.ok(clusterRate && microRate && clusterRate > microRate, "the sync bills both, the cluster dearer");
		const hoursToHard = 0.25 / (clusterRate + microRate);
		await minutesPass(deps, Math.ceil(hoursToHard * 60) + 1, 5);

		const planned = await deps.db.select().from(policyActions);
		assert.deepEqual(
			planned.map((a) => [a.machineId, a.kind, a.action, a.reason]).sort(),
			[[clusterId, "cluster", "terminate", "budget"], [micro, "instance", "stop", "budget"]].sort(),
		);
		await minutesPass(deps, 10, 5);
		await syncAll(deps);
		assert.match((await deps.aws.emr.describeCluster(clusterId!))!.state, /^TERMINAT/);
		assert.equal(await awsState(moto, micro!), "stopped");
		const acts = (await Promise.all([clusterId!, micro!].map((id) => auditFor(deps.db, id)))).flat()
			.filter((e) => e.action === "terminate" || e.action === "stop").sort((a, b) => a.id - b.id);
		assert.deepEqual(acts.map((e) => [e.resourceId, e.action]), [[clusterId, "terminate"], [micro, "stop"]]);
		assert.ok(acts.every((e) => e.actor === "budget" && e.reason === "budget" && e.outcome === "ok"));
	},
);

motoTest(
	"budget bars: the viewer's own and their group's on the dashboard, the group's on the team view and the billing page, nobody else's",
	async (moto) => {
		await using deps = await createTestDeps({ awsEndpoint: moto.url });
		const world = await budgetWorld(deps);
		const science = await setBudget(deps, "ada", { scope: "group", groupId: String(world.science.id), amount: "100" });
		const alices = await setBudget(deps, "ada", { scope: "user", username: "alice", amount: "40" });
		const ops = await setBudget(deps, "ada", { scope: "group", groupId: String(world.ops.id), amount: "70" });
		await billedInstances(deps, moto, world, ["r4.4xlarge"]);
		deps.clock.advance(10 * HOUR); // $10.64 of alice's r4.4xlarge: hers and science's
		const barsOn = async (path: string, user: string) => {
			const res = await request(deps.app, path, { user });
			assert.equal(res.status, 200, `${path} as ${user}`);
			return [...(await res.text()).matchAll(/data-budget="(\d+)" data-level="(\w+)"/g)].map((m) => Number(m[1]));
		};
		assert.deepEqual((await barsOn("/", "alice")).sort(), [science, alices].sort(), "alice's own and science's");
		assert.deepEqual(await barsOn("/team", "alice"), [science], "the team view: the group's, not a user's");
		assert.deepEqual(await barsOn("/billing", "alice"), [science]);
		assert.deepEqual(await barsOn("/", "olga"), [ops], "olga in ops sees ops's only");
		assert.deepEqual((await barsOn("/team", "mia")).sort(), [science, ops].sort(), "a manager sees every group's");
		const page = await (await request(deps.app, "/", { user: "alice" })).text();
		// $10.64 of $40 (26 %) and of $100 (10 %).
		assert.match(page, /aria-label="[^"]*alice: 26 % of the budget spent in 2025-03"/);
		assert.match(page, /aria-label="[^"]*science: 10 % of the budget spent in 2025-03"/);
	},
);
