/**
 * The profile, mounted at /profile: GET / (who the portal thinks you are — username, names, email,
 * groups and role — your recent launches and your notice channels), POST /notices (where the
 * machine policies' notices reach you: a redirect back with a flash, or the page with the marked
 * fields) and POST /sign-out-everywhere, which revokes the security tokens of every page you have
 * open.
 */
import { Hono } from "hono";
import { revokeTokens } from "../lib/auth/csrf.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { setNoticeChannels } from "../lib/policy/notices.ts";
import { channelsText, profileView } from "../lib/views/profile.ts";
import { type AppEnv, pageContext, setFlash } from "./context.ts";
import { ProfilePage } from "./ui/ProfilePage.tsx";
import { renderPage } from "./ui/render.tsx";

export function profileRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.get("/", async (c) => {
		const [ctx, profile] = await Promise.all([pageContext(c, deps), profileView(deps, c.get("viewer"))]);
		return c.html(renderPage(<ProfilePage ctx={ctx} profile={profile} />));
	});
	app.post("/sign-out-everywhere", async (c) => {
		const viewer = c.get("viewer");
		c.set("csrf", await revokeTokens(deps, viewer, viewer));
		await setFlash(c, deps, {
			tone: "ok",
			text: "Every page you had open is signed out of the portal: reload one to use it again.",
		});
		return c.redirect("/profile", 303);
	});
	app.post("/notices", async (c) => {
		const viewer = c.get("viewer");
		let channels;
		try {
			channels = await setNoticeChannels(deps, viewer, await c.req.parseBody());
		} catch (error) {
			if (!(error instanceof UserError) || error.status !== 422) throw error;
			const [ctx, profile] = await Promise.all([
				pageContext(c, deps),
				profileView(deps, viewer, { errors: { ...error.fields } }),
			]);
			return c.html(renderPage(<ProfilePage ctx={ctx} profile={profile} />), 422);
		}
		await setFlash(c, deps, { tone: "ok", text: channelsText(channels) });
		return c.redirect("/profile", 303);
	});
	return app;
}
