/**
 * What a launch needs an approval for: an instance type, a configuration or an extra volume an
 * admin marked, a budget over it that is used up (at 100 % or its hard limit), a lifetime beyond
 * the policy's maximum. The one launch request asks this for every kind, so the wizard's pages and
 * the launch endpoint refuse alike.
 */
import { listApprovalRules } from "../db/approvals.ts";
import type { Group, SoftwareConfig } from "../db/catalog.ts";
import { hasExtraVolume } from "../db/catalog.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { costCenterOf } from "../billing/rates.ts";
import { type BudgetStatus, coveringStatuses, figures } from "../budgets/status.ts";

/** What a reason for approval is about. */
export type NeedCode = "type" | "config" | "volume" | "budget" | "lifetime";

/** One reason a launch needs an approval, in the requester's words. */
export interface Need {
	code: NeedCode;
	text: string;
	/** The used-up budget, for a budget need. */
	budgetId?: number;
}

/** A launch the portal refuses until someone approves it: a 403 that says why and what may be asked for. */
export class ApprovalRequired extends UserError {
	readonly needs: readonly Need[];
	constructor(needs: readonly Need[]) {
		super(403, `This launch needs an approval: ${needs.map((n) => n.text).join(" ")}`);
		this.needs = needs;
	}
}

/** The reasons a launch of `instanceType` from `config` into `group` by `userId` needs approval (empty: none). */
export async function launchNeeds(
	deps: Pick<Deps, "db" | "clock" | "settings">,
	launch: { group: Group; config: SoftwareConfig; instanceType: string; userId: number },
): Promise<{ needs: Need[]; budgets: BudgetStatus[] }> {
	const { group, config, instanceType } = launch;
	const [rules, budgets] = await Promise.all([
		listApprovalRules(deps.db),
		coveringStatuses(deps, {
			groupId: group.id,
			userId: launch.userId,
			costCenter: costCenterOf(group, deps.settings.DEFAULT_CHARGE_CODE),
		}),
	]);
	const needs: Need[] = [];
	const note = (text: string) => text ? ` (${text})` : "";
	for (const rule of rules) {
		if (rule.subject === "instance_type" && rule.instanceType === instanceType) {
			needs.push({ code: "type", text: `The instance type ${instanceType} needs approval${note(rule.note)}.` });
		} else if (rule.subject === "config" && rule.configId === config.id) {
			needs.push({ code: "config", text: `The configuration ${config.name} needs approval${note(rule.note)}.` });
		} else if (
			rule.subject === "volume" && config.kind === "instance" && hasExtraVolume(config) &&
			rule.minVolumeGb !== null && config.volumeSizeGb >= rule.minVolumeGb
		) {
			needs.push({
				code: "volume",
				text: `Its ${config.volumeSizeGb} GiB volume needs approval (volumes of ${rule.minVolumeGb} GiB and more)${
					note(rule.note)
				}.`,
			});
		}
	}
	for (const status of budgets) {
		if (status.level !== "exhausted" && status.level !== "hard") continue;
		needs.push({
			code: "budget",
			budgetId: status.budget.id,
			text: `${capitalised(status.label)} is used up: ${figures(status)}.`,
		});
	}
	return { needs, budgets };
}

function capitalised(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}
