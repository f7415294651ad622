/** Route 53 over the SDK: find the hosted zone, publish and remove the portal's A records. */
import type * as route53 from "@aws-sdk/client-route-53";
import { AwsError } from "../../errors.ts";
import type { DnsRecord, Route53Api } from "../types.ts";
import type { Sdk, SdkService } from "./client.ts";

const ROUTE53: SdkService<typeof route53> = {
	load: () => import("@aws-sdk/client-route-53"),
	client: (sdk, config) => new sdk.Route53Client(config),
};

/** The portal's Route 53 operations, sent through `sdk`. */
export function route53Api(sdk: Sdk): Route53Api {
	async function changeRecord(
		action: "UPSERT" | "DELETE",
		zoneId: string,
		name: string,
		values: string[],
		ttl: number,
	) {
		await sdk.call(ROUTE53, "ChangeResourceRecordSets", {
			HostedZoneId: zoneId,
			ChangeBatch: {
				Changes: [{
					Action: action,
					ResourceRecordSet: {
						Name: name,
						Type: "A",
						TTL: ttl,
						ResourceRecords: values.map((Value) => ({ Value })),
					},
				}],
			},
		}, { action, name });
	}

	/** The A record named `name` as Route 53 holds it now, or `undefined` when there is none. */
	async function currentARecord(zoneId: string, name: string): Promise<DnsRecord | undefined> {
		const out = await sdk.call(ROUTE53, "ListResourceRecordSets", {
			HostedZoneId: zoneId,
			StartRecordName: name,
			StartRecordType: "A",
			MaxItems: 1,
		}, { zoneId, name });
		const wanted = name.replace(/\.?$/, ".").toLowerCase();
		const found = out.ResourceRecordSets?.find((r) =>
			r.Type === "A" && r.Name?.replace(/\.?$/, ".").toLowerCase() === wanted
		);
		return found && {
			name: found.Name ?? name,
			type: "A",
			ttl: found.TTL,
			values: (found.ResourceRecords ?? []).map((v) => v.Value ?? ""),
		};
	}

	return {
		async findHostedZone(domainName) {
			const wanted = domainName.replace(/\.?$/, ".").toLowerCase();
			const out = await sdk.call(ROUTE53, "ListHostedZonesByName", { DNSName: wanted, MaxItems: 10 }, { domainName });
			const zone = (out.HostedZones ?? []).find((z) => z.Name?.toLowerCase() === wanted);
			return zone?.Id?.replace(/^\/hostedzone\//, "");
		},
		async upsertARecord(zoneId, name, ip, ttl) {
			await changeRecord("UPSERT", zoneId, name, [ip], ttl);
		},
		async deleteARecord(zoneId, name, ip, ttl) {
			try {
				await changeRecord("DELETE", zoneId, name, [ip], ttl);
			} catch (error) {
				if (!(error instanceof AwsError) || error.kind !== "invalid" && error.kind !== "not_found") throw error;
				// "…but it was not found": the record is already gone, which is the goal.
				if (/but it was not found/i.test(error.message)) return;
				// A DELETE must name the record's current values: when they differ from what the portal
				// last saw (an IP that changed behind it), delete what is there, or the name keeps
				// pointing at an address AWS may give to someone else.
				const current = await currentARecord(zoneId, name);
				if (!current) return;
				if (current.values.length === 1 && current.values[0] === ip && current.ttl === ttl) throw error;
				await changeRecord("DELETE", zoneId, name, current.values, current.ttl ?? ttl);
			}
		},
	};
}
