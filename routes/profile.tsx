/** The profile, mounted at /profile: who the portal thinks you are — username, names, email, groups and role. */
import { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { profileView } from "../lib/views/profile.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { ProfilePage } from "./ui/ProfilePage.tsx";
import { renderPage } from "./ui/render.tsx";

export function profileRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.get("/", async (c) => {
		const [ctx, profile] = await Promise.all([pageContext(c, deps), profileView(deps, c.get("viewer"))]);
		return c.html(renderPage(<ProfilePage ctx={ctx} profile={profile} />));
	});
	return app;
}
