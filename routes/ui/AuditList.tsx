/** A machine's recent activity, whatever its kind: who did what, when, and how it ended. */
import type { AuditEntry } from "../../lib/views/machines.ts";
import { type Column, ItemTable } from "./components.tsx";
import { formatTime } from "./format.ts";

const OUTCOME_TONE: Record<AuditEntry["outcome"], string> = { ok: "ok", refused: "busy", error: "bad", sent: "busy" };

function columns(timeZone: string): Column<AuditEntry>[] {
	return [
		{ label: "When", cell: (e) => formatTime(e.at, timeZone) },
		{ label: "Who", cell: (e) => e.actor },
		{ label: "What", cell: (e) => e.action },
		{
			label: "Outcome",
			cell: (e) => (
				<>
					<span class={`badge ${OUTCOME_TONE[e.outcome]}`}>{e.outcome}</span>
					{e.detail && <span class="small muted">{e.detail}</span>}
				</>
			),
		},
	];
}

export function AuditList(props: { events: AuditEntry[]; timeZone: string; allHref?: string }) {
	return (
		<>
			<h2>Recent activity</h2>
			{props.events.length === 0
				? <p class="muted">Nothing recorded yet.</p>
				: <ItemTable columns={columns(props.timeZone)} rows={props.events} />}
			{props.allHref && (
				<p class="small">
					<a href={props.allHref}>All of its audit trail →</a>
				</p>
			)}
		</>
	);
}
