/**
 * The machine policy's components from plain props (what lib/views/policy.ts computes): the notice
 * banner, the next planned action of a row, the detail pages' policy panel, the wizard's policy
 * fields and confirmation, the profile's notice channels and the billing page's savings.
 */
import assert from "node:assert/strict";
import type { ClusterRowProps } from "../lib/views/cluster.ts";
import type { InstanceRowProps } from "../lib/views/instance.ts";
import type { BannerNotice } from "../lib/views/layout.ts";
import type { NextAction } from "../lib/views/policy.ts";
import { ClusterTable } from "../routes/ui/ClusterTable.tsx";
import { InstanceTableRow } from "../routes/ui/InstanceTable.tsx";
import type { PageContext } from "../routes/ui/Layout.tsx";
import { Layout } from "../routes/ui/Layout.tsx";
import { renderFragment, renderPage } from "../routes/ui/render.tsx";

const NOW = new Date("2025-03-01T12:00:00Z");

const ctx: PageContext = {
	viewer: { id: 1, username: "alice", name: "Alice Ng", email: "", role: "user", groupIds: [1] },
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
	id: "i-1",
	name: "box",
	href: "/instances/i-1",
	ownerName: "Alice Ng",
	link: null,
	instanceType: "t2.micro",
	cell: { state: "running", pendingAction: null, hasProgressBar: false, progressText: null, progressPercent: null },
	rate: { known: true, hourly: 0.0116 },
	configName: "Analyst",
	actions: [],
	pendingAction: null,
	poll: null,
	view: "dashboard",
	uptimeMs: 60_000,
};

Deno.test("a row shows its next planned action under its state, why on hover; nothing when none is planned", () => {
	const html = renderFragment(InstanceTableRow({ row: { ...row, next: schedule } }));
	assert.match(
		html,
		/<td data-label="State"><span class="badge ok" data-state="running">running<\/span><div class="planned small stop" data-planned="schedule" title="Why: working hours end at 2025-03-01 19:00 UTC">stops at 2025-03-01 19:00 UTC unless extended<\/div><\/td>/,
	);
	assert.doesNotMatch(renderFragment(InstanceTableRow({ row })), /class="planned/);

	const cluster: ClusterRowProps = {
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
