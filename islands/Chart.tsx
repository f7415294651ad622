/** A chart.js chart (doughnut or bar) for data the server rendered; hydrated by islands/client.ts. */
import { useEffect, useRef } from "preact/hooks";
import {
	ArcElement,
	BarController,
	BarElement,
	CategoryScale,
	Chart as ChartJs,
	DoughnutController,
	Legend,
	LinearScale,
	Tooltip,
} from "chart.js";
import { formatMoney, formatRate } from "../lib/format.ts";

ChartJs.register(
	ArcElement,
	BarController,
	BarElement,
	CategoryScale,
	DoughnutController,
	Legend,
	LinearScale,
	Tooltip,
);

/** JSON-only props, as the server writes them into data-props. */
export interface ChartProps {
	kind: "doughnut" | "bar";
	title: string;
	labels: string[];
	values: number[];
	/** "usd-per-hour", "usd" or "count": how values are shown in tooltips and axes. */
	unit: "usd-per-hour" | "usd" | "count";
	colors?: string[];
}

const PALETTE = [
	"#1f5fbf",
	"#1e7b46",
	"#d08700",
	"#b3261e",
	"#6b4fbb",
	"#0f8a8a",
	"#8a5a00",
	"#55606e",
	"#c2185b",
	"#3d7a1f",
];

/** How a value reads in a tooltip or on an axis: the pages' own money formatting. */
export function formatValue(value: number, unit: ChartProps["unit"]): string {
	if (unit === "count") return String(value);
	// The pages' own formatting, so a tooltip reads like the table beside it.
	return unit === "usd-per-hour" ? formatRate(value) : `$${formatMoney(value)}`;
}

export function Chart(props: ChartProps) {
	const canvas = useRef<HTMLCanvasElement>(null);
	useEffect(() => {
		if (!canvas.current) return;
		const colors = props.colors ?? props.labels.map((_, i) => PALETTE[i % PALETTE.length]!);
		const chart = new ChartJs(canvas.current, {
			type: props.kind,
			data: {
				labels: props.labels,
				datasets: [{ label: props.title, data: props.values, backgroundColor: colors, borderWidth: 1 }],
			},
			options: {
				responsive: true,
				maintainAspectRatio: false,
				animation: false,
				plugins: {
					legend: { display: props.kind === "doughnut", position: "bottom" },
					tooltip: { callbacks: { label: (item) => `${item.label}: ${formatValue(Number(item.raw), props.unit)}` } },
				},
				...(props.kind === "bar"
					? {
						scales: {
							y: {
								beginAtZero: true,
								// A count has whole ticks: 0.2 of an action means nothing.
								ticks: {
									precision: props.unit === "count" ? 0 : undefined,
									callback: (v) => formatValue(Number(v), props.unit),
								},
							},
						},
					}
					: {}),
			},
		});
		return () => chart.destroy();
	}, [JSON.stringify(props)]);
	return <canvas ref={canvas} role="img" aria-label={props.title} />;
}
