/** The page shell: header navigation, the signed-in user, notices, flash messages, scripts. */
import type { ComponentChildren } from "preact";
import type { BannerNotice, Viewer } from "../../lib/views/layout.ts";
import { STATIC_VERSION } from "../../static/mod.ts";
import { PolicyNotices } from "./PolicyNotices.tsx";
import { formatTime } from "./format.ts";

/** The id of the page's error region, where htmx requests' error answers are shown. */
export const HTMX_ERRORS_ID = "htmx-errors";

/** A one-time message shown on the next page (after a redirect). */
export interface Flash {
	tone: "ok" | "error";
	text: string;
}

/** Everything the layout needs besides the page's own content. */
export interface PageContext {
	viewer: Viewer;
	csrf: string;
	path: string;
	/** Where "Launch" goes; null when the viewer may launch nothing. */
	launchHref: string | null;
	notice?: string;
	/** The viewer's machine policy notices (the banner under the header). */
	notices?: BannerNotice[];
	/** When the viewer signed in with a break-glass password: the end of that session. */
	breakGlassUntil?: Date;
	/** When the viewer signed in through the browser (OIDC): the session's end; a sign-out button is shown. */
	signInUntil?: Date;
	flash?: Flash;
	timeZone: string;
	now: Date;
}

interface NavItem {
	href: string;
	label: string;
	/** Leading path segments that mark the item current ("/launch" is not "/launches"). */
	match: string[];
}

export function Layout(props: { ctx: PageContext; title: string; children: ComponentChildren; wide?: boolean }) {
	const { ctx } = props;
	const items: NavItem[] = [
		{ href: "/", label: "My dashboard", match: ["/", "/dashboard", "/instances", "/clusters"] },
		{ href: "/team", label: "Team", match: ["/team"] },
		// A launch's own page is part of launching. Without a group to launch into, /launch says why.
		{ href: ctx.launchHref ?? "/launch", label: "Launch", match: ["/launch", "/launches"] },
	];
	items.push({ href: "/billing", label: "Billing", match: ["/billing", "/budgets"] });
	items.push({ href: "/approvals", label: "Approvals", match: ["/approvals"] });
	if (ctx.viewer.role === "admin") items.push({ href: "/admin", label: "Admin", match: ["/admin"] });
	const current = (item: NavItem) =>
		item.match.some((m) => m === "/" ? ctx.path === "/" : ctx.path === m || ctx.path.startsWith(`${m}/`));
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<meta name="csrf-token" content={ctx.csrf} />
				<meta name="htmx-config" content='{"defaultTimeout": 30000}' />
				<title>{`${props.title} · MLiy`}</title>
				<link rel="icon" href="data:," />
				<link rel="stylesheet" href={`/static/app.css?v=${STATIC_VERSION}`} />
				<script src={`/static/htmx.min.js?v=${STATIC_VERSION}`} defer></script>
				<script src={`/static/app.js?v=${STATIC_VERSION}`} defer></script>
				<script src={`/static/islands.js?v=${STATIC_VERSION}`} type="module"></script>
			</head>
			<body>
				<a class="skip" href="#main">Skip to content</a>
				<header class="top">
					<a class="brand" href="/">MLiy</a>
					<nav aria-label="Main">
						<ul>
							{items.map((item) => (
								<li>
									<a href={item.href} aria-current={current(item) ? "page" : undefined}>{item.label}</a>
								</li>
							))}
						</ul>
					</nav>
					<a class="who" href="/profile" aria-current={ctx.path === "/profile" ? "page" : undefined}>
						{ctx.viewer.name}
						{ctx.viewer.role !== "user" && <span class="role">{ctx.viewer.role}</span>}
					</a>
					{ctx.signInUntil && (
						<form method="post" action="/sign-out" class="sign-out">
							<input type="hidden" name="_csrf" value={ctx.csrf} />
							<button type="submit" title={`Signed in until ${formatTime(ctx.signInUntil, ctx.timeZone)}`}>
								Sign out
							</button>
						</form>
					)}
				</header>
				{ctx.breakGlassUntil && (
					<form
						method="post"
						action="/break-glass/sign-out"
						class="notice break-glass"
						aria-label="Break-glass session"
					>
						<input type="hidden" name="_csrf" value={ctx.csrf} />
						Break-glass session: signed in with a local password until {formatTime(ctx.breakGlassUntil, ctx.timeZone)}.
						{" "}
						<button type="submit">Sign out</button>
					</form>
				)}
				{ctx.notice && (
					<div class="notice" role="status">
						{ctx.notice}
					</div>
				)}
				<PolicyNotices notices={ctx.notices ?? []} />
				<main id="main" class={props.wide ? "wide" : undefined}>
					<div id={HTMX_ERRORS_ID} class="error-box" role="alert" data-errors></div>
					{ctx.flash && (
						<div class={`flash ${ctx.flash.tone}`} role={ctx.flash.tone === "error" ? "alert" : "status"}>
							{ctx.flash.text}
						</div>
					)}
					{props.children}
				</main>
				<footer class="foot">
					<span>MLiy · times in {ctx.timeZone}</span>
				</footer>
			</body>
		</html>
	);
}

/** The page of one machine (an instance, a cluster): a way back, its name and id, then its panel. */
export function MachinePage(
	props: { ctx: PageContext; noun: "Instance" | "Cluster"; id: string; name: string; children: ComponentChildren },
) {
	return (
		<Layout ctx={props.ctx} title={`${props.noun} ${props.id}`}>
			<p class="small">
				<a href="/">← My dashboard</a>
			</p>
			<h1>
				{props.name || props.noun} <span class="mono muted">{props.id}</span>
			</h1>
			{props.children}
		</Layout>
	);
}
