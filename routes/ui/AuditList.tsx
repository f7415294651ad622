/** A machine's recent activity, whatever its kind: who did what, when, and how it ended. */
import type { AuditEntry } from "../../lib/views/machines.ts";
import { formatTime } from "./format.ts";

const OUTCOME_TONE: Record<AuditEntry["outcome"], string> = { ok: "ok", refused: "busy", error: "bad" };

export function AuditList(props: { events: AuditEntry[]; timeZone: string }) {
	return (
		<>
			<h2>Recent activity</h2>
			{props.events.length === 0 ? <p class="muted">Nothing recorded yet.</p> : (
				<div class="table-wrap">
					<table>
						<thead>
							<tr>
								<th scope="col">When</th>
								<th scope="col">Who</th>
								<th scope="col">What</th>
								<th scope="col">Outcome</th>
							</tr>
						</thead>
						<tbody>
							{props.events.map((e) => (
								<tr>
									<td>{formatTime(e.at, props.timeZone)}</td>
									<td>{e.actor}</td>
									<td>{e.action}</td>
									<td>
										<span class={`badge ${OUTCOME_TONE[e.outcome]}`}>{e.outcome}</span>
										{e.detail && <span class="small muted">{e.detail}</span>}
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			)}
		</>
	);
}
