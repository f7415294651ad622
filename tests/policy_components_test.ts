/**
 * The machine policy's components from plain props (what lib/views/policy.ts computes): the notice
 * banner, the next planned action of a row, the detail pages' policy panel, the wizard's policy
 * fields and confirmation, the profile's notice channels and the billing page's savings.
 */
import assert from "node:assert/strict";
import type { ClusterRowProps } from "../lib/views/cluster.ts";
import type { InstanceRowProps } from "../lib/views/instance.ts";
import type { BannerNotice } from "../lib/views/layout.ts";
import type { NextAction, PolicyPanelProps } from "../lib/views/policy.ts";
import { PolicyPanel } from "../routes/ui/PolicyPanel.tsx";
import { NoticeChannels } from "../routes/ui/NoticeChannels.tsx";
import { SavingsSection } from "../routes/ui/SavingsSection.tsx";
import type { SavingsProps } from "../lib/views/billing.ts";
import { ConfirmedPolicyList, PolicyChoicesHidden, PolicyFieldset } from "../routes/ui/PolicyFields.tsx";
import { ClusterTable } from "../routes/ui/ClusterTable.tsx";
import { InstanceTableRow } from "../routes/ui/InstanceTable.tsx";
import type { PageContext } from "../routes/ui/Layout.tsx";
import { Layout } from "../routes/ui/Layout.tsx";
import { renderFragment, renderPage } from "../routes/ui/render.tsx";

const NOW = new Date("2025-03-01T12:00:00Z");

const ctx: PageContext = {
	viewer: { id: 1, username: "alice", name: "Alice Ng", email: "", role: "user", groupIds: [1], managedGroupIds: [] },
	csrf: "the-csrf-token",
	path: "/",
	launchHref: "/launch/1",
	timeZone: "UTC",
	now: NOW,
};

function notice(id: number, extra: Partial<BannerNotice> = {}): BannerNotice {
	return {
		id,
		phase: "warning",
		message: `Instance i-${id} will be stopped at 2025-03-01 12:30 UTC by its idle policy: no activity.`,
		machineHref: `/instances/i-${id}`,
		machineId: `i-${id}`,
		action: "stop",
		extendPath: `/extend/${id}.1.2.sig`,
		...extra,
	};
}

Deno.test("the banner: each notice with its phase, the extend link while it can be postponed, the rest folded", () => {
	const none = renderPage(Layout({ ctx, title: "Home", children: "x" }));
	assert.doesNotMatch(none, /policy-notices/, "no notices, no banner");

	const html = renderPage(Layout({
		ctx: {
			...ctx,
			notices: [
				notice(1),
				notice(2, {
					phase: "done",
					message: "Instance i-2 was stopped at 2025-03-01 11:00 UTC by its idle policy: no activity.",
					extendPath: undefined,
				}),
				notice(3, { phase: "failed", message: "Instance i-3 could not be stopped", extendPath: undefined }),
				notice(4, { action: "terminate", machineHref: "/clusters/j-4", machineId: "j-4" }),
			],
		},
		title: "Home",
		children: "x",
	}));
	assert.match(html, /<section class="policy-notices" aria-label="Machine policy notices"/);
	assert.match(
		html,
		/<li class="policy-notice warning" data-notice="1" data-phase="warning"><span class="badge busy">Planned<\/span>/,
	);
	assert.match(html, /href="\/extend\/1.1.2.sig" aria-label="Postpone the stop of i-1">Postpone<\/a>/);
	assert.match(
		html,
		/data-phase="done"><span class="badge ok">Done<\/span><span class="text">Instance i-2 was stopped/,
	);
	assert.doesNotMatch(html, /\/extend\/2\./, "a done notice has nothing to postpone");
	assert.match(html, /data-phase="failed"><span class="badge bad">Failed/);
	assert.match(html, /<details><summary>1 more notice<\/summary><ul><li class="policy-notice warning" data-notice="4"/);
	assert.match(html, /aria-label="Postpone the termination of j-4"/);
	assert.match(html, /<a href="\/clusters\/j-4" aria-label="Open j-4">Open<\/a>/);
	// The banner sits between the header and the page's content.
	assert.ok(html.indexOf("policy-notices") > html.indexOf('<header class="top">'));
	assert.ok(html.indexOf("policy-notices") < html.indexOf('<main id="main"'));
});

