/**
 * The billing report, mounted at /billing (the page; /billing/chargeback, a month's chargeback report
 * of a cost center as CSV or JSON), and the same report as CSV, mounted at
 * /billing.csv: a sibling URL, not under /billing/, so it is a sub-app of its own. The date
 * range is read in the portal's time zone; which users and groups the viewer may filter on is
 * lib/views/billing.ts's to check.
 */
import { Hono } from "hono";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { BILLING_SORTS, billingCsv, type BillingQuery, billingView, chargebackDownload } from "../lib/views/billing.ts";
import { parseSort } from "../lib/views/lists.ts";
import { type AppEnv, pageContext } from "./context.ts";
import { idFilter } from "./params.ts";
import { BillingPage } from "./ui/BillingPage.tsx";
import { renderPage } from "./ui/render.tsx";

function parseDate(value: string, name: string): Temporal.PlainDate {
	if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new UserError(400, `The ${name} date must look like 2025-01-31`);
	try {
		return Temporal.PlainDate.from(value, { overflow: "reject" });
	} catch {
		throw new UserError(400, `The ${name} date ${value} does not exist`);
	}
}

/**
 * The report's query: real dates (from not after to, at most ten years; this month to today by
 * default), filters that are ids and a sort the report offers (`sort`, `dir`); anything else is a 400.
 */
export function parseBillingQuery(deps: Deps, query: Record<string, string>): BillingQuery {
	const today = Temporal.Instant.fromEpochMilliseconds(deps.clock().getTime())
		.toZonedDateTimeISO(deps.settings.TIME_ZONE)
		.toPlainDate();
	const from = query.from ? parseDate(query.from, "start") : today.with({ day: 1 });
	const to = query.to ? parseDate(query.to, "end") : today;
	if (Temporal.PlainDate.compare(from, to) > 0) throw new UserError(400, "The start date is after the end date");
	if (from.until(to).total({ unit: "days", relativeTo: from }) > 3660) {
		throw new UserError(400, "Choose a range of at most ten years");
	}
	const filters: BillingQuery["filters"] = { userId: idFilter(query, "user"), groupId: idFilter(query, "group") };
	if (query.costCenter) {
		if (query.costCenter.length > 60) throw new UserError(400, "The cost center filter is too long");
		filters.costCenter = query.costCenter;
	}
	return { from, to, filters, sort: parseSort(query, BILLING_SORTS) };
}

export function billingRoutes(deps: Deps): Hono<AppEnv> {
	return new Hono<AppEnv>().get("/", async (c) => {
		const billing = await billingView(deps, c.get("viewer"), parseBillingQuery(deps, c.req.query()));
		const search = new URLSearchParams(c.req.query()).toString();
		const csvHref = `/billing.csv${search ? `?${search}` : ""}`;
		return c.html(renderPage(<BillingPage ctx={await pageContext(c, deps)} billing={billing} csvHref={csvHref} />));
	}).get("/chargeback", async (c) => {
		const file = await chargebackDownload(deps, c.get("viewer"), c.req.query());
		c.header("Content-Type", file.contentType);
		c.header("Content-Disposition", `attachment; filename="${file.filename}"`);
		c.header("Cache-Control", "no-store");
		return c.body(file.body);
	});
}

export function billingCsvRoutes(deps: Deps): Hono<AppEnv> {
	return new Hono<AppEnv>().get("/", async (c) => {
		const csv = await billingCsv(deps, c.get("viewer"), parseBillingQuery(deps, c.req.query()));
		c.header("Content-Type", "text/csv; charset=utf-8");
		c.header("Content-Disposition", `attachment; filename="${csv.filename}"`);
		c.header("Cache-Control", "no-store");
		return c.body(csv.body);
	});
}
