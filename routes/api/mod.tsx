/**
 * The JSON API, mounted at /api/v1: what the pages do, for scripts, with a personal API token
 * (routes/middleware/bearer.ts) and nothing else. Each operation is declared with its schemas
 * (routes/api/schemas.ts) and calls the same lib/ function as its page, so the checks (lib/auth/
 * permissions.ts through the views, the launch request, the control path) are the pages' own:
 * the viewer's own machines and launches, a machine the viewer may see, the wizard's
 * configurations, the billing report; a launch through lib/launch/request.ts (one call confirms,
 * with an optional Idempotency-Key), an action through lib/control. Every refusal is
 * `application/problem+json` (routes/respond.tsx). The OpenAPI document is generated from these
 * declarations (@hono/zod-openapi) and served with its reference page, both without a token.
 */
import { resizeInstance } from "../../lib/control/resize.ts";
import { createRoute, type Hook, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Deps } from "../../lib/deps.ts";
import { UserError } from "../../lib/errors.ts";
import { idempotentLaunchKey, requestLaunch } from "../../lib/launch/request.ts";
import { controlMachine, isAction } from "../../lib/control/control.ts";
import {
	apiBilling,
	apiCluster,
	apiClusters,
	apiConfigurations,
	apiInstance,
	apiInstances,
	apiLaunch,
	apiLaunches,
	apiLaunchOf,
	apiMachineAfterAction,
} from "../../lib/views/api.ts";
import { apiReferenceView } from "../../lib/views/api_reference.ts";
import { parseBillingQuery } from "../billing.tsx";
import type { AppEnv } from "../context.ts";
import { bearerIdentity } from "../middleware/bearer.ts";
import { respondError } from "../respond.tsx";
import { ApiReferencePage } from "../ui/ApiReferencePage.tsx";
import { renderPage } from "../ui/render.tsx";
import {
	ActionResult,
	Billing,
	Cluster,
	Configurations,
	Instance,
	Launch,
	LaunchRequest,
	Problem,
	ResizeRequest,
	ResizeResult,
} from "./schemas.ts";

/** Where the API is mounted; the document's server. */
export const API_BASE = "/api/v1";

const problem = (description: string) => ({
	description,
	content: { "application/problem+json": { schema: Problem } },
});

/** The refusals every operation with a token may answer. */
const REFUSALS = {
	401: problem("No valid token: missing, malformed, unknown, revoked or expired."),
	403: problem("The token's user may not do this."),
	404: problem("Nothing the token's user may see is there."),
	422: problem("The input is not valid: `errors` marks each field."),
	429: problem("The token has used its calls for this minute (see Retry-After)."),
};

const json = <T extends z.ZodType>(schema: T, description: string) => ({
	description,
	content: { "application/json": { schema } },
});

const security = [{ bearerToken: [] }];

const MachineId = z.object({
	id: z.string().openapi({ param: { name: "id", in: "path" }, example: "i-0123456789abcdef0" }),
});

const listInstances = createRoute({
	method: "get",
	path: "/instances",
	tags: ["machines"],
	summary: "The token user's instances, as their dashboard lists them",
	security,
	responses: { 200: json(z.object({ instances: z.array(Instance) }), "The instances, newest first"), ...REFUSALS },
});

const readInstance = createRoute({
	method: "get",
	path: "/instances/{id}",
	tags: ["machines"],
	summary: "An instance the token user may see",
	security,
	request: { params: MachineId },
	responses: { 200: json(Instance, "The instance"), ...REFUSALS },
});

const INSTANCE_ACTIONS = ["start", "stop", "restart", "terminate", "archive"] as const;
const CLUSTER_ACTIONS = ["terminate"] as const;

const controlInstance = createRoute({
	method: "post",
	path: "/instances/{id}/actions/{action}",
	tags: ["machines"],
	summary: "Start, stop, restart or terminate an instance (or archive an ended one)",
	description: "The same control path as the buttons: the same permissions, states and audit. " +
		"A resize is `POST /instances/{id}/resize`.",
	security,
	request: {
		params: MachineId.extend({
			action: z.enum(INSTANCE_ACTIONS).openapi({ param: { name: "action", in: "path" } }),
		}),
	},
	responses: {
		200: json(ActionResult, "Done, or sent (see `notice`)"),
		409: problem("Not possible in the machine's state, or another action is in flight."),
		503: problem("AWS is unavailable; try again."),
		...REFUSALS,
	},
});

const resizeInstanceRoute = createRoute({
	method: "post",
	path: "/instances/{id}/resize",
	tags: ["machines"],
	summary: "Change an instance's type (a stopped one at once; a running one by stop, resize, start)",
	description: "The resize page's checks: the types the instance's configuration offers its group, the same " +
		"permissions as the other controls, audited; its next billed period uses the new type's rate.",
	security,
	request: {
		params: MachineId,
		body: { required: true, content: { "application/json": { schema: ResizeRequest } } },
	},
	responses: {
		200: json(ResizeResult, "Resized, or the stop, resize and start has begun"),
		409: problem("Not possible in the instance's state (running without mode=restart, or an action in flight)."),
		503: problem("AWS is unavailable; try again."),
		...REFUSALS,
	},
});

