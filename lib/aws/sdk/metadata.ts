/** The server's own placement from the EC2 instance metadata service (IMDSv2); no SDK needed. */
import type { Logger } from "@logtape/logtape";
import type { Placement } from "../types.ts";

/**
 * `placement()` for the portal's {@link Aws}: asks the metadata service at `url` (default
 * http://169.254.169.254) until it answers once, and keeps that answer.
 */
export function metadataPlacement(options: { url?: string; log: Logger }): () => Promise<Placement | undefined> {
	const base = options.url ?? "http://169.254.169.254";
	let known: Placement | undefined;
	return async () => {
		// Only an answer is kept: one metadata hiccup must not leave the portal without a placement.
		known ??= await readPlacement(base, options.log);
		return known;
	};
}

/** Reads subnet and AZ through IMDSv2 (token first), with short timeouts so off-EC2 hosts answer fast. */
async function readPlacement(base: string, log: Logger): Promise<Placement | undefined> {
	const signal = () => AbortSignal.timeout(1000);
	try {
		const token = await (await fetch(`${base}/latest/api/token`, {
			method: "PUT",
			headers: { "X-aws-ec2-metadata-token-ttl-seconds": "300" },
			signal: signal(),
		})).text();
		const get = async (path: string) => {
			const res = await fetch(`${base}/latest/meta-data/${path}`, {
				headers: { "X-aws-ec2-metadata-token": token },
				signal: signal(),
			});
			if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
			return (await res.text()).trim();
		};
		const mac = await get("mac");
		const [subnetId, availabilityZone] = await Promise.all([
			get(`network/interfaces/macs/${mac}/subnet-id`),
			get("placement/availability-zone"),
		]);
		return { subnetId, availabilityZone };
	} catch (error) {
		log.info("instance metadata unavailable: {message}", { message: (error as Error).message });
		return undefined;
	}
}
