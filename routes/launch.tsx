/**
 * The launch wizard and the launch page:
 * GET /launch (pick a group) → GET /launch/:groupId (pick a configuration) → GET /launch/:groupId/:configId
 * (form) → POST with intent=review (confirm) → POST with intent=launch (records the launch) →
 * GET /launches/:id (steps, polling GET /launches/:id/status until done or failed).
 * Every step re-checks entitlement on the server.
 */
import { Hono } from "hono";
import type { JSX } from "preact";
import { instanceRate } from "../lib/billing/rates.ts";
import {
	getConfig,
	type Group,
	groupSecurityGroupsOf,
	hasExtraVolume,
	launchableConfigs,
	launchableGroups,
	type SecurityGroup,
	type SoftwareConfig,
	usableTypes,
} from "../lib/db/catalog.ts";
import type { ConfigKind } from "../lib/db/schema.ts";
import { getLaunch, type Launch } from "../lib/db/launches.ts";
import { displayName, listUsers } from "../lib/db/users.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { checkInstanceType, launchTarget } from "../lib/launch/entitlement.ts";
import { MAX_SECURITY_GROUPS } from "../lib/launch/instance.ts";
import { type LaunchIds, requestLaunch, type ReviewedLaunch, reviewLaunch } from "../lib/launch/request.ts";
import { machineKind } from "../lib/machines/kinds.ts";
import { mayFollowLaunch } from "../lib/auth/permissions.ts";
import { sanitizeDescription } from "../lib/sanitize.ts";
import { type AppContext, type AppEnv, pageContext, setFlash } from "./context.ts";
import type { PageContext } from "./ui/Layout.tsx";
import { formList, parseId } from "./params.ts";
import { CsrfField, describedBy, EmptyState, Field, LiveRegion } from "./ui/components.tsx";
import { TypeInfo } from "./ui/TypeInfo.tsx";
import { ClusterForm, type ClusterFormValues, estimateFragment } from "./clusters.tsx";
import { formatRate, formatTime } from "./ui/format.ts";
import { Layout } from "./ui/Layout.tsx";
import { renderFragment, renderPage } from "./ui/render.tsx";

/** The group and configuration a wizard URL names. */
function wizardIds(c: AppContext): LaunchIds {
	return { groupId: parseId(c.req.param("groupId")), configId: parseId(c.req.param("configId")) };
}

/** The form's fields as submitted, for re-rendering: single values as text, repeated ones as lists. */
type FormValues = Record<string, string | string[]>;

function formValues(body: Record<string, unknown>): FormValues {
	const values: FormValues = {};
	for (const [key, value] of Object.entries(body)) {
		if (typeof value === "string") values[key] = value.slice(0, 300);
		else if (Array.isArray(value)) values[key] = formList(value).map((v) => v.slice(0, 300)).slice(0, 50);
	}
	return values;
}

/** The last value of each field, as the single-valued cluster form shows it. */
function singleValues(values: FormValues): ClusterFormValues {
	return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1) ?? "" : v]));
}

/** Who to ask when the viewer cannot launch. */
async function adminContacts(deps: Deps): Promise<string> {
	const admins = (await listUsers(deps.db)).filter((u) =>
		u.role === "admin" || u.directoryRole === "admin" || deps.settings.ADMIN_USERNAMES.includes(u.username)
	);
	if (admins.length === 0) return "your portal administrator";
	return admins.slice(0, 5).map((u) => u.email ? `${displayName(u)} <${u.email}>` : displayName(u)).join(", ");
}

