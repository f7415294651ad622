/**
 * GET /admin/configs, GET /admin/configs/new(?kind=cluster), POST /admin/configs/new,
 * GET/POST /admin/configs/:id (with "save as"), POST /admin/configs/:id/delete.
 */
import { Hono } from "hono";
import { deleteConfig } from "../../lib/catalog/delete_guards.ts";
import { saveConfig } from "../../lib/catalog/save.ts";
import { VOLUME_TYPES } from "../../lib/catalog/schemas.ts";
import type { Deps, Samples } from "../../lib/deps.ts";
import {
	configForm,
	configRows,
	type ConfigWithLinks,
	type Group,
	type InstanceType,
	type SoftwareConfig,
} from "../../lib/views/admin.ts";
import { type AppEnv, pageContext } from "../context.ts";
import type { PageContext } from "../ui/Layout.tsx";
import { listOf } from "../../lib/form_values.ts";
import { type Column, EmptyState, ItemTable } from "../ui/components.tsx";
import { DataForm, type FormItem, type FormValues, textOf } from "../ui/forms.tsx";
import { renderPage } from "../ui/render.tsx";
import { AdminPage, DeleteButton, type ItemFormProps, itemRoutes } from "./common.tsx";
import { policyFormValues, policyFromForm } from "../../lib/policy/spec.ts";
import { policyFields } from "./policy_fields.ts";
import { sortInstanceTypes } from "../../lib/catalog/instance_types.ts";

const LIST = "/admin/configs";

/** What a new configuration of each kind starts with: the shipped template (and script). */
function newConfig(samples: Samples, kind: "instance" | "cluster"): FormValues {
	return kind === "instance"
		? {
			kind: "instance",
			templateBody: samples.instanceTemplate,
			userDataBody: samples.bootstrapScript,
			volumeDevice: "/dev/xvdz",
			volumeSizeGb: "100",
			hasProgressBar: "on",
		}
		: {
			kind: "cluster",
			templateBody: samples.clusterTemplate,
			customUrlFormat: "https://{{{ URL }}}:9443/",
			params: "paramReleaseLabel=emr-6.15.0\nparamServiceRole=EMR_DefaultRole",
		};
}

const CONFIG_COLUMNS: Column<SoftwareConfig>[] = [
	{ label: "Name", cell: (cfg) => <a href={`${LIST}/${cfg.id}`}>{cfg.name}</a> },
	{ label: "Kind", cell: (cfg) => cfg.kind },
	{ label: "AMI", class: "mono small", cell: (cfg) => cfg.amiId || "—" },
	{ label: "Progress bar", cell: (cfg) => cfg.hasProgressBar ? "yes" : "no" },
];

export function ConfigsPage(props: { ctx: PageContext; configs: SoftwareConfig[] }) {
	return (
		<AdminPage ctx={props.ctx} title="Configurations">
			<div class="row">
				<h2>Software configurations</h2>
				<span class="spacer"></span>
				<a class="btn primary" href={`${LIST}/new`}>New instance configuration</a>
				<a class="btn" href={`${LIST}/new?kind=cluster`}>New cluster configuration</a>
			</div>
			{props.configs.length === 0
				? <EmptyState title="No configurations yet." />
				: <ItemTable columns={CONFIG_COLUMNS} rows={props.configs} />}
		</AdminPage>
	);
}

/** What a configuration's form offers. */
interface ConfigChoices {
	instanceTypes: InstanceType[];
	groups: Group[];
	/** Instance types the pricing file has no price for. */
	unpricedTypes: string[];
	/** The operating systems of the loaded pricing file. */
	operatingSystems: { value: string; label: string }[];
}

