/**
 * The profile, mounted at /profile: GET / (who the portal thinks you are — username, names, email,
 * groups and role — your recent launches and your notice channels), POST /notices (where the
 * machine policies' notices reach you: a redirect back with a flash, or the page with the marked
 * fields), POST /sign-out-everywhere, which revokes the security tokens of every page you have
 * open, and the personal API tokens: POST /tokens (the page with the new token shown once, never a
 * redirect, so the token is in no URL, cookie or history entry; or the marked fields at 422, a 403
 * for an admin token asked by a non-admin) and POST /tokens/:id/revoke.
 */
import { Hono } from "hono";
import { createApiToken, revokeOwnApiToken } from "../lib/auth/api_tokens.ts";
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
	app.post("/tokens", async (c) => {
		const viewer = c.get("viewer");
		const body = await c.req.parseBody();
		let made;
		try {
			made = await createApiToken(deps, viewer, body);
		} catch (error) {
			if (!(error instanceof UserError) || (error.status !== 422 && error.status !== 403)) throw error;
			const [ctx, profile] = await Promise.all([
				pageContext(c, deps),
				profileView(deps, viewer, undefined, { values: body, errors: { ...error.fields }, message: error.message }),
			]);
			return c.html(renderPage(<ProfilePage ctx={ctx} profile={profile} />), error.status);
		}
		const created = { name: made.row.name, token: made.token };
		const [ctx, profile] = await Promise.all([pageContext(c, deps), profileView(deps, viewer, undefined, { created })]);
		return c.html(renderPage(<ProfilePage ctx={ctx} profile={profile} />));
	});
	app.post("/tokens/:id/revoke", async (c) => {
		const id = /^\d{1,12}$/.test(c.req.param("id")) ? Number(c.req.param("id")) : NaN;
		const row = await revokeOwnApiToken(deps, c.get("viewer"), id);
		await setFlash(c, deps, { tone: "ok", text: `The token "${row.name}" is revoked: it no longer works.` });
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
