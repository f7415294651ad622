/**
 * Machine names, for every kind: the user names a machine at launch (the configuration's name by
 * default), the name is its `Name` tag, and it is unique among the owner's live machines (and
 * launches on their way), so "my-box" finds one machine. A rename sets the tag in AWS, then the
 * row, and is audited.
 */
import type { Viewer } from "../auth/identify.ts";
import { holderOfName } from "../db/names.ts";
import type { ConfigKind } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { UserError } from "../errors.ts";
import { plainText } from "../text.ts";
import { authorizeAction } from "./actions.ts";
import { machineKind } from "./kinds.ts";
import { NAME_MAX } from "./tags.ts";

/** Letters, digits, spaces and the punctuation names use; no control or hidden characters. */
const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._:/@+=-]*$/u;

/**
 * A name as the form sent it, checked: trimmed, 1–{@link NAME_MAX} characters of
 * {@link NAME_PATTERN}; undefined when empty or missing (the portal then chooses one). A 422 on
 * the `name` field otherwise.
 */
export function parseMachineName(raw: unknown): string | undefined {
	const name = typeof raw === "string" ? raw.trim().replace(/\s+/g, " ") : "";
	if (!name) return undefined;
	const refuse = (text: string) => new UserError(422, "Please correct the marked fields.", { fields: { name: text } });
	if (Array.from(name).length > NAME_MAX) throw refuse(`At most ${NAME_MAX} characters`);
	if (!NAME_PATTERN.test(name)) {
		throw refuse("Letters, digits, spaces and . _ : / @ + = - only, starting with a letter or digit");
	}
	return name;
}

/**
 * Refuses (409, on the `name` field) a name one of the owner's live machines or open launches
 * already has, other than the machine being renamed.
 */
export async function checkNameFree(
	deps: Pick<Deps, "db">,
	ownerId: number,
	name: string,
	except: { id?: string; launchId?: string | null } = {},
): Promise<void> {
	const holder = await holderOfName(deps.db, ownerId, name, except);
	if (!holder) return;
	const what = holder.kind === "launch" ? "a launch on its way" : `${holder.kind} ${holder.id}`;
	throw new UserError(409, `"${name}" is already the name of ${what}; choose another name.`, {
		fields: { name: `Already the name of ${what}` },
	});
}

/**
 * The first of `base`, `base-2`, `base-3`… that none of the owner's live machines or open launches
 * has: the name a launch gets when the user leaves it to the portal (the wizard offers it).
 */
export async function freeDefaultName(deps: Pick<Deps, "db">, ownerId: number, base: string): Promise<string> {
	const stem = plainText(base, NAME_MAX - 4) || "machine";
	for (let n = 1; n < 100; n++) {
		const name = n === 1 ? stem : `${stem}-${n}`;
		if (!await holderOfName(deps.db, ownerId, name)) return name;
	}
	return `${stem}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Renames a machine the viewer may control (the owner, a teammate, a manager or an admin, as its
 * other actions): the `Name` tag in AWS first, then the row, audited either way. 409 for a name
 * another live machine of the owner has, 422 for a name that is not one.
 */
export async function renameMachine(
	deps: Deps,
	viewer: Viewer,
	target: { kind: ConfigKind; id: string },
	raw: unknown,
): Promise<{ before: string; name: string }> {
	const kind = machineKind(target.kind);
	const row = await kind.rows.get(deps, target.id);
	if (!row || row.archived) throw new UserError(404, `No ${kind.noun} ${target.id} is known to the portal`);
	const audit = await authorizeAction(deps, viewer, {
		kind: kind.name,
		noun: kind.noun,
		id: row.id,
		ownerId: row.ownerId,
	}, {
		name: "rename",
		ownerOnly: false,
		verb: "rename",
	});
	if (kind.endedStates.includes(row.state)) {
		await audit("refused", `the ${kind.noun} has ended`);
		throw new UserError(409, `This ${kind.noun} has ended; its name can no longer change.`);
	}
	if (typeof raw !== "string" || !raw.trim()) {
		throw new UserError(422, "Please correct the marked fields.", { fields: { name: "Give the machine a name" } });
	}
	const name = parseMachineName(raw) ?? row.name;
	const before = row.name;
	if (name === before) return { before, name };
	await checkNameFree(deps, row.ownerId, name, { id: row.id, launchId: row.launchId });
	const complete = await audit.begin(`renaming "${before}" to "${name}"`);
	try {
		await kind.tag(deps, row.id, { Name: name });
	} catch (error) {
		await complete("error", `AWS refused the Name tag: ${(error as Error).message}`);
		throw error;
	}
	await kind.rows.update(deps, row.id, { name });
	await complete("ok", `"${before}" → "${name}"`);
	return { before, name };
}
