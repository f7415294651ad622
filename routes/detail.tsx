/**
 * What the sub-app of every kind of machine serves alike: the machine's page at /:id, the panel
 * that page polls at /:id/panel, both from the kind's panel view (404/403 as the view decides),
 * and the policy panel's two forms: POST /:id/policy (change the machine's choices: the owner or an
 * admin), POST /:id/keep-alive ("keep running until…": anyone who may control it) and POST
 * /:id/rename (its Name tag: anyone who may control it). With htmx
 * they answer the panel (with the outcome, or the marked fields at 422) like the panel's actions;
 * without, a redirect to the page with a flash message (or the page with the marked fields).
 */
import { Hono } from "hono";
import type { VNode } from "preact";
import type { Viewer } from "../lib/auth/identify.ts";
import type { ConfigKind } from "../lib/db/schema.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { renameMachine } from "../lib/machines/names.ts";
import { changeMachinePolicy } from "../lib/policy/choices.ts";
import { keepMachineAlive } from "../lib/policy/signals.ts";
import { checkMachineId } from "../lib/views/machines.ts";
import { keepAliveText, machineHref, policySavedText, type PolicySubmission } from "../lib/views/policy.ts";
import { type AppContext, type AppEnv, pageContext, setFlash } from "./context.ts";
import type { PageContext } from "./ui/Layout.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

/** A kind's detail: its panel view, and the page and panel components that render it. */
export interface MachineDetail<Panel extends { result?: { tone: "ok"; text: string } }> {
	kind: ConfigKind;
	load(deps: Deps, viewer: Viewer, id: string, submitted?: PolicySubmission): Promise<Panel>;
	Page(props: { ctx: PageContext; panel: Panel }): VNode;
	Panel(props: { panel: Panel }): VNode;
}

/** The submitted fields of a policy form, bounded, for showing them again. */
function submittedValues(body: Record<string, unknown>): Record<string, string> {
	const values: Record<string, string> = {};
	for (const [key, value] of Object.entries(body)) {
		if (key !== "_csrf" && typeof value === "string") values[key] = value.slice(0, 300);
	}
	return values;
}

/** GET /:id, GET /:id/panel and the policy forms of a kind; the kind's sub-app adds its own routes to it. */
export function detailRoutes<Panel extends { result?: { tone: "ok"; text: string } }>(
	deps: Deps,
	detail: MachineDetail<Panel>,
): Hono<AppEnv> {
	const { Page, Panel, kind } = detail;
	const app = new Hono<AppEnv>();
	app.get("/:id", async (c) => {
		const panel = await detail.load(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderPage(<Page ctx={await pageContext(c, deps)} panel={panel} />));
	});
	app.get("/:id/panel", async (c) => {
		const panel = await detail.load(deps, c.get("viewer"), c.req.param("id"));
		return c.html(renderFragment(<Panel panel={panel} />));
	});

	/** Runs a policy form's command and answers with the panel, or the page, showing what came of it. */
	const policyForm = async (
		c: AppContext,
		form: PolicySubmission["form"],
		run: (viewer: Viewer, target: { kind: ConfigKind; id: string }, body: Record<string, unknown>) => Promise<string>,
	) => {
		const viewer = c.get("viewer");
		const id = c.req.param("id")!;
		checkMachineId(kind, id);
		const body = await c.req.parseBody();
		const htmx = !!c.req.header("HX-Request");
		let text: string;
		try {
			text = await run(viewer, { kind, id }, body);
		} catch (error) {
			if (!(error instanceof UserError) || error.status !== 422) throw error;
			const panel = await detail.load(deps, viewer, id, {
				form,
				values: submittedValues(body),
				errors: { ...error.fields },
				result: { tone: "error", text: error.message },
			});
			c.header("Cache-Control", "no-store");
			if (htmx) return c.html(renderFragment(<Panel panel={panel} />), 422);
			return c.html(renderPage(<Page ctx={await pageContext(c, deps)} panel={panel} />), 422);
		}
		if (htmx) {
			const panel = await detail.load(deps, viewer, id, { form, result: { tone: "ok", text } });
			return c.html(renderFragment(<Panel panel={panel} />));
		}
		await setFlash(c, deps, { tone: "ok", text });
		return c.redirect(machineHref(kind, id), 303);
	};
	app.post(
		"/:id/policy",
		(c) =>
			policyForm(
				c,
				"change",
				async (viewer, target, body) => policySavedText(await changeMachinePolicy(deps, viewer, target, body), kind),
			),
	);
	app.post("/:id/keep-alive", (c) =>
		policyForm(
			c,
			"keepAlive",
			async (viewer, target, body) =>
				keepAliveText(await keepMachineAlive(deps, viewer, target, body), deps.settings.TIME_ZONE),
		));
	// The rename: the Name tag in AWS, then the row (lib/machines/names.ts); a refusal answers as any other.
	app.post("/:id/rename", async (c) => {
		const viewer = c.get("viewer");
		const id = c.req.param("id");
		checkMachineId(kind, id);
		const body = await c.req.parseBody();
		const { before, name } = await renameMachine(deps, viewer, { kind, id }, body.name);
		const text = before === name ? `The name is still "${name}".` : `Renamed "${before}" to "${name}".`;
		if (c.req.header("HX-Request")) {
			const panel = await detail.load(deps, viewer, id);
			return c.html(renderFragment(<Panel panel={{ ...panel, result: { tone: "ok", text } }} />));
		}
		await setFlash(c, deps, { tone: "ok", text });
		return c.redirect(machineHref(kind, id), 303);
	});
	return app;
}
