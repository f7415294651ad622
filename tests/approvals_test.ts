/**
 * Requests for an exception end to end, through the HTTP app against moto with a controlled clock:
 * a launch the portal refuses (a used-up budget, a type marked as needing approval) is asked for,
 * the group's managers are told, one approves or denies it with a comment; an approved launch is
 * recorded on its own and really launched in moto, its grant covers its machine until the time box
 * ends and then expires by itself; a denied one is told to its requester. Notices go to a real SMTP
 * server on loopback.
 */
import assert from "node:assert/strict";
import { auditFor } from "../lib/db/audit.ts";
import { getApproval } from "../lib/db/approvals.ts";
import { instancesOfLaunch } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { policyActions, userNotices } from "../lib/db/schema.ts";
import { updateUserProfile } from "../lib/db/users.ts";
import { instanceRate } from "../lib/billing/rates.ts";
import { tick } from "./_helpers/tick.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { enforce, setPolicy, smtpServer } from "./_helpers/policies.ts";
import { syncAll } from "../lib/sync/all.ts";
import { billedInstances, enforceBudgets, setBudget } from "./_helpers/budgets.ts";
import { addMember, seedWorld } from "./_helpers/world.ts";

const HOUR = 3_600_000;

async function approvalsWorld(deps: TestDeps) {
	const world = await seedWorld(deps.db);
	for (const user of [world.alice, world.bob, world.mia]) {
		await updateUserProfile(deps.db, user, { email: `${user.username}@example.com` });
	}
	await addMember(deps.db, world.mia.id, world.science.id);
	return world;
}

async function portal(moto: Moto, smtpPort: number) {
	return await createTestDeps({
		awsEndpoint: moto.url,
		settings: {
			LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a"),
			SMTP_HOST: "127.0.0.1",
			SMTP_PORT: smtpPort,
			PUBLIC_URL: "https://mliy.example.com",
		},
	});
}

type World = Awaited<ReturnType<typeof approvalsWorld>>;

function launchAs(deps: TestDeps, world: World, user: string, form: Record<string, string>) {
	return request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user,
		form: { intent: "launch", instanceType: "t2.micro", ...form },
	});
}

/** Asks for an exception for the refused launch, as the refusal page's form posts it; returns the request's id. */
async function askFor(deps: TestDeps, world: World, user: string, launch: Record<string, string>, until: string) {
	const form: Record<string, string> = {
		kind: "launch",
		groupId: String(world.science.id),
		configId: String(world.config.id),
		until,
		note: "for the paper's deadline",
	};
	for (const [name, value] of Object.entries(launch)) form[`launch.${name}`] = value;
	const res = await request(deps.app, "/approvals", { user, form });
	assert.equal(res.status, 303, await res.clone().text());
	return Number(/^\/approvals\/(\d+)$/.exec(res.headers.get("Location")!)![1]);
}

function decide(deps: TestDeps, user: string, id: number, form: Record<string, string>) {
	return request(deps.app, `/approvals/${id}/decide`, { user, form });
}

async function noticeKeys(deps: TestDeps, userId: number): Promise<string[]> {
	return (await deps.db.select().from(userNotices)).filter((n) => n.userId === userId).map((n) => n.key);
}

