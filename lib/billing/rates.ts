/**
 * What machines cost: instances per hour from the pricing file, volumes per month from the
 * region's EBS prices (lib/billing/ebs.ts), clusters as (EC2 + EMR surcharge) × nodes per hour,
 * all less the one configured discount.
 */
import type { Cluster } from "../db/clusters.ts";
import type { Group } from "../db/catalog.ts";
import type { Deps } from "../deps.ts";
import type { Price, Pricing } from "../pricing.ts";
import type { Settings } from "../settings.ts";
import { hoursInMonth, volumeMonthlyPrice, type VolumeSpec } from "./ebs.ts";

type RateSettings = Pick<Settings, "AWS_REGION" | "AWS_DISCOUNT" | "EBS_PRICE_PER_GB_MONTH">;

/** An hourly price less the configured discount: the one place AWS_DISCOUNT is applied. */
export function discounted(hourly: number, settings: Pick<Settings, "AWS_DISCOUNT">): number {
	return hourly * (1 - settings.AWS_DISCOUNT);
}

/** The discounted on-demand $/hour of an instance type for an OS (Linux when none is given), or why it is unknown. */
export function instanceRate(
	deps: { pricing: Pricing; settings: RateSettings },
	instance: { type: string; os?: string | null },
): Price {
	const price = deps.pricing.onDemand(instance.type, deps.settings.AWS_REGION, instance.os || "linux");
	return price.known ? { known: true, hourly: discounted(price.hourly, deps.settings) } : price;
}

/**
 * What an EBS volume costs in the configured region, less the discount: per calendar month, and
 * per hour in the month holding `at` (that month's price over that month's hours).
 */
export function volumeRate(
	settings: RateSettings,
	volume: VolumeSpec,
	at: Date,
): { rate: Price; monthly: number | null } {
	const price = volumeMonthlyPrice(settings, settings.AWS_REGION, volume);
	if (!price.known) return { rate: price, monthly: null };
	const monthly = discounted(price.monthly, settings);
	return { rate: { known: true, hourly: monthly / hoursInMonth(at) }, monthly };
}

/** The cost center bills are charged to: the group's, else the default charge code. */
export function costCenterOf(group: Pick<Group, "costCenter"> | undefined, defaultChargeCode: string): string {
	return group?.costCenter || defaultChargeCode;
}

/** What a cluster costs per hour for a type, size and market, from the pricing file. */
export interface ClusterEstimate {
	/** $/hour for the whole cluster, or null when a price is unknown. */
	perHour: number | null;
	ec2: Price;
	emr: Price;
	nodes: number;
	/** The per-node EC2 rate used: on demand, or the bid capped at on demand for spot. */
	ec2PerNode: number | null;
}

/**
 * (EC2 + EMR surcharge) × (core + 1 master) per hour, less the discount; spot uses the bid capped
 * at the on-demand price (the most the cluster can be charged).
 */
export function clusterEstimate(
	deps: Pick<Deps, "pricing" | "settings">,
	input: { instanceType: string; coreNodes: number; market: string; bidPrice?: number },
): ClusterEstimate {
	const ec2 = deps.pricing.onDemand(input.instanceType, deps.settings.AWS_REGION, "linux");
	const emr = deps.pricing.emrSurcharge(input.instanceType, deps.settings.AWS_REGION);
	const nodes = input.coreNodes + 1;
	const ec2PerNode = !ec2.known
		? null
		: input.market === "SPOT" && input.bidPrice !== undefined
		? Math.min(input.bidPrice, ec2.hourly)
		: ec2.hourly;
	const perHour = clusterHourly(ec2PerNode, emr, nodes, deps.settings);
	return { perHour, ec2, emr, nodes, ec2PerNode };
}

/** (EC2 per node + EMR surcharge) × nodes, less the discount; null when a price is unknown. */
function clusterHourly(
	ec2PerNode: number | null,
	emr: Price,
	nodes: number,
	settings: Pick<Settings, "AWS_DISCOUNT">,
): number | null {
	return ec2PerNode === null || !emr.known ? null : discounted((ec2PerNode + emr.hourly) * nodes, settings);
}

/**
 * A running cluster's rate: (EC2 or the observed spot price + EMR surcharge) × nodes × (1 − discount),
 * with the spot price it saw (spot clusters in a known availability zone).
 */
export async function clusterRate(
	deps: Pick<Deps, "pricing" | "settings" | "aws">,
	cluster: Pick<Cluster, "instanceType" | "market" | "availabilityZone" | "bidPrice" | "nodesRequested" | "coreNodes">,
): Promise<{ rate: Price; spotPrice: number | null }> {
	const region = deps.settings.AWS_REGION;
	const ec2 = deps.pricing.onDemand(cluster.instanceType, region, "linux");
	const emr = deps.pricing.emrSurcharge(cluster.instanceType, region);
	let perNode: number | null = ec2.known ? ec2.hourly : null;
	let spotPrice: number | null = null;
	if (cluster.market === "SPOT") {
		if (cluster.availabilityZone) {
			spotPrice = await deps.aws.ec2.latestSpotPrice(cluster.instanceType, cluster.availabilityZone)
				.catch(() => undefined) ?? null;
		}
		// Without an observed spot price, the bid capped at on demand is the most the cluster pays.
		perNode = spotPrice ??
			(cluster.bidPrice !== null && perNode !== null ? Math.min(cluster.bidPrice, perNode) : perNode);
	}
	const hourly = clusterHourly(perNode, emr, cluster.nodesRequested || cluster.coreNodes + 1, deps.settings);
	// An unknown price says which one is unknown.
	return { rate: hourly !== null ? { known: true, hourly } : ec2.known ? emr : ec2, spotPrice };
}
