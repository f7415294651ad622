/**
 * The launch wizard's pages: the step bar, then group (step 1), configuration (2), the kind's form
 * (3) and the confirmation (4).
 */
import type {
	ApprovalNeededProps,
	ConfigCard,
	ConfigsStepProps,
	ConfirmStepProps,
	GroupsStepProps,
	LaunchFormProps,
	WizardTarget,
} from "../../lib/views/wizard.ts";
import type { ComponentChildren } from "preact";
import { BudgetBar } from "./BudgetBars.tsx";
import { ClusterForm } from "./ClusterForm.tsx";
import { CsrfField, EmptyState } from "./components.tsx";
import { formatDuration, formatRate } from "./format.ts";
import { InstanceForm } from "./InstanceForm.tsx";
import { Layout, type PageContext } from "./Layout.tsx";
import { ConfirmedPolicyList, PolicyChoicesHidden } from "./PolicyFields.tsx";

const STEP_NAMES = ["Group", "Configuration", "Details", "Confirm"];

/** The step bar: the steps done, the current one, and the group and configuration chosen so far. */
export function LaunchSteps(props: { current: 1 | 2 | 3 | 4 } & Partial<WizardTarget>) {
	return (
		<ol class="tabs" aria-label="Launch steps">
			{STEP_NAMES.map((name, i) => (
				<li class="plain">
					<span class={`badge ${i + 1 < props.current ? "ok" : i + 1 === props.current ? "busy" : "off"}`}>
						{i + 1}. {name}
						{i === 0 && props.group ? `: ${props.group.name}` : ""}
						{i === 1 && props.config ? `: ${props.config.name}` : ""}
					</span>
				</li>
			))}
		</ol>
	);
}

/** A page of the wizard: the step bar at `current`, then the step's heading and content. */
function WizardPage(
	props: {
		ctx: PageContext;
		title: string;
		current: 1 | 2 | 3 | 4;
		heading: string;
		children: ComponentChildren;
	} & Partial<WizardTarget>,
) {
	return (
		<Layout ctx={props.ctx} title={props.title}>
			<LaunchSteps current={props.current} group={props.group} config={props.config} />
			<h1>{props.heading}</h1>
			{props.children}
		</Layout>
	);
}

/** Step 1: GET /launch. */
export function GroupsStep(props: { ctx: PageContext; step: GroupsStepProps }) {
	const { step } = props;
	return (
		<WizardPage ctx={props.ctx} title="Launch" current={1} heading="Choose a group to launch into">
			{step.groups.length === 0
				? (
					<EmptyState title="You cannot launch anything yet.">
						<p>
							{step.member
								? "None of your groups has a software configuration you may launch."
								: "You are not a member of any group."} Ask {step.contacts}{" "}
							to add you to a group with software configurations.
						</p>
					</EmptyState>
				)
				: (
					<>
						<p class="lead">
							Your group decides the key pair, security groups and cost center of what you launch. Some configurations
							may be hidden when they need instance types your group may not use.
						</p>
						<div class="cards">
							{step.groups.map((g) => (
								<a class="card" href={g.href}>
									<h3>{g.name}</h3>
									<span class="muted small">Cost center {g.costCenter}</span>
								</a>
							))}
						</div>
					</>
				)}
		</WizardPage>
	);
}

function ConfigCards(props: { title: string; kind: string; cards: ConfigCard[] }) {
	if (props.cards.length === 0) return null;
	return (
		<>
			<h2>{props.title}</h2>
			<div class="cards">
				{props.cards.map((cfg) => (
					<div class="card">
						<h3>{cfg.name}</h3>
						<div class="desc" dangerouslySetInnerHTML={{ __html: cfg.descriptionHtml || "<p>No description.</p>" }}>
						</div>
						<a class="btn primary" href={cfg.href} aria-label={`Launch ${cfg.name}`}>Launch {props.kind}</a>
					</div>
				))}
			</div>
		</>
	);
}

