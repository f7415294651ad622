/** A launch's page (GET /launches/:id) and its status fragment, polled until the launch is done or failed. */
import type { LaunchPageProps, LaunchStatusProps } from "../../lib/views/launches.ts";
import { LiveRegion, polling } from "./components.tsx";
import { formatTime } from "./format.ts";
import { Layout, type PageContext } from "./Layout.tsx";

export function LaunchStatus(props: { status: LaunchStatusProps }) {
	const { status } = props;
	const complete = status.status === "complete";
	return (
		<section
			id="launch-status"
			{...polling(status.poll, 2)}
			data-status={status.status}
		>
			<ol class="steps">
				{status.steps.map((s) => <li class={s.state}>{s.text}</li>)}
			</ol>
			{status.poll && <p class="muted">{status.step}…</p>}
			{status.status === "failed" && (
				<div class="error-box" role="alert">
					<strong>The launch failed.</strong> {status.reason}
				</div>
			)}
			{complete && (
				<p class="flash ok">
					{status.configName ?? `The ${status.kind}`} is ready. <a href="/">Go to your dashboard</a>
					{status.made && (
						<>
							{" "}or <a href={status.made.href}>open {status.made.id}</a>
						</>
					)}.
				</p>
			)}
			{status.reportsProgress && (
				<p class="muted small">The instance keeps reporting its setup progress on your dashboard.</p>
			)}
		</section>
	);
}

export function LaunchPage(props: { ctx: PageContext; launch: LaunchPageProps }) {
	const { launch } = props;
	return (
		<Layout ctx={props.ctx} title="Launch progress">
			<h1>Launching {launch.title}</h1>
			<p class="lead">
				Started{" "}
				{formatTime(launch.createdAt, launch.timeZone)}. You can close this page: the launch goes on, and your dashboard
				shows it.
			</p>
			<LiveRegion>
				<LaunchStatus status={launch.status} />
			</LiveRegion>
		</Layout>
	);
}
