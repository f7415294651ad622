/**
 * The launch wizard, for every kind, mounted at /launch: GET / (pick a group) → GET /:groupId (pick a
 * configuration) → GET /:groupId/:configId (the kind's form, with the fragments /type-info and
 * /estimate) → POST /:groupId/:configId, the one launch handler: intent=review confirms,
 * intent=launch records the launch (once per confirmation) and goes to its page.
 * Every step re-checks entitlement on the server.
 */
import { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { prefilledValues } from "../lib/launch/again.ts";
import { type LaunchIds, RepeatLaunch, requestLaunch } from "../lib/launch/request.ts";
import { ApprovalRequired } from "../lib/approvals/needs.ts";
import {
	approvalNeededView,
	configsStepView,
	confirmStepView,
	estimateView,
	type FormValues,
	groupsStepView,
	launchFormView,
	typeInfoView,
} from "../lib/views/wizard.ts";
import { type AppContext, type AppEnv, pageContext } from "./context.ts";
import { listOf } from "../lib/form_values.ts";
import { parseId } from "./params.ts";
import { Estimate } from "./ui/Estimate.tsx";
import { ApprovalNeeded, ConfigsStep, ConfirmStep, FormStep, GroupsStep } from "./ui/LaunchSteps.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";
import { TypeInfo } from "./ui/TypeInfo.tsx";

/** The group and configuration a wizard URL names. */
function wizardIds(c: AppContext): LaunchIds {
	return { groupId: parseId(c.req.param("groupId")), configId: parseId(c.req.param("configId")) };
}

/** The submitted fields, bounded, for re-rendering a refused form. */
function formValues(body: Record<string, unknown>): FormValues {
	const values: FormValues = {};
	for (const [key, value] of Object.entries(body)) {
		if (typeof value === "string") values[key] = value.slice(0, 300);
		else if (Array.isArray(value)) values[key] = listOf(value).map((v) => v.slice(0, 300)).slice(0, 50);
	}
	return values;
}

/** Whether the client reads pages (a browser's form post), not JSON. */
function wantsPage(c: AppContext): boolean {
	return !(c.req.header("Accept") ?? "").includes("application/json");
}

/** The fields the cluster estimate depends on, from the form's query string. */
const ESTIMATE_FIELDS = ["instanceType", "coreNodes", "market", "bidPrice"];

export function wizardRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	app.get("/", async (c) => {
		const step = await groupsStepView(deps, c.get("viewer"));
		if (step.groups.length === 1) return c.redirect(step.groups[0]!.href);
		const ctx = await pageContext(c, deps, { launchable: step.groups });
		return c.html(renderPage(<GroupsStep ctx={ctx} step={step} />));
	});

	app.get("/:groupId", async (c) => {
		const step = await configsStepView(deps, c.get("viewer"), parseId(c.req.param("groupId")));
		return c.html(renderPage(<ConfigsStep ctx={await pageContext(c, deps)} step={step} />));
	});

	const showForm = async (
		c: AppContext,
		submitted: { values: FormValues; errors: Record<string, string>; message?: string },
		status: 200 | 422 = 200,
	) => {
		const form = await launchFormView(deps, c.get("viewer"), wizardIds(c), submitted);
		return c.html(renderPage(<FormStep ctx={await pageContext(c, deps)} form={form} />), status);
	};

	// The query pre-fills the form: "launch again" (lib/launch/again.ts) gives the type, options and name.
	app.get("/:groupId/:configId", (c) => showForm(c, { values: prefilledValues(c.req.queries()), errors: {} }));

	app.get("/:groupId/:configId/type-info", async (c) => {
		const info = await typeInfoView(deps, c.get("viewer"), wizardIds(c), c.req.query("instanceType") ?? "");
		return c.html(renderFragment(<TypeInfo info={info} />));
	});

	app.get("/:groupId/:configId/estimate", async (c) => {
		const query = c.req.query();
		const values: Record<string, string> = {};
		for (const key of ESTIMATE_FIELDS) if (query[key]) values[key] = query[key]!.slice(0, 64);
		const estimate = await estimateView(deps, c.get("viewer"), wizardIds(c), values);
		return c.html(renderFragment(<Estimate estimate={estimate} />));
	});

	/**
	 * The launch form of every kind: intent=launch records the launch and goes to its page (the
	 * launch its key already made, when the confirmation is posted again); any other intent checks
	 * everything and shows the kind's confirmation (a kind without one launches). A new confirmation
	 * shortly after a launch of the same configuration is asked again first (409, the confirmation
	 * with the question). A refusal of the form re-renders it with the marked fields (422); a launch
	 * that needs an approval is refused (403) with why and the request form (a page; other clients
	 * get the reasons).
	 */
	app.post("/:groupId/:configId", async (c) => {
		const viewer = c.get("viewer");
		const ids = wizardIds(c);
		const body = await c.req.parseBody({ all: true });
		const confirmation = async (status: 200 | 409) => {
			const confirm = await confirmStepView(deps, viewer, ids, body);
			if (!confirm) return undefined;
			return c.html(renderPage(<ConfirmStep ctx={await pageContext(c, deps)} confirm={confirm} />), status);
		};
		try {
			if (body.intent !== "launch") {
				const page = await confirmation(200);
				if (page) return page;
			}
			const launch = await requestLaunch(deps, viewer, ids, body);
			return c.redirect(`/launches/${launch.id}`, 303);
		} catch (error) {
			if (error instanceof RepeatLaunch) return (await confirmation(409))!;
			if (error instanceof ApprovalRequired && !c.req.header("HX-Request") && wantsPage(c)) {
				const refusal = await approvalNeededView(deps, viewer, ids, error, body);
				return c.html(renderPage(<ApprovalNeeded ctx={await pageContext(c, deps)} refusal={refusal} />), 403);
			}
			if (error instanceof UserError && error.status === 422) {
				return await showForm(
					c,
					{ values: formValues(body), errors: { ...error.fields }, message: error.message },
					422,
				);
			}
			throw error;
		}
	});
	return app;
}