function Steps(props: { current: 1 | 2 | 3 | 4; group?: Group; config?: SoftwareConfig }) {
	const names = ["Group", "Configuration", "Details", "Confirm"];
	return (
		<ol class="tabs" aria-label="Launch steps">
			{names.map((name, i) => (
				<li style="list-style:none">
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

/** What the launch form of any kind is rendered from. */
interface FormProps {
	deps: Deps;
	ctx: PageContext;
	group: Group;
	config: SoftwareConfig;
	types: { name: string }[];
	optional: SecurityGroup[];
	defaults: SecurityGroup[];
	values: FormValues;
	errors: Record<string, string>;
	message?: string;
}

function InstanceForm(props: FormProps) {
	const type = props.values.instanceType;
	const selected = (typeof type === "string" ? type : undefined) ?? props.types[0]?.name ?? "";
	const chosen = new Set(formList(props.values.securityGroups));
	const action = `/launch/${props.group.id}/${props.config.id}`;
	return (
		<div class="grid">
			<form method="post" action={action} class="stack panel" novalidate>
				<CsrfField token={props.ctx.csrf} />
				<input type="hidden" name="intent" value="review" />
				{props.message && <p class="error-box" role="alert">{props.message}</p>}
				<Field
					label="Instance type"
					name="instanceType"
					error={props.errors.instanceType}
					hint="The price panel shows what it costs."
				>
					<select
						id="f-instanceType"
						name="instanceType"
						required
						hx-get={`${action}/type-info`}
						hx-trigger="change"
						hx-target="#type-info"
						hx-swap="outerHTML"
						{...describedBy("instanceType", true, props.errors.instanceType)}
					>
						{props.types.map((t) => <option value={t.name} selected={t.name === selected}>{t.name}</option>)}
					</select>
				</Field>
				{props.optional.length > 0 && (
					<fieldset class={`field${props.errors.securityGroups ? " invalid" : ""}`}>
						<legend>
							<strong>Optional security groups</strong>
						</legend>
						<div class="checks">
							{props.optional.map((sg) => (
								<label>
									<input type="checkbox" name="securityGroups" value={sg.sgId} checked={chosen.has(sg.sgId)} />
									{sg.name} <span class="mono muted small">{sg.sgId}</span>
								</label>
							))}
						</div>
						<small>
							Your group always adds {props.defaults.length}{" "}
							default group{props.defaults.length === 1 ? "" : "s"}; AWS allows {MAX_SECURITY_GROUPS} in all.
						</small>
						{props.errors.securityGroups && <div class="error" role="alert">{props.errors.securityGroups}</div>}
					</fieldset>
				)}
				<p class="small muted">
					{hasExtraVolume(props.config)
						? `An encrypted ${props.config.volumeSizeGb} GiB volume is attached at ${props.config.volumeDevice}.`
						: "No extra volume is attached."}
				</p>
				<div class="row">
					<button type="submit" class="primary">Review launch</button>
					<a href={`/launch/${props.group.id}`}>Back</a>
				</div>
			</form>
			<LiveRegion>
				<TypeInfo deps={props.deps} type={selected} os={props.config.os} />
			</LiveRegion>
		</div>
	);
}

/** Step 4 for instances: what will be launched, with its cost, before it is recorded. */
function InstanceConfirm(props: { deps: Deps; ctx: PageContext; values: FormValues } & ReviewedLaunch) {
	const { deps, ctx, group, config, planned } = props;
	const rate = instanceRate(deps, { type: planned.instanceType, os: config.os });
	const securityGroupIds = formList(planned.options.securityGroupIds);
	return (
		<Layout ctx={ctx} title={`Confirm ${config.name}`}>
			<Steps current={4} group={group} config={config} />
			<h1>Confirm the launch</h1>
			<div class="panel">
				<dl class="facts">
					<dt>Configuration</dt>
					<dd>{config.name}</dd>
					<dt>Group</dt>
					<dd>{group.name} (cost center {group.costCenter || deps.settings.DEFAULT_CHARGE_CODE})</dd>
					<dt>Instance type</dt>
					<dd class="mono">{planned.instanceType}</dd>
					<dt>Estimated cost</dt>
					<dd>{rate.known ? `${formatRate(rate.hourly)} while running` : "price unknown"}</dd>
					<dt>Security groups</dt>
					<dd class="mono small">
						{securityGroupIds.join(", ") || "none"}
					</dd>
					<dt>Extra volume</dt>
					<dd>{hasExtraVolume(config) ? `${config.volumeSizeGb} GiB at ${config.volumeDevice}` : "none"}</dd>
				</dl>
			</div>
			<form method="post" action={`/launch/${group.id}/${config.id}`} class="row">
				<CsrfField token={ctx.csrf} />
				<input type="hidden" name="intent" value="launch" />
				<input type="hidden" name="instanceType" value={planned.instanceType} />
				{formList(props.values.securityGroups).map((sg) => <input type="hidden" name="securityGroups" value={sg} />)}
				<button type="submit" class="primary">Launch now</button>
				<a href={`/launch/${group.id}/${config.id}`}>Change</a>
			</form>
		</Layout>
	);
}

/** Each kind's launch form (step 3). */
const FORMS: Record<ConfigKind, (props: FormProps) => JSX.Element> = {
	instance: InstanceForm,
	cluster: (props) => <ClusterForm {...props} values={singleValues(props.values)} />,
};

/** The kinds whose launch is confirmed before it is recorded (step 4); a cluster's form launches at once. */
const CONFIRMATIONS: Partial<Record<ConfigKind, typeof InstanceConfirm>> = { instance: InstanceConfirm };

/** What a launch made (an instance, or a cluster), each with its page. */
async function resourcesOf(deps: Deps, launch: Launch): Promise<{ id: string; state: string; href: string }[]> {
	return (await machineKind(launch.kind).rows.ofLaunch(deps, launch.id)).map((machine) => ({
		id: machine.id,
		state: machine.state,
		href: `/${launch.kind}s/${machine.id}`,
	}));
}

/** How the launch page speaks of what each kind of launch makes. */
const KIND_WORDS = {
	instance: {
		made: "Instance",
		waiting: "Waiting for the stack (and the bootstrap script) to finish",
		ready: "Stack complete: ready",
	},
	cluster: { made: "Cluster", waiting: "Waiting for EMR to report the cluster ready", ready: "Cluster ready" },
} as const;

async function LaunchStatus(props: { deps: Deps; launch: Launch; config: SoftwareConfig | undefined }) {
	const { deps, launch, config } = props;
	const resources = await resourcesOf(deps, launch);
	const noun = launch.kind;
	const words = KIND_WORDS[noun];
	const failed = launch.status === "failed";
	const submitted = !!launch.stackId || launch.status === "complete";
	const created = resources.length > 0;
	const complete = launch.status === "complete";
	type StepState = "done" | "now" | "failed" | "";
	const state = (done: boolean, active: boolean): StepState =>
		done ? "done" : failed && active ? "failed" : active ? "now" : "";
	const steps: [string, StepState][] = [
		["Request recorded", "done"],
		[
			submitted ? `Stack ${launch.stackName} submitted to CloudFormation` : "Submitting the stack to CloudFormation",
			state(submitted, !submitted),
		],
		[
			created
				? `${words.made} ${resources.map((r) => `${r.id} (${r.state})`).join(", ")} created`
				: `Creating the ${noun}`,
			state(created, submitted && !created),
		],
		[complete ? words.ready : words.waiting, state(complete, created && !complete)],
	];
	const live = launch.status === "queued" || launch.status === "creating";
	const first = resources[0];
	return (
		<section
			id="launch-status"
			{...(live ? { "hx-get": `/launches/${launch.id}/status`, "hx-trigger": "every 2s", "hx-swap": "outerHTML" } : {})}
			data-status={launch.status}
		>
			<ol class="steps">
				{steps.map(([text, s]) => <li class={s}>{text}</li>)}
			</ol>
			{live && <p class="muted">{launch.step}…</p>}
			{failed && (
				<div class="error-box" role="alert">
					<strong>The launch failed.</strong> {launch.reason}
				</div>
			)}
			{complete && (
				<p class="flash ok">
					{config?.name ?? `The ${noun}`} is ready. <a href="/">Go to your dashboard</a>
					{first && (
						<>
							{" "}or <a href={first.href}>open {first.id}</a>
						</>
					)}.
				</p>
			)}
			{complete && noun === "instance" && first && config?.hasProgressBar && (
				<p class="muted small">The instance keeps reporting its setup progress on your dashboard.</p>
			)}
		</section>
	);
}

export function launchRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();

	/** The launch of the URL, when the viewer may follow it (404 otherwise, so ids are not probed). */
	const followedLaunch = async (c: AppContext): Promise<Launch> => {
		const launch = await getLaunch(deps.db, c.req.param("id")!.slice(0, 64));
		if (!launch || !mayFollowLaunch(c.get("viewer"), launch)) throw new UserError(404, "No such launch");
		return launch;
	};

	app.get("/launch", async (c) => {
		const viewer = c.get("viewer");
		const groups = await launchableGroups(deps.db, viewer.groupIds);
		if (groups.length === 1) return c.redirect(`/launch/${groups[0]!.id}`);
		const ctx = await pageContext(c, deps, { launchable: groups });
		return c.html(renderPage(
			<Layout ctx={ctx} title="Launch">
				<Steps current={1} />
				<h1>Choose a group to launch into</h1>
				{groups.length === 0
					? (
						<EmptyState title="You cannot launch anything yet.">
							<p>
								{viewer.groupIds.length === 0
									? "You are not a member of any group."
									: "None of your groups has a software configuration you may launch."} Ask {await adminContacts(deps)}
								{" "}
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
								{groups.map((g) => (
									<a class="card" href={`/launch/${g.id}`}>
										<h3>{g.name}</h3>
										<span class="muted small">Cost center {g.costCenter || deps.settings.DEFAULT_CHARGE_CODE}</span>
									</a>
								))}
							</div>
						</>
					)}
			</Layout>,
		));
	});

	app.get("/launch/:groupId", async (c) => {
		const viewer = c.get("viewer");
		const { group } = await launchTarget(deps, viewer, { groupId: parseId(c.req.param("groupId")) });
		const ctx = await pageContext(c, deps);
		const configs = await launchableConfigs(deps.db, group.id);
		const instanceConfigs = configs.filter((cfg) => cfg.kind === "instance");
		const clusterConfigs = group.emrAccess ? configs.filter((cfg) => cfg.kind === "cluster") : [];
		const card = (cfg: SoftwareConfig, kind: string) => (
			<div class="card">
				<h3>{cfg.name}</h3>
				<div
					class="desc"
					dangerouslySetInnerHTML={{ __html: sanitizeDescription(cfg.descriptionHtml) || "<p>No description.</p>" }}
				>
				</div>
				<a class="btn primary" href={`/launch/${group.id}/${cfg.id}`} aria-label={`Launch ${cfg.name}`}>
					Launch {kind}
				</a>
			</div>
		);
		return c.html(renderPage(
			<Layout ctx={ctx} title="Choose a configuration">
				<Steps current={2} group={group} />
				<h1>Choose a software configuration</h1>
				{instanceConfigs.length === 0 && clusterConfigs.length === 0 && (
					<EmptyState title={`"${group.name}" offers no configurations you can launch.`}>
						<p>Ask {await adminContacts(deps)} to permit a configuration to this group.</p>
					</EmptyState>
				)}
				{instanceConfigs.length > 0 && (
					<>
						<h2>Launch an instance</h2>
						<div class="cards">{instanceConfigs.map((cfg) => card(cfg, "instance"))}</div>
					</>
				)}
				{clusterConfigs.length > 0 && (
					<>
						<h2>Launch a cluster</h2>
						<div class="cards">{clusterConfigs.map((cfg) => card(cfg, "cluster"))}</div>
					</>
				)}
			</Layout>,
		));
	});

	const showForm = async (
		c: AppContext,
		target: { group: Group; config: SoftwareConfig },
		form: { values: FormValues; errors: Record<string, string>; message?: string },
		status: 200 | 422 = 200,
	) => {
		const { group, config } = target;
		const ctx = await pageContext(c, deps);
		const [types, optional, defaults] = await Promise.all([
			usableTypes(deps.db, config.id, group.id),
			groupSecurityGroupsOf(deps.db, group.id, "optional"),
			groupSecurityGroupsOf(deps.db, group.id, "default"),
		]);
		const Form = FORMS[config.kind];
		return c.html(
			renderPage(
				<Layout ctx={ctx} title={`Launch ${config.name}`}>
					<Steps current={3} group={group} config={config} />
					<h1>Launch {config.name}</h1>
					<Form deps={deps} ctx={ctx} {...target} {...form} types={types} optional={optional} defaults={defaults} />
				</Layout>,
			),
			status,
		);
	};

	app.get("/launch/:groupId/:configId", async (c) => {
		const target = await launchTarget(deps, c.get("viewer"), wizardIds(c));
		return await showForm(c, target, { values: {}, errors: {} });
	});

	app.get("/launch/:groupId/:configId/type-info", async (c) => {
		const target = await launchTarget(deps, c.get("viewer"), wizardIds(c));
		const type = c.req.query("instanceType") ?? "";
		await checkInstanceType(deps, target, type);
		return c.html(
			renderFragment(
				<TypeInfo deps={deps} type={type} os={target.config.os} emr={target.config.kind === "cluster"} />,
			),
		);
	});

	app.get("/launch/:groupId/:configId/estimate", async (c) => {
		await launchTarget(deps, c.get("viewer"), wizardIds(c));
		const query = c.req.query();
		const values: ClusterFormValues = {};
		for (const key of ["instanceType", "coreNodes", "market", "bidPrice"]) {
			if (query[key]) values[key] = query[key]!.slice(0, 64);
		}
		return c.html(estimateFragment(deps, values));
	});

	/**
	 * The launch form of every kind: intent=launch records the launch and goes to its page; any
	 * other intent checks everything and shows the kind's confirmation (a kind without one launches).
	 * A refusal of the form re-renders it with the marked fields (422).
	 */
	app.post("/launch/:groupId/:configId", async (c) => {
		const viewer = c.get("viewer");
		const ids = wizardIds(c);
		const body = await c.req.parseBody({ all: true });
		try {
			if (body.intent !== "launch") {
				const reviewed = await reviewLaunch(deps, viewer, ids, body);
				const Confirm = CONFIRMATIONS[reviewed.config.kind];
				if (Confirm) {
					const ctx = await pageContext(c, deps);
					return c.html(renderPage(<Confirm deps={deps} ctx={ctx} {...reviewed} values={formValues(body)} />));
				}
			}
			const launch = await requestLaunch(deps, viewer, ids, body);
			return c.redirect(`/launches/${launch.id}`, 303);
		} catch (error) {
			if (error instanceof UserError && error.status === 422) {
				const target = await launchTarget(deps, viewer, ids);
				const form = { values: formValues(body), errors: { ...error.fields }, message: error.message };
				return await showForm(c, target, form, 422);
			}
			throw error;
		}
	});

	app.get("/launches/:id", async (c) => {
		const launch = await followedLaunch(c);
		const [ctx, config] = await Promise.all([pageContext(c, deps), getConfig(deps.db, launch.configId)]);
		return c.html(renderPage(
			<Layout ctx={ctx} title="Launch progress">
				<h1>Launching {config?.name ?? (launch.kind === "cluster" ? "a cluster" : "an instance")}</h1>
				<p class="lead">
					Started{" "}
					{formatTime(launch.createdAt, deps.settings.TIME_ZONE)}. You can close this page: the launch goes on, and your
					dashboard shows it.
				</p>
				<LiveRegion>{await LaunchStatus({ deps, launch, config })}</LiveRegion>
			</Layout>,
		));
	});

	app.get("/launches/:id/status", async (c) => {
		const launch = await followedLaunch(c);
		const config = await getConfig(deps.db, launch.configId);
		if (launch.status === "complete" && c.req.header("HX-Request")) {
			// htmx follows HX-Redirect without swapping, so there is nothing to render.
			await setFlash(c, deps, { tone: "ok", text: `${config?.name ?? "Your launch"} is ready.` });
			c.header("HX-Redirect", "/");
			return c.html("");
		}
		return c.html(renderFragment(await LaunchStatus({ deps, launch, config })));
	});
	return app;
}