motoTest(
	"an approved time-boxed exception lets the refused launch go on by itself, covers its machine at the hard limit, and expires on time",
	async (moto) => {
		const smtp = await smtpServer();
		await using deps = await portal(moto, smtp.port);
		try {
			const world = await approvalsWorld(deps);
			const rate = instanceRate(deps, { type: "r4.4xlarge" });
			assert.ok(rate.known);
			// Four hours of bob's r4.4xlarge; its hard limit at twice that, noticed 30 minutes ahead.
			await setBudget(deps, "ada", {
				scope: "group",
				groupId: String(world.science.id),
				amount: String(4 * rate.hourly),
				hardPercent: "200",
				noticeMinutes: "30",
			});
			const [bobs] = await billedInstances(deps, moto, world, ["r4.4xlarge"], world.bob);
			deps.clock.advance(5 * HOUR); // 17:00, 125 %
			await enforceBudgets(deps);
			assert.equal((await launchAs(deps, world, "alice", {})).status, 403, "used up: refused");

			const id = await askFor(deps, world, "alice", { instanceType: "t2.micro" }, "2025-03-05");
			let approval = (await getApproval(deps.db, id))!;
			assert.equal(approval.status, "pending");
			assert.deepEqual(approval.needs, ["budget"]);
			assert.match(approval.reasons[0]!, /The group science's budget is used up: \$5\.32 of \$4\.26/);
			assert.ok((await noticeKeys(deps, world.mia.id)).includes(`approval:${id}:asked`), "the manager is told");
			await deps.background.idle();
			const asked = smtp.messages.find((m) => m.to[0] === "mia@example.com" && /asks to launch/.test(m.subject));
			assert.ok(asked, "and emailed");
			assert.match(asked.text, new RegExp(`https://mliy\\.example\\.com/approvals/${id}`));

			// Who may decide: not a teammate, not the requester; someone else's request is not even shown.
			assert.equal(
				(await decide(deps, "bob", id, { decision: "approve" })).status,
				404,
				"a teammate neither sees nor decides it",
			);
			const own = await decide(deps, "alice", id, { decision: "approve" });
			assert.equal(own.status, 403);
			assert.match(await own.text(), /You cannot decide your own request: someone else must approve it\./);
			assert.equal((await request(deps.app, `/approvals/${id}`, { user: "olga" })).status, 404);
			const shown = await request(deps.app, `/approvals/${id}`, { user: "alice" });
			assert.match(await shown.text(), /data-request="\d+" data-status="pending"/);

			const approved = await decide(deps, "mia", id, {
				decision: "approve",
				until: "2025-03-03",
				comment: "fine until Monday",
			});
			assert.equal(approved.status, 303);
			approval = (await getApproval(deps.db, id))!;
			assert.equal(approval.status, "approved");
			assert.equal(approval.decidedBy, world.mia.id);
			assert.equal(approval.grantUntil!.toISOString(), "2025-03-04T00:00:00.000Z", "the end of the day given");
			assert.ok(approval.launchId, "the launch was recorded on its own");
			const launch = (await getLaunch(deps.db, approval.launchId))!;
			assert.equal(launch.userId, world.alice.id, "for the requester");
			assert.equal(launch.instanceType, "t2.micro");
			assert.equal(launch.options.approval, id);
			await tick(deps);
			assert.equal((await getLaunch(deps.db, launch.id))!.status, "complete", "and really launched in moto");
			const [alices] = await instancesOfLaunch(deps.db, launch.id);
			assert.equal(alices?.state, "running");
			await enforceBudgets(deps);
			const told = smtp.messages.find((m) => m.to[0] === "alice@example.com" && /approved/.test(m.subject));
			assert.match(
				told!.text,
				/was approved until 2025-03-04 00:00 UTC: the launch is on its way\. "fine until Monday"/,
			);
			assert.deepEqual(
				(await auditFor(deps.db, String(id))).map((e) => [e.action, e.actor]).reverse(),
				[["request", "alice"], ["approve", "mia"], ["launch", "system"]],
			);

			// 20:10: past the hard limit (200 %). Bob's machine is stopped; the grant covers alice's.
			deps.clock.set("2025-03-01T20:10:00Z");
			await enforceBudgets(deps);
			let planned = await deps.db.select().from(policyActions);
			assert.deepEqual(planned.map((a) => a.machineId), [bobs], "only the uncovered machine is noticed");
			deps.clock.set("2025-03-01T20:40:00Z");
			await enforceBudgets(deps);
			assert.equal(
				(await deps.db.query.instances.findFirst({ where: (i, { eq }) => eq(i.id, bobs!) }))!.state,
				"stopped",
			);

			// The grant holds to the end of the 3rd, then expires by itself and its machine is no longer covered.
			deps.clock.set("2025-03-03T23:59:00Z");
			await enforceBudgets(deps);
			assert.equal((await getApproval(deps.db, id))!.status, "approved");
			assert.equal((await deps.db.select().from(policyActions)).length, 1);
			deps.clock.set("2025-03-04T00:00:00Z");
			await enforceBudgets(deps);
			assert.equal((await getApproval(deps.db, id))!.status, "expired", "on time");
			assert.equal((await auditFor(deps.db, String(id)))[0]!.action, "expire");
			assert.ok((await noticeKeys(deps, world.alice.id)).includes(`approval:${id}:expired`), "the requester is told");
			planned = await deps.db.select().from(policyActions);
			assert.deepEqual(
				planned.filter((a) => a.status === "noticed").map((a) => a.machineId),
				[alices!.id],
				"now its stop is noticed",
			);
			assert.equal((await launchAs(deps, world, "alice", {})).status, 403, "and new launches are refused again");
		} finally {
			await smtp.close();
		}
	},
);

motoTest("a denied request is told to its requester with the comment, and nothing is launched", async (moto) => {
	const smtp = await smtpServer();
	await using deps = await portal(moto, smtp.port);
	try {
		const world = await approvalsWorld(deps);
		await setBudget(deps, "ada", { scope: "user", username: "alice", amount: "0.01" });
		await billedInstances(deps, moto, world, ["m4.large"]);
		deps.clock.advance(HOUR);
		const id = await askFor(deps, world, "alice", { instanceType: "t2.micro" }, "2025-03-02");
		const refused = await decide(deps, "mia", id, { decision: "deny" });
		assert.equal(refused.status, 422, "a denial says why");
		assert.match(await refused.text(), /Say why, for the requester/);
		const denied = await decide(deps, "mia", id, { decision: "deny", comment: "use the shared cluster" });
		assert.equal(denied.status, 303);
		const approval = (await getApproval(deps.db, id))!;
		assert.equal(approval.status, "denied");
		assert.equal(approval.comment, "use the shared cluster");
		assert.equal(approval.launchId, null);
		await deps.background.idle();
		const notice = (await deps.db.select().from(userNotices)).find((n) => n.key === `approval:${id}:denied`);
		assert.equal(notice?.userId, world.alice.id);
		assert.match(notice.message, /was denied by Mia: "use the shared cluster"/);
		const mail = smtp.messages.find((m) => m.to[0] === "alice@example.com" && /denied/.test(m.subject));
		assert.match(mail!.text, /"use the shared cluster"/);
		assert.equal((await decide(deps, "ada", id, { decision: "approve" })).status, 409, "decided once");
		assert.deepEqual(
			(await deps.db.query.launches.findMany()).filter((l) => l.userId === world.alice.id).map((l) => l.status),
			["complete"],
			"only the launch of her billed m4.large",
		);
		const page = await request(deps.app, "/approvals?status=denied", { user: "alice" });
		assert.match(await page.text(), /Denied by Mia on 2025-03-01 13:00: “use the shared cluster”/);
	} finally {
		await smtp.close();
	}
});

motoTest(
	"an instance type marked as needing approval is refused by the wizard and the launch endpoint until a grant launches one",
	async (moto) => {
		const smtp = await smtpServer();
		await using deps = await portal(moto, smtp.port);
		try {
			const world = await approvalsWorld(deps);
			const marked = await request(deps.app, "/approvals/rules", {
				user: "ada",
				form: { subject: "instance_type", value: "r4.4xlarge", note: "large memory: ask your manager" },
			});
			assert.equal(marked.status, 303);
			assert.equal(
				(await request(deps.app, "/approvals/rules", { user: "mia", form: { subject: "volume", value: "1" } }))
					.status,
				403,
				"only admins mark",
			);

			const review = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
				user: "alice",
				form: { intent: "review", instanceType: "r4.4xlarge" },
			});
			assert.equal(review.status, 403);
			assert.match(
				await review.text(),
				/The instance type r4\.4xlarge needs approval \(large memory: ask your manager\)\./,
			);
			assert.equal((await launchAs(deps, world, "alice", { instanceType: "r4.4xlarge" })).status, 403);
			assert.equal((await launchAs(deps, world, "alice", { instanceType: "t2.micro" })).status, 303, "others launch");

			const id = await askFor(deps, world, "alice", { instanceType: "r4.4xlarge" }, "2025-03-04");
			assert.deepEqual((await getApproval(deps.db, id))!.needs, ["type"]);
			assert.equal((await decide(deps, "mia", id, { decision: "approve" })).status, 303);
			const approval = (await getApproval(deps.db, id))!;
			assert.equal(approval.grantUntil!.toISOString(), "2025-03-05T00:00:00.000Z", "the day asked for, by default");
			assert.equal((await getLaunch(deps.db, approval.launchId!))!.instanceType, "r4.4xlarge");
			await tick(deps);
			assert.equal((await instancesOfLaunch(deps.db, approval.launchId!))[0]?.instanceType, "r4.4xlarge");
			assert.equal(
				(await launchAs(deps, world, "alice", { instanceType: "r4.4xlarge" })).status,
				403,
				"the grant was for that one launch",
			);
		} finally {
			await smtp.close();
		}
	},
);

