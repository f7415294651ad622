/**
 * The shapes the JSON API answers and takes, as zod schemas with their OpenAPI names: the
 * document at /api/v1/openapi.json is generated from these and the routes that use them. What a
 * launch's fields must be is not repeated here: the body carries the wizard's form fields, which
 * the kind's own form schema (lib/launch/) checks, as it does for the page.
 */
import { z } from "@hono/zod-openapi";

/** An RFC 9457 problem: every refusal of the API. */
export const Problem = z.object({
	type: z.string().openapi({ example: "urn:mliy:problem:404" }),
	title: z.string().openapi({ example: "Not found" }),
	status: z.number().int().openapi({ example: 404 }),
	detail: z.string().openapi({ example: "No instance i-0123456789abcdef0 is known to the portal" }),
	errors: z.record(z.string(), z.string()).optional().openapi({
		description: "For 422: each refused field with its message.",
	}),
}).openapi("Problem");

const Rate = z.union([
	z.object({ known: z.literal(true), hourly: z.number() }),
	z.object({ known: z.literal(false), reason: z.string() }),
]).openapi("HourlyRate", {
	description: "Dollars an hour after the configured discount, or why the price is unknown.",
});

const time = z.string().nullable().openapi({ format: "date-time" });

export const Instance = z.object({
	kind: z.literal("instance"),
	id: z.string().openapi({ example: "i-0123456789abcdef0" }),
	name: z.string(),
	state: z.string().openapi({ example: "running" }),
	instanceType: z.string().openapi({ example: "t2.micro" }),
	owner: z.string(),
	group: z.string().nullable(),
	configuration: z.string().nullable(),
	address: z.string().nullable(),
	dnsName: z.string().nullable(),
	launchId: z.string().nullable(),
	launchedAt: time,
	startedAt: time,
	stoppedAt: time,
	pendingAction: z.string().nullable(),
	setup: z.object({ state: z.string().nullable(), percent: z.number().nullable(), text: z.string().nullable() }),
	hourlyRate: Rate.nullable(),
	actions: z.array(z.string()).openapi({ description: "What the token may do to it now.", example: ["stop"] }),
	page: z.string(),
}).openapi("Instance");

export const Cluster = z.object({
	kind: z.literal("cluster"),
	id: z.string().openapi({ example: "j-2AXXXXXXGAPLF" }),
	name: z.string(),
	state: z.string().openapi({ example: "WAITING" }),
	instanceType: z.string(),
	coreNodes: z.number().int(),
	market: z.string(),
	owner: z.string(),
	group: z.string().nullable(),
	configuration: z.string().nullable(),
	address: z.string().nullable(),
	launchId: z.string().nullable(),
	startedAt: time,
	endedAt: time,
	pendingAction: z.string().nullable(),
	hourlyRate: Rate.nullable(),
	actions: z.array(z.string()),
	page: z.string(),
}).openapi("Cluster");

export const Launch = z.object({
	id: z.string().openapi({ format: "uuid" }),
	kind: z.enum(["instance", "cluster"]),
	status: z.string().openapi({ example: "queued" }),
	step: z.string(),
	reason: z.string().nullable(),
	groupId: z.number().int(),
	configId: z.number().int(),
	instanceType: z.string(),
	stackName: z.string(),
	createdAt: z.string().openapi({ format: "date-time" }),
	finishedAt: time,
	machines: z.array(z.object({ kind: z.enum(["instance", "cluster"]), id: z.string() })),
	page: z.string(),
}).openapi("Launch");

export const Configurations = z.object({
	groups: z.array(z.object({
		id: z.number().int(),
		name: z.string(),
		configurations: z.array(z.object({
			id: z.number().int(),
			name: z.string(),
			kind: z.enum(["instance", "cluster"]),
			instanceTypes: z.array(z.string()),
			defaultInstanceType: z.string().nullable(),
		})),
	})),
}).openapi("Configurations");

const Totals = z.object({ hours: z.number(), cost: z.number(), unknownPeriods: z.number().int() }).openapi("Totals", {
	description: "Hours and dollars billed; `unknownPeriods` counts periods at an unknown price, not in `cost`.",
});
const NamedTotals = z.array(z.object({ name: z.string(), totals: Totals }));

export const Billing = z.object({
	from: z.string().openapi({ format: "date" }),
	to: z.string().openapi({ format: "date" }),
	total: Totals,
	byUser: NamedTotals,
	byGroup: NamedTotals,
	byCostCenter: NamedTotals,
	monthToDate: NamedTotals,
	burnPerHour: z.number(),
	unpricedRunning: z.number().int(),
	discount: z.number(),
}).openapi("Billing");

export const LaunchRequest = z.object({
	groupId: z.number().int().positive().openapi({ example: 1 }),
	configId: z.number().int().positive().openapi({ example: 2 }),
	form: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}).openapi({
		description: "The wizard's form fields for the configuration's kind, e.g. `instanceType` and `securityGroups` " +
			"for an instance; checked by the same rules as the wizard's form (422 with the marked fields).",
		example: { instanceType: "t2.micro", securityGroups: [] },
	}),
}).openapi("LaunchRequest");

export const ActionResult = z.object({
	machine: z.union([Instance, Cluster]),
	notice: z.string().nullable().openapi({
		description: "Set when AWS did not answer in time and the portal is confirming the action.",
	}),
}).openapi("ActionResult");

export const ResizeRequest = z.object({
	instanceType: z.string().min(1).max(64).openapi({
		description: "A type the instance's configuration offers its group (as the wizard does), other than its own.",
		example: "m4.large",
	}),
	mode: z.enum(["stopped", "restart"]).default("stopped").openapi({
		description: "`stopped`: the instance must be stopped and is resized at once. `restart`: a running one is " +
			"stopped, resized and started again by the portal.",
	}),
}).openapi("ResizeRequest");

export const ResizeResult = z.object({
	outcome: z.enum(["resized", "stopping"]).openapi({
		description: "`resized`: the type changed now; `stopping`: the stop, resize and start has begun.",
	}),
	text: z.string(),
	machine: Instance,
}).openapi("ResizeResult");
