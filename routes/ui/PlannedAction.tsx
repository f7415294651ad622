/** A machine's next planned policy action, under its state in a row: what and when, and why on hover. */
import type { NextAction } from "../../lib/views/policy.ts";

export function PlannedAction(props: { next?: NextAction }) {
	const { next } = props;
	if (!next) return null;
	return (
		<div class={`planned small ${next.action}`} data-planned={next.reason} title={`Why: ${next.why}`}>
			{next.summary}
		</div>
	);
}
