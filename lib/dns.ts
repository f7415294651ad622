/**
 * Calls the DNS plugin. A failing plugin never fails a launch, sync or action: the error is logged
 * and the instance keeps being shown by IP.
 */
import type { Deps } from "./deps.ts";

/** Creates (or moves) the record for `resourceId` to `ip`; returns the name to show, or null. */
export async function publishDns(
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
export async function unpublishDns(
	deps: Pick<Deps, "plugins" | "log">,
	resourceId: string,
	ip: string,
): Promise<boolean> {
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