const schedule: NextAction = {
	reason: "schedule",
	action: "stop",
	at: new Date("2025-03-01T19:00:00Z"),
	noticeAt: new Date("2025-03-01T18:45:00Z"),
	summary: "stops at 2025-03-01 19:00 UTC unless extended",
	why: "working hours end at 2025-03-01 19:00 UTC",
};

const row: InstanceRowProps = {
	connection: null,
	id: "i-1",
	name: "box",
	href: "/instances/i-1",
	ownerName: "Alice Ng",
	link: null,
	instanceType: "t2.micro",
	cell: {
		state: "running",
		pendingAction: null,
		hasProgressBar: false,
		progressText: null,
		progressPercent: null,
		setup: null,
		timeZone: "UTC",
	},
	rate: { known: true, hourly: 0.0116 },
	configName: "Analyst",
	actions: [],
	pendingAction: null,
	poll: null,
	view: "dashboard",
	uptimeMs: 60_000,
	launchAgain: null,
	extra: [],
	locked: null,
};

Deno.test("a row shows its next planned action under its state, why on hover; nothing when none is planned", () => {
	const html = renderFragment(InstanceTableRow({ row: { ...row, next: schedule } }));
	assert.match(
		html,
		/<td data-label="State"><div class="state-cell"><span class="badge ok" data-state="running">running<\/span><\/div><div class="planned small stop" data-planned="schedule" title="Why: working hours end at 2025-03-01 19:00 UTC">stops at 2025-03-01 19:00 UTC unless extended<\/div><\/td>/,
	);
	assert.doesNotMatch(renderFragment(InstanceTableRow({ row })), /class="planned/);

	const cluster: ClusterRowProps = {
		connect: null,
		id: "j-1",
		name: "spark",
		href: "/clusters/j-1",
		ownerName: "Alice Ng",
		purpose: "Churn",
		state: "WAITING",
		pendingAction: null,
		market: "ON_DEMAND",
		instanceType: "m4.large",
		nodesRunning: 3,
		nodesRequested: 3,
		configName: "Spark",
		link: null,
		uptimeMs: null,
		rate: { known: true, hourly: 0.3 },
		failed: null,
		next: {
			...schedule,
			reason: "idle",
			action: "terminate",
			summary: "idle for 12 min; terminated after 30",
			why: "no activity",
		},
	};
	assert.match(
		renderFragment(ClusterTable({ rows: [cluster], view: "dashboard" })),
		/<div class="planned small terminate" data-planned="idle" title="Why: no activity">idle for 12 min; terminated after 30<\/div>/,
	);
});

function policyPanel(extra: Partial<PolicyPanelProps> = {}): PolicyPanelProps {
	return {
		kind: "instance",
		id: "i-1",
		rules: [
			{ name: "Idle stop", text: "Stopped after 30 min without activity, with a notice 10 min before." },
			{ name: "Postponing", text: "A notice's link or a keep-alive postpones an action by at most 8 h." },
		],
		activity: "Activity is CPU at or above 10%.",
		signals: { at: new Date("2025-03-01T11:58:00Z"), activeAt: null, source: "its activity agent" },
		keepAliveUntil: null,
		plans: [{
			...schedule,
			reason: "idle",
			summary: "idle for 12 min; stops after 30",
			why: "no activity since 11:48",
		}],
		change: {
			url: "/instances/i-1/policy",
			fields: { idle: { min: 15, max: 60, default: 30, label: "Idle minutes before it stops" }, autoStart: true },
			values: { idleMinutes: "30", autoStart: "off" },
			errors: {},
		},
		keepAlive: {
			url: "/instances/i-1/keep-alive",
			choices: [{ value: "30m", label: "30 minutes" }, { value: "480m", label: "8 hours" }],
			longest: "8 hours",
			holds: "its idle stop",
			active: false,
			endConfirm: "End the keep-alive of i-1? Its idle stop applies again, after its notice.",
			values: {},
			errors: {},
		},
		timeZone: "UTC",
		now: NOW,
		...extra,
	};
}

Deno.test("PolicyPanel: the rules, signals and plans; the forms post with htmx into the panel; errors and outcomes by their form", () => {
	const html = renderFragment(PolicyPanel({ policy: policyPanel(), target: "#instance-panel" }));
	assert.match(html, /<dt>Idle stop<\/dt><dd>Stopped after 30 min without activity/);
	assert.match(html, /<dt>Last signal<\/dt><dd>2025-03-01 11:58 \(2 min ago\), from its activity agent<\/dd>/);
	assert.match(
		html,
		/<li data-planned="idle"><strong>idle for 12 min; stops after 30<\/strong><div class="small muted">Because no activity since 11:48; notice at 2025-03-01 18:45.<\/div><\/li>/,
	);
	assert.match(
		html,
		/<form class="row" novalidate hx-post="\/instances\/i-1\/keep-alive" hx-target="#instance-panel" hx-swap="outerHTML">/,
	);
	assert.match(html, /Holds its idle stop. At most 8 hours ahead./);
	assert.doesNotMatch(html, /End the keep-alive/, "nothing to end");
	assert.match(html, /hx-post="\/instances\/i-1\/policy" hx-target="#instance-panel" hx-swap="outerHTML">/);
	assert.doesNotMatch(html, /hx-confirm="Change/, "a stop only: nothing destroyed, nothing asked");
	assert.match(html, /<input type="radio" name="autoStart" value="off" checked\/?> No/);
	assert.match(html, /15 to 60 minutes.<\/small>/);

	const refused = renderFragment(PolicyPanel({
		policy: policyPanel({
			change: { ...policyPanel().change!, errors: { idleMinutes: "Between 15 and 60 minutes" }, confirm: "Sure?" },
			keepAlive: { ...policyPanel().keepAlive!, active: true },
			keepAliveUntil: new Date("2025-03-01T14:00:00Z"),
			result: { form: "change", tone: "error", text: "Please correct the marked fields." },
		}),
		target: "#cluster-panel",
	}));
	assert.match(
		refused,
		/hx-target="#cluster-panel" hx-swap="outerHTML" hx-confirm="Sure\?"><h3>Change its policy<\/h3><p class="flash error" role="alert" data-policy-result>Please correct/,
	);
	assert.match(refused, /<div class="error" id="f-idleMinutes-error" role="alert">Between 15 and 60 minutes<\/div>/);
	assert.match(refused, /Kept running until 2025-03-01 14:00. At most 8 hours ahead./);
	assert.match(
		refused,
		/hx-confirm="End the keep-alive of i-1\? Its idle stop applies again, after its notice."><input type="hidden" name="for" value="0"\/?>/,
	);
	assert.equal(refused.match(/data-policy-result/g)?.length, 1, "the outcome shows at its own form only");

	const bare = renderFragment(PolicyPanel({
		policy: policyPanel({ rules: [], activity: null, plans: [], change: null, keepAlive: null }),
		target: "#instance-panel",
	}));
	assert.match(bare, /No machine policy applies: nothing stops or terminates it automatically./);
	assert.match(bare, /Nothing is planned./);
	assert.doesNotMatch(bare, /<form|data-signals/);
});

Deno.test("the wizard's policy: the rules, the choices with their bounds (empty: the policy's own), and the confirmation", () => {
	const fieldset = renderFragment(PolicyFieldset({
		policy: {
			rules: [{ name: "Lifetime", text: "Terminated 48 h after its launch." }],
			fields: { lifetime: { max: 48 }, autoStart: false },
			activity: null,
		},
		values: { lifetimeHours: "60" },
		errors: { lifetimeHours: "At most 48 hours" },
	}));
	assert.match(
		fieldset,
		/<legend><strong>Machine policy<\/strong><\/legend><dl class="facts policy-rules"><dt>Lifetime<\/dt>/,
	);
	assert.match(
		fieldset,
		/<div class="field invalid"><label for="f-lifetimeHours">Lifetime in hours \(it is terminated then\)<\/label>/,
	);
	assert.match(
		fieldset,
		/value="60" placeholder="48" aria-describedby="f-lifetimeHours-hint f-lifetimeHours-error" aria-invalid="true"/,
	);
	assert.match(fieldset, /At most 48 hours after its launch; empty: the policy's 48./);
	assert.doesNotMatch(fieldset, /idleMinutes|autoStart/, "no field for a rule without a choice");

	const none = renderFragment(PolicyFieldset({
		policy: { rules: [], fields: { autoStart: false }, activity: null },
		values: {},
		errors: {},
	}));
	assert.match(none, /No machine policy applies to this group and configuration/);
	assert.doesNotMatch(none, /<input|Leave a field empty/);

	const confirmed = {
		rules: [{ name: "Idle stop", text: "Stopped after 45 min without activity." }],
		choices: [["idleMinutes", "45"], ["autoStart", "off"]] as [string, string][],
	};
	assert.equal(
		renderFragment(ConfirmedPolicyList({ policy: confirmed })),
		'<ul class="policy-list"><li><strong>Idle stop:</strong> Stopped after 45 min without activity.</li></ul>',
	);
	assert.match(
		renderFragment(PolicyChoicesHidden({ policy: confirmed })),
		/^<input type="hidden" name="idleMinutes" value="45"\/?><input type="hidden" name="autoStart" value="off"\/?>$/,
	);
	assert.equal(renderFragment(ConfirmedPolicyList({ policy: { rules: [], choices: [] } })), "none applies");
});

Deno.test("NoticeChannels: both channels as checkboxes with the page's token, why email does not reach, a refusal", () => {
	const html = renderFragment(NoticeChannels({
		channels: { action: "/profile/notices", banner: false, email: true, emailNote: "No address.", errors: {} },
		csrf: "the-csrf-token",
	}));
	assert.match(
		html,
		/<form method="post" action="\/profile\/notices" class="stack" novalidate><input type="hidden" name="_csrf" value="the-csrf-token"\/?>/,
	);
	assert.match(html, /<input type="checkbox" name="banner"\s+value="on"\/?> On my pages/);
	assert.match(
		html,
		/<input type="checkbox" name="email" checked value="on"\/?> By email<\/label><\/div><small>No address.<\/small>/,
	);
	assert.doesNotMatch(html, /error-box/);
	const refused = renderFragment(NoticeChannels({
		channels: { action: "/profile/notices", banner: true, email: true, errors: { email: "On or off" } },
		csrf: "t",
	}));
	assert.match(
		refused,
		/<p class="error-box" role="alert">Please correct the marked fields: By email: On or off.<\/p>/,
	);
});

Deno.test("SavingsSection: a row per group and month with its actions, the total, and for admins the ranking and the chart", () => {
	const none = { idle: 0, schedule: 0, lifetime: 0, dormancy: 0 };
	const savings: SavingsProps = {
		from: "2025-03",
		to: "2025-03",
		rows: [
			{
				month: "2025-03",
				groupId: 1,
				groupName: "science",
				hours: 13,
				dollars: 1.8,
				actions: { ...none, idle: 1, schedule: 2 },
			},
		],
		total: { hours: 13, dollars: 1.8, actions: 3 },
		mostActive: null,
		byReason: null,
		groupOnly: false,
	};
	const user = renderFragment(SavingsSection({ savings }));
	assert.match(user, /\(2025-03, whole months\)/);
	assert.match(
		user,
		/<td data-label="Hours stopped" class="num">13.0<\/td><td data-label="Not spent" class="num">\$1.80<\/td><td data-label="Actions" class="small">Idle 1 · Working hours 2<\/td>/,
	);
	assert.match(
		user,
		/<td data-label="Actions">3 actions<\/td>/,
		"the total labelled like the rows (stacked at 390 px)",
	);
	assert.doesNotMatch(user, /Which policies acted most|data-island/);

	const admin = renderFragment(SavingsSection({
		savings: {
			...savings,
			mostActive: [{ groupName: "science", reason: "schedule", actions: 2 }, {
				groupName: "science",
				reason: "idle",
				actions: 1,
			}],
			byReason: [["idle", 1], ["schedule", 2], ["lifetime", 0], ["dormancy", 0]],
		},
	}));
	assert.match(
		admin,
		/<tbody><tr><td>science<\/td><td>Working hours<\/td><td class="num">2<\/td><\/tr><tr><td>science<\/td><td>Idle<\/td>/,
	);
	assert.match(
		admin,
		/&quot;labels&quot;:\[&quot;Idle&quot;,&quot;Working hours&quot;,&quot;Lifetime&quot;,&quot;Dormancy&quot;\],&quot;values&quot;:\[1,2,0,0\]/,
	);

	const empty = renderFragment(SavingsSection({
		savings: { ...savings, rows: [], total: { hours: 0, dollars: 0, actions: 0 }, groupOnly: true },
	}));
	assert.match(empty, /No policy stopped or terminated anything in these months./);
	assert.match(empty, /the user and cost-center filters do not narrow them/);
});
