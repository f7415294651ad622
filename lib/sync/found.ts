/**
 * Machines found in AWS with the portal's tags that no portal launch is proven to have made: the
 * sync keeps them (observe.ts), nobody may control them, and an admin may adopt one for an existing
 * user, after which it is an ordinary machine of that user. The only way a machine changes hands
 * outside a launch, and it is audited.
 */
import type { Viewer } from "../auth/identify.ts";
import { recordAudit } from "../db/audit.ts";
import { getGroup } from "../db/catalog.ts";
import { forgetFound, getFound } from "../db/found.ts";
import { getUserByUsername } from "../db/users.ts";
import type { Deps } from "../deps.ts";
import { AwsError, UserError } from "../errors.ts";
import { explainActionFailure } from "../aws_failures.ts";
import { machineKind } from "../machines/kinds.ts";
import type { MachineRow } from "../machines/model.ts";
import { observeMachine } from "./observe.ts";

/** Who an admin adopts a found machine for, and that they confirmed it. */
export interface AdoptionRequest {
	id: string;
	username: string;
	/** The group it is billed to; none when undefined. */
	groupId?: number;
	confirmed: boolean;
}

/**
 * Adopts a found machine for an existing user, as AWS shows it now: it becomes theirs (billed,
 * listed, controlled like any machine of theirs), never tied to a stack, so that ending it ends the
 * machine alone and never deletes a stack the portal did not make. Every attempt that reaches AWS
 * is audited. Throws {@link UserError}: 403 (not an admin), 404 (no such found machine), 422 (no
 * such user or group, not confirmed), 409 (recorded meanwhile, or ended), 503 (AWS unavailable).
 */
export async function adoptFound(deps: Deps, admin: Viewer, request: AdoptionRequest): Promise<MachineRow> {
	if (admin.role !== "admin") throw new UserError(403, "Only admins may adopt machines found in AWS.");
	const found = await getFound(deps.db, request.id);
	if (!found) throw new UserError(404, `No machine found in AWS with the portal's tags has the id ${request.id}`);
	const username = request.username.trim().toLowerCase();
	const user = username ? await getUserByUsername(deps.db, username) : undefined;
	const group = request.groupId === undefined ? undefined : await getGroup(deps.db, request.groupId);
	const fields: Record<string, string> = {};
	if (!user) {
		fields.username = username
			? `No user ${username.slice(0, 100)}: users exist once they have signed in (or been imported).`
			: "Name the user who is to own it.";
	}
	if (request.groupId !== undefined && !group) fields.groupId = "No such group.";
	if (!request.confirmed) fields.confirm = "Confirm that this machine is theirs to control and pay for.";
	if (Object.keys(fields).length) throw new UserError(422, "The machine was not adopted.", { fields });

	const kind = machineKind(found.kind);
	const now = deps.clock();
	const audit = (outcome: "ok" | "refused" | "error", detail: string) =>
		recordAudit(deps.db, {
			at: now,
			actorId: admin.id,
			actor: admin.username,
			action: "adopt",
			resourceKind: kind.name,
			resourceId: found.id,
			outcome,
			detail,
		});
	if (await kind.rows.get(deps, found.id)) {
		await forgetFound(deps.db, found.id);
		await audit("refused", "the portal records it already");
		throw new UserError(409, `The portal records this ${kind.noun} already.`);
	}
	let seen;
	try {
		[seen] = await kind.sync.lookup(deps, [found.id]);
	} catch (error) {
		if (!(error instanceof AwsError)) throw error;
		await audit("error", error.message);
		throw new UserError(error.transient ? 503 : 409, explainActionFailure(error), { cause: error });
	}
	if (!seen || kind.endedStates.includes(seen.state)) {
		await forgetFound(deps.db, found.id);
		await audit("refused", `AWS shows it ${seen?.state ?? "no more"}`);
		throw new UserError(409, `AWS no longer shows this ${kind.noun} alive: there is nothing to adopt.`);
	}
	const adopted = kind.sync.adopted(seen, {
		group,
		row: {
			launchId: null,
			ownerId: user!.id,
			groupId: group?.id ?? null,
			configId: null,
			stackId: null,
			stackName: null,
		},
	}, now);
	if (!await kind.rows.insert(deps, adopted)) {
		await audit("refused", "the portal recorded it meanwhile");
		throw new UserError(409, `The portal recorded this ${kind.noun} meanwhile.`);
	}
	await forgetFound(deps.db, found.id);
	await observeMachine(deps, kind, (await kind.rows.get(deps, found.id))!, seen, now);
	await audit(
		"ok",
		`adopted for ${user!.username}${group ? ` in ${group.name}` : ""}: found in AWS with the portal's tags, ` +
			`not launched by it (${found.reason})`,
	);
	deps.log.web.warn("{admin} adopted {kind} {id} for {owner}", {
		admin: admin.username,
		kind: kind.name,
		id: found.id,
		owner: user!.username,
	});
	return (await kind.rows.get(deps, found.id))!;
}
