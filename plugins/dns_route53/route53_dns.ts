/**
 * Route 53 DNS plugin: an A record `mliy-<id>.<DOMAIN_NAME>` per instance or cluster, upserted
 * when it gets or changes its IP and deleted when it ends.
 */
import type { PluginContext } from "../../lib/plugins/contract.ts";
import { settingReader } from "../_shared.ts";
import * as defaults from "./plugin_settings.ts";

const setting = settingReader(defaults);

const zoneIds = new Map<string, Promise<string>>();

function hostedZone(ctx: PluginContext): Promise<string> {
	const configured = setting(ctx, "HOSTED_ZONE_ID");
	if (configured) return Promise.resolve(configured);
	const domain = setting(ctx, "DOMAIN_NAME");
	let zone = zoneIds.get(domain);
	if (!zone) {
		zone = ctx.aws.route53.findHostedZone(domain).then((id) => {
			if (!id) throw new Error(`no Route 53 hosted zone named "${domain}"`);
			return id;
		});
		zone.catch(() => zoneIds.delete(domain));
		zoneIds.set(domain, zone);
	}
	return zone;
}

function ttl(ctx: PluginContext): number {
	const value = Number(setting(ctx, "TTL"));
	return Number.isInteger(value) && value > 0 ? value : 300;
}

export function checkDnsStartup(ctx: PluginContext): void {
	const domain = setting(ctx, "DOMAIN_NAME");
	if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}\.?$/i.test(domain)) {
		throw new Error(`the Route 53 DNS plugin needs DOMAIN_NAME in PLUGIN_SETTINGS (a domain name), got "${domain}"`);
	}
}

/** `i-0ABC123` becomes `mliy-0abc123.<domain>`. */
export function dnsDisplayName(name: string, _ip: string, ctx: PluginContext): string {
	const suffix = name.includes("-") ? name.slice(name.indexOf("-") + 1) : name;
	const label = `${setting(ctx, "RECORD_PREFIX")}${suffix}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63);
	return `${label}.${setting(ctx, "DOMAIN_NAME").replace(/\.$/, "")}`;
}

export async function createDnsEntry(name: string, ip: string, ctx: PluginContext): Promise<void> {
	await ctx.aws.route53.upsertARecord(await hostedZone(ctx), dnsDisplayName(name, ip, ctx), ip, ttl(ctx));
}

export async function deleteDnsEntry(name: string, ip: string, ctx: PluginContext): Promise<void> {
	await ctx.aws.route53.deleteARecord(await hostedZone(ctx), dnsDisplayName(name, ip, ctx), ip, ttl(ctx));
}