motoTest("a budget increase granted until a day lifts the refusal until then", async (moto) => {
	const smtp = await smtpServer();
	await using deps = await portal(moto, smtp.port);
	try {
		const world = await approvalsWorld(deps);
		const budget = await setBudget(deps, "ada", {
			scope: "group",
			groupId: String(world.science.id),
			amount: "1",
		});
		await billedInstances(deps, moto, world, ["m4.large"], world.bob);
		deps.clock.advance(24 * HOUR); // 2025-03-02 12:00: well past $1
		assert.equal((await launchAs(deps, world, "alice", {})).status, 403);
		const asked = await request(deps.app, "/approvals", {
			user: "alice",
			form: { kind: "budget", budgetId: String(budget), amount: "500", until: "2025-03-10", note: "conference" },
		});
		assert.equal(asked.status, 303);
		const id = Number(asked.headers.get("Location")!.split("/").at(-1));
		assert.equal(
			(await request(deps.app, "/approvals", {
				user: "olga",
				form: { kind: "budget", budgetId: String(budget), amount: "5", until: "2025-03-10" },
			})).status,
			403,
			"a budget that does not cover olga",
		);
		assert.equal((await decide(deps, "mia", id, { decision: "approve", amount: "300" })).status, 303);
		assert.equal((await getApproval(deps.db, id))!.grantAmount, 300, "the manager grants less than asked");
		assert.equal((await launchAs(deps, world, "alice", {})).status, 303, "the increase lifts the refusal");
		const bars = await (await request(deps.app, "/", { user: "alice" })).text();
		assert.match(bars, /data-budget="\d+" data-level="ok"/);
		assert.match(bars, /incl\. \$300\.00 granted/);
		deps.clock.set("2025-03-11T00:00:00Z");
		await enforceBudgets(deps);
		assert.equal((await getApproval(deps.db, id))!.status, "expired");
		assert.equal((await launchAs(deps, world, "alice", {})).status, 403, "refused again once it ended");
	} finally {
		await smtp.close();
	}
});

