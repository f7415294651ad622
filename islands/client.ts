/**
 * Hydrates the islands the server rendered: every element with data-island gets its component,
 * with the JSON props from data-props. Runs at load and after every htmx swap.
 */
import { h, render } from "preact";
import { Chart, type ChartProps } from "./Chart.tsx";

const islands: Record<string, (props: ChartProps) => ReturnType<typeof Chart>> = { Chart };

function hydrateIslands(root: ParentNode): void {
	for (const el of root.querySelectorAll<HTMLElement>("[data-island]")) {
		if (el.dataset.hydrated) continue;
		const component = islands[el.dataset.island ?? ""];
		if (!component) continue;
		try {
			const props = JSON.parse(el.dataset.props ?? "{}") as ChartProps;
			el.dataset.hydrated = "1";
			render(h(component, props), el);
		} catch (error) {
			el.dataset.hydrated = "error";
			// deno-lint-ignore no-console
			console.error("island failed", el.dataset.island, error);
		}
	}
}

if (document.readyState === "loading") {
	document.addEventListener("DOMContentLoaded", () => hydrateIslands(document));
} else {
	hydrateIslands(document);
}
document.addEventListener("htmx:after:swap", () => hydrateIslands(document));