function configFields(choices: ConfigChoices): FormItem[] {
	const options = (values: readonly string[]) => values.map((v) => ({ value: v, label: v }));
	return [
		{
			grid: [
				{ control: "text", name: "name", label: "Name", required: true, maxLength: 60 },
				{
					control: "select",
					name: "kind",
					label: "Kind",
					fallback: "instance",
					options: [{ value: "instance", label: "Instance" }, { value: "cluster", label: "EMR cluster" }],
				},
				{ control: "text", name: "amiId", label: "AMI", placeholder: "ami-0123456789abcdef0" },
				{
					control: "text",
					name: "instanceName",
					label: "Instance name",
					hint: "The Name tag (a group may override it)",
				},
				{
					control: "select",
					name: "os",
					label: "Operating system (for prices)",
					fallback: "linux",
					options: choices.operatingSystems,
					hint: "The operating systems the pricing file has prices for",
				},
			],
		},
		{
			control: "area",
			name: "descriptionHtml",
			label: "Description (HTML)",
			rows: 4,
			prose: true,
			hint: "Shown in the catalogue. Only simple formatting and links are kept.",
		},
		{
			control: "checks",
			name: "compatibleTypes",
			label: "Compatible instance types",
			options: sortInstanceTypes(choices.instanceTypes).map((t) => ({ value: String(t.id), label: t.name })),
			hint: choices.unpricedTypes.length
				? `No price in the pricing file for: ${choices.unpricedTypes.join(", ")}`
				: undefined,
			empty: "Add instance types first.",
		},
		{
			control: "checks",
			name: "permittedGroups",
			label: "Permitted groups",
			options: choices.groups.map((g) => ({ value: String(g.id), label: g.name })),
		},
		{ heading: "Instance" },
		{
			control: "checkbox",
			name: "hasProgressBar",
			label: "The bootstrap script reports progress (show a progress bar)",
		},
		{
			control: "text",
			name: "failureStages",
			label: "Failure stages",
			hint:
				"Progress stages that mean the setup failed, comma-separated (failed and error always do), e.g. mount_failed",
		},
		{
			grid: [
				{
					control: "text",
					name: "volumeDevice",
					label: "Extra volume device",
					hint: 'Like /dev/xvdz; empty or "No Volume" for none',
				},
				{ control: "number", name: "volumeSizeGb", label: "Extra volume size (GiB)", fallback: "10" },
				{
					control: "select",
					name: "volumeType",
					label: "Extra volume type",
					fallback: "gp2",
					options: options(VOLUME_TYPES),
				},
				{
					control: "text",
					name: "volumeKmsKey",
					label: "Extra volume KMS key",
					hint: "Empty: the account's default EBS key",
				},
			],
		},
		{
			control: "area",
			name: "params",
			label: "Params",
			rows: 4,
			hint:
				"TOKEN=value lines: replace {{{TOKEN}}} in the bootstrap script (instances) or fill template parameters (clusters).",
		},
		{ control: "area", name: "templateBody", label: "CloudFormation template (JSON or YAML)", rows: 16 },
		{
			control: "area",
			name: "userDataBody",
			label: "Bootstrap script (user data)",
			rows: 16,
			hint: "Base64 of the script after token replacement must fit CloudFormation's 4096-byte parameter limit.",
		},
		{ heading: "Connecting" },
		{
			control: "text",
			name: "loginUser",
			label: "Login user",
			placeholder: "ec2-user",
			hint: "The user of the SSH command shown on the machine's page (ec2-user, ubuntu, hadoop…)",
		},
		{
			control: "area",
			name: "customUrlFormat",
			label: "Application links",
			rows: 3,
			hint:
				"One a line, Label | format: {{{ URL }}} becomes the DNS name or address, e.g. Jupyter | https://{{{ URL }}}/jupyter/. A line without a label is a cluster's connection, e.g. jdbc:hive2://{{{ URL }}}:10000",
		},
		{ heading: "EMR cluster" },
		{
			grid: [
				{ control: "text", name: "emrMasterSecurityGroup", label: "Managed master security group" },
				{ control: "text", name: "emrSlaveSecurityGroup", label: "Managed slave security group" },
				{ control: "text", name: "emrAdditionalMasterSecurityGroups", label: "Additional master security groups" },
				{ control: "text", name: "emrAdditionalSlaveSecurityGroups", label: "Additional slave security groups" },
			],
		},
		...policyFields("config"),
	];
}

export function ConfigFormPage(
	props: ConfigChoices & ItemFormProps,
) {
	const { ctx, id, values } = props;
	const name = textOf(values, "name");
	return (
		<AdminPage ctx={ctx} title={id === undefined ? "New configuration" : name}>
			<h2>{id === undefined ? "New software configuration" : `Configuration ${name}`}</h2>
			<DataForm
				action={id === undefined ? `${LIST}/new` : `${LIST}/${id}`}
				csrf={ctx.csrf}
				class="wide"
				items={configFields(props)}
				values={values}
				errors={props.errors}
				buttons={[
					{ label: "Save configuration", intent: "save", primary: true },
					...(id === undefined ? [] : [{ label: "Save as new (with the name above)", intent: "saveas" }]),
				]}
				cancel={LIST}
			/>
			{id !== undefined && <DeleteButton action={`${LIST}/${id}/delete`} what="this configuration" csrf={ctx.csrf} />}
		</AdminPage>
	);
}

/** A stored configuration as the form shows it. */
function configValues({ config, compatibleTypes, permittedGroups }: ConfigWithLinks): FormValues {
	return {
		...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : String(v ?? "")])),
		hasProgressBar: config.hasProgressBar ? "on" : "",
		params: Object.entries(config.params).map(([k, v]) => `${k}=${v}`).join("\n"),
		...policyFormValues(config.policy),
		compatibleTypes: compatibleTypes.map(String),
		permittedGroups: permittedGroups.map(String),
	};
}

export function configRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.get("/", async (c) => {
		const [ctx, configs] = await Promise.all([pageContext(c, deps), configRows(deps.db)]);
		return c.html(renderPage(<ConfigsPage ctx={ctx} configs={configs} />));
	});
	app.route(
		"/",
		itemRoutes(deps, {
			list: LIST,
			what: "Configuration",
			load: (id) => configForm(deps, id),
			page: ConfigFormPage,
			values: configValues,
			fresh: (c) => newConfig(deps.samples, c.req.query("kind") === "cluster" ? "cluster" : "instance"),
			save: async (id, values) => {
				const saveAs = textOf(values, "intent") === "saveas";
				const saved = await saveConfig(deps.db, saveAs ? undefined : id, {
					...values,
					hasProgressBar: textOf(values, "hasProgressBar") === "on",
					policy: policyFromForm(values),
					compatibleTypes: listOf(values.compatibleTypes),
					permittedGroups: listOf(values.permittedGroups),
				}, { operatingSystems: deps.pricing.platforms() });
				return { id: saved, done: saveAs ? "Configuration saved as a new configuration." : "Configuration saved." };
			},
			remove: (id) => deleteConfig(deps.db, id),
		}),
	);
	return app;
}
