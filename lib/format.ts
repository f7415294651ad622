/** Money as the pages and reports show it. */

/** Formats $/hour: sub-cent rates keep their digits ($0.0058/h), larger ones two decimals. */
export function formatRate(hourly: number | null | undefined): string {
	if (hourly === null || hourly === undefined) return "price unknown";
	return `$${formatMoney(hourly)}/h`;
}

/** Formats dollars with enough digits that sub-cent amounts are not shown as 0.00. */
export function formatMoney(amount: number): string {
	if (amount !== 0 && Math.abs(amount) < 0.1) return amount.toFixed(4).replace(/0+$/, "").replace(/\.$/, ".00");
	return amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}
