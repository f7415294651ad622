/** GET/POST /admin/groups/new, GET/POST /admin/groups/:id, POST /admin/groups/:id/delete, GET /admin/groups. */
import { Hono } from "hono";
import { deleteGroup } from "../../lib/catalog/delete_guards.ts";
import { saveGroup } from "../../lib/catalog/save.ts";
import type { Deps } from "../../lib/deps.ts";
import {
	groupForm,
	type GroupRow,
	groupRows,
	type GroupWithLinks,
	type InstanceType,
	type SecurityGroup,
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

const LIST = "/admin/groups";

const GROUP_COLUMNS: Column<GroupRow>[] = [
	{ label: "Name", cell: (g) => <a href={`${LIST}/${g.id}`}>{g.name}</a> },
	{ label: "Directory group", class: "small", cell: (g) => g.directoryName ?? "—" },
	{ label: "Manager directory group", class: "small", cell: (g) => g.managerDirectoryName ?? "—" },
	{ label: "Cost center", cell: (g) => g.costCenter || <span class="muted">default</span> },
	{ label: "Members", class: "num", cell: (g) => g.members },
	{ label: "EMR", cell: (g) => g.emrAccess ? "yes" : "no" },
];

export function GroupsPage(props: { ctx: PageContext; rows: GroupRow[] }) {
	return (
		<AdminPage ctx={props.ctx} title="Groups">
			<div class="row">
				<h2>Groups</h2>
				<span class="spacer"></span>
				<a class="btn primary" href={`${LIST}/new`}>New group</a>
			</div>
			{props.rows.length === 0
				? <EmptyState title="No groups yet." />
				: <ItemTable columns={GROUP_COLUMNS} rows={props.rows} />}
		</AdminPage>
	);
}

/** The group form's fields, with the security groups and instance types it offers. */
function groupFields(securityGroups: SecurityGroup[], instanceTypes: InstanceType[]): FormItem[] {
	const sgOptions = securityGroups.map((s) => ({ value: String(s.id), label: `${s.name || s.sgId} (${s.sgId})` }));
	return [
		{ control: "text", name: "name", label: "Name", required: true, maxLength: 60 },
		{
			control: "text",
			name: "directoryName",
			label: "Directory group",
			hint:
				"Full DN (CN=Data Science,OU=Teams,DC=example,DC=com) or a plain name; members join automatically at sign-in.",
		},
		{
			control: "text",
			name: "managerDirectoryName",
			label: "Manager directory group",
			hint:
				"Full DN or a plain name; its members manage this group (team view, machines, bills, budgets, approvals) from their next sign-in, without the Manager role.",
		},
		{
			grid: [
				{ control: "text", name: "keyName", label: "Key pair" },
				{ control: "text", name: "iamInstanceProfile", label: "IAM instance profile" },
				{ control: "text", name: "costCenter", label: "Cost center", hint: "Empty: the default charge code" },
				{ control: "text", name: "ags", label: "AGS" },
				{ control: "text", name: "sdlc", label: "SDLC" },
				{
					control: "text",
					name: "nameOverride",
					label: "Name override",
					hint: "Replaces the configuration's instance name",
				},
			],
		},
		{
			control: "checks",
			name: "defaultSecurityGroups",
			label: "Default security groups",
			options: sgOptions,
			hint: "Always attached; at most 5.",
		},
		{
			control: "checks",
			name: "optionalSecurityGroups",
			label: "Optional security groups",
			options: sgOptions,
			hint: "Users may add these at launch.",
		},
		{
			control: "checks",
			name: "excludedTypes",
			label: "Excluded instance types",
			options: sortInstanceTypes(instanceTypes).map((t) => ({ value: String(t.id), label: t.name })),
		},
		{ control: "checkbox", name: "emrAccess", label: "May launch EMR clusters" },
		{
			control: "area",
			name: "settings",
			label: "Settings",
			rows: 3,
			hint: "key=value lines, e.g. cluster_auto_termination_minutes=120",
		},
		...policyFields("group"),
	];
}

export function GroupFormPage(
	props: ItemFormProps & {
		securityGroups: SecurityGroup[];
		instanceTypes: InstanceType[];
	},
) {
	const { ctx, id, values } = props;
	const name = textOf(values, "name");
	return (
		<AdminPage ctx={ctx} title={id === undefined ? "New group" : name}>
			<h2>{id === undefined ? "New group" : `Group ${name}`}</h2>
			<DataForm
				action={id === undefined ? `${LIST}/new` : `${LIST}/${id}`}
				csrf={ctx.csrf}
				items={groupFields(props.securityGroups, props.instanceTypes)}
				values={values}
				errors={props.errors}
				buttons={[{ label: "Save group", primary: true }]}
				cancel={LIST}
			/>
			{id !== undefined && <DeleteButton action={`${LIST}/${id}/delete`} what="this group" csrf={ctx.csrf} />}
		</AdminPage>
	);
}

/** A stored group as the form shows it. */
function groupValues({ group, ...links }: GroupWithLinks): FormValues {
	return {
		name: group.name,
		directoryName: group.directoryName ?? "",
		managerDirectoryName: group.managerDirectoryName ?? "",
		keyName: group.keyName,
		iamInstanceProfile: group.iamInstanceProfile,
		nameOverride: group.nameOverride,
		ags: group.ags,
		costCenter: group.costCenter,
		sdlc: group.sdlc,
		emrAccess: group.emrAccess ? "on" : "",
		settings: group.settings,
		noticeWebhook: group.noticeWebhook,
		...policyFormValues(group.policy),
		defaultSecurityGroups: links.defaultSecurityGroups.map(String),
		optionalSecurityGroups: links.optionalSecurityGroups.map(String),
		excludedTypes: links.excludedTypes.map(String),
	};
}

export function groupRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	app.get("/", async (c) => {
		const [ctx, rows] = await Promise.all([pageContext(c, deps), groupRows(deps.db)]);
		return c.html(renderPage(<GroupsPage ctx={ctx} rows={rows} />));
	});
	app.route(
		"/",
		itemRoutes(deps, {
			list: LIST,
			what: "Group",
			load: (id) => groupForm(deps.db, id),
			page: GroupFormPage,
			values: groupValues,
			fresh: () => ({}),
			save: async (id, values) => {
				const saved = await saveGroup(deps.db, id, {
					...values,
					emrAccess: textOf(values, "emrAccess") === "on",
					policy: policyFromForm(values),
					defaultSecurityGroups: listOf(values.defaultSecurityGroups),
					optionalSecurityGroups: listOf(values.optionalSecurityGroups),
					excludedTypes: listOf(values.excludedTypes),
				});
				return { id: saved, done: "Group saved." };
			},
			remove: (id) => deleteGroup(deps.db, id),
		}),
	);
	return app;
}
