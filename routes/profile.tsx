/** GET /profile: who the portal thinks you are — username, names, email, groups and role. */
import { Hono } from "hono";
import { groupsOf } from "../lib/db/catalog.ts";
import { recentLaunches } from "../lib/db/launches.ts";
import type { Deps } from "../lib/deps.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { formatTime } from "./ui/format.ts";
import { Layout } from "./ui/Layout.tsx";
import { renderPage } from "./ui/render.tsx";

export function profileRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.get("/profile", async (c) => {
		const viewer = c.get("viewer");
		const [ctx, groups, launches] = await Promise.all([
			pageContext(c, deps),
			groupsOf(deps.db, viewer.id),
			recentLaunches(deps.db, viewer.id, 10),
		]);
		return c.html(renderPage(
			<Layout ctx={ctx} title="Profile">
				<h1>My details</h1>
				<div class="panel">
					<dl class="facts">
						<dt>User</dt>
						<dd class="mono">{viewer.username}</dd>
						<dt>Name</dt>
						<dd>{viewer.name}</dd>
						<dt>Email</dt>
						<dd>{viewer.email || "—"}</dd>
						<dt>Role</dt>
						<dd>
							{viewer.role}
							<span class="muted small">
								{viewer.role === "admin"
									? " — you may administer the portal and terminate anyone's instances"
									: viewer.role === "manager"
									? " — you see and control every team's instances and bills"
									: " — you see your own and your teammates' instances"}
							</span>
						</dd>
						<dt>Groups</dt>
						<dd>
							{groups.length === 0 ? "none" : (
								<ul>
									{groups.map((g) => <li>{g.name}</li>)}
								</ul>
							)}
						</dd>
					</dl>
				</div>
				<h2>Recent launches</h2>
				{launches.length === 0 ? <p class="muted">You have not launched anything yet.</p> : (
					<div class="table-wrap">
						<table>
							<thead>
								<tr>
									<th scope="col">When</th>
									<th scope="col">Stack</th>
									<th scope="col">Status</th>
								</tr>
							</thead>
							<tbody>
								{launches.map((l) => (
									<tr>
										<td>
											<a href={`/launches/${l.id}`}>{formatTime(l.createdAt, deps.settings.TIME_ZONE)}</a>
										</td>
										<td class="mono small">{l.stackName}</td>
										<td>
											<span class={`badge ${l.status === "complete" ? "ok" : l.status === "failed" ? "bad" : "busy"}`}>
												{l.status}
											</span>
											{l.status === "failed" && <span class="small muted">{l.reason}</span>}
										</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</Layout>,
		));
	});
	return app;
}
