/**
 * The approvals page (GET /approvals, GET /approvals/:id): requests with their reasons, decisions
 * and grants, the decision form for those who decide, withdrawing for the requester, and for admins
 * what needs an approval.
 */
import type { ApprovalRowProps, ApprovalRulesProps, ApprovalsPageProps } from "../../lib/views/approvals.ts";
import { CsrfField, EmptyState, FilterSelect } from "./components.tsx";
import { formatMoney, formatTime } from "./format.ts";
import { Layout, type PageContext } from "./Layout.tsx";

const STATUS_TONE: Record<string, string> = {
	pending: "busy",
	approved: "ok",
	denied: "bad",
	cancelled: "off",
	expired: "off",
};

function DecisionForm(props: { row: ApprovalRowProps; csrf: string; today: string }) {
	const { row } = props;
	const id = `decide-${row.id}`;
	return (
		<form method="post" action={`/approvals/${row.id}/decide`} class="stack decide">
			<CsrfField token={props.csrf} />
			<div class="grid">
				<div class="field">
					<label for={`${id}-until`}>Grant until (end of the day)</label>
					<input id={`${id}-until`} name="until" type="date" min={props.today} value={row.untilDay} />
				</div>
				{row.kind === "budget" && (
					<div class="field">
						<label for={`${id}-amount`}>Dollars granted</label>
						<input
							id={`${id}-amount`}
							name="amount"
							type="number"
							min="1"
							step="any"
							value={row.amount === null ? "" : String(row.amount)}
						/>
					</div>
				)}
			</div>
			<div class="field">
				<label for={`${id}-comment`}>Comment (told to the requester; needed to deny)</label>
				<textarea id={`${id}-comment`} name="comment" rows={2} class="prose"></textarea>
			</div>
			<div class="row">
				<button type="submit" name="decision" value="approve" class="primary">Approve</button>
				<button type="submit" name="decision" value="deny" class="danger">Deny</button>
			</div>
		</form>
	);
}

function RequestCard(props: { row: ApprovalRowProps; csrf: string; tz: string; today: string; full: boolean }) {
	const { row, tz } = props;
	return (
		<article class="panel request" data-request={row.id} data-status={row.status}>
			<div class="row">
				<h3>
					<a href={row.href}>#{row.id}</a> {row.summary}
				</h3>
				<span class="spacer"></span>
				<span class={`badge ${STATUS_TONE[row.status] ?? "off"}`}>{row.status}</span>
			</div>
			<p class="small muted">
				Asked by {row.requester}
				{row.group ? ` (${row.group})` : ""} on {formatTime(row.createdAt, tz)}, until {formatTime(row.until, tz)}
			</p>
			<ul class="reasons">
				{row.reasons.map((reason) => <li>{reason}</li>)}
			</ul>
			{row.note && <p>“{row.note}”</p>}
			{row.decider && (
				<p class="decision">
					{row.status === "denied" ? "Denied" : "Approved"} by {row.decider} on {formatTime(row.decidedAt, tz)}
					{row.grantUntil && row.status !== "denied" ? `, granted until ${formatTime(row.grantUntil, tz)}` : ""}
					{row.kind === "budget" && row.amount !== null && row.status !== "denied"
						? ` ($${formatMoney(row.amount)} asked)`
						: ""}
					{row.comment ? `: “${row.comment}”` : "."}
				</p>
			)}
			{row.launchHref && (
				<p>
					<a href={row.launchHref}>Follow the launch</a>
				</p>
			)}
			{row.outcome && <p class="error-box">The launch could not be recorded: {row.outcome}</p>}
			{row.mayDecide && <DecisionForm row={row} csrf={props.csrf} today={props.today} />}
			{row.mayCancel && (
				<form method="post" action={`/approvals/${row.id}/cancel`}>
					<CsrfField token={props.csrf} />
					<button type="submit">Withdraw</button>
				</form>
			)}
		</article>
	);
}

function Rules(props: { rules: ApprovalRulesProps; csrf: string }) {
	const { rules } = props;
	return (
		<section class="panel" aria-labelledby="rules-title">
			<h2 id="rules-title">What needs an approval</h2>
			{rules.rows.length === 0
				? <p class="muted">Nothing is marked: launches need an approval only when a budget is used up.</p>
				: (
					<ul class="rules">
						{rules.rows.map((rule) => (
							<li>
								{rule.text}
								{rule.note && <span class="muted">: {rule.note}</span>}{" "}
								<form method="post" action={`/approvals/rules/${rule.id}/delete`} class="inline">
									<CsrfField token={props.csrf} />
									<button type="submit" class="danger">Remove</button>
								</form>
							</li>
						))}
					</ul>
				)}
			<form method="post" action="/approvals/rules" class="filters">
				<CsrfField token={props.csrf} />
				<div class="field">
					<label for="rule-subject">Mark</label>
					<select id="rule-subject" name="subject">
						<option value="instance_type">an instance type</option>
						<option value="config">a configuration (its id)</option>
						<option value="volume">volumes from (GiB)</option>
					</select>
				</div>
				<div class="field">
					<label for="rule-value">Which</label>
					<input id="rule-value" name="value" list="rule-values" required maxLength={60} />
					<datalist id="rule-values">
						{rules.types.map((t) => <option value={String(t.value)}>{t.label}</option>)}
						{rules.configs.map((c) => <option value={String(c.value)}>{c.label}</option>)}
					</datalist>
				</div>
				<div class="field">
					<label for="rule-note">Note</label>
					<input id="rule-note" name="note" maxLength={200} placeholder="GPU types: ask your manager" />
				</div>
				<button type="submit" class="primary">Mark it</button>
			</form>
		</section>
	);
}

export function ApprovalsPage(props: { ctx: PageContext; page: ApprovalsPageProps }) {
	const { ctx, page } = props;
	const full = page.focus !== undefined;
	return (
		<Layout ctx={ctx} title={full ? `Request #${page.focus}` : "Approvals"}>
			{full
				? (
					<p class="small">
						<a href="/approvals">← All requests</a>
					</p>
				)
				: null}
			<h1>{full ? `Request #${page.focus}` : "Approvals"}</h1>
			{!full && (
				<form class="filters" method="get" action="/approvals">
					<FilterSelect
						name="status"
						label="Status"
						anyLabel="Any"
						options={page.statuses}
						selected={page.filters.status}
					/>
					<FilterSelect name="kind" label="Kind" anyLabel="Any" options={page.kinds} selected={page.filters.kind} />
					{page.groups.length > 1 && (
						<FilterSelect
							name="group"
							label="Group"
							anyLabel="All groups"
							options={page.groups}
							selected={page.filters.groupId}
						/>
					)}
					<div class="field">
						<div class="checks">
							<label>
								<input type="checkbox" name="mine" value="on" checked={page.filters.mine} /> Only mine
							</label>
						</div>
					</div>
					<button type="submit" class="primary">Show</button>
				</form>
			)}
			{page.rows.length === 0
				? (
					<EmptyState title="No request matches.">
						<p>A launch the portal refuses for a budget or an approval rule offers to ask for an exception.</p>
					</EmptyState>
				)
				: page.rows.map((row) => (
					<RequestCard row={row} csrf={ctx.csrf} tz={page.timeZone} today={page.today} full={full} />
				))}
			{!full && page.rules && <Rules rules={page.rules} csrf={ctx.csrf} />}
		</Layout>
	);
}
