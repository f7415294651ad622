/**
 * How a user reaches a machine of any kind, written once: its address (the DNS plugin's name, else
 * the IP or the master's address), the SSH command with the group's key pair and the
 * configuration's login user, and the configuration's application links (Jupyter, RStudio, Spark
 * UI…) from its URL formats, `{{{ URL }}}` standing for the address. A machine without an address
 * yet says when it will have one instead.
 */

/** What the formats write where the machine's address goes (spaces inside the braces are optional). */
const URL_PLACEHOLDER = /\{\{\{\s*URL\s*\}\}\}/g;

/** The label of a format line without one: the cluster's "Connection" string, as the original had it. */
export const CONNECTION_LABEL = "Connection";

/** A link to what runs on a machine, or a connection string to copy (no href) when it is not a web address. */
export interface AppLink {
	label: string;
	text: string;
	href: string | null;
}

/** How to reach a machine that still exists. */
export interface Connection {
	/** The DNS name or address; null while it has none. */
	host: string | null;
	/** `ssh -i ~/.ssh/<key>.pem <user>@<host>`; null while there is no host. */
	ssh: string | null;
	links: AppLink[];
	/** While there is no host: when there will be one, in the user's words. */
	waiting: string | null;
}

/**
 * The configuration's application links for `host`: one a line, `Label | format`; a line without a
 * label is the {@link CONNECTION_LABEL}. A format without the placeholder is shown as written.
 */
export function applicationLinks(formats: string | null, host: string): AppLink[] {
	const links: AppLink[] = [];
	for (const line of (formats ?? "").split("\n")) {
		const bar = line.indexOf("|");
		const label = bar >= 0 ? line.slice(0, bar).trim() : CONNECTION_LABEL;
		const format = (bar >= 0 ? line.slice(bar + 1) : line).trim();
		if (!format || !label) continue;
		const text = format.replace(URL_PLACEHOLDER, host);
		links.push({ label, text, href: /^https?:\/\/[^\s"'<>]+$/.test(text) ? text : null });
	}
	return links;
}

/** The SSH command for the host: with the key pair's file when the group names one. */
export function sshCommand(keyName: string | null, loginUser: string | null, host: string): string {
	const user = loginUser || "ec2-user";
	return keyName ? `ssh -i ~/.ssh/${keyName}.pem ${user}@${host}` : `ssh ${user}@${host}`;
}

/**
 * How to reach a machine; null once it has ended. `waiting` is what to say while it has no
 * address (each kind knows when it gets one).
 */
export function connectionOf(machine: {
	host: string | null;
	ended: boolean;
	keyName: string | null;
	loginUser: string | null;
	formats: string | null;
	waiting: string;
}): Connection | null {
	if (machine.ended) return null;
	const { host } = machine;
	if (!host) return { host: null, ssh: null, links: [], waiting: machine.waiting };
	return {
		host,
		ssh: sshCommand(machine.keyName, machine.loginUser, host),
		links: applicationLinks(machine.formats, host),
		waiting: null,
	};
}
