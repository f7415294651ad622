/** Prometheus metrics (prom-client) on a registry of the app's own, served by GET /metrics. */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The portal's metrics. */
export interface Metrics {
	registry: Registry;
	httpRequests: Counter<"route" | "method" | "status">;
	httpDuration: Histogram<"route" | "method">;
	jobRuns: Counter<"job" | "outcome">;
	jobDuration: Histogram<"job">;
	awsCalls: Counter<"operation" | "outcome">;
	awsDuration: Histogram<"operation">;
	launches: Counter<"outcome">;
	/** Calls refused by a rate limit (lib/rate_limit.ts), by endpoint. */
	rateLimited: Counter<"endpoint">;
	/**
	 * 1, labelled with this process's name (its lease holder): with several processes on one port
	 * (WORKERS) a scrape reaches one of them, and this says which one's counters it read.
	 */
	processInfo: Gauge<"process_id">;
}

export function createMetrics(): Metrics {
	const registry = new Registry();
	const registers = [registry];
	return {
		registry,
		httpRequests: new Counter({
			name: "mliy_http_requests_total",
			help: "HTTP requests by route pattern, method and status",
			labelNames: ["route", "method", "status"],
			registers,
		}),
		httpDuration: new Histogram({
			name: "mliy_http_request_duration_seconds",
			help: "HTTP request latency by route pattern",
			labelNames: ["route", "method"],
			buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
			registers,
		}),
		jobRuns: new Counter({
			name: "mliy_job_runs_total",
			help: "Periodic job runs by outcome (ok, failed, skipped when another process held the lease)",
			labelNames: ["job", "outcome"],
			registers,
		}),
		jobDuration: new Histogram({
			name: "mliy_job_duration_seconds",
			help: "Periodic job run time",
			labelNames: ["job"],
			buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
			registers,
		}),
		awsCalls: new Counter({
			name: "mliy_aws_calls_total",
			help: "AWS API calls by operation and outcome (ok or the error kind)",
			labelNames: ["operation", "outcome"],
			registers,
		}),
		awsDuration: new Histogram({
			name: "mliy_aws_call_duration_seconds",
			help: "AWS API call latency including SDK retries",
			labelNames: ["operation"],
			buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
			registers,
		}),
		launches: new Counter({
			name: "mliy_launches_total",
			help: "Launches by outcome (requested, complete, failed)",
			labelNames: ["outcome"],
			registers,
		}),
		rateLimited: new Counter({
			name: "mliy_rate_limited_total",
			help: "Calls answered 429 by a rate limit, by endpoint (progress, health, metrics, sign-in)",
			labelNames: ["endpoint"],
			registers,
		}),
		processInfo: new Gauge({
			name: "mliy_process_info",
			help: "1 for the process that answered this scrape, by its name (host:pid:random, as in job leases)",
			labelNames: ["process_id"],
			registers,
		}),
	};
}

/** Total AWS calls counted so far, optionally for one operation (used by tests and benchmarks). */
export async function awsCallCount(metrics: Metrics, operation?: string): Promise<number> {
	const data = await metrics.awsCalls.get();
	return data.values.filter((v) => !operation || v.labels.operation === operation).reduce((n, v) => n + v.value, 0);
}
