/**
 * A launch's page (GET /launches/:id) and its status fragment, polled until the launch is done or
 * failed. The fragment carries the heading, so a launch that fails while the page is open says so
 * at the top too.
 */
import type { LaunchPageProps, LaunchStatusProps } from "../../lib/views/launches.ts";
import { LiveRegion, polling } from "./components.tsx";
import { formatTime } from "./format.ts";
import { Layout, type PageContext } from "./Layout.tsx";

function Heading(props: { status: LaunchStatusProps }) {
	const { status } = props;
	const started = formatTime(status.createdAt, status.timeZone);
	if (status.status === "failed") {
		return (
			<>
				<h1>The launch of {status.title} failed</h1>
				<p class="lead">Started {started}. Nothing more will happen for this launch; the reason is below.</p>
			</>
		);
	}
	if (status.status === "complete") {
		return (
			<>
				<h1>Launched {status.title}</h1>
				<p class="lead">Started {started}.</p>
			</>
		);
	}
	return (
		<>
			<h1>Launching {status.title}</h1>
			<p class="lead">
				Started {started}. You can close this page: the launch goes on, and your dashboard shows it.
			</p>
		</>
	);
}

export function LaunchStatus(props: { status: LaunchStatusProps }) {
	const { status } = props;
	const { outcome } = status;
	return (
		<section
			id="launch-status"
			{...polling(status.poll, 2)}
			data-status={status.status}
		>
			<Heading status={status} />
			<ol class="steps">
				{status.steps.map((s) => <li class={s.state}>{s.text}</li>)}
			</ol>
			{status.poll && <p class="muted">{status.step}…</p>}
			{status.status === "failed" && (
				<div class="error-box" role="alert">
					<strong>The launch failed.</strong> {status.reason}
				</div>
			)}
			{(status.launchAgain || status.eventsHref) && (
				<div class="actions">
					{status.launchAgain && <a class="btn primary" href={status.launchAgain}>Launch again</a>}
					{status.eventsHref && <a class="btn" href={status.eventsHref}>CloudFormation events</a>}
				</div>
			)}
			{outcome && (
				<p class={outcome.tone === "bad" ? "error-box" : "flash ok"} data-outcome={outcome.tone}>
					{outcome.text} <a href="/">Go to your dashboard</a>
					{status.made && (
						<>
							{" "}or <a href={status.made.href}>open {status.made.id}</a>
						</>
					)}.
				</p>
			)}
			{outcome?.tone === "setup" && (
				<p class="muted small">The instance keeps reporting its setup progress on your dashboard.</p>
			)}
		</section>
	);
}

export function LaunchPage(props: { ctx: PageContext; launch: LaunchPageProps }) {
	return (
		<Layout ctx={props.ctx} title="Launch progress">
			<LiveRegion>
				<LaunchStatus status={props.launch.status} />
			</LiveRegion>
		</Layout>
	);
}
