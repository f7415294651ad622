/**
 * What needs an approval, as admins mark it: an instance type (e.g. the GPU types), a
 * configuration, or extra volumes from a size up. Each change is audited (resource kind `approval-rule`).
 */
import type { Viewer } from "../auth/identify.ts";
import { maySetApprovalRules } from "../auth/permissions.ts";
import { deleteApprovalRule, insertApprovalRule, listApprovalRules } from "../db/approvals.ts";
import { recordAudit } from "../db/audit.ts";
import { getConfig, listInstanceTypes } from "../db/catalog.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";

function refuse(field: string, message: string): never {
	throw new UserError(422, "Please correct the marked fields.", { fields: { [field]: message } });
}

function onlyAdmins(viewer: Viewer): void {
	if (!maySetApprovalRules(viewer)) throw new UserError(403, "Only an admin marks what needs an approval.");
}

/** Adds a rule from its form: `subject` and the type's name, the configuration's id or the least GiB. */
export async function addApprovalRule(
	deps: Pick<Deps, "db" | "clock">,
	viewer: Viewer,
	raw: Record<string, unknown>,
): Promise<number> {
	onlyAdmins(viewer);
	const note = typeof raw.note === "string" ? raw.note.trim().slice(0, 200) : "";
	const value = typeof raw.value === "string" ? raw.value.trim() : "";
	let rule: Parameters<typeof insertApprovalRule>[1];
	if (raw.subject === "instance_type") {
		if (!(await listInstanceTypes(deps.db)).some((t) => t.name === value)) {
			refuse("value", "Choose one of the instance types");
		}
		rule = { subject: "instance_type", instanceType: value, note };
	} else if (raw.subject === "config") {
		const config = /^\d{1,9}$/.test(value) ? await getConfig(deps.db, Number(value)) : undefined;
		if (!config) refuse("value", "Choose one of the configurations");
		rule = { subject: "config", configId: config.id, note };
	} else if (raw.subject === "volume") {
		if (!/^\d{1,5}$/.test(value) || Number(value) < 1) refuse("value", "The least size in GiB, like 500");
		rule = { subject: "volume", minVolumeGb: Number(value), note };
	} else {
		return refuse("subject", "Choose an instance type, a configuration or a volume size");
	}
	const existing = await listApprovalRules(deps.db);
	if (
		existing.some((r) =>
			r.subject === rule.subject && r.instanceType === (rule.instanceType ?? null) &&
			r.configId === (rule.configId ?? null) && r.minVolumeGb === (rule.minVolumeGb ?? null)
		)
	) refuse("value", "This is marked already");
	const id = await insertApprovalRule(deps.db, { ...rule, createdAt: deps.clock() });
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: viewer.id,
		actor: viewer.username,
		action: "add-approval-rule",
		resourceKind: "approval-rule",
		resourceId: String(id),
		outcome: "ok",
		detail: `${rule.subject} ${rule.instanceType ?? rule.configId ?? rule.minVolumeGb}${note ? `: ${note}` : ""}`,
	});
	return id;
}

export async function removeApprovalRule(deps: Pick<Deps, "db" | "clock">, viewer: Viewer, id: number) {
	onlyAdmins(viewer);
	if (!await deleteApprovalRule(deps.db, id)) throw new UserError(404, "No such rule");
	await recordAudit(deps.db, {
		at: deps.clock(),
		actorId: viewer.id,
		actor: viewer.username,
		action: "remove-approval-rule",
		resourceKind: "approval-rule",
		resourceId: String(id),
		outcome: "ok",
		detail: "",
	});
}
