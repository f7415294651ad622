/**
 * An instance's boot timeline (a section of its page), and the page of a launch's CloudFormation
 * events with the failure diagnosis.
 */
import type { BootTimelineProps, StackEventsProps, TimelineStage } from "../../lib/views/timeline.ts";
import { type Column, ItemTable } from "./components.tsx";
import { formatDuration, formatTime } from "./format.ts";
import { Layout, type PageContext } from "./Layout.tsx";

function stageColumns(tz: string): Column<TimelineStage>[] {
	return [
		{
			label: "Stage",
			cell: (s) => (
				<span data-stage={s.label}>
					{s.label}
					{s.percent !== null && <span class="muted small">{` (${s.percent}%)`}</span>}
				</span>
			),
		},
		{ label: "Began", class: "mono", cell: (s) => formatTime(s.at, tz) },
		{
			label: "Took",
			class: "num",
			cell: (s) =>
				s.durationMs === null
					? <span class="muted">—</span>
					: <span data-duration-ms={s.durationMs}>{formatDuration(s.durationMs)}{s.current ? " so far" : ""}</span>,
		},
		{
			label: "Usual",
			class: "num",
			cell: (s) =>
				s.usualMs === null ? <span class="muted">—</span> : (
					<span>
						{s.slow && <span class="badge bad" data-slow>slow</span>} {formatDuration(s.usualMs)}
					</span>
				),
		},
	];
}

/** The boot timeline: each stage with when it began, how long it took, and the configuration's usual. */
export function BootTimeline(props: { timeline: BootTimelineProps }) {
	const { timeline } = props;
	const slow = timeline.stages.filter((s) => s.slow);
	return (
		<section id="boot-timeline" aria-labelledby="boot-timeline-heading">
			<h2 id="boot-timeline-heading">Boot timeline</h2>
			<p class="muted small">
				{timeline.totalMs !== null && `${formatDuration(timeline.totalMs)} from the request to the last stage. `}
				“Usual” is the median of the stage over this configuration's last {timeline.usualOver}{" "}
				launches; a stage more than {timeline.slowFactor}× its usual is marked slow.
			</p>
			{slow.length > 0 && (
				<p class="error-box" data-slow-stages>
					Slower than usual: {slow.map((s) =>
						`${s.label} took ${formatDuration(s.durationMs!)}${s.current ? " so far" : ""} (usually ${
							formatDuration(s.usualMs!)
						})`
					).join("; ")}.
				</p>
			)}
			<ItemTable columns={stageColumns(timeline.timeZone)} rows={timeline.stages} />
			{timeline.eventsHref && (
				<p>
					<a href={timeline.eventsHref}>CloudFormation events of its stack</a>
				</p>
			)}
		</section>
	);
}

type StackEvent = NonNullable<StackEventsProps["events"]>[number];

function eventColumns(tz: string): Column<StackEvent>[] {
	return [
		{ label: "Time", class: "mono", cell: (e) => formatTime(e.at, tz) },
		{ label: "Resource", cell: (e) => <span class="mono">{e.logicalId}</span> },
		{ label: "Type", class: "small", cell: (e) => e.type },
		{
			label: "Status",
			cell: (e) => <span class={`badge ${/FAILED/.test(e.status) ? "bad" : "off"}`}>{e.status}</span>,
		},
		{ label: "Reason", class: "small", cell: (e) => e.reason ?? "" },
	];
}

/** GET /launches/:id/events: the stack's events as the launcher stored them, and what failed first. */
export function StackEventsPage(props: { ctx: PageContext; events: StackEventsProps }) {
	const { events } = props;
	const tz = events.timeZone;
	return (
		<Layout ctx={props.ctx} title={`Stack events of ${events.stackName}`}>
			<p class="small">
				<a href={events.launchHref}>← The launch of {events.title}</a>
			</p>
			<h1>
				CloudFormation events <span class="mono muted">{events.stackName}</span>
			</h1>
			{events.status === "failed" && (
				<div class="error-box" role="alert" data-diagnosis>
					{events.diagnosis
						? (
							<>
								<strong>What failed first:</strong> <span class="mono">{events.diagnosis.logicalId}</span>{" "}
								({events.diagnosis.type}): {events.diagnosis.reason}
							</>
						)
						: (
							<>
								<strong>The launch failed.</strong> {events.reason}
							</>
						)}
				</div>
			)}
			{events.events === null
				? (
					<p class="muted">
						The portal stores the stack's events when the launch ends
						{events.status === "queued" || events.status === "creating"
							? "; it has not ended yet."
							: "; none were stored for this launch."}
					</p>
				)
				: (
					<>
						<p class="muted small">
							Newest first, as CloudFormation listed them at {formatTime(events.storedAt, tz)}.
						</p>
						<ItemTable columns={eventColumns(tz)} rows={events.events} />
					</>
				)}
		</Layout>
	);
}
