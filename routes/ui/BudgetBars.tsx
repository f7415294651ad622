/** Budget bars: spent this month against the limit, the forecast at the current burn, and when it runs out. */
import type { BudgetBarProps, BudgetBarsProps } from "../../lib/views/budgets.ts";
import { formatMoney } from "./format.ts";

const LEVEL: Record<BudgetBarProps["level"], { text: string; tone: string }> = {
	ok: { text: "on track", tone: "ok" },
	warning: { text: "warning", tone: "busy" },
	exhausted: { text: "used up", tone: "bad" },
	hard: { text: "hard limit", tone: "bad" },
};

/** One budget: a meter of spent against the limit (its warning share marked as "high"), and the figures. */
export function BudgetBar(props: { bar: BudgetBarProps }) {
	const { bar } = props;
	const level = LEVEL[bar.level];
	return (
		<div class="budget" data-budget={bar.id} data-level={bar.level}>
			<div class="budget-head">
				<strong>{bar.title}</strong>
				<span class={`badge ${level.tone}`}>{level.text}</span>
				<span class="spacer"></span>
				<span class="nowrap">
					${formatMoney(bar.spent)} of ${formatMoney(bar.limit)}
				</span>
			</div>
			<meter
				min={0}
				max={bar.limit}
				value={Math.min(bar.spent, bar.limit)}
				low={bar.warnAt}
				high={bar.warnAt}
				optimum={0}
				aria-label={`${bar.title}: ${bar.percent} % of the budget spent in ${bar.month}`}
			>
				{bar.percent} %
			</meter>
			<div class="small muted">
				{bar.percent} % spent in {bar.month} · forecast ${formatMoney(bar.forecast)} ·{" "}
				{bar.left >= 0 ? `$${formatMoney(bar.left)} left` : `$${formatMoney(-bar.left)} over`} · {bar.outlook}
				{bar.granted > 0 && <>· incl. ${formatMoney(bar.granted)} granted</>}
				{bar.unknown > 0 && <>· {bar.unknown} period(s) of unknown price not counted</>}
			</div>
		</div>
	);
}

/** A section of bars; nothing when there is no budget to show. */
export function BudgetBars(props: { budgets: BudgetBarsProps; title: string }) {
	const { bars, href } = props.budgets;
	if (bars.length === 0) return null;
	return (
		<section class="panel budgets" aria-label={props.title}>
			<div class="row">
				<h2>{props.title}</h2>
				<span class="spacer"></span>
				<a href={href}>Budgets</a>
			</div>
			{bars.map((bar) => <BudgetBar bar={bar} />)}
		</section>
	);
}
