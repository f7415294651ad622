/**
 * The display plugin's part of a sync: for every instance the sync follows, its extra columns'
 * values and whether its controls are locked, as the plugin says, stored in the instance's row so
 * pages read them without asking the plugin (or AWS). Written only when something changed; a lock
 * set or lifted is audited. The plugin lifts only locks it set itself: a lock put by anyone else
 * stays until they lift it.
 */
import { recordAudit } from "../db/audit.ts";
import { type InstanceRow, trackedInstanceRows, updateInstance } from "../db/instances.ts";
import type { NewInstance } from "../db/instances.ts";
import type { Deps } from "../deps.ts";
import type { ControlsLock, DisplayColumn, DisplayContext, PluginInstance } from "../plugins/contract.ts";
import { plainText } from "../text.ts";

/** Who a lock the display plugin set is recorded as (`instances.controls_locked_by`). */
export const DISPLAY_PLUGIN_LOCK = "display plugin";

/** How long a value and a lock's reason may be on a page. */
const VALUE_SHOWN = 100;
const REASON_SHOWN = 300;

/** What a display sync did, for logs and tests. */
export interface DisplaySyncResult {
	instances: number;
	changed: number;
	/** Instances for which the plugin failed (nothing of theirs was changed). */
	failed: number;
}

/** The instance as the plugin is shown it. */
function pluginInstance(row: InstanceRow): PluginInstance {
	return {
		id: row.id,
		name: row.name,
		state: row.state,
		instanceType: row.instanceType,
		amiId: row.amiId,
		ownerUsername: row.ownerUsername,
		groupName: row.groupName,
		configName: row.configName,
		launchedAt: row.launchedAt,
		controlsLocked: row.controlsLocked,
		controlsLockedReason: row.controlsLockedReason,
	};
}

/** The values of the declared columns only, as plain text of a bounded length. */
function declaredValues(values: unknown, columns: readonly DisplayColumn[]): Record<string, string> {
	const given = (values && typeof values === "object" ? values : {}) as Record<string, unknown>;
	const kept: Record<string, string> = {};
	for (const { key } of columns) {
		const value = Object.hasOwn(given, key) ? given[key] : undefined;
		if (typeof value === "string" && value.trim()) kept[key] = plainText(value.trim(), VALUE_SHOWN);
	}
	return kept;
}

/** The row's lock columns as the plugin's answer makes them; nothing when they stay. */
function lockChanges(row: InstanceRow, lock: ControlsLock | undefined | void): Partial<NewInstance> {
	if (!lock) return {};
	const ours = row.controlsLockedBy === DISPLAY_PLUGIN_LOCK;
	if (lock.locked) {
		const reason = plainText(String(lock.reason ?? "").trim(), REASON_SHOWN) || "the display plugin locked them";
		if (!row.controlsLocked) {
			return { controlsLocked: true, controlsLockedReason: reason, controlsLockedBy: DISPLAY_PLUGIN_LOCK };
		}
		return ours && row.controlsLockedReason !== reason ? { controlsLockedReason: reason } : {};
	}
	return row.controlsLocked && ours
		? { controlsLocked: false, controlsLockedReason: null, controlsLockedBy: null }
		: {};
}

function sameValues(a: Record<string, string>, b: Record<string, string>): boolean {
	const keys = Object.keys(a);
	return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

/**
 * Runs the display plugin over the instances the sync follows (all, or one owner's): their extra
 * values and locks. A plugin that keeps the defaults costs nothing (not even a read). A plugin
 * failure is logged, once per run, and leaves those instances as they were; it never fails the sync.
 */
export async function syncDisplay(deps: Deps, scope: { ownerId?: number } = {}): Promise<DisplaySyncResult> {
	const display = deps.plugins.display;
	const result: DisplaySyncResult = { instances: 0, changed: 0, failed: 0 };
	const computes = display.columns.length > 0 || display.sources.onInstanceRefresh !== "default";
	if (!computes) return result;
	const rows = await trackedInstanceRows(deps.db, scope.ownerId);
	result.instances = rows.length;
	if (rows.length === 0) return result;
	const now = deps.clock();
	const instances = rows.map(pluginInstance);
	const memo = new Map<string, Promise<unknown>>();
	const ctx: DisplayContext = {
		...deps.plugins.context,
		now,
		instances,
		once<T>(key: string, compute: () => Promise<T>): Promise<T> {
			if (!memo.has(key)) memo.set(key, compute());
			return memo.get(key) as Promise<T>;
		},
	};
	let firstFailure: string | undefined;
	for (const [i, row] of rows.entries()) {
		const instance = instances[i]!;
		let values: Record<string, string>;
		let lock: ControlsLock | undefined | void;
		try {
			values = declaredValues(await display.functions.displayValues(instance, ctx), display.columns);
			lock = await display.functions.onInstanceRefresh(instance, ctx);
		} catch (error) {
			result.failed += 1;
			firstFailure ??= (error as Error).message;
			continue;
		}
		const changes = lockChanges(row, lock);
		if (!sameValues(values, row.displayValues)) changes.displayValues = values;
		if (Object.keys(changes).length === 0) continue;
		await updateInstance(deps.db, row.id, changes);
		result.changed += 1;
		if ("controlsLocked" in changes) {
			await recordAudit(deps.db, {
				at: now,
				actor: DISPLAY_PLUGIN_LOCK,
				action: changes.controlsLocked ? "lock" : "unlock",
				resourceKind: "instance",
				resourceId: row.id,
				outcome: "ok",
				detail: changes.controlsLocked
					? `controls locked to Terminate: ${changes.controlsLockedReason}`
					: `controls unlocked (was: ${row.controlsLockedReason ?? "no reason given"})`,
			});
			deps.log.web.info("instance {id}: controls {what} by the display plugin", {
				id: row.id,
				what: changes.controlsLocked ? "locked" : "unlocked",
			});
		}
	}
	if (firstFailure !== undefined) {
		deps.log.web.warn(
			"display plugin failed for {failed} of {instances} instances; they keep their values: {message}",
			{
				failed: result.failed,
				instances: rows.length,
				message: firstFailure,
				folder: display.folder,
			},
		);
	}
	return result;
}
