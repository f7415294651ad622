/**
 * The boot timeline, the stack events page and the resize page rendered from hand-written props:
 * a stage still going says "so far", events not stored yet say so, an unknown price says
 * "unknown" (never $0), and a resize to a cheaper type shows a negative difference.
 */
import assert from "node:assert/strict";
import type { ResizePageProps } from "../lib/views/resize.ts";
import type { BootTimelineProps, StackEventsProps } from "../lib/views/timeline.ts";
import { BootTimeline, StackEventsPage } from "../routes/ui/BootTimeline.tsx";
import type { PageContext } from "../routes/ui/Layout.tsx";
import { renderFragment, renderPage } from "../routes/ui/render.tsx";
import { deltaText, ResizePage } from "../routes/ui/ResizePage.tsx";

const NOW = new Date("2025-03-01T12:00:00Z");
const ctx: PageContext = {
	viewer: { id: 1, username: "alice", name: "Alice Ng", email: "", role: "user", groupIds: [1], managedGroupIds: [] },
	csrf: "the-csrf-token",
	path: "/",
	launchHref: "/launch/1",
	timeZone: "UTC",
	now: NOW,
};

Deno.test("a stage still going shows how long so far, flagged once past its usual; no events link without the launch", () => {
	const timeline: BootTimelineProps = {
		stages: [
			{
				label: "Instance launched",
				reported: false,
				percent: null,
				at: new Date("2025-03-01T11:40:00Z"),
				durationMs: 60_000,
				current: false,
				usualMs: null,
				slow: false,
			},
			{
				label: "installing R",
				reported: true,
				percent: 30,
				at: new Date("2025-03-01T11:41:00Z"),
				durationMs: 19 * 60_000,
				current: true,
				usualMs: 6 * 60_000,
				slow: true,
			},
		],
		totalMs: 20 * 60_000,
		eventsHref: null,
		usualOver: 20,
		slowFactor: 1.5,
		timeZone: "UTC",
	};
	const html = renderFragment(BootTimeline({ timeline }));
	assert.match(html, /data-duration-ms="1140000">19 min so far</);
	assert.match(html, /Slower than usual: installing R took 19 min so far \(usually 6 min\)\./);
	assert.match(html, /20 min from the request to the last stage\. “Usual”/);
	assert.doesNotMatch(html, /CloudFormation events/);
});

Deno.test("the events page says when the events are not stored yet, and gives the reason of a failure without events", () => {
	const base: StackEventsProps = {
		launchId: "l-1",
		launchHref: "/launches/l-1",
		title: "Analyst",
		stackName: "MLiyAnalyst-MLIY-1",
		status: "creating",
		reason: null,
		diagnosis: null,
		events: null,
		storedAt: null,
		timeZone: "UTC",
	};
	assert.match(
		renderPage(StackEventsPage({ ctx, events: base })),
		/The portal stores the stack&#39;s events when the launch ends; it has not ended yet\.|The portal stores the stack's events when the launch ends; it has not ended yet\./,
	);
	const failed = renderPage(StackEventsPage({
		ctx,
		events: { ...base, status: "failed", reason: "The stack no longer exists in CloudFormation." },
	}));
	assert.match(failed, /<strong>The launch failed\.<\/strong> The stack no longer exists in CloudFormation\./);
	assert.match(failed, /none were stored for this launch\./);
});

Deno.test("the resize page: an unknown price is 'unknown', a cheaper type a negative difference, a refusal instead of a confirmation", () => {
	const page: ResizePageProps = {
		id: "i-0001",
		name: "analysis-box",
		href: "/instances/i-0001",
		state: "stopped",
		currentType: "m4.large",
		currentRate: { known: true, hourly: 0.1 },
		mode: "stopped",
		refusal: null,
		choices: [
			{
				type: "t2.micro",
				description: "1 vCPU",
				rate: { known: true, hourly: 0.0116 },
				deltaHourly: 0.0116 - 0.1,
				href: "/instances/i-0001/resize?type=t2.micro",
			},
			{
				type: "x9.huge",
				description: "",
				rate: { known: false, reason: "not in the pricing file" },
				deltaHourly: null,
				href: "/instances/i-0001/resize?type=x9.huge",
			},
		],
		chosen: null,
	};
	const html = renderPage(ResizePage({ ctx, page }));
	assert.match(html, /<span data-delta>−\$0\.0884\/h<\/span>/);
	assert.match(
		html,
		/unknown \(not in the pricing file\)<\/td><td class="num" data-label="Difference"><span data-delta>unknown</,
	);
	assert.doesNotMatch(html, /\$0\.00/);
	assert.doesNotMatch(html, /resize-confirm/);
	assert.equal(deltaText(0), "no change");

	const refused = renderPage(ResizePage({
		ctx,
		page: { ...page, state: "shutting-down", mode: null, refusal: "Cannot resize: the instance is shutting-down." },
	}));
	assert.match(refused, /data-refusal>Cannot resize: the instance is shutting-down\./);
	assert.doesNotMatch(refused, /<form/);
});
