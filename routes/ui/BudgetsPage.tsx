/** The budgets page (GET /budgets): each budget's bar, its form for those who may set it, and "ask for more". */
import type { BudgetRowProps, BudgetsPageProps } from "../../lib/views/budgets.ts";
import { BudgetBar } from "./BudgetBars.tsx";
import { CsrfField, EmptyState } from "./components.tsx";
import { DataForm, type FormItem } from "./forms.tsx";
import { Layout, type PageContext } from "./Layout.tsx";

const SCOPE_LABELS = { group: "A group", user: "A user", cost_center: "A cost center" } as const;

/** The fields of a budget's form; `scopes` are those the viewer may set. */
function budgetItems(props: BudgetsPageProps, scopes: BudgetsPageProps["scopes"]): FormItem[] {
	return [
		{
			control: "select",
			name: "scope",
			label: "Budget of",
			options: scopes.map((s) => ({ value: s, label: SCOPE_LABELS[s] })),
		},
		{
			grid: [
				...(scopes.includes("group")
					? [{
						control: "select" as const,
						name: "groupId",
						label: "Group",
						options: [
							{ value: "", label: "—" },
							...props.groups.map((g) => ({ value: String(g.value), label: g.label })),
						],
					}]
					: []),
				...(scopes.includes("user")
					? [{ control: "text" as const, name: "username", label: "Username", hint: "for a user's budget" }]
					: []),
				...(scopes.includes("cost_center")
					? [{ control: "text" as const, name: "costCenter", label: "Cost center", hint: "for a cost center's budget" }]
					: []),
			],
		},
		{
			grid: [
				{ control: "number", name: "amount", label: "Dollars a month", required: true },
				{ control: "number", name: "warnPercent", label: "Warning at (%)", fallback: "80" },
			],
		},
		{
			grid: [
				{ control: "number", name: "hardPercent", label: "Hard limit (%)", hint: "e.g. 120; or an amount" },
				{ control: "number", name: "hardAmount", label: "Hard limit ($)", hint: "leave both empty for none" },
				{
					control: "number",
					name: "noticeMinutes",
					label: "Notice before the stops (minutes)",
					fallback: "60",
				},
			],
		},
		{
			note:
				"At the warning share its users and managers are told; at 100 % new launches need an approval; at the hard limit its running machines are stopped after the notice, the most expensive first.",
		},
	];
}

function AskForMore(props: { row: BudgetRowProps; csrf: string; today: string; monthEnd: string }) {
	const { row } = props;
	const id = `ask-${row.id}`;
	return (
		<details class="ask">
			<summary>Ask for more</summary>
			<form method="post" action="/approvals" class="stack">
				<CsrfField token={props.csrf} />
				<input type="hidden" name="kind" value="budget" />
				<input type="hidden" name="budgetId" value={String(row.id)} />
				<div class="grid">
					<div class="field">
						<label for={`${id}-amount`}>Dollars more</label>
						<input id={`${id}-amount`} name="amount" type="number" min="1" step="any" required />
					</div>
					<div class="field">
						<label for={`${id}-until`}>Until (end of the day)</label>
						<input id={`${id}-until`} name="until" type="date" min={props.today} value={props.monthEnd} required />
					</div>
				</div>
				<div class="field">
					<label for={`${id}-note`}>Why</label>
					<input id={`${id}-note`} name="note" maxLength={500} />
				</div>
				<div class="row">
					<button type="submit" class="primary">Send the request</button>
				</div>
			</form>
		</details>
	);
}

function BudgetRow(props: { row: BudgetRowProps; page: BudgetsPageProps; csrf: string }) {
	const { row, page, csrf } = props;
	return (
		<div class="panel" id={`budget-${row.id}`}>
			<BudgetBar bar={row} />
			<div class="row">
				{row.mayAsk && <AskForMore row={row} csrf={csrf} today={page.today} monthEnd={page.monthEnd} />}
				{row.mayEdit && <a class="btn" href={`/budgets?edit=${row.id}#set-budget`}>Change</a>}
				{row.mayEdit && (
					<form method="post" action={`/budgets/${row.id}/delete`}>
						<CsrfField token={csrf} />
						<button type="submit" class="danger">Remove</button>
					</form>
				)}
			</div>
		</div>
	);
}

export function BudgetsPage(props: { ctx: PageContext; page: BudgetsPageProps }) {
	const { ctx, page } = props;
	return (
		<Layout ctx={ctx} title="Budgets">
			<h1>Budgets</h1>
			<p class="muted">
				Monthly budgets in {page.timeZone}{" "}
				time, spent from the billed periods of instances, volumes and clusters. The forecast is the spend so far plus
				what runs now until the end of the month.
			</p>
			{page.rows.length === 0
				? (
					<EmptyState title="No budget covers you yet.">
						<p>Admins set budgets for groups and cost centers, managers for their groups' users.</p>
					</EmptyState>
				)
				: page.rows.map((row) => <BudgetRow row={row} page={page} csrf={ctx.csrf} />)}
			{page.scopes.length > 0 && (
				<section id="set-budget" aria-label={page.editing ? "Change the budget" : "Set a budget"}>
					<DataForm
						action="/budgets"
						csrf={ctx.csrf}
						title={page.editing ? "Change the budget" : "Set a budget"}
						items={budgetItems(page, page.scopes)}
						values={page.values}
						errors={page.errors}
						buttons={[{ label: page.editing ? "Save" : "Set the budget", primary: true }]}
						cancel={page.editing ? "/budgets" : undefined}
					/>
				</section>
			)}
		</Layout>
	);
}