const listClusters = createRoute({
	method: "get",
	path: "/clusters",
	tags: ["machines"],
	summary: "The token user's clusters",
	security,
	responses: { 200: json(z.object({ clusters: z.array(Cluster) }), "The clusters, newest first"), ...REFUSALS },
});

const ClusterId = z.object({
	id: z.string().openapi({ param: { name: "id", in: "path" }, example: "j-2AXXXXXXGAPLF" }),
});

const readCluster = createRoute({
	method: "get",
	path: "/clusters/{id}",
	tags: ["machines"],
	summary: "A cluster the token user may see",
	security,
	request: { params: ClusterId },
	responses: { 200: json(Cluster, "The cluster"), ...REFUSALS },
});

const controlCluster = createRoute({
	method: "post",
	path: "/clusters/{id}/actions/{action}",
	tags: ["machines"],
	summary: "Terminate a cluster (or remove the record of an ended one)",
	security,
	request: {
		params: ClusterId.extend({
			action: z.enum(CLUSTER_ACTIONS).openapi({ param: { name: "action", in: "path" } }),
		}),
	},
	responses: {
		200: json(ActionResult, "Done, or sent (see `notice`)"),
		409: problem("Not possible in the cluster's state, or another action is in flight."),
		503: problem("AWS is unavailable; try again."),
		...REFUSALS,
	},
});

const listLaunches = createRoute({
	method: "get",
	path: "/launches",
	tags: ["launches"],
	summary: "The token user's recent launches",
	security,
	responses: { 200: json(z.object({ launches: z.array(Launch) }), "The launches, newest first"), ...REFUSALS },
});

const readLaunch = createRoute({
	method: "get",
	path: "/launches/{id}",
	tags: ["launches"],
	summary: "A launch the token user may follow",
	security,
	request: {
		params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" }, format: "uuid" }) }),
	},
	responses: { 200: json(Launch, "The launch and what it made so far"), ...REFUSALS },
});

const createLaunch = createRoute({
	method: "post",
	path: "/launches",
	tags: ["launches"],
	summary: "Launch a configuration into a group, confirmed in one call",
	description: "The wizard's checks and launch request. With the same `Idempotency-Key`, a call sent again " +
		"answers the launch the first one made (200) instead of launching again.",
	security,
	request: {
		headers: z.object({
			"idempotency-key": z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/).optional().openapi({
				description: "Any printable ASCII text of up to 200 characters, unique per launch you mean.",
			}),
		}),
		body: { required: true, content: { "application/json": { schema: LaunchRequest } } },
	},
	responses: {
		201: json(Launch, "Recorded: the launcher submits it"),
		200: json(Launch, "The launch an earlier call with this Idempotency-Key made"),
		...REFUSALS,
	},
});

const listConfigurations = createRoute({
	method: "get",
	path: "/configurations",
	tags: ["launches"],
	summary: "What the token user may launch: groups, their configurations and instance types",
	security,
	responses: { 200: json(Configurations, "The launchable groups and configurations"), ...REFUSALS },
});

const billingSummary = createRoute({
	method: "get",
	path: "/billing",
	tags: ["billing"],
	summary: "The billing report's totals, for whom the token user's billing page covers",
	security,
	request: {
		query: z.object({
			from: z.string().optional().openapi({ format: "date", description: "Default: the month's first day." }),
			to: z.string().optional().openapi({ format: "date", description: "Default: today." }),
			user: z.string().optional().openapi({ description: "A user id to filter on." }),
			group: z.string().optional().openapi({ description: "A group id to filter on." }),
			costCenter: z.string().optional(),
		}),
	},
	responses: { 200: json(Billing, "The totals"), 400: problem("A date or filter is not valid."), ...REFUSALS },
});

const openApiDocument = createRoute({
	method: "get",
	path: "/openapi.json",
	tags: ["about"],
	summary: "This document, OpenAPI 3.1",
	responses: { 200: json(z.record(z.string(), z.unknown()), "The OpenAPI 3.1 document") },
});

const referencePage = createRoute({
	method: "get",
	path: "/reference",
	tags: ["about"],
	summary: "This document as a page",
	responses: { 200: { description: "The reference page", content: { "text/html": { schema: z.string() } } } },
});

/** A request that does not match its declaration: a 422 naming each refused field. */
const refuseInvalid: Hook<unknown, AppEnv, string, unknown> = (result, c) => {
	if (result.success) return;
	const fields: Record<string, string> = {};
	for (const issue of result.error.issues) fields[issue.path.join(".") || "body"] ??= issue.message;
	return respondError(c, 422, "The request is not valid; see the marked fields.", fields);
};

