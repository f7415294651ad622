/**
 * The resize page of an instance: its type and hourly rate now, the types it may be resized to
 * (its configuration's, for its group) each with its rate and the difference, and, once one is
 * chosen, the confirmation with the rate before and after: a plain resize of a stopped instance,
 * or "stop, resize, start" of a running one.
 */
import type { Viewer } from "../auth/identify.ts";
import { instanceRate } from "../billing/rates.ts";
import { resizeRefusal, resizeTypes } from "../control/resize.ts";
import { getInstanceRow, type InstanceRow } from "../db/instances.ts";
import { getResize } from "../db/resizes.ts";
import type { Deps } from "../deps.ts";
import { INSTANCE_ENDED_STATES } from "../machines/lifecycle.ts";
import { plainText } from "../text.ts";
import { NAME_SHOWN, type Rate, visibleMachine } from "./machines.ts";

/** A type the instance may be resized to. */
export interface ResizeChoice {
	type: string;
	description: string;
	rate: Rate;
	/** The new rate less the current one, $/hour; null when either is unknown. */
	deltaHourly: number | null;
	/** This page with the type chosen (its confirmation). */
	href: string;
}

/** The resize page. */
export interface ResizePageProps {
	id: string;
	name: string;
	href: string;
	state: string;
	currentType: string;
	currentRate: Rate;
	/** How it would be resized now: at once (stopped), "stop, resize, start" (running); null when it cannot. */
	mode: "stopped" | "restart" | null;
	/** Why it cannot be resized now, when it cannot. */
	refusal: string | null;
	choices: ResizeChoice[];
	/** The chosen type's confirmation; null until one is chosen (or when it cannot be resized). */
	chosen: (ResizeChoice & { action: string }) | null;
	/** A refused submission's reason. */
	error?: string;
}

function delta(before: Rate, after: Rate): number | null {
	return before.known && after.known ? after.hourly - before.hourly : null;
}

/** How the instance would be resized now, or why it cannot. */
function modeOf(
	row: InstanceRow,
	inFlight: boolean,
	offered: number,
): { mode: ResizePageProps["mode"]; refusal: string | null } {
	if (inFlight) return { mode: null, refusal: "A resize of this instance is already on its way." };
	if (row.controlsLocked) return { mode: null, refusal: "This instance's controls are locked (its image expired)." };
	if (offered === 0) {
		return { mode: null, refusal: "Its configuration offers its group no other instance type." };
	}
	const mode = row.state === "stopped" ? "stopped" : "restart";
	const refusal = resizeRefusal(row, mode);
	return refusal ? { mode: null, refusal } : { mode, refusal: null };
}

/** Whether the instance offers a resize at all (the panel's link): alive and launched from a configuration. */
export function mayOfferResize(row: Pick<InstanceRow, "state" | "configId" | "groupId" | "archived">): boolean {
	return !row.archived && row.configId !== null && row.groupId !== null &&
		!INSTANCE_ENDED_STATES.includes(row.state);
}

/** The resize page of an instance the viewer may control (404/403 otherwise), with `chosen` confirmed when offered. */
export async function resizePageView(
	deps: Deps,
	viewer: Viewer,
	id: string,
	chosen?: string,
	error?: string,
): Promise<ResizePageProps> {
	const row = await visibleMachine(deps, viewer, { kind: "instance", id, load: (id) => getInstanceRow(deps.db, id) });
	const [types, inFlight] = await Promise.all([resizeTypes(deps, row), getResize(deps.db, row.id)]);
	// A configuration without an OS prices as Linux, as everywhere.
	const os = row.configOs || "linux";
	const currentRate = instanceRate(deps, { type: row.instanceType, os });
	const href = `/instances/${row.id}`;
	const choices = types.map((t): ResizeChoice => {
		const rate = instanceRate(deps, { type: t.name, os });
		return {
			type: t.name,
			description: t.description,
			rate,
			deltaHourly: delta(currentRate, rate),
			href: `${href}/resize?type=${encodeURIComponent(t.name)}`,
		};
	});
	const { mode, refusal } = modeOf(row, !!inFlight, choices.length);
	const pick = mode ? choices.find((c) => c.type === chosen) : undefined;
	return {
		id: row.id,
		name: plainText(row.name, NAME_SHOWN),
		href,
		state: row.state,
		currentType: row.instanceType,
		currentRate,
		mode,
		refusal,
		choices,
		chosen: pick ? { ...pick, action: `${href}/resize` } : null,
		error,
	};
}
