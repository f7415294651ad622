/**
 * The budget and approval pages render from pure components: hand-written props in, HTML out (as
 * components_test.ts does for the other pages). A bar's figures and rung, the budgets page's forms
 * as the viewer may use them, a request with its decision form or its decision, the refusal of a
 * launch that needs an approval.
 */
import assert from "node:assert/strict";
import type { ApprovalRowProps, ApprovalsPageProps } from "../lib/views/approvals.ts";
import type { BudgetBarProps, BudgetsPageProps } from "../lib/views/budgets.ts";
import type { ApprovalNeededProps } from "../lib/views/wizard.ts";
import { ApprovalsPage } from "../routes/ui/ApprovalsPage.tsx";
import { BudgetBar, BudgetBars } from "../routes/ui/BudgetBars.tsx";
import { BudgetsPage } from "../routes/ui/BudgetsPage.tsx";
import type { PageContext } from "../routes/ui/Layout.tsx";
import { ApprovalNeeded } from "../routes/ui/LaunchSteps.tsx";
import { renderFragment, renderPage } from "../routes/ui/render.tsx";

const NOW = new Date("2025-03-10T12:00:00Z");
const ctx: PageContext = {
	viewer: { id: 1, username: "alice", name: "Alice Ng", email: "", role: "user", groupIds: [1], managedGroupIds: [] },
	csrf: "the-csrf-token",
	path: "/budgets",
	launchHref: "/launch/1",
	timeZone: "UTC",
	now: NOW,
};

function bar(extra: Partial<BudgetBarProps> = {}): BudgetBarProps {
	return {
		id: 3,
		scope: "group",
		title: "Group science",
		month: "2025-03",
		limit: 1000,
		spent: 850,
		forecast: 1900,
		left: 150,
		percent: 85,
		warnAt: 800,
		hardAt: 1200,
		level: "warning",
		outlook: "runs out on the 12th at the current burn",
		burn: 2.5,
		unknown: 0,
		granted: 0,
		...extra,
	};
}

Deno.test("BudgetBar: a meter of spent against the limit, its rung, the forecast and what is left or over", () => {
	const html = renderFragment(BudgetBar({ bar: bar() }));
	assert.match(html, /data-budget="3" data-level="warning"/);
	assert.match(html, /<span class="badge busy">warning<\/span>/);
	assert.match(html, /<meter min="0" max="1000" value="850" low="800" high="800" optimum="0"/);
	assert.match(html, /85 % spent in 2025-03 · forecast \$1,900\.00 · \$150\.00 left · runs out on the 12th/);
	const over = renderFragment(
		BudgetBar({ bar: bar({ spent: 1250, left: -250, percent: 125, level: "hard", granted: 200, unknown: 1 }) }),
	);
	assert.match(over, /value="1000"/, "the meter stops at the limit");
	assert.match(over, /\$250\.00 over/);
	assert.match(over, /<span class="badge bad">hard limit<\/span>/);
	assert.match(over, /incl\. \$200\.00 granted/);
	assert.match(over, /1 period\(s\) of unknown price not counted/);
	assert.equal(
		BudgetBars({ budgets: { bars: [], href: "/budgets" }, title: "My budgets" }),
		null,
		"no budget: no section",
	);
});

function budgetsPage(extra: Partial<BudgetsPageProps> = {}): BudgetsPageProps {
	return {
		rows: [{ ...bar(), values: { scope: "group", groupId: "1", amount: "1000" }, mayEdit: false, mayAsk: true }],
		scopes: [],
		groups: [{ value: 1, label: "science" }],
		values: {},
		editing: false,
		errors: {},
		timeZone: "UTC",
		today: "2025-03-10",
		monthEnd: "2025-03-31",
		...extra,
	};
}

Deno.test("BudgetsPage: a user may ask for more; an admin changes, removes and sets budgets", () => {
	const user = renderPage(BudgetsPage({ ctx, page: budgetsPage() }));
	assert.match(user, /<input type="hidden" name="budgetId" value="3">/);
	assert.match(user, /name="until" type="date" min="2025-03-10" value="2025-03-31"/);
	assert.doesNotMatch(user, /Change<\/a>|Remove<\/button>|Set a budget/);
	const admin = renderPage(BudgetsPage({
		ctx,
		page: budgetsPage({
			rows: [{ ...budgetsPage().rows[0]!, mayEdit: true }],
			scopes: ["group", "user", "cost_center"],
			errors: { amount: "Dollars a month, above 0" },
		}),
	}));
	assert.match(admin, /<a class="btn" href="\/budgets\?edit=3#set-budget">Change<\/a>/);
	assert.match(admin, /action="\/budgets\/3\/delete"/);
	assert.match(
		admin,
		/<option value="cost_center" >A cost center<\/option>|<option value="cost_center">A cost center<\/option>/,
	);
	assert.match(admin, /Dollars a month, above 0/);
	const empty = renderPage(BudgetsPage({ ctx, page: budgetsPage({ rows: [] }) }));
	assert.match(empty, /No budget covers you yet\./);
});

