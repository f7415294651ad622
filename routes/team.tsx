/**
 * The team view, mounted at /team: GET / (the page, or with HX-Request just the filtered, sorted,
 * paged table), its filters, order and page in the query string (`?state=&owner=&group=&q=&sort=&dir=&page=`).
 * Instances of everyone sharing a group with the viewer (everyone's for managers and admins),
 * counted and paged in SQL, with charts of states and of the hourly burn per owner. Sent from the
 * bytes of the same page rendered within the last second when nothing it shows has been written
 * since (routes/cached_page.ts): its counts and pages over 10,000 instances run once per write or
 * second, not once per request.
 */
import { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { parsePage, parseSort } from "../lib/views/lists.ts";
import { TEAM_SORTS, type TeamQuery, teamTableView, teamView } from "../lib/views/team.ts";
import { cachedHtml } from "./cached_page.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { idFilter } from "./params.ts";
import { renderFragment, renderPage } from "./ui/render.tsx";
import { TeamPage, TeamTable } from "./ui/TeamPage.tsx";

const STATE_FILTERS = ["", "running", "stopped", "transitioning", "ended"] as const;

/** The team filters, order and page from the query string; anything malformed is a 400 with what is wrong. */
export function parseTeamQuery(query: Record<string, string>): TeamQuery {
	const state = query.state ?? "";
	if (!(STATE_FILTERS as readonly string[]).includes(state)) {
		throw new UserError(
			400,
			`Unknown state filter "${state.slice(0, 30)}": use running, stopped, transitioning or ended`,
		);
	}
	const search = (query.q ?? "").trim();
	if (search.length > 100) throw new UserError(400, "The search text is too long (at most 100 characters)");
	return {
		filters: {
			state: state || undefined,
			ownerId: idFilter(query, "owner"),
			groupId: idFilter(query, "group"),
			search: search || undefined,
		},
		sort: parseSort(query, TEAM_SORTS),
		page: parsePage(query),
	};
}

export function teamRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.get("/", async (c) => {
		const viewer = c.get("viewer");
		const query = parseTeamQuery(c.req.query());
		c.header("Vary", "HX-Request");
		if (c.req.header("HX-Request")) {
			return await cachedHtml(
				c,
				deps,
				async () => renderFragment(<TeamTable table={await teamTableView(deps, viewer, query)} swapped />),
			);
		}
		return await cachedHtml(c, deps, async () => {
			const [ctx, team] = await Promise.all([pageContext(c, deps), teamView(deps, viewer, query)]);
			return renderPage(<TeamPage ctx={ctx} team={team} />);
		});
	});
	return app;
}
