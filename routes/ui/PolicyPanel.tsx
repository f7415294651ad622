/**
 * A machine's policy on its detail page: the rules with the values that apply to it, its workload
 * signals, the actions planned, and two forms — "keep it running" (anyone who may control it,
 * bounded by the policy) and "change its policy" (the owner or an admin, within the bounds). Both
 * post with htmx and swap `target` (the machine's panel) with the answer, as the panel's actions do.
 */
import type { KeepAliveForm, PolicyChangeForm, PolicyPanelProps } from "../../lib/views/policy.ts";
import { formatAgo, formatTime } from "./format.ts";
import { PolicyChoiceInputs, PolicyRules } from "./PolicyFields.tsx";

/** The htmx attributes of a form that posts to `url` and swaps `target` with the answer. */
function posts(url: string, target: string, confirm?: string): Record<string, string> {
	return {
		"hx-post": url,
		"hx-target": target,
		"hx-swap": "outerHTML",
		...(confirm ? { "hx-confirm": confirm } : {}),
	};
}

function Result(props: { result?: PolicyPanelProps["result"]; form: "change" | "keepAlive" }) {
	const { result } = props;
	if (!result || result.form !== props.form) return null;
	return (
		<p class={`flash ${result.tone}`} role={result.tone === "error" ? "alert" : "status"} data-policy-result>
			{result.text}
		</p>
	);
}

function KeepAlive(
	props: { form: KeepAliveForm; id: string; target: string; panel: PolicyPanelProps },
) {
	const { form, id, target, panel } = props;
	const tz = panel.timeZone;
	return (
		<div class="keep-alive" data-keep-alive>
			<h3>Keep it running</h3>
			<Result result={panel.result} form="keepAlive" />
			<p class="small muted">
				{panel.keepAliveUntil
					? `Kept running until ${formatTime(panel.keepAliveUntil, tz)}. `
					: `Holds ${form.holds}. `}
				At most {form.longest} ahead.
			</p>
			<form class="row" novalidate {...posts(form.url, target)}>
				<label for="f-keep-for">For</label>
				<select
					id="f-keep-for"
					name="for"
					aria-invalid={form.errors.for ? "true" : undefined}
					aria-describedby={form.errors.for ? "f-keep-for-error" : undefined}
				>
					{form.choices.map((c) => <option value={c.value} selected={form.values.for === c.value}>{c.label}</option>)}
				</select>
				<button type="submit" aria-label={`Keep ${id} running for the chosen time`}>Keep running</button>
			</form>
			{form.errors.for && <p class="inline-error" id="f-keep-for-error" role="alert">{form.errors.for}</p>}
			<form class="row" novalidate {...posts(form.url, target)}>
				<label for="f-keep-until">Until</label>
				<input
					id="f-keep-until"
					name="until"
					type="time"
					value={form.values.until ?? ""}
					aria-invalid={form.errors.until ? "true" : undefined}
					aria-describedby={form.errors.until ? "f-keep-until-error" : undefined}
				/>
				<button type="submit" aria-label={`Keep ${id} running until that time`}>Keep running until then</button>
			</form>
			{form.errors.until && <p class="inline-error" id="f-keep-until-error" role="alert">{form.errors.until}</p>}
			{form.active && (
				<form
					class="row"
					{...posts(form.url, target, form.endConfirm)}
				>
					<input type="hidden" name="for" value="0" />
					<button type="submit" class="danger">End the keep-alive</button>
				</form>
			)}
		</div>
	);
}

function ChangePolicy(props: { form: PolicyChangeForm; target: string; panel: PolicyPanelProps }) {
	const { form, target, panel } = props;
	return (
		<form class="stack change-policy" novalidate data-policy-form {...posts(form.url, target, form.confirm)}>
			<h3>Change its policy</h3>
			<Result result={panel.result} form="change" />
			<PolicyChoiceInputs fields={form.fields} values={form.values} errors={form.errors} />
			<div class="row">
				<button type="submit" class="primary">Save policy</button>
			</div>
		</form>
	);
}

/** The policy section of a machine's panel; `target` is the panel its forms' answers replace. */
export function PolicyPanel(props: { policy: PolicyPanelProps; target: string }) {
	const { policy, target } = props;
	const tz = policy.timeZone;
	const { signals } = policy;
	return (
		<section class="panel policy-panel" aria-labelledby="policy-heading" data-policy-panel>
			<h2 id="policy-heading">Machine policy</h2>
			<div class="grid">
				<div>
					<PolicyRules
						rules={policy.rules}
						empty="No machine policy applies: nothing stops or terminates it automatically."
					/>
					{policy.activity && <p class="small muted">{policy.activity}</p>}
					{policy.rules.length > 0 && (
						<>
							<h3>Signals</h3>
							<dl class="facts" data-signals>
								<dt>Last signal</dt>
								<dd>
									{signals.at
										? `${formatTime(signals.at, tz)} (${formatAgo(signals.at, policy.now)}), from ${signals.source}`
										: "none yet: nothing is known of its activity, so no idle stop is planned"}
								</dd>
								<dt>Last activity</dt>
								<dd>{signals.activeAt ? `${formatTime(signals.activeAt, tz)}` : "none seen"}</dd>
								<dt>Kept running until</dt>
								<dd>{policy.keepAliveUntil ? formatTime(policy.keepAliveUntil, tz) : "—"}</dd>
							</dl>
						</>
					)}
				</div>
				<div>
					<h3>Planned</h3>
					{policy.plans.length === 0 ? <p class="muted">Nothing is planned.</p> : (
						<ol class="plans">
							{policy.plans.map((plan) => (
								<li data-planned={plan.reason}>
									<strong>{plan.summary}</strong>
									<div class="small muted">
										Because {plan.why}
										{plan.noticeAt < plan.at ? `; notice at ${formatTime(plan.noticeAt, tz)}` : ""}.
									</div>
								</li>
							))}
						</ol>
					)}
					{policy.keepAlive && <KeepAlive form={policy.keepAlive} id={policy.id} target={target} panel={policy} />}
					{policy.change && <ChangePolicy form={policy.change} target={target} panel={policy} />}
				</div>
			</div>
		</section>
	);
}
