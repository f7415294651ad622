/**
 * Requests for an exception, mounted at /approvals: GET / (the requests the viewer sees, filtered
 * by status, kind, group and "only mine"), POST / (a request: `kind=launch` with the refused
 * launch's fields as `launch.<name>`, or `kind=budget` for a budget increase), GET /:id,
 * POST /:id/decide (`decision=approve|deny`, with a comment and the grant), POST /:id/cancel (the
 * requester withdraws it); admins mark what needs an approval: POST /rules, POST /rules/:id/delete.
 */
import { Hono } from "hono";
import { addApprovalRule, removeApprovalRule } from "../lib/approvals/rules.ts";
import {
	approveRequest,
	cancelRequest,
	denyRequest,
	requestBudgetIncrease,
	requestLaunchApproval,
} from "../lib/approvals/requests.ts";
import { APPROVAL_KINDS, APPROVAL_STATUSES } from "../lib/db/schema.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { type ApprovalFilters, approvalsView, approvalView } from "../lib/views/approvals.ts";
import { type AppContext, type AppEnv, pageContext, setFlash } from "./context.ts";
import { idFilter, parseId } from "./params.ts";
import { ApprovalsPage } from "./ui/ApprovalsPage.tsx";
import { renderPage } from "./ui/render.tsx";

function parseFilters(query: Record<string, string>): ApprovalFilters & { mine?: boolean } {
	const status = query.status || undefined;
	const kind = query.kind || undefined;
	if (status !== undefined && !(APPROVAL_STATUSES as readonly string[]).includes(status)) {
		throw new UserError(400, `Unknown status "${status.slice(0, 20)}": use ${APPROVAL_STATUSES.join(", ")}`);
	}
	if (kind !== undefined && !(APPROVAL_KINDS as readonly string[]).includes(kind)) {
		throw new UserError(400, `Unknown kind "${kind.slice(0, 20)}": use launch or budget`);
	}
	return {
		status: status as ApprovalFilters["status"],
		kind: kind as ApprovalFilters["kind"],
		groupId: idFilter(query, "group"),
		mine: query.mine === "on" || undefined,
	};
}

function requestId(c: AppContext): number {
	const id = parseId(c.req.param("id"));
	if (id === undefined) throw new UserError(404, "No such request");
	return id;
}

/** A refused form's field messages in the refusal's own message (the request forms live on other pages). */
function withFields(error: unknown): never {
	if (error instanceof UserError && error.status === 422 && Object.keys(error.fields).length) {
		throw new UserError(422, `${error.message} ${Object.values(error.fields).join("; ")}.`, { fields: error.fields });
	}
	throw error;
}

/** The fields posted as `launch.<name>`: the refused launch's form. */
function launchForm(body: Record<string, unknown>): Record<string, unknown> {
	return Object.fromEntries(
		Object.entries(body).filter(([k]) => k.startsWith("launch.")).map(([k, v]) => [k.slice("launch.".length), v]),
	);
}

export function approvalRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.get("/", async (c) => {
		const page = await approvalsView(deps, c.get("viewer"), parseFilters(c.req.query()));
		return c.html(renderPage(<ApprovalsPage ctx={await pageContext(c, deps)} page={page} />));
	});
	app.post("/", async (c) => {
		const body = await c.req.parseBody({ all: true });
		const viewer = c.get("viewer");
		const approval = await (body.kind === "budget"
			? requestBudgetIncrease(deps, viewer, body)
			: body.kind === "launch"
			? requestLaunchApproval(
				deps,
				viewer,
				{ groupId: parseId(String(body.groupId ?? "")), configId: parseId(String(body.configId ?? "")) },
				launchForm(body),
				body,
			)
			: Promise.reject(new UserError(400, "A request is for a launch or a budget increase"))).catch(withFields);
		await setFlash(c, deps, { tone: "ok", text: `Request #${approval.id} was sent: you are told of the decision.` });
		return c.redirect(`/approvals/${approval.id}`, 303);
	});
	app.post("/rules", async (c) => {
		await addApprovalRule(deps, c.get("viewer"), await c.req.parseBody()).catch(withFields);
		await setFlash(c, deps, { tone: "ok", text: "Marked: such launches now need an approval." });
		return c.redirect("/approvals", 303);
	});
	app.post("/rules/:id/delete", async (c) => {
		const id = parseId(c.req.param("id"));
		if (id === undefined) throw new UserError(404, "No such rule");
		await removeApprovalRule(deps, c.get("viewer"), id);
		await setFlash(c, deps, { tone: "ok", text: "The rule is removed." });
		return c.redirect("/approvals", 303);
	});
	app.get("/:id", async (c) => {
		const page = await approvalView(deps, c.get("viewer"), requestId(c));
		return c.html(renderPage(<ApprovalsPage ctx={await pageContext(c, deps)} page={page} />));
	});
	app.post("/:id/decide", async (c) => {
		const id = requestId(c);
		const body = await c.req.parseBody();
		const viewer = c.get("viewer");
		if (body.decision === "deny") {
			await denyRequest(deps, viewer, id, body).catch(withFields);
			await setFlash(c, deps, { tone: "ok", text: `Request #${id} was denied; its requester is told.` });
		} else if (body.decision === "approve") {
			const approved = await approveRequest(deps, viewer, id, body).catch(withFields);
			await setFlash(c, deps, {
				tone: approved.outcome ? "error" : "ok",
				text: approved.outcome
					? `Request #${id} was approved, but its launch could not be recorded: ${approved.outcome}`
					: `Request #${id} was approved${approved.launchId ? ": its launch is on its way" : ""}.`,
			});
		} else throw new UserError(400, "Approve or deny");
		return c.redirect(`/approvals/${id}`, 303);
	});
	app.post("/:id/cancel", async (c) => {
		const id = requestId(c);
		await cancelRequest(deps, c.get("viewer"), id);
		await setFlash(c, deps, { tone: "ok", text: `Request #${id} was withdrawn.` });
		return c.redirect(`/approvals/${id}`, 303);
	});
	return app;
}
