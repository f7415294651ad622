/**
 * How to reach a machine, for every kind: the connection panel of its page and the compact form of
 * its row. Each value is plain selectable text with a copy button; the buttons are hidden until
 * the page glue (static/app.js) enables them, so without JavaScript nothing is shown that does not work.
 */
import type { AppLink, Connection } from "../../lib/views/machines.ts";

/** A copy button for `text`, announced in the panel's status line once copied. */
export function CopyButton(props: { text: string; label: string }) {
	return (
		<button type="button" class="copy small" data-copy={props.text} aria-label={`Copy ${props.label}`} hidden>
			Copy
		</button>
	);
}

/** One value to copy: its text, selectable, and its button. */
function Copyable(props: { text: string; label: string; href?: string | null; testId: string }) {
	return (
		<div class="copyable" data-connect={props.testId}>
			{props.href
				? <a class="mono" href={props.href} target="_blank" rel="noopener noreferrer">{props.text}</a>
				: <code>{props.text}</code>}
			<CopyButton text={props.text} label={props.label} />
		</div>
	);
}

function linkId(link: AppLink): string {
	return `link-${link.label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
}

/** The connection's values as label/value pairs. */
function ConnectFacts(props: { connection: Connection }) {
	const { connection } = props;
	if (!connection.host) return <p class="muted small" data-connect="waiting">{connection.waiting}</p>;
	return (
		<dl class="facts">
			<dt>Address</dt>
			<dd>
				<Copyable text={connection.host} label="address" testId="host" />
			</dd>
			<dt>SSH</dt>
			<dd>
				<Copyable text={connection.ssh!} label="SSH command" testId="ssh" />
			</dd>
			{connection.links.map((link) => (
				<>
					<dt>{link.label}</dt>
					<dd>
						<Copyable text={link.text} label={link.label} href={link.href} testId={linkId(link)} />
					</dd>
				</>
			))}
		</dl>
	);
}

/** The connection panel of a machine's page; nothing once it has ended. */
export function ConnectPanel(props: { connection: Connection | null }) {
	if (!props.connection) return null;
	return (
		<section class="panel connect" id="connect" aria-labelledby="connect-heading">
			<h2 id="connect-heading">Connect</h2>
			<ConnectFacts connection={props.connection} />
			<p class="small muted copy-status" role="status" aria-live="polite"></p>
		</section>
	);
}

/** The compact form of a row: folded under "Connect", opened by click or keyboard without JavaScript. */
export function ConnectCompact(props: { connection: Connection | null }) {
	if (!props.connection) return null;
	return (
		<details class="connect-compact">
			<summary class="small">Connect</summary>
			<div class="connect-popup">
				<ConnectFacts connection={props.connection} />
				<p class="small muted copy-status" role="status" aria-live="polite"></p>
			</div>
		</details>
	);
}
