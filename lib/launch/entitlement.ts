/**
 * The one entitlement check of a launch, for every kind, used by each page of the wizard, the
 * review step and the launch itself: the viewer is a member of the group, the configuration is
 * permitted to it, the group may launch the configuration's kind (EMR access for clusters), and the
 * instance type is offered by the configuration and not excluded for the group.
 */
import type { Viewer } from "../auth/identify.ts";
import { getConfig, getGroup, type Group, permittedGroupIds, type SoftwareConfig, usableTypes } from "../db/catalog.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { machineKind } from "../machines/kinds.ts";

/** An entitled group and configuration. */
export interface LaunchTarget {
	group: Group;
	config: SoftwareConfig;
}

/**
 * The group (and configuration) a viewer may launch with: 404 for an unknown group, 403 when the
 * viewer is not a member; 404 for a configuration the group's catalogue does not show (unknown, not
 * permitted to the group, of a kind the group may not launch, or with none of its instance types
 * offered to the group), so no URL opens what the catalogue hides.
 */
export async function launchTarget(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	ids: { groupId: number | undefined; configId: number | undefined },
): Promise<LaunchTarget>;
export async function launchTarget(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	ids: { groupId: number | undefined },
): Promise<{ group: Group }>;
export async function launchTarget(
	deps: Pick<Deps, "db">,
	viewer: Viewer,
	ids: { groupId: number | undefined; configId?: number | undefined },
): Promise<{ group: Group; config?: SoftwareConfig }> {
	const group = ids.groupId === undefined ? undefined : await getGroup(deps.db, ids.groupId);
	if (!group) throw new UserError(404, "No such group");
	if (!viewer.groupIds.includes(group.id)) {
		throw new UserError(403, `You are not a member of "${group.name}", so you cannot launch with its settings.`);
	}
	if (!("configId" in ids)) return { group };
	const config = ids.configId === undefined ? undefined : await getConfig(deps.db, ids.configId);
	// Exactly what the group's catalogue (step 2) offers: anything it hides is not there, by URL either.
	const notInCatalogue = `There is no such configuration in the catalogue of "${group.name}".`;
	if (!config || !(await permittedGroupIds(deps.db, config.id)).includes(group.id)) {
		throw new UserError(404, notInCatalogue);
	}
	const refusal = machineKind(config.kind).launch.refusal(group);
	if (refusal) throw new UserError(404, `${notInCatalogue} ${refusal}`);
	if ((await usableTypes(deps.db, config.id, group.id)).length === 0) {
		throw new UserError(404, `${notInCatalogue} None of its instance types is offered to the group.`);
	}
	return { group, config };
}

/** Refuses an instance type the configuration does not offer or the group excludes (a 422 on the field). */
export async function checkInstanceType(
	deps: Pick<Deps, "db">,
	target: LaunchTarget,
	instanceType: string,
): Promise<void> {
	const types = await usableTypes(deps.db, target.config.id, target.group.id);
	if (!types.some((t) => t.name === instanceType)) {
		throw new UserError(422, "Choose one of the instance types offered for this configuration.", {
			fields: { instanceType: `${instanceType || "(none)"} is not allowed for this configuration and group` },
		});
	}
}
