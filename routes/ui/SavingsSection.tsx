/**
 * The billing page's savings: per group and month, the hours the machine policies kept machines
 * stopped and what those hours would have cost; for admins, which policies acted most (a table)
 * and the actions by policy (a chart).
 */
import type { SavingsProps } from "../../lib/views/billing.ts";
import { ChartIsland, EmptyState } from "./components.tsx";
import { formatHours, formatMoney } from "./format.ts";

const REASONS: Record<string, string> = {
	idle: "Idle",
	schedule: "Working hours",
	lifetime: "Lifetime",
	dormancy: "Dormancy",
};

function actionsText(actions: Record<string, number>): string {
	const done = Object.entries(actions).filter(([, n]) => n > 0);
	return done.length ? done.map(([reason, n]) => `${REASONS[reason] ?? reason} ${n}`).join(" · ") : "—";
}

export function SavingsSection(props: { savings: SavingsProps }) {
	const { savings } = props;
	const months = savings.from === savings.to ? savings.from : `${savings.from} to ${savings.to}`;
	return (
		<section aria-labelledby="savings-heading" data-savings>
			<h2 id="savings-heading">What the machine policies saved</h2>
			<p class="muted small">
				Per group and month ({months}, whole months): the hours machines stayed stopped after a policy stopped them, at
				the rate each was billed at then; a terminated machine counts to the end of the range.
				{savings.groupOnly ? " Savings are per group: the user and cost-center filters do not narrow them." : ""}
			</p>
			{savings.rows.length === 0
				? (
					<EmptyState title="No policy stopped or terminated anything in these months.">
						<p>Policies are set on groups and configurations by the admins.</p>
					</EmptyState>
				)
				: (
					<div class="table-wrap">
						<table class="responsive">
							<caption class="sr-only">Policy savings per group and month</caption>
							<thead>
								<tr>
									<th scope="col">Month</th>
									<th scope="col">Group</th>
									<th scope="col" class="num">Hours stopped</th>
									<th scope="col" class="num">Not spent</th>
									<th scope="col">Actions</th>
								</tr>
							</thead>
							<tbody>
								{savings.rows.map((row) => (
									<tr data-savings-row={`${row.month} ${row.groupName}`}>
										<td data-label="Month">{row.month}</td>
										<td data-label="Group">{row.groupName}</td>
										<td data-label="Hours stopped" class="num">{formatHours(row.hours)}</td>
										<td data-label="Not spent" class="num">${formatMoney(row.dollars)}</td>
										<td data-label="Actions" class="small">{actionsText(row.actions)}</td>
									</tr>
								))}
							</tbody>
							<tfoot>
								<tr>
									<td colSpan={2}>Total</td>
									<td data-label="Hours stopped" class="num">{formatHours(savings.total.hours)}</td>
									<td data-label="Not spent" class="num">${formatMoney(savings.total.dollars)}</td>
									<td data-label="Actions">
										{savings.total.actions} action{savings.total.actions === 1 ? "" : "s"}
									</td>
								</tr>
							</tfoot>
						</table>
					</div>
				)}
			{savings.mostActive && savings.byReason && (
				<div class="grid savings-admin">
					<div class="panel">
						<h3>Which policies acted most</h3>
						{savings.mostActive.length === 0 ? <p class="muted">No policy acted in these months.</p> : (
							<table>
								<thead>
									<tr>
										<th scope="col">Group</th>
										<th scope="col">Policy</th>
										<th scope="col" class="num">Actions</th>
									</tr>
								</thead>
								<tbody>
									{savings.mostActive.map((entry) => (
										<tr>
											<td>{entry.groupName}</td>
											<td>{REASONS[entry.reason] ?? entry.reason}</td>
											<td class="num">{entry.actions}</td>
										</tr>
									))}
								</tbody>
							</table>
						)}
					</div>
					<div class="panel">
						<h3>Actions by policy</h3>
						<ChartIsland
							kind="bar"
							title="Policy actions by reason"
							labels={savings.byReason.map(([reason]) => REASONS[reason] ?? reason)}
							values={savings.byReason.map(([, n]) => n)}
							unit="count"
							format={String}
							empty="No policy acted in these months."
						/>
					</div>
				</div>
			)}
		</section>
	);
}