/** Step 2: GET /launch/:groupId. The descriptions are sanitized by the view. */
export function ConfigsStep(props: { ctx: PageContext; step: ConfigsStepProps }) {
	const { step } = props;
	return (
		<WizardPage
			ctx={props.ctx}
			title="Choose a configuration"
			current={2}
			group={step.group}
			heading="Choose a software configuration"
		>
			{step.instance.length === 0 && step.cluster.length === 0 && (
				<EmptyState title={`"${step.group.name}" offers no configurations you can launch.`}>
					<p>Ask {step.contacts} to permit a configuration to this group.</p>
				</EmptyState>
			)}
			<ConfigCards title="Launch an instance" kind="instance" cards={step.instance} />
			<ConfigCards title="Launch a cluster" kind="cluster" cards={step.cluster} />
		</WizardPage>
	);
}

/** Step 3: GET /launch/:groupId/:configId, and the form again with its errors after a refused POST. */
export function FormStep(props: { ctx: PageContext; form: LaunchFormProps }) {
	const { ctx, form } = props;
	return (
		<WizardPage
			ctx={ctx}
			title={`Launch ${form.config.name}`}
			current={3}
			group={form.group}
			config={form.config}
			heading={`Launch ${form.config.name}`}
		>
			{form.kind === "cluster"
				? <ClusterForm form={form} csrf={ctx.csrf} />
				: <InstanceForm form={form} csrf={ctx.csrf} />}
		</WizardPage>
	);
}

/** What a confirmation says of the launch: what every kind has, around the kind's own facts. */
function ConfirmFacts(props: { confirm: ConfirmStepProps }) {
	const { confirm } = props;
	const cost = confirm.rate.known ? `${formatRate(confirm.rate.hourly)} while running` : "price unknown";
	return (
		<dl class="facts">
			<dt>Name</dt>
			<dd data-machine-name>{confirm.machineName}</dd>
			<dt>Configuration</dt>
			<dd>{confirm.config.name}</dd>
			<dt>Group</dt>
			<dd>{confirm.group.name} (cost center {confirm.costCenter})</dd>
			{confirm.kind === "cluster" && (
				<>
					<dt>Purpose</dt>
					<dd>{confirm.purpose}</dd>
				</>
			)}
			<dt>Instance type</dt>
			<dd class="mono">{confirm.instanceType}</dd>
			{confirm.kind === "cluster" && (
				<>
					<dt>Nodes</dt>
					<dd>{confirm.coreNodes} core nodes and 1 master</dd>
					<dt>Pricing</dt>
					<dd>{confirm.market === "SPOT" ? `spot, bid $${confirm.bidPrice} per node-hour` : "on demand"}</dd>
					<dt>Auto-terminate</dt>
					<dd>{confirm.idleSeconds ? `after ${formatDuration(confirm.idleSeconds * 1000)} idle` : "off"}</dd>
				</>
			)}
			<dt>Estimated cost</dt>
			<dd>{cost}</dd>
			{confirm.kind === "instance" && (
				<>
					<dt>Security groups</dt>
					<dd class="mono small">{confirm.securityGroupIds.join(", ") || "none"}</dd>
					<dt>Extra volume</dt>
					<dd>{confirm.extraVolume ? `${confirm.extraVolume.sizeGb} GiB at ${confirm.extraVolume.device}` : "none"}</dd>
				</>
			)}
			{confirm.policy && (
				<>
					<dt>Machine policy</dt>
					<dd data-confirmed-policy>
						<ConfirmedPolicyList policy={confirm.policy} />
					</dd>
				</>
			)}
		</dl>
	);
}

/**
 * Step 4: POST /launch/:groupId/:configId with intent=review. It posts the form again with its
 * one-time launch key; when the viewer launched the same configuration a moment ago it asks first.
 */
