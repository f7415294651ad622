/**
 * The budgets, mounted at /budgets: GET / (every budget the viewer sees, as bars, with the form to
 * set one; `?edit=<id>` fills it with that budget), POST / (sets a budget: creates or replaces the
 * one of its group, user or cost center), POST /:id/delete. Who may set which is lib/auth's.
 */
import { Hono } from "hono";
import { removeBudget, setBudget } from "../lib/budgets/edit.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { budgetsPageView } from "../lib/views/budgets.ts";
import { type AppEnv, pageContext, setFlash } from "./context.ts";
import { parseId } from "./params.ts";
import { BudgetsPage } from "./ui/BudgetsPage.tsx";
import { renderPage } from "./ui/render.tsx";

/** The single-valued fields of a form, bounded, for showing a refused one again. */
function textValues(body: Record<string, unknown>): Record<string, string> {
	return Object.fromEntries(
		Object.entries(body).filter(([, v]) => typeof v === "string").map(([k, v]) => [k, (v as string).slice(0, 100)]),
	);
}

export function budgetRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.get("/", async (c) => {
		const page = await budgetsPageView(deps, c.get("viewer"), {
			values: {},
			errors: {},
			edit: parseId(c.req.query("edit")),
		});
		return c.html(renderPage(<BudgetsPage ctx={await pageContext(c, deps)} page={page} />));
	});
	app.post("/", async (c) => {
		const body = await c.req.parseBody();
		const viewer = c.get("viewer");
		try {
			const id = await setBudget(deps, viewer, body);
			await setFlash(c, deps, { tone: "ok", text: "The budget is set." });
			return c.redirect(`/budgets#budget-${id}`, 303);
		} catch (error) {
			if (!(error instanceof UserError) || error.status !== 422) throw error;
			const page = await budgetsPageView(deps, viewer, { values: textValues(body), errors: { ...error.fields } });
			return c.html(renderPage(<BudgetsPage ctx={await pageContext(c, deps)} page={page} />), 422);
		}
	});
	app.post("/:id/delete", async (c) => {
		const id = parseId(c.req.param("id"));
		if (id === undefined) throw new UserError(404, "No such budget");
		await removeBudget(deps, c.get("viewer"), id);
		await setFlash(c, deps, { tone: "ok", text: "The budget is removed." });
		return c.redirect("/budgets", 303);
	});
	return app;
}
