/**
 * Applying a catalogue document with a report, item by item, of what it changes: what the folder
 * sync (`./mliy catalog:sync`, CATALOG_FOLDER at start) and the admin import page run. The report is read from the
 * catalogue itself, not guessed from the document: the admin import (importCatalog) runs inside a
 * transaction, the catalogue is exported before and after it, and a dry run — or a run that would
 * change nothing — is rolled back. So what is reported is exactly what that one import does.
 */
import { isDeepStrictEqual } from "node:util";
import { recordAudit } from "../db/audit.ts";
import { inTransaction, sealedParams } from "../db/catalog.ts";
import type { Db } from "../db/client.ts";
import type { Deps } from "../deps.ts";
import { unseal } from "../sealed.ts";
import { exportCatalog, importCatalog } from "./document.ts";

/** The document's sections, each with the field that names an item and what an item is called. */
export const CATALOG_SECTIONS = [
	{ section: "instanceTypes", key: "name", what: "instance type" },
	{ section: "securityGroups", key: "sgId", what: "security group" },
	{ section: "params", key: "token", what: "param" },
	{ section: "groups", key: "name", what: "group" },
	{ section: "configs", key: "name", what: "configuration" },
	{ section: "users", key: "username", what: "user" },
] as const;
export type CatalogSection = (typeof CATALOG_SECTIONS)[number]["section"];

/** What applying the document does to one item; "absent": the item is stored but not in the document (it is kept). */
export type ChangeKind = "added" | "changed" | "unchanged" | "absent";

export interface CatalogChange {
	section: CatalogSection;
	/** What the item is called ("configuration") and its name, sg id, token or username. */
	what: string;
	key: string;
	change: ChangeKind;
}

export interface ApplyOutcome {
	changes: CatalogChange[];
	/** Whether anything was written: false for a dry run and for a document that changes nothing. */
	written: boolean;
}

/** Who applies the document and from where, for the audit trail. */
export interface ApplyOrigin {
	actorId: number | null;
	actor: string;
	action: string;
	/** What was applied (the folder's path). */
	resource: string;
}

/** Thrown inside the transaction to undo it: a dry run, or nothing to write. */
class Undo extends Error {}

type Item = Record<string, unknown>;

/** How an item's name is matched: as the import's schemas trim it (and lower-case usernames). */
function keyOf(section: CatalogSection, value: unknown): string {
	const text = String(value ?? "").trim();
	return section === "users" ? text.toLowerCase() : text;
}

/**
 * The catalogue as comparable items by section and key: the export, with lists of names sorted
 * (links have no order) and each secret param's value opened, so that a re-sealed but equal secret
 * compares equal and a new one does not. These values stay in memory: only names are reported.
 */
async function comparableCatalog(db: Db, paramsKey: string): Promise<Map<CatalogSection, Map<string, Item>>> {
	const doc = await exportCatalog(db) as Record<CatalogSection, Item[]>;
	const sealed = await sealedParams(db);
	const bySection = new Map<CatalogSection, Map<string, Item>>();
	for (const { section, key } of CATALOG_SECTIONS) {
		const items = new Map<string, Item>();
		for (const raw of doc[section] ?? []) {
			const item: Item = {};
			for (const [field, value] of Object.entries(raw)) {
				item[field] = Array.isArray(value) && value.every((v) => typeof v === "string") ? [...value].sort() : value;
			}
			if (section === "params" && item.secret) {
				const token = String(item.token);
				item.value = await unseal(paramsKey, sealed[token]!, token).catch(() => sealed[token]);
			}
			items.set(keyOf(section, raw[key]), item);
		}
		bySection.set(section, items);
	}
	return bySection;
}

/** Each item of the catalogue after the import, with what the import did to it. */
function compare(
	before: Map<CatalogSection, Map<string, Item>>,
	after: Map<CatalogSection, Map<string, Item>>,
	document: Record<string, unknown>,
): CatalogChange[] {
	const changes: CatalogChange[] = [];
	for (const { section, key, what } of CATALOG_SECTIONS) {
		const listed = Array.isArray(document[section]) ? document[section] as Item[] : [];
		const inDocument = new Set(listed.map((item) => keyOf(section, item?.[key])));
		const old = before.get(section)!;
		for (const [name, item] of after.get(section)!) {
			const change: ChangeKind = !inDocument.has(name)
				? "absent"
				: !old.has(name)
				? "added"
				: isDeepStrictEqual(old.get(name), item)
				? "unchanged"
				: "changed";
			changes.push({ section, what, key: name, change });
		}
	}
	return changes;
}

/** "2 added, 1 changed, 14 unchanged, 3 not in the document". */
export function countChanges(changes: CatalogChange[], absent = "not in the document"): string {
	const count = (kind: ChangeKind) => changes.filter((c) => c.change === kind).length;
	return `${count("added")} added, ${count("changed")} changed, ${count("unchanged")} unchanged, ${
		count("absent")
	} ${absent}`;
}

/**
 * Applies a catalogue document (JSON or YAML, parsed) through the admin import and reports each
 * item: added, changed, unchanged, or stored but absent from the document (kept: nothing is
 * deleted). A dry run writes nothing; neither does a document that changes nothing, so applying
 * the same document twice writes once. What is written is audited with `origin`, in the same
 * transaction. A refused document (a 422 naming where) changes nothing.
 */
export async function applyCatalog(
	deps: Pick<Deps, "db" | "paramsKey" | "clock">,
	document: unknown,
	options: { dryRun: boolean; origin: ApplyOrigin },
): Promise<ApplyOutcome> {
	let changes: CatalogChange[] = [];
	let written = false;
	try {
		await inTransaction(deps.db, async (tx) => {
			const before = await comparableCatalog(tx, deps.paramsKey);
			await importCatalog(tx, document, { secret: deps.paramsKey });
			changes = compare(before, await comparableCatalog(tx, deps.paramsKey), document as Record<string, unknown>);
			const touched = changes.filter((c) => c.change === "added" || c.change === "changed");
			if (options.dryRun || touched.length === 0) throw new Undo();
			await recordAudit(tx, {
				at: deps.clock(),
				actorId: options.origin.actorId,
				actor: options.origin.actor,
				action: options.origin.action,
				resourceKind: "catalog",
				resourceId: options.origin.resource,
				outcome: "ok",
				detail: `${countChanges(changes)}: ${touched.map((c) => `${c.what} ${c.key} ${c.change}`).join(", ")}`,
			});
			written = true;
		});
	} catch (error) {
		if (!(error instanceof Undo)) throw error;
	}
	return { changes, written };
}