/** The API's sub-app: the document and its page first (no token), then the bearer middleware and the operations. */
export function apiRoutes(deps: Deps): OpenAPIHono<AppEnv> {
	const app = new OpenAPIHono<AppEnv>({ defaultHook: refuseInvalid });
	app.openAPIRegistry.registerComponent("securitySchemes", "bearerToken", {
		type: "http",
		scheme: "bearer",
		description: "A personal API token, made on your profile page.",
	});
	// Generated once, on first use: every route is declared by then.
	let generated: ReturnType<typeof app.getOpenAPI31Document> | undefined;
	const document = () =>
		generated ??= app.getOpenAPI31Document({
			openapi: "3.1.0",
			info: {
				title: "MLiy portal API",
				version: "1",
				description: "What the portal's pages do, for scripts. Send the header Authorization: Bearer <token> with " +
					"a personal API token from your profile page. Refusals are application/problem+json (RFC 9457).",
			},
			servers: [{ url: API_BASE }],
		});
	app.openapi(openApiDocument, (c) => c.json(document() as unknown as Record<string, unknown>, 200));
	app.openapi(
		referencePage,
		(c) => c.html(renderPage(<ApiReferencePage reference={apiReferenceView(document(), API_BASE)} />), 200),
	);

	app.use("*", bearerIdentity(deps));

	app.openapi(listInstances, async (c) => c.json(await apiInstances(deps, c.get("viewer")), 200));
	app.openapi(
		readInstance,
		async (c) => c.json(await apiInstance(deps, c.get("viewer"), c.req.valid("param").id), 200),
	);
	app.openapi(controlInstance, async (c) => {
		const { id, action } = c.req.valid("param");
		return c.json(await control(deps, c.get("viewer"), "instance", id, action), 200);
	});
	app.openapi(resizeInstanceRoute, async (c) => {
		const { id } = c.req.valid("param");
		const { instanceType, mode } = c.req.valid("json");
		const viewer = c.get("viewer");
		const resized = await resizeInstance(deps, viewer, id, instanceType, mode);
		const machine = await apiMachineAfterAction(deps, viewer, "instance", id);
		if (machine.kind !== "instance") throw new Error(`apiMachineAfterAction gave a ${machine.kind} for an instance`);
		return c.json({ outcome: resized.outcome, text: resized.text, machine }, 200);
	});
	app.openapi(listClusters, async (c) => c.json(await apiClusters(deps, c.get("viewer")), 200));
	app.openapi(readCluster, async (c) => c.json(await apiCluster(deps, c.get("viewer"), c.req.valid("param").id), 200));
	app.openapi(controlCluster, async (c) => {
		const { id, action } = c.req.valid("param");
		return c.json(await control(deps, c.get("viewer"), "cluster", id, action), 200);
	});
	app.openapi(listLaunches, async (c) => c.json(await apiLaunches(deps, c.get("viewer")), 200));
	app.openapi(readLaunch, async (c) => c.json(await apiLaunch(deps, c.get("viewer"), c.req.valid("param").id), 200));
	app.openapi(createLaunch, async (c) => {
		const viewer = c.get("viewer");
		const { groupId, configId, form } = c.req.valid("json");
		const key = c.req.valid("header")["idempotency-key"];
		// The API's call is the confirmation: no repeat question; with a key, one launch per key.
		const raw = {
			...form,
			repeat: "yes",
			launchKey: key === undefined ? undefined : await idempotentLaunchKey(deps, viewer, key),
		};
		const launch = await requestLaunch(deps, viewer, { groupId, configId }, raw);
		c.header("Location", `${API_BASE}/launches/${launch.id}`);
		return c.json(await apiLaunchOf(deps, launch), launch.existing ? 200 : 201);
	});
	app.openapi(listConfigurations, async (c) => c.json(await apiConfigurations(deps, c.get("viewer")), 200));
	app.openapi(billingSummary, async (c) => {
		const query = parseBillingQuery(deps, c.req.valid("query") as Record<string, string>);
		return c.json(await apiBilling(deps, c.get("viewer"), query), 200);
	});
	return app;
}

/** An action through the one control path, answered with the machine as the token user now sees it. */
async function control(
	deps: Deps,
	viewer: AppEnv["Variables"]["viewer"],
	kind: "instance" | "cluster",
	id: string,
	action: string,
) {
	if (!isAction(kind, action)) throw new UserError(404, `A ${kind} has no action "${action.slice(0, 40)}"`);
	const row = await controlMachine(deps, viewer, { kind, id, action });
	return { machine: await apiMachineAfterAction(deps, viewer, kind, id), notice: row.notice ?? null };
}
