/**
 * Cost Explorer over the SDK: what AWS billed per day, grouped by the portal's cost allocation
 * tags (GetCostAndUsage, one request a page). Its answers name each group `Key$value`, the value
 * empty for cost without the tag, which is how an inactive cost allocation tag shows too.
 */
import type * as ce from "@aws-sdk/client-cost-explorer";
import type { CostExplorerApi, CostRow } from "../types.ts";
import type { Sdk, SdkService } from "./client.ts";

const COST_EXPLORER: SdkService<typeof ce> = {
	load: () => import("@aws-sdk/client-cost-explorer"),
	client: (sdk, config) => new sdk.CostExplorerClient(config),
};

/** Pages followed at most: a year of days by a few hundred launches is far below it. */
const MAX_PAGES = 200;

/** The portal's Cost Explorer operations, sent through `sdk`. */
export function costExplorerApi(sdk: Sdk): CostExplorerApi {
	return {
		async dailyCostByTags(query) {
			const rows: CostRow[] = [];
			let token: string | undefined;
			let pages = 0;
			do {
				const out = await sdk.call(COST_EXPLORER, "GetCostAndUsage", {
					TimePeriod: { Start: query.fromDay, End: query.toDay },
					Granularity: "DAILY",
					Metrics: [query.metric],
					Filter: { Tags: { Key: query.filterTag.key, Values: query.filterTag.values, MatchOptions: ["EQUALS"] } },
					GroupBy: query.groupByTags.map((Key) => ({ Type: "TAG" as const, Key })),
					NextPageToken: token,
				}, { fromDay: query.fromDay, toDay: query.toDay, page: pages + 1 });
				for (const result of out.ResultsByTime ?? []) {
					const day = result.TimePeriod?.Start ?? "";
					for (const group of result.Groups ?? []) {
						const metric = group.Metrics?.[query.metric];
						const amount = Number(metric?.Amount);
						if (!day || !Number.isFinite(amount)) continue;
						const tags: Record<string, string> = {};
						query.groupByTags.forEach((key, i) => {
							const given = group.Keys?.[i] ?? "";
							tags[key] = given.startsWith(`${key}$`) ? given.slice(key.length + 1) : "";
						});
						rows.push({ day, tags, amount, unit: metric?.Unit ?? "USD", estimated: result.Estimated === true });
					}
				}
				token = out.NextPageToken || undefined;
				pages += 1;
			} while (token && pages < MAX_PAGES);
			return rows;
		},
	};
}
