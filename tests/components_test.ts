/**
 * The pages render from pure components: each is given plain props (what lib/views/ computes) and
 * returns HTML, with no database, no deps and no rules of its own. These tests render each page's
 * component from hand-written props and check what it shows: a row's actions, "price unknown", an
 * empty state, a launch's failure reason. (The admin pages have theirs in admin_test.ts.)
 */
import assert from "node:assert/strict";
import type { BillingProps, BillingRow } from "../lib/views/billing.ts";
import type { ClusterPanelProps, ClusterRowProps } from "../lib/views/cluster.ts";
import type { MyInstancesProps } from "../lib/views/dashboard.ts";
import type { InstancePanelProps, InstanceRowProps } from "../lib/views/instance.ts";
import type { LaunchStatusProps } from "../lib/views/launches.ts";
import type { TeamProps, TeamTableProps } from "../lib/views/team.ts";
import type { ClusterFormProps, ConfirmStepProps, InstanceFormProps, TypeInfoProps } from "../lib/views/wizard.ts";
import { ApiReferencePage } from "../routes/ui/ApiReferencePage.tsx";
import { ApiTokens } from "../routes/ui/ApiTokens.tsx";
import { BillingPage } from "../routes/ui/BillingPage.tsx";
import { ClusterPage } from "../routes/ui/ClusterPanel.tsx";
import { DashboardPage, MyInstances } from "../routes/ui/DashboardPage.tsx";
import { InstancePage } from "../routes/ui/InstancePanel.tsx";
import type { PageContext } from "../routes/ui/Layout.tsx";
import { ConfigsStep, ConfirmStep, FormStep, GroupsStep } from "../routes/ui/LaunchSteps.tsx";
import { LaunchPage, LaunchStatus } from "../routes/ui/LaunchStatus.tsx";
import { renderFragment, renderPage } from "../routes/ui/render.tsx";
import { TeamPage, TeamTable } from "../routes/ui/TeamPage.tsx";

const NOW = new Date("2025-03-01T12:00:00Z");

const ctx: PageContext = {
	viewer: { id: 1, username: "alice", name: "Alice Ng", email: "", role: "user", groupIds: [1], managedGroupIds: [] },
	csrf: "the-csrf-token",
	path: "/",
	launchHref: "/launch/1",
	timeZone: "UTC",
	now: NOW,
};

function row(id: string, extra: Partial<InstanceRowProps> = {}): InstanceRowProps {
	return {
		id,
		name: "analysis-box",
		href: `/instances/${id}`,
		ownerName: "Alice Ng",
		link: { href: "https://alice-1.example.com/", label: "alice-1.example.com" },
		connection: null,
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
		actions: [
			{ action: "stop", url: `/ajax/instance/${id}/stop?view=dashboard` },
			{ action: "terminate", url: `/ajax/instance/${id}/terminate?view=dashboard` },
		],
		launchAgain: null,
		pendingAction: null,
		poll: null,
		view: "dashboard",
		uptimeMs: 3 * 3_600_000,
		extra: [],
		locked: null,
		...extra,
	};
}

const cluster: ClusterRowProps = {
	connect: null,
	id: "j-ABCDEF",
	name: "MLiySpark",
	href: "/clusters/j-ABCDEF",
	ownerName: "Alice Ng",
	purpose: "Churn model",
	state: "WAITING",
	pendingAction: null,
	market: "SPOT",
	instanceType: "m4.large",
	nodesRunning: 3,
	nodesRequested: 3,
	configName: "Spark",
	failed: null,
	link: null,
	uptimeMs: null,
	rate: { known: true, hourly: 0.42 },
};

const noInstances: MyInstancesProps = { rows: [], waiting: [], failed: [], launchHref: null, poll: null };

function section(html: string, pattern: RegExp, what: string): string {
	const match = html.match(pattern);
	assert.ok(match, `${what} not found`);
	return match[0];
}

