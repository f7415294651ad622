/** What a billed period of each kind of resource charges: its description in reports and its hourly rate. */
import { getConfig } from "../db/catalog.ts";
import type { Cluster } from "../db/clusters.ts";
import type { Instance } from "../db/instances.ts";
import type { Volume } from "../db/volumes.ts";
import type { Deps } from "../deps.ts";
import type { Charge } from "./periods.ts";
import { clusterRate, instanceRate, volumeRate } from "./rates.ts";

/** An instance: its type at the discounted on-demand rate of its configuration's OS. */
export async function instanceCharge(
	deps: Pick<Deps, "db" | "pricing" | "settings">,
	instance: Instance,
): Promise<Charge> {
	const config = instance.configId ? await getConfig(deps.db, instance.configId) : undefined;
	return {
		description: instance.instanceType,
		rate: instanceRate(deps, { type: instance.instanceType, os: config?.os }),
	};
}

/** A cluster: market, type and nodes at its rate, with the spot price it saw (recorded on the row). */
export async function clusterCharge(
	deps: Pick<Deps, "pricing" | "settings" | "aws">,
	cluster: Cluster,
): Promise<Charge & { changes?: Partial<Cluster> }> {
	const { rate, spotPrice } = await clusterRate(deps, cluster);
	const nodes = cluster.nodesRequested || cluster.coreNodes + 1;
	return {
		description: `${cluster.market === "SPOT" ? "SPOT" : "ON DEMAND"} ${cluster.instanceType} × ${nodes}`,
		rate,
		changes: spotPrice !== null ? { spotPrice } : undefined,
	};
}

/**
 * A volume: its type, size and provisioned performance, at its region's price per month (its
 * hourly rate is the one of the month holding `at`, for the burn rate).
 */
export function volumeCharge(
	deps: Pick<Deps, "settings">,
	volume: Pick<Volume, "volumeType" | "sizeGb" | "iops" | "throughput">,
	at: Date,
): Charge {
	const { rate, monthly } = volumeRate(deps.settings, volume, at);
	const performance = [
		volume.iops && ["io1", "io2", "gp3"].includes(volume.volumeType) ? `${volume.iops} IOPS` : "",
		volume.throughput && volume.volumeType === "gp3" ? `${volume.throughput} MB/s` : "",
	].filter(Boolean);
	return {
		description: `${volume.volumeType} ${volume.sizeGb} GiB${performance.length ? `, ${performance.join(", ")}` : ""}`,
		rate,
		monthlyRate: monthly,
	};
}
