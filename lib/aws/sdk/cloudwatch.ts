/**
 * CloudWatch over the SDK: metric statistics of many resources in one GetMetricData request (500
 * series per request, the API's limit), for the machines that report no activity of their own.
 */
import type * as cloudwatch from "@aws-sdk/client-cloudwatch";
import type { CloudWatchApi, MetricPoint } from "../types.ts";
import type { Sdk, SdkService } from "./client.ts";

const CLOUDWATCH: SdkService<typeof cloudwatch> = {
	load: () => import("@aws-sdk/client-cloudwatch"),
	client: (sdk, config) => new sdk.CloudWatchClient(config),
};

/** GetMetricData's limit on queries per request. */
const QUERIES_PER_REQUEST = 500;

/** The portal's CloudWatch operations, sent through `sdk`. */
export function cloudWatchApi(sdk: Sdk): CloudWatchApi {
	return {
		async getMetricData(queries, range) {
			const series: MetricPoint[][] = queries.map(() => []);
			for (let first = 0; first < queries.length; first += QUERIES_PER_REQUEST) {
				const batch = queries.slice(first, first + QUERIES_PER_REQUEST);
				let nextToken: string | undefined;
				do {
					const out = await sdk.call(CLOUDWATCH, "GetMetricData", {
						StartTime: range.start,
						EndTime: range.end,
						NextToken: nextToken,
						ScanBy: "TimestampAscending",
						// Ids must start with a lower-case letter: the query's index names it.
						MetricDataQueries: batch.map((q, i) => ({
							Id: `q${first + i}`,
							ReturnData: true,
							MetricStat: {
								Metric: {
									Namespace: q.namespace,
									MetricName: q.metric,
									Dimensions: Object.entries(q.dimensions).map(([Name, Value]) => ({ Name, Value })),
								},
								Period: q.periodSeconds,
								Stat: q.stat,
							},
						})),
					}, { queries: batch.length });
					for (const result of out.MetricDataResults ?? []) {
						const index = Number(result.Id?.slice(1));
						const points = series[index];
						if (!points) continue;
						(result.Timestamps ?? []).forEach((at, i) => {
							const value = result.Values?.[i];
							if (value !== undefined && Number.isFinite(value)) points.push({ at: new Date(at), value });
						});
					}
					nextToken = out.NextToken || undefined;
				} while (nextToken);
			}
			for (const points of series) points.sort((a, b) => a.at.getTime() - b.at.getTime());
			return series;
		},
	};
}
