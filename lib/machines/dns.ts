/**
 * The DNS policy of every kind of machine, written once: a record while the machine is alive with
 * an address, moved when the address changes, removed when the machine ends. The DNS plugin does
 * the work; a failing plugin never fails a launch, sync or action: the error is logged, the machine
 * keeps being shown by IP, and the next sync tries again.
 */
import type { Deps } from "../deps.ts";

/** What a machine's record should be, as its kind sees the machine now. */
export type DnsIntent =
	/** Alive: a record pointing at `address`; while it has none to show (e.g. stopped), the record is left as it is. */
	| { alive: true; address: string | null }
	/** Ended (or ending): no record. */
	| { alive: false };

/** The DNS columns of a machine's row. */
export interface DnsColumns {
	dnsIp: string | null;
	dnsName: string | null;
}

/**
 * Brings the machine's record in line with `intent`, calling the plugin only when something
 * changes; returns the columns to write (none when nothing changed or the plugin failed).
 */
export async function reconcileDns(
	deps: Pick<Deps, "plugins" | "log">,
	machine: { id: string; dnsIp: string | null },
	intent: DnsIntent,
): Promise<Partial<DnsColumns>> {
	if (intent.alive) {
		if (!intent.address || intent.address === machine.dnsIp) return {};
		const published = await publishDns(deps, machine.id, intent.address);
		return published.ok ? { dnsIp: intent.address, dnsName: published.name } : {};
	}
	if (!machine.dnsIp) return {};
	return await unpublishDns(deps, machine.id, machine.dnsIp) ? { dnsIp: null } : {};
}

/** Creates (or moves) the record for `resourceId` to `ip`; returns the name to show, or null. */
async function publishDns(
	deps: Pick<Deps, "plugins" | "log">,
	resourceId: string,
	ip: string,
): Promise<{ ok: boolean; name: string | null }> {
	const dns = deps.plugins.dns.functions;
	const ctx = deps.plugins.context;
	try {
		await dns.createDnsEntry(resourceId, ip, ctx);
		const name = await dns.dnsDisplayName(resourceId, ip, ctx);
		deps.log.web.info("dns record for {resourceId} points at {ip}", { resourceId, ip, name });
		return { ok: true, name: name || null };
	} catch (error) {
		deps.log.web.error("dns plugin could not create the record for {resourceId}: {message}", {
			resourceId,
			message: (error as Error).message,
		});
		return { ok: false, name: null };
	}
}

/** Deletes the record for `resourceId`; returns whether the plugin succeeded. */
async function unpublishDns(deps: Pick<Deps, "plugins" | "log">, resourceId: string, ip: string): Promise<boolean> {
	try {
		await deps.plugins.dns.functions.deleteDnsEntry(resourceId, ip, deps.plugins.context);
		deps.log.web.info("dns record for {resourceId} removed", { resourceId, ip });
		return true;
	} catch (error) {
		deps.log.web.error("dns plugin could not delete the record for {resourceId}: {message}", {
			resourceId,
			message: (error as Error).message,
		});
		return false;
	}
}
