/** The default DNS plugin: no DNS records; the portal shows and links instances by IP. */

export function dnsDisplayName(): string {
	return "";
}

export function createDnsEntry(): void {}

export function deleteDnsEntry(): void {}
