/** GET /admin: what to set up, in which order, and how many items each section holds. */
import { Hono } from "hono";
import type { Deps } from "../../lib/deps.ts";
import { type AdminCounts, adminCounts } from "../../lib/views/admin.ts";
import { type AppEnv, pageContext } from "../context.ts";
import type { PageContext } from "../ui/Layout.tsx";
import { renderPage } from "../ui/render.tsx";
import { AdminPage, TABS } from "./common.tsx";

export function OverviewPage(props: { ctx: PageContext; counts: AdminCounts }) {
	return (
		<AdminPage ctx={props.ctx} title="Overview">
			<p class="lead">
				Set up in this order: instance types and security groups, then groups, params, and software configurations
				permitted to groups.
			</p>
			<div class="cards">
				{TABS.map(({ href, label, counts }) =>
					counts && (
						<a class="card" href={href}>
							<h3>{label}</h3>
							<span class="stat">{props.counts[counts]}</span>
						</a>
					)
				)}
			</div>
		</AdminPage>
	);
}

export function overviewRoutes(deps: Deps): Hono<AppEnv> {
	return new Hono<AppEnv>().get("/", async (c) => {
		const [ctx, counts] = await Promise.all([pageContext(c, deps), adminCounts(deps.db)]);
		return c.html(renderPage(<OverviewPage ctx={ctx} counts={counts} />));
	});
}