function request(extra: Partial<ApprovalRowProps> = {}): ApprovalRowProps {
	return {
		id: 7,
		href: "/approvals/7",
		kind: "launch",
		status: "pending",
		requester: "Alice Ng",
		group: "science",
		summary: "launch Analyst (r4.4xlarge) in science",
		reasons: ["The instance type r4.4xlarge needs approval."],
		note: "deadline",
		until: new Date("2025-03-15T00:00:00Z"),
		createdAt: NOW,
		decider: null,
		decidedAt: null,
		comment: "",
		grantUntil: null,
		launchHref: null,
		outcome: null,
		mayDecide: true,
		mayCancel: false,
		untilDay: "2025-03-14",
		amount: null,
		...extra,
	};
}

function approvalsPage(extra: Partial<ApprovalsPageProps> = {}): ApprovalsPageProps {
	return {
		filters: { status: "pending" },
		statuses: [{ value: "pending", label: "pending" }, { value: "approved", label: "approved" }],
		kinds: [{ value: "launch", label: "launches" }],
		groups: [{ value: 1, label: "science" }],
		rows: [request()],
		timeZone: "UTC",
		today: "2025-03-10",
		...extra,
	};
}

Deno.test("ApprovalsPage: a pending request with its decision form; a decided one with its decision and launch", () => {
	const html = renderPage(ApprovalsPage({ ctx: { ...ctx, path: "/approvals" }, page: approvalsPage() }));
	assert.match(html, /data-request="7" data-status="pending"/);
	assert.match(html, /<li>The instance type r4\.4xlarge needs approval\.<\/li>/);
	assert.match(html, /action="\/approvals\/7\/decide"/);
	assert.match(html, /name="until" type="date" min="2025-03-10" value="2025-03-14"/);
	assert.match(html, /<button type="submit" name="decision" value="deny" class="danger">Deny<\/button>/);
	assert.match(html, /<option value="pending" selected>pending<\/option>/);
	const decided = renderPage(ApprovalsPage({
		ctx,
		page: approvalsPage({
			rows: [request({
				status: "approved",
				mayDecide: false,
				decider: "Mia",
				decidedAt: NOW,
				comment: "fine",
				grantUntil: new Date("2025-03-14T00:00:00Z"),
				launchHref: "/launches/abc",
			})],
			focus: 7,
		}),
	}));
	assert.match(decided, /Approved by Mia on 2025-03-10 12:00, granted until 2025-03-14 00:00: “fine”/);
	assert.match(decided, /<a href="\/launches\/abc">Follow the launch<\/a>/);
	assert.doesNotMatch(decided, /\/decide"/);
	assert.doesNotMatch(decided, /name="mine"/, "one request in full: no filters");
	const rules = renderPage(ApprovalsPage({
		ctx,
		page: approvalsPage({
			rules: {
				rows: [{ id: 2, subject: "instance_type", text: "Instance type p3.2xlarge", note: "GPU" }],
				types: [],
				configs: [],
			},
		}),
	}));
	assert.match(rules, /Instance type p3\.2xlarge<span class="muted">: GPU<\/span>/);
	assert.match(rules, /action="\/approvals\/rules\/2\/delete"/);
});

Deno.test("ApprovalNeeded: the reasons, the budgets' bars, and a request form that posts the launch again", () => {
	const refusal: ApprovalNeededProps = {
		group: { id: 1, name: "science" },
		config: { id: 2, name: "Analyst" },
		reasons: ["The group science's budget is used up: $1,012.40 of $1,000.00 spent in 2025-03 (101 %)."],
		budgets: [bar({ level: "exhausted", percent: 101 })],
		fields: { instanceType: "t2.micro", securityGroups: ["sg-a", "sg-b"] },
		today: "2025-03-10",
		until: "2025-03-31",
	};
	const html = renderPage(ApprovalNeeded({ ctx, refusal }));
	assert.match(html, /<h1>This launch needs an approval<\/h1>/);
	assert.match(html, /\$1,012\.40 of \$1,000\.00 spent in 2025-03 \(101 %\)/);
	assert.match(html, /data-level="exhausted"/);
	assert.match(
		html,
		/<input type="hidden" name="launch\.securityGroups" value="sg-a"><input type="hidden" name="launch\.securityGroups" value="sg-b">/,
	);
	assert.match(html, /<input type="hidden" name="kind" value="launch">/);
	assert.match(html, /Request an exception<\/button>/);
});