motoTest(
	"a lifetime beyond the policy's maximum is a request: refused, approved until a day, and the machine's lifetime lasts until the grant ends",
	async (moto) => {
		const smtp = await smtpServer();
		await using deps = await portal(moto, smtp.port);
		try {
			const world = await approvalsWorld(deps);
			await setPolicy(deps.db, { group: world.science.id }, { lifetimeHours: 24, lifetimeNoticeMinutes: 60 });
			const refused = await launchAs(deps, world, "alice", { lifetimeHours: "96" });
			assert.equal(refused.status, 403);
			assert.match(await refused.text(), /A lifetime of 96 hours is beyond the policy's maximum of 24 hours\./);
			assert.equal((await launchAs(deps, world, "alice", { lifetimeHours: "abc" })).status, 422, "a typo stays a typo");

			const id = await askFor(deps, world, "alice", { instanceType: "t2.micro", lifetimeHours: "96" }, "2025-03-04");
			assert.deepEqual((await getApproval(deps.db, id))!.needs, ["lifetime"]);
			assert.equal((await decide(deps, "mia", id, { decision: "approve", comment: "for the long run" })).status, 303);
			const approval = (await getApproval(deps.db, id))!;
			assert.equal(approval.grantUntil!.toISOString(), "2025-03-05T00:00:00.000Z");
			const launch = (await getLaunch(deps.db, approval.launchId!))!;
			assert.equal(launch.options.lifetimeUntil, approval.grantUntil!.getTime(), "the launch carries its grant");
			await tick(deps);
			const [machine] = await instancesOfLaunch(deps.db, launch.id);
			assert.equal(machine?.state, "running");

			// A day and a half later, past the policy's 24 hours: no lifetime action, the grant holds.
			deps.clock.set("2025-03-02T23:00:00Z");
			await syncAll(deps);
			await enforce(deps);
			assert.equal((await deps.db.select().from(policyActions)).length, 0, "within the approved lifetime");
			// 55 minutes before the grant ends, the lifetime's notice goes out for its end, with its full hour's notice.
			deps.clock.set("2025-03-04T23:05:00Z");
			await syncAll(deps);
			await enforce(deps);
			const [notice] = await deps.db.select().from(policyActions);
			assert.equal(notice?.machineId, machine!.id);
			assert.equal(notice?.reason, "lifetime");
			assert.equal(notice?.deadline.toISOString(), "2025-03-05T00:00:00.000Z", "due when the grant ends");
			assert.equal(notice?.actAt.toISOString(), "2025-03-05T00:05:00.000Z");
		} finally {
			await smtp.close();
		}
	},
);

motoTest(
	"the approvals page filters by status, kind, group and 'only mine', shows each viewer what they may see, and refuses unknown filters",
	async (moto) => {
		const smtp = await smtpServer();
		await using deps = await portal(moto, smtp.port);
		try {
			const world = await approvalsWorld(deps);
			await addMember(deps.db, world.olga.id, world.science.id);
			const budget = await setBudget(deps, "ada", { scope: "group", groupId: String(world.science.id), amount: "1" });
			await billedInstances(deps, moto, world, ["r4.4xlarge"], world.bob);
			deps.clock.advance(HOUR);
			const alices = await askFor(deps, world, "alice", { instanceType: "t2.micro" }, "2025-03-02");
			const olgas = await askFor(deps, world, "olga", { instanceType: "t2.micro" }, "2025-03-02");
			const more = await request(deps.app, "/approvals", {
				user: "bob",
				form: { kind: "budget", budgetId: String(budget), amount: "50", until: "2025-03-10" },
			});
			assert.equal(more.status, 303);
			const bobs = Number(/(\d+)$/.exec(more.headers.get("Location")!)![1]);
			assert.equal((await decide(deps, "mia", olgas, { decision: "deny", comment: "not now" })).status, 303);

			const listed = async (user: string, query = "") => {
				const res = await request(deps.app, `/approvals${query}`, { user });
				assert.equal(res.status, 200);
				return [...(await res.text()).matchAll(/data-request="(\d+)"/g)].map((m) => Number(m[1])).sort();
			};
			assert.deepEqual(await listed("mia"), [alices, olgas, bobs].sort(), "a manager: every request of the group");
			assert.deepEqual(await listed("mia", "?status=pending"), [alices, bobs].sort());
			assert.deepEqual(await listed("mia", "?status=pending&kind=budget"), [bobs]);
			assert.deepEqual(await listed("mia", `?group=${world.science.id}&status=denied`), [olgas]);
			assert.deepEqual(await listed("mia", `?group=${world.ops.id}`), []);
			assert.deepEqual(await listed("alice"), [alices], "a user: their own only");
			assert.deepEqual(await listed("bob", "?mine=on"), [bobs]);
			assert.equal((await request(deps.app, "/approvals?status=maybe", { user: "mia" })).status, 400);
			assert.equal((await request(deps.app, "/approvals?kind=gift", { user: "mia" })).status, 400);
		} finally {
			await smtp.close();
		}
	},
);

motoTest(
	"a configuration or a volume size marked as needing approval is refused with its note; removing the mark lifts it; only admins mark",
	async (moto) => {
		const smtp = await smtpServer();
		await using deps = await portal(moto, smtp.port);
		try {
			const world = await approvalsWorld(deps);
			const mark = (user: string, form: Record<string, string>) =>
				request(deps.app, "/approvals/rules", { user, form });
			assert.equal((await mark("mia", { subject: "config", value: String(world.config.id) })).status, 403);
			assert.equal((await mark("ada", { subject: "volume", value: "lots" })).status, 422, "a size in GiB");
			assert.equal((await mark("ada", { subject: "config", value: "999" })).status, 422, "an existing configuration");

			// Analyst's extra volume is 20 GiB: volumes from 20 GiB need approval.
			assert.equal((await mark("ada", { subject: "volume", value: "20", note: "big disks cost" })).status, 303);
			let refused = await launchAs(deps, world, "alice", {});
			assert.equal(refused.status, 403);
			assert.match(
				await refused.text(),
				/Its 20 GiB volume needs approval \(volumes of 20 GiB and more\) \(big disks cost\)\./,
			);
			assert.equal((await mark("ada", { subject: "volume", value: "20" })).status, 422, "marked already");

			assert.equal((await mark("ada", { subject: "config", value: String(world.config.id) })).status, 303);
			refused = await launchAs(deps, world, "alice", {});
			assert.match(await refused.text(), /The configuration Analyst needs approval\./);
			const id = await askFor(deps, world, "alice", { instanceType: "t2.micro" }, "2025-03-02");
			assert.deepEqual((await getApproval(deps.db, id))!.needs.sort(), ["config", "volume"]);

			// Both marks removed: the launch goes ahead without a request.
			for (const rule of await deps.db.query.approvalRules.findMany()) {
				assert.equal(
					(await request(deps.app, `/approvals/rules/${rule.id}/delete`, { user: "ada", form: {} })).status,
					303,
				);
			}
			assert.equal((await launchAs(deps, world, "alice", {})).status, 303);
			const audit = (await deps.db.query.auditEvents.findMany()).filter((e) => e.resourceKind === "approval-rule");
			assert.deepEqual(audit.map((e) => e.action), [
				"add-approval-rule",
				"add-approval-rule",
				"remove-approval-rule",
				"remove-approval-rule",
			]);
		} finally {
			await smtp.close();
		}
	},
);
