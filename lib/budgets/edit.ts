/**
 * Setting and removing budgets: a group's or a cost center's by an admin, a user's by an admin or a
 * manager of one of the user's groups (lib/auth/permissions.ts maySetBudget). Each change is audited
 * (resource kind `budget`).
 */
import { z } from "zod";
import type { Viewer } from "../auth/identify.ts";
import { maySetBudget } from "../auth/permissions.ts";
import { recordAudit } from "../db/audit.ts";
import { type Budget, budgetTarget, deleteBudget, getBudget, saveBudget } from "../db/budgets.ts";
import { getGroup } from "../db/catalog.ts";
import { BUDGET_SCOPES } from "../db/schema.ts";
import { getUserByUsername, groupIdsOf } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { formatMoney } from "../format.ts";

const blank = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const dollars = (message: string) =>
	z.coerce.number({ error: message }).positive(message).max(10_000_000, "At most $10,000,000");
const percent = (min: number, max: number) =>
	z.coerce.number({ error: `A percentage from ${min} to ${max}` }).min(min, `At least ${min} %`).max(
		max,
		`At most ${max} %`,
	);

/** A budget as its form posts it; shares in percent, the hard limit as a percentage or an amount (or neither). */
const budgetForm = z.object({
	scope: z.enum(BUDGET_SCOPES, { error: "Choose a group, a user or a cost center" }),
	groupId: z.preprocess(blank, z.coerce.number().int().positive().optional()),
	username: z.preprocess(blank, z.string().trim().toLowerCase().max(64).optional()),
	costCenter: z.preprocess(blank, z.string().trim().max(60).optional()),
	amount: dollars("Dollars a month, above 0"),
	warnPercent: z.preprocess(blank, percent(1, 100).default(80)),
	hardPercent: z.preprocess(blank, percent(100, 1000).optional()),
	hardAmount: z.preprocess(blank, dollars("Dollars, above 0").optional()),
	noticeMinutes: z.preprocess(
		blank,
		z.coerce.number({ error: "Minutes" }).int("Whole minutes").min(0, "At least 0").max(10_080, "At most a week")
			.default(60),
	),
}).superRefine((form, ctx) => {
	const missing = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
	if (form.scope === "group" && form.groupId === undefined) missing("groupId", "Choose the group");
	if (form.scope === "user" && !form.username) missing("username", "The user's username");
	if (form.scope === "cost_center" && !form.costCenter) missing("costCenter", "The cost center");
	if (form.hardPercent !== undefined && form.hardAmount !== undefined) {
		missing("hardAmount", "A percentage or an amount, not both");
	}
	if (form.hardAmount !== undefined && form.hardAmount < form.amount) {
		missing("hardAmount", "At least the budget itself");
	}
});

function parse(raw: Record<string, unknown>): z.infer<typeof budgetForm> {
	const parsed = budgetForm.safeParse(raw);
	if (parsed.success) return parsed.data;
	const fields: Record<string, string> = {};
	for (const issue of parsed.error.issues) fields[String(issue.path[0] ?? "form")] ??= issue.message;
	throw new UserError(422, "Please correct the marked fields.", { fields });
}

function describe(budget: Pick<Budget, "amount" | "warnShare" | "hardShare" | "hardAmount" | "noticeMinutes">) {
	const hard = budget.hardAmount !== null
		? `hard limit $${formatMoney(budget.hardAmount)}`
		: budget.hardShare !== null
		? `hard limit ${Math.round(budget.hardShare * 100)} %`
		: "no hard limit";
	return `$${formatMoney(budget.amount)} a month, warning at ${
		Math.round(budget.warnShare * 100)
	} %, ${hard}, notice ${budget.noticeMinutes} min`;
}

/** Sets (creates or replaces) the budget of a group, user or cost center from its form; returns its id. */
export async function setBudget(deps: Pick<Deps, "db" | "clock">, viewer: Viewer, raw: Record<string, unknown>) {
	const form = parse(raw);
	const fields = (name: string, message: string) =>
		new UserError(422, "Please correct the marked fields.", { fields: { [name]: message } });
	let of: { groupId?: number; userId?: number; costCenter?: string } = {};
	let userGroupIds: number[] = [];
	if (form.scope === "group") {
		if (!await getGroup(deps.db, form.groupId!)) throw fields("groupId", "No such group");
		of = { groupId: form.groupId };
	} else if (form.scope === "user") {
		const user = await getUserByUsername(deps.db, form.username!);
		if (!user) throw fields("username", `No user ${form.username} is known to the portal`);
		of = { userId: user.id };
		userGroupIds = await groupIdsOf(deps.db, user.id);
	} else {
		of = { costCenter: form.costCenter };
	}
	if (!maySetBudget(viewer, { scope: form.scope, userGroupIds })) {
		throw new UserError(
			403,
			form.scope === "user"
				? "Only an admin or a manager of the user's groups sets a user's budget."
				: "Only an admin sets a group's or a cost center's budget.",
		);
	}
	const now = deps.clock();
	const budget = {
		scope: form.scope,
		target: budgetTarget(form.scope, of),
		groupId: of.groupId ?? null,
		userId: of.userId ?? null,
		costCenter: of.costCenter ?? null,
		amount: form.amount,
		warnShare: form.warnPercent / 100,
		hardShare: form.hardPercent === undefined ? null : form.hardPercent / 100,
		hardAmount: form.hardAmount ?? null,
		noticeMinutes: form.noticeMinutes,
		createdBy: viewer.id,
		createdAt: now,
		updatedAt: now,
	};
	const id = await saveBudget(deps.db, budget);
	await recordAudit(deps.db, {
		at: now,
		actorId: viewer.id,
		actor: viewer.username,
		action: "set-budget",
		resourceKind: "budget",
		resourceId: budget.target,
		outcome: "ok",
		detail: describe(budget),
	});
	return id;
}

/** Removes a budget the viewer may set. */
export async function removeBudget(deps: Pick<Deps, "db" | "clock">, viewer: Viewer, id: number): Promise<void> {
	const budget = await getBudget(deps.db, id);
	if (!budget) throw new UserError(404, "No such budget");
	const userGroupIds = budget.userId === null ? [] : await groupIdsOf(deps.db, budget.userId);
	if (!maySetBudget(viewer, { scope: budget.scope, userGroupIds })) {
		throw new UserError(403, "You may not remove this budget.");
	}
	await deleteBudget(deps.db, id);
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: viewer.id,
		actor: viewer.username,
		action: "remove-budget",
		resourceKind: "budget",
		resourceId: budget.target,
		outcome: "ok",
		detail: describe(budget),
	});
}
