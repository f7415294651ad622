/**
 * Billed periods, the one way for instances, volumes and clusters: a period opens when a resource
 * is seen billable (running, existing) and closes when it stops or ends, whoever caused the change.
 * A resource has at most one open period; reports sum them.
 */
import { getGroup } from "../db/catalog.ts";
import { closeBill, openBill } from "../db/bills.ts";
import type { ResourceKind } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import type { Price } from "../pricing.ts";
import { costCenterOf } from "./rates.ts";

/** The resource a period bills, as its row holds it. */
export interface Billable {
	kind: ResourceKind;
	id: string;
	ownerId: number;
	groupId: number | null;
}

/** What a period charges: its description in reports and its hourly rate. */
export interface Charge {
	description: string;
	rate: Price;
	/** USD per calendar month, for what AWS prices by the month (volumes); reports prorate it by month. */
	monthlyRate?: number | null;
}

/**
 * Opens the resource's billed period at `at`, charged to its group's cost center (a no-op when one
 * is open); returns whether one was opened.
 */
export async function openBillFor(
	deps: Pick<Deps, "db" | "settings" | "log">,
	resource: Billable,
	charge: Charge,
	at: Date,
): Promise<boolean> {
	const group = resource.groupId ? await getGroup(deps.db, resource.groupId) : undefined;
	const opened = await openBill(deps.db, {
		resourceKind: resource.kind,
		resourceId: resource.id,
		userId: resource.ownerId,
		groupId: resource.groupId,
		costCenter: costCenterOf(group, deps.settings.DEFAULT_CHARGE_CODE),
		description: charge.description,
		hourlyRate: charge.rate.known ? charge.rate.hourly : null,
		monthlyRate: charge.rate.known ? charge.monthlyRate ?? null : null,
		startedAt: at,
	});
	if (opened) {
		deps.log.web.info("billing for {kind} {id} started", {
			kind: resource.kind,
			id: resource.id,
			at: at.toISOString(),
		});
	}
	return opened;
}

/** Closes the resource's open period at `at` (`why` is for the log); returns whether one was open. */
export async function closeBillFor(
	deps: Pick<Deps, "db" | "log">,
	resource: Pick<Billable, "kind" | "id">,
	at: Date,
	why: string,
): Promise<boolean> {
	const closed = await closeBill(deps.db, resource.id, at);
	if (closed) {
		deps.log.web.info("billing for {kind} {id} stopped ({why})", { kind: resource.kind, id: resource.id, why });
	}
	return closed;
}