Deno.test("DashboardPage shows each row's actions, its price or 'price unknown', the launches on the way and the clusters", () => {
	const html = renderPage(DashboardPage({
		ctx,
		dashboard: {
			instances: {
				rows: [
					row("i-0001"),
					row("i-0002", {
						rate: { known: false, reason: "no price for x9.mega in us-east-1" },
						actions: [],
						cell: { ...row("i-0002").cell, pendingAction: "restart" },
						pendingAction: "restart",
						poll: "/instances/i-0002/row?view=dashboard",
						uptimeMs: null,
					}),
				],
				waiting: [{
					id: "l-1",
					stackName: "MLiyAnalyst-MLIY-wait",
					text: "Waiting for the stack",
					href: "/launches/l-1",
					dismiss: null,
				}],
				failed: [],
				launchHref: "/launch/1",
				poll: "/dashboard/instances",
			},
			clusters: { rows: [cluster], launchHref: "/launch/2" },
			budgets: NO_BUDGETS,
			discounted: true,
		},
	}));
	const first = section(html, /<tr id="row-i-0001"[\s\S]*?<\/tr>/, "the first row");
	assert.match(first, /hx-post="\/ajax\/instance\/i-0001\/stop\?view=dashboard" hx-target="#row-i-0001"/);
	assert.match(first, /hx-confirm="Terminate i-0001\? This deletes its CloudFormation stack/);
	assert.match(first, /aria-label="Stop i-0001" data-action="stop">Stop</);
	assert.match(first, /\$0\.0116\/h/);
	assert.match(first, /<td data-label="Uptime" class="num">3 h 0 min<\/td>/);
	assert.doesNotMatch(first, /hx-trigger/, "a steady row is not polled");

	const second = section(html, /<tr id="row-i-0002"[\s\S]*?<\/tr>/, "the second row");
	assert.match(second, /<td data-label="Hourly cost" class="num">price unknown<\/td>/);
	assert.match(second, /restart in progress…/);
	assert.match(second, /data-state="running">restarting</, "the action in flight shows on the badge");
	assert.match(second, /hx-get="\/instances\/i-0002\/row\?view=dashboard" hx-trigger="every 3s"/);
	assert.doesNotMatch(second, /<button/);

	assert.match(html, /launching<\/span> MLiyAnalyst-MLIY-wait: Waiting for the stack\. <a href="\/launches\/l-1">/);
	assert.match(html, /hx-get="\/dashboard\/instances" hx-trigger="every 5s"/);
	assert.match(html, /<h2>My clusters<\/h2>/);
	assert.match(html, /<tr data-cluster="j-ABCDEF">[\s\S]*SPOT \| m4\.large[\s\S]*3\/3/);
	assert.match(
		html,
		/<td data-label="Hourly cost" class="num">\$0\.42\/h<\/td>/,
		"a cluster row shows its hourly cost",
	);
	assert.match(html, /Costs are estimates from on-demand prices after your discount\./);
	assert.doesNotMatch(html, /<th scope="col">Owner<\/th>/, "the dashboard has no owner column");
});

Deno.test("MyInstances: a failed launch shows its reason; the empty state offers a launch or says why not", () => {
	const failed = renderFragment(MyInstances({
		instances: {
			...noInstances,
			failed: [{
				id: "l-2",
				stackName: "MLiyAnalyst-MLIY-fail",
				text: "The key pair does not exist",
				href: "/launches/l-2",
				dismiss: "/launches/l-2/dismiss",
			}],
		},
	}));
	assert.match(
		failed,
		/data-failed-launch="l-2"><p><span class="badge bad">launch failed<\/span> MLiyAnalyst-MLIY-fail: The key pair/,
	);
	assert.match(
		failed,
		/<button type="button" hx-post="\/launches\/l-2\/dismiss" hx-target="#my-instances" hx-swap="outerHTML"[^>]*>Dismiss<\/button>/,
		"a failed launch's notice can be dismissed",
	);
	assert.doesNotMatch(failed, /You do not have any instances/);
	assert.doesNotMatch(failed, /hx-trigger/);

	const cannot = renderFragment(MyInstances({ instances: noInstances }));
	assert.match(cannot, /You do not have any instances\./);
	assert.match(cannot, /You are not in a group that can launch instances yet/);
	const can = renderFragment(MyInstances({ instances: { ...noInstances, launchHref: "/launch" } }));
	assert.match(can, /<a class="btn primary" href="\/launch">Launch an instance<\/a>/);
});

/** A page's budget bars when no budget covers the viewer (the section is left out). */
const NO_BUDGETS = { bars: [], href: "/budgets" };

/** A team table in its default order, with no sortable headings. */
const UNSORTED: Pick<TeamTableProps, "sort" | "sortChoices" | "headings" | "clearHref"> = {
	sort: { column: "created", dir: "desc" },
	sortChoices: [{ value: "created", label: "Created" }],
	headings: {},
	clearHref: "/team",
};

function team(extra: Partial<TeamProps> = {}): TeamProps {
	return {
		everyone: false,
		role: "user",
		managedGroups: [],
		counts: [1, 0, 0],
		everyoneCounts: [3, 1, 1],
		burn: { total: 0.0116, unknown: 1, owners: [{ name: "Alice Ng", hourly: 0.0116 }] },
		filters: { state: "running" },
		owners: [{ value: 1, label: "alice" }, { value: 2, label: "bob" }],
		groups: [{ value: 1, label: "science" }],
		table: {
			rows: [
				row("i-0001", { view: "team", actions: [{ action: "stop", url: "/ajax/instance/i-0001/stop?view=team" }] }),
			],
			total: 30,
			filtered: true,
			pager: { page: 2, pages: 2, total: 30, previous: "/team?state=running", next: null },
			...UNSORTED,
		},
		clusters: [],
		budgets: NO_BUDGETS,
		...extra,
	};
}

Deno.test("TeamPage shows owners, the filters as chosen, the pager's links and the charts' data; its table's empty state", () => {
	const html = renderPage(TeamPage({ ctx: { ...ctx, path: "/team" }, team: team() }));
	assert.match(html, /<th scope="col">Owner<\/th>/);
	assert.match(html, /<td data-label="Owner">Alice Ng<\/td>/);
	assert.match(html, /hx-post="\/ajax\/instance\/i-0001\/stop\?view=team"/);
	assert.match(html, /<option value="running" selected>Running<\/option>/);
	assert.match(
		html,
		/<a class="btn" href="\/team\?state=running" hx-get="\/team\?state=running" hx-target="#team-table"/,
	);
	assert.match(html, /Page 2 of 2 · 30 in all/);
	assert.doesNotMatch(html, /Next →/);
	assert.match(html, /in all, plus 1 with an unknown price/);
	assert.match(html, /Instances of everyone who shares a group with you\./);
	assert.doesNotMatch(html, /<h2>Clusters<\/h2>/, "no clusters, no cluster table");

	const manager = renderPage(TeamPage({ ctx, team: team({ everyone: true, role: "manager", clusters: [cluster] }) }));
	assert.match(manager, /As a manager you see every team's instances\./);
	assert.match(manager, /<h2>Clusters<\/h2>[\s\S]*<td data-label="Owner">Alice Ng<\/td>/);

	const empty = {
		rows: [],
		total: 0,
		pager: { page: 1, pages: 1, total: 0, previous: null, next: null },
		...UNSORTED,
	};
	assert.match(
		renderFragment(TeamTable({ table: { ...empty, filtered: true } })),
		/No instances match\.[\s\S]*Nothing matches these filters\.[\s\S]*href="\/team" data-clear-filters>Clear the filters/,
	);
	assert.match(
		renderFragment(TeamTable({ table: { ...empty, filtered: false } })),
		/You and your groups do not have any instances yet\./,
	);
});

function panel(extra: Partial<InstancePanelProps> = {}): InstancePanelProps {
	const { view: _view, uptimeMs: _uptime, ...facts } = row("i-0001", {
		actions: [{ action: "archive", url: "/ajax/instance/i-0001/archive?view=detail" }],
	});
	return {
		...facts,
		rename: null,
		cost: {
			hourly: "rate" in extra ? extra.rate ?? null : facts.rate,
			volumesHourly: null,
			soFar: { month: { known: true, usd: 1.25 }, sinceLaunch: { known: true, usd: 3.5 } },
		},
		ownerUsername: "alice",
		groupName: "science",
		amiId: "ami-0123",
		privateIp: "10.0.1.12",
		publicIp: null,
		launchedAt: new Date("2025-03-01T08:55:00Z"),
		startedAt: new Date("2025-03-01T09:00:00Z"),
		stoppedAt: null,
		lastSeenAt: new Date("2025-03-01T11:55:00Z"),
		stackName: "MLiyAnalyst-MLIY-1",
		launchHref: "/launches/l-1",
		console: null,
		volumes: [],
		events: [
			{
				at: new Date("2025-03-01T10:00:00Z"),
				actor: "alice",
				action: "stop",
				outcome: "refused",
				detail: "controls locked",
			},
		],
		timeline: null,
		resizeHref: null,
		resizing: null,
		timeZone: "UTC",
		now: NOW,
		...extra,
	};
}

Deno.test("InstancePage shows the facts, 'price unknown' with its reason, the actions and the activity as a table", () => {
	const html = renderPage(InstancePage({
		ctx,
		panel: panel({ rate: { known: false, reason: "no price for x9.mega" }, poll: "/instances/i-0001/panel" }),
	}));
	assert.match(html, /<h1>analysis-box <span class="mono muted">i-0001<\/span><\/h1>/);
	assert.match(html, /<dt>Hourly cost<\/dt><dd>price unknown \(no price for x9\.mega\)<\/dd>/);
	assert.match(html, /<dd>2025-03-01 11:55 \(5 min ago\)<\/dd>/);
	assert.match(html, /<a href="\/launches\/l-1">launch record<\/a>/);
	assert.match(
		html,
		/hx-post="\/ajax\/instance\/i-0001\/archive\?view=detail" hx-target="#instance-panel"[^>]*>Remove</,
	);
	assert.match(html, /id="instance-panel" hx-get="\/instances\/i-0001\/panel" hx-trigger="every 3s"/);
	assert.match(html, /No extra volumes are recorded for this instance\./);
	assert.match(
		html,
		/<h2>Recent activity<\/h2><div class="table-wrap"><table class="responsive">[\s\S]*<td +data-label="When">2025-03-01 10:00<\/td><td +data-label="Who">alice<\/td><td +data-label="What">stop<\/td><td +data-label="Outcome"><span class="badge busy">refused<\/span><span class="small muted">controls locked<\/span>/,
	);
});

Deno.test("the display plugin's extra columns follow the uptime in both tables and the panel's facts; a lock shows its reason with Terminate only", () => {
	const extra = [{ label: "AMI expiration", value: "2026-06-30" }, { label: "Desk", value: null }];
	const locked = {
		reason: "its image ami-1 expired on 2026-01-01",
		message: "This instance's controls are locked: its image ami-1 expired on 2026-01-01. It can only be terminated.",
	};
	const rows = [
		row("i-0001", { extra }),
		row("i-0002", {
			extra,
			locked,
			actions: [{ action: "terminate", url: "/ajax/instance/i-0002/terminate?view=dashboard" }],
		}),
	];
	const html = renderFragment(MyInstances({
		instances: { rows, waiting: [], failed: [], launchHref: "/launch/1", poll: null },
	}));
	assert.match(
		html,
		/<th scope="col" class="num">Uptime<\/th><th scope="col">AMI expiration<\/th><th scope="col">Desk<\/th><th scope="col">Actions<\/th>/,
	);
	assert.match(html, /<td data-label="AMI expiration" data-extra="AMI expiration">2026-06-30<\/td>/);
	assert.match(html, /<td data-label="Desk" data-extra="Desk"><span class="muted">—<\/span><\/td>/);
	const second = html.slice(html.indexOf('data-instance="i-0002"'));
	assert.match(
		second,
		/data-action="terminate"[^>]*>Terminate<\/button><\/div><p class="locked-note small" data-locked><span class="badge busy">locked<\/span> Terminate only: its image ami-1 expired on 2026-01-01<\/p>/,
	);
	assert.doesNotMatch(
		html.slice(0, html.indexOf('data-instance="i-0002"')),
		/data-locked/,
		"an unlocked row says nothing",
	);

	const team = renderFragment(TeamTable({
		table: {
			rows: rows.map((r) => ({ ...r, view: "team" as const })),
			total: 2,
			filtered: false,
			pager: { page: 1, pages: 1, total: 2, previous: null, next: null },
			...UNSORTED,
		},
	}));
	assert.match(team, /<th scope="col">Owner<\/th>[\s\S]*<th scope="col">AMI expiration<\/th>/);

	const page = renderPage(InstancePage({ ctx, panel: panel({ extra, locked, actions: rows[1]!.actions }) }));
	assert.match(
		page,
		/<dt>AMI expiration<\/dt><dd data-extra="AMI expiration">2026-06-30<\/dd><dt>Desk<\/dt><dd data-extra="Desk">—<\/dd>/,
	);
	assert.match(
		page,
		/<h3>Actions<\/h3><p class="locked-note small" data-locked><span class="badge busy">locked<\/span> This instance(?:'|&#39;)s controls are locked: its image ami-1 expired on 2026-01-01\. It can only be terminated\.<\/p>/,
	);
	assert.deepEqual([...page.matchAll(/data-action="(\w+)"/g)].map((m) => m[1]), ["terminate"]);

	const plain = renderFragment(MyInstances({
		instances: { rows: [row("i-0003")], waiting: [], failed: [], launchHref: "/launch/1", poll: null },
	}));
	assert.match(plain, /Uptime<\/th><th scope="col">Actions/, "no plugin columns, none shown");
});

function clusterPanel(extra: Partial<ClusterPanelProps> = {}): ClusterPanelProps {
	const { link: _link, uptimeMs: _uptime, rate: _rate, ...facts } = cluster;
	return {
		...facts,
		rename: null,
		soFar: {
			month: { known: false, reason: "no price for m4.large" },
			sinceLaunch: { known: false, reason: "no price" },
		},
		ownerUsername: "alice",
		groupName: "sparkers",
		bidPrice: 0.05,
		stateReason: null,
		host: "10.0.2.20",
		connection: "jdbc:hive2://10.0.2.20:10000/default",
		rate: { known: false, reason: "no EMR price for m4.large" },
		idleSeconds: 5400,
		startedAt: new Date("2025-03-01T08:00:00Z"),
		endedAt: null,
		lastSeenAt: new Date("2025-03-01T11:59:00Z"),
		stackName: "MLiySpark-SPOT-1",
		terminate: { url: "/ajax/cluster/j-ABCDEF/terminate", ended: false },
		launchAgain: null,
		events: [],
		poll: null,
		timeZone: "UTC",
		...extra,
	};
}

Deno.test("ClusterPage shows the connection, 'price unknown', who may terminate, and the same activity table as instances", () => {
	const html = renderPage(ClusterPage({ ctx, panel: clusterPanel() }));
	assert.match(html, /SPOT \(bid \$0\.05\) \| m4\.large/);
	assert.match(html, /data-connection>jdbc:hive2:\/\/10\.0\.2\.20:10000\/default</);
	assert.match(html, /<dt>Estimated cost<\/dt><dd>price unknown<\/dd>/);
	assert.match(html, /<dd>after 1 h 30 min idle<\/dd>/);
	assert.match(html, /hx-post="\/ajax\/cluster\/j-ABCDEF\/terminate"[^>]*>Terminate this cluster</);
	assert.match(html, /<h2>Recent activity<\/h2><p class="muted">Nothing recorded yet\.<\/p>/);
	assert.doesNotMatch(html, /hx-trigger/);

	const ended = renderPage(ClusterPage({
		ctx,
		panel: clusterPanel({
			state: "TERMINATED",
			connection: null,
			terminate: { url: "/ajax/cluster/j-ABCDEF/terminate", ended: true },
			events: [{ at: NOW, actor: "alice", action: "terminate", outcome: "ok", detail: "deleting stack" }],
		}),
	}));
	assert.match(ended, /data-connection>—</);
	assert.match(ended, /hx-confirm="Remove the record of j-ABCDEF\?[^"]*"[^>]*>Remove this record</);
	assert.match(
		ended,
		/<td +data-label="What">terminate<\/td><td +data-label="Outcome"><span class="badge ok">ok<\/span>/,
		"clusters' activity is the instances' table",
	);

	const teammate = renderPage(ClusterPage({ ctx, panel: clusterPanel({ terminate: null }) }));
	assert.match(teammate, /Only the owner or an admin may terminate it\./);
	const pending = renderPage(ClusterPage({
		ctx,
		panel: clusterPanel({ terminate: null, pendingAction: "terminate", poll: "/clusters/j-ABCDEF/panel" }),
	}));
	assert.match(pending, /terminate in progress…/);
	assert.match(pending, /hx-get="\/clusters\/j-ABCDEF\/panel" hx-trigger="every 5s"/);
});

const target = { group: { id: 1, name: "science" }, config: { id: 7, name: "Analyst" } };
const typeInfo: TypeInfoProps = {
	type: "x9.mega",
	prettyName: null,
	vcpu: null,
	memoryGib: null,
	gpus: null,
	ecu: null,
	ebsOptimized: null,
	rate: { known: false, reason: "no price for x9.mega in us-east-1" },
	region: "us-east-1",
	os: "linux",
};

Deno.test("the wizard's steps: the groups (or why there are none) and a group's configurations", () => {
	const groups = renderPage(GroupsStep({
		ctx: { ...ctx, path: "/launch" },
		step: {
			groups: [
				{ id: 1, name: "science", costCenter: "CC-1", href: "/launch/1" },
				{ id: 2, name: "ops", costCenter: "default", href: "/launch/2" },
			],
			member: true,
		},
	}));
	assert.match(groups, /<span class="badge busy">1\. Group<\/span>/);
	assert.match(
		groups,
		/<a class="card" href="\/launch\/2"><h3>ops<\/h3><span class="muted small">Cost center default<\/span>/,
	);

	const none = renderPage(GroupsStep({
		ctx,
		step: { groups: [], member: false, contacts: "Ada <ada@example.com>" },
	}));
	assert.match(
		none,
		/You are not a member of any group\. Ask Ada &lt;ada@example\.com> to add you to a group with software configurations\./,
	);

	const configs = renderPage(ConfigsStep({
		ctx,
		step: {
			group: { id: 1, name: "science" },
			instance: [{ id: 7, name: "Analyst", descriptionHtml: "<p>R and <b>Python</b></p>", href: "/launch/1/7" }],
			cluster: [],
		},
	}));
	assert.match(configs, /<span class="badge ok">1\. Group: science<\/span>/);
	assert.match(
		configs,
		/<div class="desc"><p>R and <b>Python<\/b><\/p><\/div>/,
		"the view's sanitized HTML is shown as is",
	);
	assert.match(
		configs,
		/<a class="btn primary" href="\/launch\/1\/7" aria-label="Launch Analyst">Launch instance<\/a>/,
	);
	assert.doesNotMatch(configs, /Launch a cluster/);
	const offersNothing = renderPage(ConfigsStep({
		ctx,
		step: { group: { id: 1, name: "science" }, instance: [], cluster: [], contacts: "your portal administrator" },
	}));
	assert.match(offersNothing, /&quot;science&quot; offers no configurations you can launch\./);
});

Deno.test("the launch forms share one props type: the instance form with its groups and volume, the cluster form with its estimate", () => {
	const instance: InstanceFormProps = {
		...target,
		nameDefault: "Analyst",
		nameMax: 100,
		kind: "instance",
		action: "/launch/1/7",
		back: "/launch/1",
		intent: "review",
		types: [{ name: "t2.micro", description: "" }, { name: "x9.mega", description: "A made-up type" }],
		values: { instanceType: "x9.mega", securityGroups: ["sg-b"] },
		errors: { securityGroups: "Choose only security groups your group offers" },
		message: "Please correct the marked fields.",
		typeInfo,
		optionalSecurityGroups: [{ sgId: "sg-a", name: "ssh" }, { sgId: "sg-b", name: "jupyter" }],
		defaultSecurityGroups: 1,
		maxSecurityGroups: 5,
		extraVolume: null,
	};
	const form = renderPage(FormStep({ ctx, form: instance }));
	assert.match(form, /<h1>Launch Analyst<\/h1>/);
	assert.match(form, /name="_csrf" value="the-csrf-token"/);
	assert.match(form, /<option value="x9.mega" selected>x9.mega — A made-up type<\/option>/, "the admin's description");
	assert.match(form, /<option value="t2.micro"\s*>t2.micro<\/option>/, "no description, the bare name");
	assert.match(form, /value="sg-b" checked\s*\/?>jupyter/);
	assert.match(form, /value="sg-a"\s*\/?>ssh/);
	assert.match(form, /Your group always adds 1 default group; AWS allows 5 in all\./);
	assert.match(form, /<div class="error" role="alert">Choose only security groups your group offers<\/div>/);
	assert.match(form, /No extra volume is attached\./);
	assert.match(form, /<span title="no price for x9.mega in us-east-1">price unknown<\/span>/);
	assert.match(form, /hx-get="\/launch\/1\/7\/type-info"/);

	const clusterForm: ClusterFormProps = {
		...target,
		nameDefault: "Spark",
		nameMax: 100,
		config: { id: 8, name: "Spark" },
		kind: "cluster",
		action: "/launch/1/8",
		back: "/launch/1",
		intent: "review",
		types: [{ name: "m4.large", description: "" }],
		values: {
			instanceType: "m4.large",
			coreNodes: "1",
			market: "SPOT",
			bidPrice: "",
			purpose: "",
			autoTerminateHours: "1",
			autoTerminateMinutes: "30",
		},
		errors: {},
		typeInfo: { ...typeInfo, type: "m4.large", emr: { known: false, reason: "no EMR price" } },
		estimate: { rate: null, spot: true, discounted: false, minCoreNodes: 2, maxCoreNodes: 240 },
		limits: { minCoreNodes: 2, maxCoreNodes: 240, purposeMax: 100 },
	};
	const cluster = renderPage(FormStep({ ctx, form: clusterForm }));
	assert.match(cluster, /<input type="hidden" name="intent" value="review"/, "a cluster is confirmed first");
	assert.match(cluster, /<button type="submit" class="primary">Review launch<\/button>/);
	assert.match(cluster, /Choose a type and 2–240 core nodes\./);
	assert.match(cluster, /\(EMR price \+ spot bid \(capped at on demand\)\)/);
	assert.match(cluster, /value="SPOT" checked/);
	assert.match(cluster, /name="autoTerminateMinutes" type="number" min="0" max="59" value="30"/);
	assert.match(cluster, /<dt>EMR price per node<\/dt><dd><span title="no EMR price">price unknown<\/span>/);
});

Deno.test("ConfirmStep lists what will be launched, with its cost, and posts the same choices again", () => {
	const confirm: ConfirmStepProps = {
		...target,
		machineName: "Analyst",
		kind: "instance",
		action: "/launch/1/7",
		back: "/launch/1/7",
		costCenter: "CC-1",
		instanceType: "t2.micro",
		launchKey: "key-1",
		recent: null,
		resubmit: [{ name: "instanceType", value: "t2.micro" }, { name: "securityGroups", value: "sg-b" }],
		rate: { known: true, hourly: 0.0116 },
		securityGroupIds: ["sg-a", "sg-b"],
		extraVolume: { sizeGb: 20, device: "/dev/xvdz" },
		budgetEffects: [],
	};
	const html = renderPage(ConfirmStep({ ctx, confirm }));
	assert.match(html, /<span class="badge busy">4\. Confirm<\/span>/);
	assert.match(html, /<dd>science \(cost center CC-1\)<\/dd>/);
	assert.match(html, /<dd>\$0\.0116\/h while running<\/dd>/);
	assert.match(html, /<dt>Security groups<\/dt><dd class="mono small">sg-a, sg-b<\/dd>/);
	assert.match(html, /<dt>Extra volume<\/dt><dd>20 GiB at \/dev\/xvdz<\/dd>/);
	assert.match(html, /<input type="hidden" name="intent" value="launch"/);
	assert.match(html, /<input type="hidden" name="securityGroups" value="sg-b"/);
	assert.match(html, /<input type="hidden" name="launchKey" value="key-1"/, "a one-time launch key");
	assert.doesNotMatch(html, /name="repeat"|data-recent-launch/);
	assert.match(html, /<button type="submit" class="primary">Launch now<\/button>/);
	const unpriced = renderPage(ConfirmStep({ ctx, confirm: { ...confirm, rate: { known: false, reason: "x" } } }));
	assert.match(unpriced, /<dt>Estimated cost<\/dt><dd>price unknown<\/dd>/);

	const again = renderPage(ConfirmStep({
		ctx,
		confirm: { ...confirm, recent: { href: "/launches/l-0", stackName: "MLiyAnalyst-MLIY-l0", secondsAgo: 42 } },
	}));
	assert.match(
		again,
		/You launched Analyst 42 s ago \(\s*<a href="\/launches\/l-0">MLiyAnalyst-MLIY-l0<\/a>\)\. Launch another instance\?/,
	);
	assert.match(again, /<input type="hidden" name="repeat" value="yes"/);
	assert.match(again, /<button type="submit" class="primary">Launch another instance<\/button>/);

	const cluster = renderPage(ConfirmStep({
		ctx,
		confirm: {
			...target,
			machineName: "Spark",
			config: { id: 8, name: "Spark" },
			kind: "cluster",
			action: "/launch/1/8",
			back: "/launch/1/8",
			costCenter: "CC-1",
			instanceType: "m4.large",
			launchKey: "key-2",
			recent: null,
			resubmit: [{ name: "purpose", value: "Churn model" }, { name: "coreNodes", value: "4" }],
			rate: { known: true, hourly: 0.6 },
			purpose: "Churn model",
			coreNodes: 4,
			market: "SPOT",
			bidPrice: 0.05,
			idleSeconds: 5400,
			budgetEffects: [],
		},
	}));
	assert.match(cluster, /<dt>Nodes<\/dt><dd>4 core nodes and 1 master<\/dd>/);
	assert.match(cluster, /<dt>Pricing<\/dt><dd>spot, bid \$0\.05 per node-hour<\/dd>/);
	assert.match(cluster, /<dt>Auto-terminate<\/dt><dd>after 1 h 30 min idle<\/dd>/);
	assert.match(
		cluster,
		/<dt>Estimated cost<\/dt><dd>\$0\.60\/h while running<\/dd>|<dt>Estimated cost<\/dt><dd>\$0\.6\d*\/h while running<\/dd>/,
	);
	assert.match(cluster, /<input type="hidden" name="purpose" value="Churn model"/);
});

function status(extra: Partial<LaunchStatusProps> = {}): LaunchStatusProps {
	return {
		id: "l-1",
		status: "creating",
		title: "Analyst",
		createdAt: new Date("2025-03-01T11:58:00Z"),
		timeZone: "UTC",
		steps: [
			{ text: "Request recorded", state: "done" },
			{ text: "Stack s submitted to CloudFormation", state: "done" },
			{ text: "Creating the instance", state: "now" },
			{ text: "Waiting for the stack (and the bootstrap script) to finish", state: "" },
		],
		step: "Waiting for the stack",
		reason: null,
		kind: "instance",
		configName: "Analyst",
		made: null,
		outcome: null,
		poll: "/launches/l-1/status",
		eventsHref: null,
		launchAgain: null,
		...extra,
	};
}

Deno.test("the launch page follows the steps; a failed launch shows its reason, a finished one links to what it made", () => {
	const page = renderPage(LaunchPage({
		ctx,
		launch: { status: status() },
	}));
	assert.match(page, /<h1>Launching Analyst<\/h1>/);
	assert.match(page, /Started 2025-03-01 11:58\./);
	assert.match(page, /hx-get="\/launches\/l-1\/status" hx-trigger="every 2s"[^>]*data-status="creating"/);
	assert.match(page, /<li class="now">Creating the instance<\/li>/);
	assert.match(page, /<p class="muted">Waiting for the stack…<\/p>/);

	const failed = renderFragment(LaunchStatus({
		status: status({
			status: "failed",
			reason: "The stack rolled back: the key pair does not exist",
			poll: null,
			steps: [{ text: "Creating the instance", state: "failed" }],
		}),
	}));
	assert.match(failed, /<li class="failed">Creating the instance<\/li>/);
	assert.match(failed, /<strong>The launch failed\.<\/strong> The stack rolled back: the key pair does not exist/);
	assert.doesNotMatch(failed, /hx-trigger|Waiting for the stack…/);
	assert.match(failed, /<h1>The launch of Analyst failed<\/h1>/, "a failed launch's page says it failed");
	assert.doesNotMatch(failed, /Launching|the launch goes on/);

	const done = renderFragment(LaunchStatus({
		status: status({
			status: "complete",
			poll: null,
			kind: "cluster",
			configName: null,
			made: { id: "j-ABCDEF", href: "/clusters/j-ABCDEF" },
			outcome: { tone: "ready", text: "The cluster is ready." },
		}),
	}));
	assert.match(
		done,
		/The cluster is ready\. <a href="\/">Go to your dashboard<\/a> or <a href="\/clusters\/j-ABCDEF">open j-ABCDEF<\/a>\./,
	);
	assert.doesNotMatch(done, /keeps reporting its setup progress/);

	const settingUp = renderFragment(LaunchStatus({
		status: status({
			status: "complete",
			poll: null,
			made: { id: "i-0001", href: "/instances/i-0001" },
			outcome: { tone: "setup", text: "Analyst is running; its setup is still going (40%: installing)." },
		}),
	}));
	assert.doesNotMatch(settingUp, /is ready/, "not ready while the setup goes on");
	assert.match(settingUp, /keeps reporting its setup progress on your dashboard/);
});

const BILLED: BillingRow = {
	machineName: null,
	resourceId: "",
	resourceKind: "instance",
	username: "alice",
	href: null,
	active: false,
	userName: "Alice Ng",
	groupName: "science",
	costCenter: "CC-1",
	description: "t2.micro",
	periods: 1,
	hours: 3,
	cost: null,
};

Deno.test("BillingPage links running resources, says 'price unknown' for a period without a price, and has an empty state", () => {
	const totals = { hours: 3, cost: 0.0348, unknown: 1 };
	const billing: BillingProps = {
		from: "2025-03-01",
		to: "2025-03-01",
		filters: {},
		start: new Date("2025-03-01T00:00:00Z"),
		end: NOW,
		rows: [
			{ ...BILLED, resourceId: "i-0001", href: "/instances/i-0001", active: true, cost: 0.0348 },
			{ ...BILLED, resourceId: "i-0005", href: null, active: false, cost: null },
		],
		sort: { column: "cost", dir: "desc" },
		sortChoices: [{ value: "cost", label: "Estimated cost" }],
		headings: {},
		total: totals,
		byUser: [["alice", totals]],
		byGroup: [["science", totals]],
		byCostCenter: [["CC-1", totals]],
		monthToDate: [],
		burn: { total: 0.0116, byGroup: [["science", 0.0116]], unpriced: [] },
		users: [{ value: 1, label: "alice" }],
		groups: [],
		costCenters: [],
		budgets: NO_BUDGETS,
		comparison: {
			state: "unread",
			message: "What AWS billed has not been read yet: a daily job reads AWS Cost Explorer.",
			readAt: null,
			thresholdPercent: 10,
			months: [],
		},
		userFiltered: false,
		chargeback: null,
		region: "us-east-1",
		discount: 0.1,
		timeZone: "UTC",
	};
	const html = renderPage(BillingPage({ ctx, billing, csvHref: "/billing.csv?from=2025-03-01" }));
	assert.match(html, /<a href="\/instances\/i-0001">i-0001<\/a><div class="muted small">instance · running<\/div>/);
	assert.match(html, /<span class="mono">i-0005<\/span>[\s\S]*?<td data-label="Cost" class="num">price unknown<\/td>/);
	assert.match(
		html,
		/<td class="num">\$0\.0348<div class="muted small excluded" title="Periods whose price is unknown are not counted in this sum">excludes 1 price unknown<\/div><\/td><\/tr><\/tfoot>/,
	);
	assert.match(html, /<a class="btn" href="\/billing.csv\?from=2025-03-01" download>/);
	assert.doesNotMatch(html, /name="user"/, "one user: no user filter");
	assert.match(html, /less the 10\.0% discount/);
	assert.match(html, /<p class="notice" data-cost-explorer="unread">What AWS billed has not been read yet/);
	assert.doesNotMatch(html, /data-cost-comparison/, "no figures: no table of zeros");
	const empty = renderPage(BillingPage({ ctx, billing: { ...billing, rows: [] }, csvHref: "/billing.csv" }));
	assert.match(empty, /Nothing was billed in this range\./);
});

Deno.test("ApiTokens shows a new token once, revoke only for working tokens, and the admin box only when offered", () => {
	const base = {
		action: "/profile/tokens",
		maxDays: 3650,
		values: { name: "", expiresInDays: "90" },
		errors: {},
		rows: [
			{
				id: 1,
				name: "nightly",
				prefix: "mliy_AbCd",
				admin: false,
				createdAt: NOW,
				expiresAt: null,
				lastUsedAt: NOW,
				status: "active" as const,
				revoke: "/profile/tokens/1/revoke",
			},
			{
				id: 2,
				name: "old",
				prefix: "mliy_EfGh",
				admin: true,
				createdAt: NOW,
				expiresAt: NOW,
				lastUsedAt: null,
				status: "expired" as const,
				revoke: null,
			},
		],
	};
	let html = renderFragment(
		ApiTokens({
			tokens: { ...base, mayMakeAdmin: false, created: { name: "ci", token: "mliy_secret" } },
			csrf: "t",
			timeZone: "UTC",
		}),
	);
	assert.match(html, /value="mliy_secret"/);
	assert.match(html, /cannot show it again/);
	assert.equal(html.match(/\/revoke"/g)?.length, 1, "only the working token can be revoked");
	assert.match(html, /mliy_EfGh…/);
	assert.match(html, /expired/);
	assert.doesNotMatch(html, /name="admin"/);
	html = renderFragment(
		ApiTokens({
			tokens: { ...base, mayMakeAdmin: true, errors: { name: "Name the token" }, message: "Please correct" },
			csrf: "t",
			timeZone: "UTC",
		}),
	);
	assert.match(html, /name="admin"/);
	assert.doesNotMatch(html, /data-new-token/);
	assert.match(html, /aria-invalid="true"/);
	assert.match(html, /Name the token/);
});

Deno.test("ApiReferencePage lists each operation with its parameters, body fields and answers, code spans as code", () => {
	const html = renderPage(
		ApiReferencePage({
			reference: {
				title: "MLiy portal API",
				version: "1",
				description: "Send `Authorization: Bearer`.",
				base: "/api/v1",
				sections: [{
					tag: "machines",
					operations: [{
						method: "POST",
						path: "/api/v1/instances/{id}/actions/{action}",
						summary: "Stop it",
						description: null,
						needsToken: true,
						parameters: [{ name: "action", in: "path", required: true, text: "one of start, stop" }],
						body: null,
						bodyFields: [],
						responses: [{ status: "409", text: "Not in a `stopped` state" }],
						anchor: "post-instances-id-actions-action",
					}],
				}],
			},
		}),
	);
	assert.match(html, /href="#post-instances-id-actions-action"/);
	assert.match(html, /POST<\/span> \/api\/v1\/instances\/\{id\}\/actions\/\{action\}/);
	assert.match(html, /one of start, stop/);
	assert.match(html, /<code class="mono">stopped<\/code>/);
	assert.match(html, /<code class="mono">Authorization: Bearer<\/code>/);
	assert.match(html, /needs a token/);
	assert.doesNotMatch(html, /<script/);
});
