/**
 * What an EBS volume costs: its region's own prices per GB-month (and per provisioned IOPS- and
 * MB/s-month), as AWS bills them: per second, each calendar month's share of the monthly price
 * by that month's own length (February's second costs more than July's), not a fixed 730 hours.
 */
import type { Settings } from "../settings.ts";

/** The volume types a configuration may use: those the price table below covers. */
export const VOLUME_TYPES = ["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"] as const;
export type VolumeType = (typeof VOLUME_TYPES)[number];

/** One region's EBS list prices, USD. */
export interface EbsRegionPrices {
	/** Storage, per GB-month, by volume type. */
	gbMonth: Record<VolumeType, number>;
	/** io1's provisioned IOPS, per IOPS-month. */
	io1Iops: number;
	/** io2's provisioned IOPS per IOPS-month, in AWS's tiers: up to 32,000, 32,001-64,000, above. */
	io2Iops: [number, number, number];
	/** gp3's IOPS beyond the free 3,000, per IOPS-month. */
	gp3Iops: number;
	/** gp3's throughput beyond the free 125 MB/s, per MB/s-month. */
	gp3Throughput: number;
}

/** gp3's free baseline. */
export const GP3_FREE_IOPS = 3000;
export const GP3_FREE_THROUGHPUT = 125;
/** Where io2's IOPS price tiers end. */
const IO2_TIERS = [32_000, 64_000];

const US: EbsRegionPrices = {
	gbMonth: { gp2: 0.1, gp3: 0.08, io1: 0.125, io2: 0.125, st1: 0.045, sc1: 0.015, standard: 0.05 },
	io1Iops: 0.065,
	io2Iops: [0.065, 0.0455, 0.03185],
	gp3Iops: 0.005,
	gp3Throughput: 0.04,
};

/**
 * AWS's public EBS price list (https://aws.amazon.com/ebs/pricing/), on-demand list prices as
 * published in 2024-2025 and unchanged since gp3's launch (December 2020) for these regions; the
 * US regions and eu-central-1 agree with third-party copies of the page dated 2021-02 and 2023-11.
 * A region not listed here has no EBS price unless EBS_PRICE_PER_GB_MONTH gives one (then its
 * IOPS are priced as in us-east-1).
 */
export const EBS_PRICES: Readonly<Record<string, EbsRegionPrices>> = {
	"us-east-1": US,
	"us-east-2": US,
	"us-west-2": US,
	"eu-west-1": {
		gbMonth: { gp2: 0.11, gp3: 0.088, io1: 0.138, io2: 0.138, st1: 0.05, sc1: 0.0168, standard: 0.055 },
		io1Iops: 0.072,
		io2Iops: [0.072, 0.0504, 0.03528],
		gp3Iops: 0.0055,
		gp3Throughput: 0.044,
	},
	"eu-central-1": {
		gbMonth: { gp2: 0.119, gp3: 0.0952, io1: 0.149, io2: 0.149, st1: 0.054, sc1: 0.018, standard: 0.059 },
		io1Iops: 0.078,
		io2Iops: [0.078, 0.0546, 0.03822],
		gp3Iops: 0.006,
		gp3Throughput: 0.048,
	},
	"ap-southeast-2": {
		gbMonth: { gp2: 0.12, gp3: 0.096, io1: 0.138, io2: 0.138, st1: 0.054, sc1: 0.018, standard: 0.08 },
		io1Iops: 0.072,
		io2Iops: [0.072, 0.0504, 0.03528],
		gp3Iops: 0.006,
		gp3Throughput: 0.048,
	},
};

/** What a volume is billed on, as the portal records it. */
export interface VolumeSpec {
	volumeType: string;
	sizeGb: number;
	/** Provisioned IOPS (io1, io2, gp3), when AWS reports them. */
	iops?: number | null;
	/** Provisioned throughput in MB/s (gp3), when AWS reports it. */
	throughput?: number | null;
}

/** A monthly price, or why there is none. */
export type MonthlyPrice = { known: true; monthly: number } | { known: false; reason: string };

/**
 * The $/month (before discount) of a volume in a region: storage at the GB-month price (the
 * setting's override for the region or for every region, else the table's), plus io1/io2
 * provisioned IOPS and gp3 IOPS and throughput beyond the free baseline.
 */
export function volumeMonthlyPrice(
	settings: Pick<Settings, "EBS_PRICE_PER_GB_MONTH">,
	region: string,
	volume: VolumeSpec,
): MonthlyPrice {
	const override = settings.EBS_PRICE_PER_GB_MONTH;
	const forRegion = override?.[region];
	const table = EBS_PRICES[region];
	const perGb = (typeof forRegion === "object" ? forRegion[volume.volumeType] : undefined) ??
		(typeof override?.[volume.volumeType] === "number" ? override[volume.volumeType] as number : undefined) ??
		table?.gbMonth[volume.volumeType as VolumeType];
	if (perGb === undefined) {
		return {
			known: false,
			reason: table
				? `no EBS price is known for volume type "${volume.volumeType}" (set EBS_PRICE_PER_GB_MONTH)`
				: `no EBS prices are known for region ${region} (set EBS_PRICE_PER_GB_MONTH)`,
		};
	}
	const performance = table ?? US;
	const iops = volume.iops ?? 0;
	let monthly = perGb * volume.sizeGb;
	if (volume.volumeType === "io1") monthly += iops * performance.io1Iops;
	else if (volume.volumeType === "io2") monthly += tiered(iops, performance.io2Iops);
	else if (volume.volumeType === "gp3") {
		monthly += Math.max(0, iops - GP3_FREE_IOPS) * performance.gp3Iops;
		monthly += Math.max(0, (volume.throughput ?? 0) - GP3_FREE_THROUGHPUT) * performance.gp3Throughput;
	}
	return { known: true, monthly };
}

/** io2's IOPS at each tier's price. */
function tiered(iops: number, prices: [number, number, number]): number {
	const [first, second] = IO2_TIERS as [number, number];
	return Math.min(iops, first) * prices[0] +
		Math.max(0, Math.min(iops, second) - first) * prices[1] +
		Math.max(0, iops - second) * prices[2];
}

/** The UTC calendar month holding `at`: its start and the start of the next one, ms. */
function monthAround(at: number): { start: number; end: number } {
	const d = new Date(at);
	return {
		start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
		end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
	};
}

/** Hours in the UTC calendar month holding `at` (672 in a February of 28 days, 744 in July). */
export function hoursInMonth(at: Date): number {
	const { start, end } = monthAround(at.getTime());
	return (end - start) / 3_600_000;
}

/**
 * The cost of [from, to) at `monthly` USD per calendar month: each UTC month's share is the
 * monthly price × the seconds in that month / that month's seconds (AWS bills in UTC).
 */
export function proratedCost(monthly: number, from: Date, to: Date): number {
	let cost = 0;
	for (let t = from.getTime(); t < to.getTime();) {
		const month = monthAround(t);
		const until = Math.min(to.getTime(), month.end);
		cost += monthly * (until - t) / (month.end - month.start);
		t = until;
	}
	return cost;
}