export function ConfirmStep(props: { ctx: PageContext; confirm: ConfirmStepProps }) {
	const { ctx, confirm } = props;
	const { recent } = confirm;
	const noun = confirm.kind === "cluster" ? "cluster" : "instance";
	return (
		<WizardPage
			ctx={ctx}
			title={`Confirm ${confirm.config.name}`}
			current={4}
			group={confirm.group}
			config={confirm.config}
			heading="Confirm the launch"
		>
			{recent && (
				<div class="error-box" role="alert" data-recent-launch>
					You launched {confirm.config.name} {formatDuration(recent.secondsAgo * 1000)} ago (
					<a href={recent.href}>{recent.stackName}</a>). Launch another {noun}?
				</div>
			)}
			<div class="panel">
				<ConfirmFacts confirm={confirm} />
				{confirm.kind === "cluster" && (
					<p class="muted small">The cluster is billed from its launch until it terminates.</p>
				)}
				{confirm.budgetEffects.map((effect) => (
					<p class={`budget-effect ${effect.level}`} data-budget-effect>
						{effect.text}
					</p>
				))}
			</div>
			<form method="post" action={confirm.action} class="row">
				<CsrfField token={ctx.csrf} />
				<input type="hidden" name="intent" value="launch" />
				<input type="hidden" name="launchKey" value={confirm.launchKey} />
				{recent && <input type="hidden" name="repeat" value="yes" />}
				{confirm.policy && <PolicyChoicesHidden policy={confirm.policy} />}
				{confirm.resubmit.map((field) => <input type="hidden" name={field.name} value={field.value} />)}
				<button type="submit" class="primary">{recent ? `Launch another ${noun}` : "Launch now"}</button>
				<a href={confirm.back}>Change</a>
			</form>
		</WizardPage>
	);
}

/**
 * A launch refused until someone approves it (the review or the launch itself): why, with the
 * budgets' figures, and the form asking the group's managers for an exception, which posts the
 * launch as it was filled in.
 */
export function ApprovalNeeded(props: { ctx: PageContext; refusal: ApprovalNeededProps }) {
	const { ctx, refusal } = props;
	const hidden = Object.entries(refusal.fields).flatMap(([name, value]) =>
		(Array.isArray(value) ? value : [value]).map((v) => <input type="hidden" name={`launch.${name}`} value={v} />)
	);
	return (
		<WizardPage
			ctx={ctx}
			title="Approval needed"
			current={4}
			group={refusal.group}
			config={refusal.config}
			heading="This launch needs an approval"
		>
			<div class="error-box" role="alert" data-approval-needed>
				<ul class="reasons">
					{refusal.reasons.map((reason) => <li>{reason}</li>)}
				</ul>
			</div>
			{refusal.budgets.map((bar) => (
				<div class="panel">
					<BudgetBar bar={bar} />
				</div>
			))}
			<form method="post" action="/approvals" class="stack panel">
				<CsrfField token={ctx.csrf} />
				<h2>Request an exception</h2>
				<p class="muted">
					The group's managers are told; once one approves it, the launch goes ahead on its own and you are told.
				</p>
				<input type="hidden" name="kind" value="launch" />
				<input type="hidden" name="groupId" value={String(refusal.group.id)} />
				<input type="hidden" name="configId" value={String(refusal.config.id)} />
				{hidden}
				<div class="field">
					<label for="f-until">Needed until (end of the day)</label>
					<input id="f-until" name="until" type="date" min={refusal.today} value={refusal.until} required />
				</div>
				<div class="field">
					<label for="f-note">Why</label>
					<textarea id="f-note" name="note" rows={3} class="prose" maxLength={500}></textarea>
				</div>
				<div class="row">
					<button type="submit" class="primary">Request an exception</button>
					<a href={`/launch/${refusal.group.id}/${refusal.config.id}`}>Change the launch</a>
				</div>
			</form>
		</WizardPage>
	);
}
