/**
 * Admin pages (admins only), under /admin: groups, software configurations (with their template and
 * bootstrap script, and "save as"), instance types, security groups, params, users' roles and manual
 * memberships, and the whole catalogue as one JSON/YAML document (export and import). Every form is
 * validated on the server and re-rendered with field errors; refused deletes say why.
 */
import { Hono } from "hono";
import {
	deleteConfig,
	deleteGroup,
	deleteInstanceType,
	deleteParam,
	deleteSecurityGroup,
} from "../lib/catalog/delete_guards.ts";
import { exportCatalog, formatCatalog, importCatalog, parseCatalog } from "../lib/catalog/document.ts";
import {
	saveConfig,
	saveGroup,
	saveInstanceType,
	saveParam,
	saveSecurityGroup,
	saveUser,
} from "../lib/catalog/save.ts";
import { OPERATING_SYSTEMS, VOLUME_TYPES } from "../lib/catalog/schemas.ts";
import {
	compatibleTypeIds,
	excludedTypeIds,
	getConfig,
	getGroup,
	groupSecurityGroupsOf,
	listConfigs,
	listGroups,
	listInstanceTypes,
	listParams,
	listSecurityGroups,
	permittedGroupIds,
} from "../lib/db/catalog.ts";
import { getUser, listMemberships, listUsers } from "../lib/db/users.ts";
import type { Deps } from "../lib/deps.ts";
import { UserError } from "../lib/errors.ts";
import { CLUSTER_TEMPLATE, INSTANCE_TEMPLATE, SAMPLE_BOOTSTRAP } from "../fixtures/mod.ts";
import { type AppContext, type AppEnv, type PageContext, pageContext, setFlash } from "./env.ts";
import { formList, parseId } from "./params.ts";
import { respondError } from "./errors.tsx";
import { CsrfField, EmptyState } from "./ui/components.tsx";
import { Checkbox, CheckList, SelectField, TextArea, TextInput } from "./ui/forms.tsx";
import { Layout } from "./ui/Layout.tsx";
import { renderPage } from "./ui/render.tsx";

type FormValues = Record<string, string | string[]>;
type Errors = Record<string, string>;

const TABS = [
	["/admin/groups", "Groups"],
	["/admin/configs", "Configurations"],
	["/admin/instance-types", "Instance types"],
	["/admin/security-groups", "Security groups"],
	["/admin/params", "Params"],
	["/admin/users", "Users"],
	["/admin/catalog", "Import / export"],
] as const;

function AdminTabs(props: { path: string }) {
	return (
		<nav class="tabs" aria-label="Admin sections">
			{TABS.map(([href, label]) => (
				<a href={href} aria-current={props.path.startsWith(href) ? "page" : undefined}>{label}</a>
			))}
		</nav>
	);
}

function AdminPage(props: { ctx: PageContext; title: string; children: preact.ComponentChildren }) {
	return (
		<Layout ctx={props.ctx} title={`Admin · ${props.title}`} wide>
			<h1>Admin</h1>
			<AdminTabs path={props.ctx.path} />
			{props.children}
		</Layout>
	);
}

/** The submitted fields, lists kept as lists, files and the CSRF token left out. */
async function formValues(c: AppContext): Promise<FormValues> {
	const body = await c.req.parseBody({ all: true });
	const values: FormValues = {};
	for (const [key, value] of Object.entries(body)) {
		if (key === "_csrf") continue;
		if (Array.isArray(value)) values[key] = value.filter((v): v is string => typeof v === "string");
		else if (typeof value === "string") values[key] = value;
	}
	return values;
}

const str = (v: FormValues, key: string) => typeof v[key] === "string" ? v[key] as string : "";
const ids = (values: number[]) => new Set(values.map(String));

/** The id of an admin URL; a malformed one names nothing, so 404. */
function itemId(value: string): number {
	const id = parseId(value);
	if (id === undefined) throw new UserError(404, "No such item");
	return id;
}

function DeleteButton(props: { action: string; what: string; csrf: string }) {
	return (
		<form method="post" action={props.action} data-confirm={`Delete ${props.what}? This cannot be undone.`}>
			<CsrfField token={props.csrf} />
			<button type="submit" class="danger">Delete</button>
		</form>
	);
}

function FormMessage(props: { errors: Errors }) {
	return Object.keys(props.errors).length
		? (
			<p class="error-box" role="alert">
				Please correct the marked fields.{props.errors.form ? ` ${props.errors.form}` : ""}
			</p>
		)
		: null;
}

export function adminRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const guard = async (c: AppContext, next: () => Promise<void>) => {
		if (c.get("viewer").role !== "admin") return respondError(c, 403, "Only admins may use the admin pages.");
		await next();
	};
	app.use("/admin", guard);
	app.use("/admin/*", guard);

	/** Runs a save; on a 422 re-renders the form (at 422) with the field errors instead of failing. */
	const saving = async (
		c: AppContext,
		save: () => Promise<string>,
		rerender: (errors: Errors) => Promise<Response>,
		done: string,
	) => {
		try {
			const to = await save();
			await setFlash(c, deps, { tone: "ok", text: done });
			return c.redirect(to, 303);
		} catch (error) {
			if (error instanceof UserError && error.status === 422) {
				return await rerender({
					...error.fields,
					...(Object.keys(error.fields).length ? {} : { form: error.message }),
				});
			}
			throw error;
		}
	};
	const deleting = async (c: AppContext, remove: () => Promise<void>, back: string, listUrl: string, what: string) => {
		try {
			await remove();
			await setFlash(c, deps, { tone: "ok", text: `${what} deleted.` });
			return c.redirect(listUrl, 303);
		} catch (error) {
			if (error instanceof UserError && error.status === 409) {
				await setFlash(c, deps, { tone: "error", text: error.message });
				return c.redirect(back, 303);
			}
			throw error;
		}
	};

	app.get("/admin", async (c) => {
		const ctx = await pageContext(c, deps);
		const [groups, configs, types, sgs, params, users] = await Promise.all([
			listGroups(deps.db),
			listConfigs(deps.db),
			listInstanceTypes(deps.db),
			listSecurityGroups(deps.db),
			listParams(deps.db),
			listUsers(deps.db),
		]);
		const counts = [groups.length, configs.length, types.length, sgs.length, params.length, users.length];
		return c.html(renderPage(
			<AdminPage ctx={ctx} title="Overview">
				<p class="lead">
					Set up in this order: instance types and security groups, then groups, params, and software configurations
					permitted to groups.
				</p>
				<div class="cards">
					{TABS.slice(0, 6).map(([href, label], i) => (
						<a class="card" href={href}>
							<h3>{label}</h3>
							<span class="stat">{counts[i]}</span>
						</a>
					))}
				</div>
			</AdminPage>,
		));
	});

	// ---- Groups ---------------------------------------------------------------------------------
	app.get("/admin/groups", async (c) => {
		const ctx = await pageContext(c, deps);
		const [groups, memberships] = await Promise.all([listGroups(deps.db), listMemberships(deps.db)]);
		return c.html(renderPage(
			<AdminPage ctx={ctx} title="Groups">
				<div class="row">
					<h2>Groups</h2>
					<span class="spacer"></span>
					<a class="btn primary" href="/admin/groups/new">New group</a>
				</div>
				{groups.length === 0 ? <EmptyState title="No groups yet." /> : (
					<div class="table-wrap">
						<table>
							<thead>
								<tr>
									<th scope="col">Name</th>
									<th scope="col">Directory group</th>
									<th scope="col">Cost center</th>
									<th scope="col" class="num">Members</th>
									<th scope="col">EMR</th>
								</tr>
							</thead>
							<tbody>
								{groups.map((g) => (
									<tr>
										<td>
											<a href={`/admin/groups/${g.id}`}>{g.name}</a>
										</td>
										<td class="small">{g.directoryName ?? "—"}</td>
										<td>{g.costCenter || <span class="muted">default</span>}</td>
										<td class="num">
											{new Set(memberships.filter((m) => m.groupId === g.id).map((m) => m.userId)).size}
										</td>
										<td>{g.emrAccess ? "yes" : "no"}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</AdminPage>,
		));
	});

	const groupForm = async (
		c: AppContext,
		id: number | undefined,
		values: FormValues,
		errors: Errors,
		status: 200 | 422 = 200,
	) => {
		const ctx = await pageContext(c, deps);
		const [sgs, types] = await Promise.all([listSecurityGroups(deps.db), listInstanceTypes(deps.db)]);
		const action = id === undefined ? "/admin/groups/new" : `/admin/groups/${id}`;
		const sgOptions = sgs.map((s) => ({ value: String(s.id), label: `${s.name || s.sgId} (${s.sgId})` }));
		c.status(status);
		return c.html(renderPage(
			<AdminPage ctx={ctx} title={id === undefined ? "New group" : str(values, "name")}>
				<h2>{id === undefined ? "New group" : `Group ${str(values, "name")}`}</h2>
				<form method="post" action={action} class="stack panel" novalidate>
					<CsrfField token={ctx.csrf} />
					<FormMessage errors={errors} />
					<TextInput label="Name" name="name" value={str(values, "name")} errors={errors} required maxLength={60} />
					<TextInput
						label="Directory group"
						name="directoryName"
						value={str(values, "directoryName")}
						errors={errors}
						hint="Full DN (CN=Data Science,OU=Teams,DC=example,DC=com) or a plain name; members join automatically at sign-in."
					/>
					<div class="grid">
						<TextInput label="Key pair" name="keyName" value={str(values, "keyName")} errors={errors} />
						<TextInput
							label="IAM instance profile"
							name="iamInstanceProfile"
							value={str(values, "iamInstanceProfile")}
							errors={errors}
						/>
						<TextInput
							label="Cost center"
							name="costCenter"
							value={str(values, "costCenter")}
							errors={errors}
							hint="Empty: the default charge code"
						/>
						<TextInput label="AGS" name="ags" value={str(values, "ags")} errors={errors} />
						<TextInput label="SDLC" name="sdlc" value={str(values, "sdlc")} errors={errors} />
						<TextInput
							label="Name override"
							name="nameOverride"
							value={str(values, "nameOverride")}
							errors={errors}
							hint="Replaces the configuration's instance name"
						/>
					</div>
					<CheckList
						label="Default security groups"
						name="defaultSecurityGroups"
						options={sgOptions}
						selected={new Set(formList(values.defaultSecurityGroups))}
						errors={errors}
						hint="Always attached; at most 5."
					/>
					<CheckList
						label="Optional security groups"
						name="optionalSecurityGroups"
						options={sgOptions}
						selected={new Set(formList(values.optionalSecurityGroups))}
						errors={errors}
						hint="Users may add these at launch."
					/>
					<CheckList
						label="Excluded instance types"
						name="excludedTypes"
						options={types.map((t) => ({ value: String(t.id), label: t.name }))}
						selected={new Set(formList(values.excludedTypes))}
						errors={errors}
					/>
					<Checkbox label="May launch EMR clusters" name="emrAccess" checked={str(values, "emrAccess") === "on"} />
					<TextArea
						label="Settings"
						name="settings"
						value={str(values, "settings")}
						errors={errors}
						rows={3}
						hint="key=value lines, e.g. cluster_auto_termination_minutes=120"
					/>
					<div class="row">
						<button type="submit" class="primary">Save group</button>
						<a href="/admin/groups">Cancel</a>
					</div>
				</form>
				{id !== undefined && <DeleteButton action={`/admin/groups/${id}/delete`} what="this group" csrf={ctx.csrf} />}
			</AdminPage>,
		));
	};
	app.get("/admin/groups/new", (c) => groupForm(c, undefined, {}, {}));
	app.get("/admin/groups/:id", async (c) => {
		const id = itemId(c.req.param("id"));
		const group = await getGroup(deps.db, id);
		if (!group) throw new UserError(404, "No such group");
		const [defaults, optional, excluded] = await Promise.all([
			groupSecurityGroupsOf(deps.db, id, "default"),
			groupSecurityGroupsOf(deps.db, id, "optional"),
			excludedTypeIds(deps.db, id),
		]);
		return await groupForm(c, id, {
			name: group.name,
			directoryName: group.directoryName ?? "",
			keyName: group.keyName,
			iamInstanceProfile: group.iamInstanceProfile,
			nameOverride: group.nameOverride,
			ags: group.ags,
			costCenter: group.costCenter,
			sdlc: group.sdlc,
			emrAccess: group.emrAccess ? "on" : "",
			settings: group.settings,
			defaultSecurityGroups: [...ids(defaults.map((s) => s.id))],
			optionalSecurityGroups: [...ids(optional.map((s) => s.id))],
			excludedTypes: [...ids(excluded)],
		}, {});
	});
	const postGroup = async (c: AppContext, id: number | undefined) => {
		const values = await formValues(c);
		const input = {
			...values,
			emrAccess: str(values, "emrAccess") === "on",
			defaultSecurityGroups: formList(values.defaultSecurityGroups),
			optionalSecurityGroups: formList(values.optionalSecurityGroups),
			excludedTypes: formList(values.excludedTypes),
		};
		return await saving(
			c,
			async () => `/admin/groups/${await saveGroup(deps.db, id, input)}`,
			(errors) => groupForm(c, id, values, errors, 422),
			"Group saved.",
		);
	};
	app.post("/admin/groups/new", (c) => postGroup(c, undefined));
	app.post("/admin/groups/:id", (c) => postGroup(c, itemId(c.req.param("id"))));
	app.post("/admin/groups/:id/delete", (c) => {
		const id = itemId(c.req.param("id"));
		return deleting(c, () => deleteGroup(deps.db, id), `/admin/groups/${id}`, "/admin/groups", "Group");
	});

	// ---- Software configurations ----------------------------------------------------------------
	app.get("/admin/configs", async (c) => {
		const ctx = await pageContext(c, deps);
		const configs = await listConfigs(deps.db);
		return c.html(renderPage(
			<AdminPage ctx={ctx} title="Configurations">
				<div class="row">
					<h2>Software configurations</h2>
					<span class="spacer"></span>
					<a class="btn primary" href="/admin/configs/new">New instance configuration</a>
					<a class="btn" href="/admin/configs/new?kind=cluster">New cluster configuration</a>
				</div>
				{configs.length === 0 ? <EmptyState title="No configurations yet." /> : (
					<div class="table-wrap">
						<table>
							<thead>
								<tr>
									<th scope="col">Name</th>
									<th scope="col">Kind</th>
									<th scope="col">AMI</th>
									<th scope="col">Progress bar</th>
								</tr>
							</thead>
							<tbody>
								{configs.map((cfg) => (
									<tr>
										<td>
											<a href={`/admin/configs/${cfg.id}`}>{cfg.name}</a>
										</td>
										<td>{cfg.kind}</td>
										<td class="mono small">{cfg.amiId || "—"}</td>
										<td>{cfg.hasProgressBar ? "yes" : "no"}</td>
									</tr>
								))}
							</tbody>
						</table>
					</div>
				)}
			</AdminPage>,
		));
	});

	const configForm = async (
		c: AppContext,
		id: number | undefined,
		values: FormValues,
		errors: Errors,
		status: 200 | 422 = 200,
	) => {
		const ctx = await pageContext(c, deps);
		const [types, groups] = await Promise.all([listInstanceTypes(deps.db), listGroups(deps.db)]);
		const action = id === undefined ? "/admin/configs/new" : `/admin/configs/${id}`;
		const unknownPrices = types.filter((t) => !deps.pricing.typeInfo(t.name)).map((t) => t.name);
		c.status(status);
		return c.html(renderPage(
			<AdminPage ctx={ctx} title={id === undefined ? "New configuration" : str(values, "name")}>
				<h2>{id === undefined ? "New software configuration" : `Configuration ${str(values, "name")}`}</h2>
				<form method="post" action={action} class="stack panel" novalidate style="max-width:960px">
					<CsrfField token={ctx.csrf} />
					<FormMessage errors={errors} />
					<div class="grid">
						<TextInput label="Name" name="name" value={str(values, "name")} errors={errors} required maxLength={60} />
						<SelectField
							label="Kind"
							name="kind"
							value={str(values, "kind") || "instance"}
							options={[{ value: "instance", label: "Instance" }, { value: "cluster", label: "EMR cluster" }]}
							errors={errors}
						/>
						<TextInput
							label="AMI"
							name="amiId"
							value={str(values, "amiId")}
							errors={errors}
							placeholder="ami-0123456789abcdef0"
						/>
						<TextInput
							label="Instance name"
							name="instanceName"
							value={str(values, "instanceName")}
							errors={errors}
							hint="The Name tag (a group may override it)"
						/>
						<SelectField
							label="Operating system (for prices)"
							name="os"
							value={str(values, "os") || "linux"}
							options={OPERATING_SYSTEMS.map((o) => ({ value: o, label: o }))}
							errors={errors}
						/>
					</div>
					<TextArea
						label="Description (HTML)"
						name="descriptionHtml"
						value={str(values, "descriptionHtml")}
						errors={errors}
						rows={4}
						prose
						hint="Shown in the catalogue. Only simple formatting and links are kept."
					/>
					<CheckList
						label="Compatible instance types"
						name="compatibleTypes"
						options={types.map((t) => ({ value: String(t.id), label: t.name }))}
						selected={new Set(formList(values.compatibleTypes))}
						errors={errors}
						hint={unknownPrices.length ? `No price in the pricing file for: ${unknownPrices.join(", ")}` : undefined}
						empty="Add instance types first."
					/>
					<CheckList
						label="Permitted groups"
						name="permittedGroups"
						options={groups.map((g) => ({ value: String(g.id), label: g.name }))}
						selected={new Set(formList(values.permittedGroups))}
						errors={errors}
					/>
					<h3>Instance</h3>
					<Checkbox
						label="The bootstrap script reports progress (show a progress bar)"
						name="hasProgressBar"
						checked={str(values, "hasProgressBar") === "on"}
					/>
					<div class="grid">
						<TextInput
							label="Extra volume device"
							name="volumeDevice"
							value={str(values, "volumeDevice")}
							errors={errors}
							hint='Like /dev/xvdz; empty or "No Volume" for none'
						/>
						<TextInput
							label="Extra volume size (GiB)"
							name="volumeSizeGb"
							type="number"
							value={str(values, "volumeSizeGb") || "10"}
							errors={errors}
						/>
						<SelectField
							label="Extra volume type"
							name="volumeType"
							value={str(values, "volumeType") || "gp2"}
							options={VOLUME_TYPES.map((v) => ({ value: v, label: v }))}
							errors={errors}
						/>
						<TextInput
							label="Extra volume KMS key"
							name="volumeKmsKey"
							value={str(values, "volumeKmsKey")}
							errors={errors}
							hint="Empty: the account's default EBS key"
						/>
					</div>
					<TextArea
						label="Params"
						name="params"
						value={str(values, "params")}
						errors={errors}
						rows={4}
						hint="TOKEN=value lines: replace {{{TOKEN}}} in the bootstrap script (instances) or fill template parameters (clusters)."
					/>
					<TextArea
						label="CloudFormation template (JSON or YAML)"
						name="templateBody"
						value={str(values, "templateBody")}
						errors={errors}
						rows={16}
					/>
					<TextArea
						label="Bootstrap script (user data)"
						name="userDataBody"
						value={str(values, "userDataBody")}
						errors={errors}
						rows={16}
						hint="Base64 of the script after token replacement must fit CloudFormation's 4096-byte parameter limit."
					/>
					<h3>EMR cluster</h3>
					<TextInput
						label="Connection format"
						name="customUrlFormat"
						value={str(values, "customUrlFormat")}
						errors={errors}
						hint="{{{ URL }}} becomes the DNS name or master IP, e.g. jdbc:hive2://{{{ URL }}}:10000"
					/>
					<div class="grid">
						<TextInput
							label="Managed master security group"
							name="emrMasterSecurityGroup"
							value={str(values, "emrMasterSecurityGroup")}
							errors={errors}
						/>
						<TextInput
							label="Managed slave security group"
							name="emrSlaveSecurityGroup"
							value={str(values, "emrSlaveSecurityGroup")}
							errors={errors}
						/>
						<TextInput
							label="Additional master security groups"
							name="emrAdditionalMasterSecurityGroups"
							value={str(values, "emrAdditionalMasterSecurityGroups")}
							errors={errors}
						/>
						<TextInput
							label="Additional slave security groups"
							name="emrAdditionalSlaveSecurityGroups"
							value={str(values, "emrAdditionalSlaveSecurityGroups")}
							errors={errors}
						/>
					</div>
					<div class="row">
						<button type="submit" name="intent" value="save" class="primary">Save configuration</button>
						{id !== undefined && (
							<button type="submit" name="intent" value="saveas">Save as new (with the name above)</button>
						)}
						<a href="/admin/configs">Cancel</a>
					</div>
				</form>
				{id !== undefined && (
					<DeleteButton action={`/admin/configs/${id}/delete`} what="this configuration" csrf={ctx.csrf} />
				)}
			</AdminPage>,
		));
	};
	app.get("/admin/configs/new", (c) =>
		configForm(
			c,
			undefined,
			c.req.query("kind") === "cluster"
				? {
					kind: "cluster",
					templateBody: CLUSTER_TEMPLATE,
					customUrlFormat: "https://{{{ URL }}}:9443/",
					params: "paramReleaseLabel=emr-6.15.0\nparamServiceRole=EMR_DefaultRole",
				}
				: {
					kind: "instance",
					templateBody: INSTANCE_TEMPLATE,
					userDataBody: SAMPLE_BOOTSTRAP,
					volumeDevice: "/dev/xvdz",
					volumeSizeGb: "100",
					hasProgressBar: "on",
				},
			{},
		));
	app.get("/admin/configs/:id", async (c) => {
		const id = itemId(c.req.param("id"));
		const config = await getConfig(deps.db, id);
		if (!config) throw new UserError(404, "No such configuration");
		const [types, groups] = await Promise.all([compatibleTypeIds(deps.db, id), permittedGroupIds(deps.db, id)]);
		return await configForm(c, id, {
			...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : String(v ?? "")])),
			hasProgressBar: config.hasProgressBar ? "on" : "",
			params: Object.entries(config.params).map(([k, v]) => `${k}=${v}`).join("\n"),
			compatibleTypes: [...ids(types)],
			permittedGroups: [...ids(groups)],
		}, {});
	});
	const postConfig = async (c: AppContext, id: number | undefined) => {
		const values = await formValues(c);
		const saveAs = str(values, "intent") === "saveas";
		const input = {
			...values,
			hasProgressBar: str(values, "hasProgressBar") === "on",
			compatibleTypes: formList(values.compatibleTypes),
			permittedGroups: formList(values.permittedGroups),
		};
		return await saving(
			c,
			async () => `/admin/configs/${await saveConfig(deps.db, saveAs ? undefined : id, input)}`,
			(errors) => configForm(c, id, values, errors, 422),
			saveAs ? "Configuration saved as a new configuration." : "Configuration saved.",
		);
	};
	app.post("/admin/configs/new", (c) => postConfig(c, undefined));
	app.post("/admin/configs/:id", (c) => postConfig(c, itemId(c.req.param("id"))));
	app.post("/admin/configs/:id/delete", (c) => {
		const id = itemId(c.req.param("id"));
		return deleting(c, () => deleteConfig(deps.db, id), `/admin/configs/${id}`, "/admin/configs", "Configuration");
	});

	// ---- Simple lists: instance types, security groups, params ----------------------------------
	interface SimpleKind {
		path: string;
		title: string;
		what: string;
		fields: { name: string; label: string; hint?: string; area?: boolean }[];
		load: () => Promise<{ id: number; values: Record<string, string> }[]>;
		save: (id: number | undefined, values: FormValues) => Promise<number>;
		remove: (id: number) => Promise<void>;
	}
	const kinds: SimpleKind[] = [
		{
			path: "/admin/instance-types",
			title: "Instance types",
			what: "Instance type",
			fields: [{ name: "name", label: "AWS name", hint: "e.g. r4.4xlarge" }, {
				name: "description",
				label: "Description",
			}],
			load: async () =>
				(await listInstanceTypes(deps.db)).map((t) => ({
					id: t.id,
					values: { name: t.name, description: t.description },
				})),
			save: (id, v) => saveInstanceType(deps.db, id, v),
			remove: (id) => deleteInstanceType(deps.db, id),
		},
		{
			path: "/admin/security-groups",
			title: "Security groups",
			what: "Security group",
			fields: [{ name: "sgId", label: "Security group id", hint: "sg-…" }, { name: "name", label: "Name" }],
			load: async () =>
				(await listSecurityGroups(deps.db)).map((s) => ({ id: s.id, values: { sgId: s.sgId, name: s.name } })),
			save: (id, v) => saveSecurityGroup(deps.db, id, v),
			remove: (id) => deleteSecurityGroup(deps.db, id),
		},
		{
			path: "/admin/params",
			title: "Params",
			what: "Param",
			fields: [
				{ name: "token", label: "Token", hint: "{{{TOKEN}}} in every bootstrap script" },
				{ name: "value", label: "Replacement", area: true },
				{ name: "description", label: "Description" },
			],
			load: async () =>
				(await listParams(deps.db)).map((p) => ({
					id: p.id,
					values: { token: p.token, value: p.value, description: p.description },
				})),
			save: (id, v) => saveParam(deps.db, id, v),
			remove: (id) => deleteParam(deps.db, id),
		},
	];
	for (const kind of kinds) {
		const render = async (
			c: AppContext,
			editing: number | "new" | undefined,
			values: FormValues,
			errors: Errors,
			status: 200 | 422 = 200,
		) => {
			const ctx = await pageContext(c, deps);
			const rows = await kind.load();
			const action = editing === undefined || editing === "new" ? `${kind.path}/new` : `${kind.path}/${editing}`;
			c.status(status);
			return c.html(renderPage(
				<AdminPage ctx={ctx} title={kind.title}>
					<h2>{kind.title}</h2>
					<form method="post" action={action} class="stack panel" novalidate>
						<CsrfField token={ctx.csrf} />
						<h3>
							{typeof editing === "number" ? `Edit ${kind.what.toLowerCase()}` : `Add ${kind.what.toLowerCase()}`}
						</h3>
						<FormMessage errors={errors} />
						{kind.fields.map((f) =>
							f.area
								? (
									<TextArea
										label={f.label}
										name={f.name}
										value={str(values, f.name)}
										errors={errors}
										rows={3}
										hint={f.hint}
									/>
								)
								: <TextInput label={f.label} name={f.name} value={str(values, f.name)} errors={errors} hint={f.hint} />
						)}
						<div class="row">
							<button type="submit" class="primary">{typeof editing === "number" ? "Save" : "Add"}</button>
							{typeof editing === "number" && <a href={kind.path}>Cancel</a>}
						</div>
					</form>
					{typeof editing === "number" && (
						<DeleteButton
							action={`${kind.path}/${editing}/delete`}
							what={`this ${kind.what.toLowerCase()}`}
							csrf={ctx.csrf}
						/>
					)}
					{rows.length === 0 ? <EmptyState title={`No ${kind.title.toLowerCase()} yet.`} /> : (
						<div class="table-wrap">
							<table>
								<thead>
									<tr>
										{kind.fields.map((f) => <th scope="col">{f.label}</th>)}
										<th scope="col">
											<span class="sr-only">Edit</span>
										</th>
									</tr>
								</thead>
								<tbody>
									{rows.map((r) => (
										<tr>
											{kind.fields.map((f) => (
												<td class={f.name === "description" ? undefined : "mono small"}>{r.values[f.name]}</td>
											))}
											<td>
												<a href={`${kind.path}/${r.id}`}>Edit</a>
											</td>
										</tr>
									))}
								</tbody>
							</table>
						</div>
					)}
				</AdminPage>,
			));
		};
		app.get(kind.path, (c) => render(c, undefined, {}, {}));
		app.get(`${kind.path}/:id`, async (c) => {
			const id = itemId(c.req.param("id"));
			const row = (await kind.load()).find((r) => r.id === id);
			if (!row) throw new UserError(404, `No such ${kind.what.toLowerCase()}`);
			return await render(c, id, row.values, {});
		});
		const post = async (c: AppContext, id: number | undefined) => {
			const values = await formValues(c);
			return await saving(
				c,
				async () => {
					await kind.save(id, values);
					return kind.path;
				},
				(errors) => render(c, id ?? "new", values, errors, 422),
				`${kind.what} saved.`,
			);
		};
		app.post(`${kind.path}/new`, (c) => post(c, undefined));
		app.post(`${kind.path}/:id`, (c) => post(c, itemId(c.req.param("id"))));
		app.post(`${kind.path}/:id/delete`, (c) => {
			const id = itemId(c.req.param("id"));
			return deleting(c, () => kind.remove(id), `${kind.path}/${id}`, kind.path, kind.what);
		});
	}

	// ---- Users ----------------------------------------------------------------------------------
	app.get("/admin/users", async (c) => {
		const ctx = await pageContext(c, deps);
		const [users, memberships, groups] = await Promise.all([
			listUsers(deps.db),
			listMemberships(deps.db),
			listGroups(deps.db),
		]);
		const groupName = new Map(groups.map((g) => [g.id, g.name]));
		return c.html(renderPage(
			<AdminPage ctx={ctx} title="Users">
				<h2>Users</h2>
				<p class="muted small">Users appear here after they first sign in (or through an import).</p>
				<div class="table-wrap">
					<table>
						<thead>
							<tr>
								<th scope="col">User</th>
								<th scope="col">Name</th>
								<th scope="col">Role</th>
								<th scope="col">Groups</th>
							</tr>
						</thead>
						<tbody>
							{users.map((u) => (
								<tr>
									<td>
										<a href={`/admin/users/${u.id}`}>{u.username}</a>
									</td>
									<td>{`${u.firstName} ${u.lastName}`.trim() || "—"}</td>
									<td>
										{u.role}
										{u.directoryRole && u.directoryRole !== "user" && (
											<span class="muted small">, {u.directoryRole} from the directory</span>
										)}
										{deps.settings.ADMIN_USERNAMES.includes(u.username) && (
											<span class="muted small">, admin by settings</span>
										)}
									</td>
									<td class="small">
										{memberships.filter((m) => m.userId === u.id).map((m) =>
											`${groupName.get(m.groupId)} (${m.source})`
										).join(", ") || "—"}
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</div>
			</AdminPage>,
		));
	});
	const userForm = async (c: AppContext, id: number, values: FormValues, errors: Errors, status: 200 | 422 = 200) => {
		const ctx = await pageContext(c, deps);
		const user = await getUser(deps.db, id);
		if (!user) throw new UserError(404, "No such user");
		const [groups, memberships] = await Promise.all([listGroups(deps.db), listMemberships(deps.db)]);
		const directory = memberships.filter((m) => m.userId === id && m.source === "directory").map((m) =>
			groups.find((g) => g.id === m.groupId)?.name
		);
		c.status(status);
		return c.html(renderPage(
			<AdminPage ctx={ctx} title={user.username}>
				<h2>User {user.username}</h2>
				<form method="post" action={`/admin/users/${id}`} class="stack panel" novalidate>
					<CsrfField token={ctx.csrf} />
					<FormMessage errors={errors} />
					<SelectField
						label="Role"
						name="role"
						value={str(values, "role")}
						options={[{ value: "user", label: "User" }, { value: "manager", label: "Manager (sees every team)" }, {
							value: "admin",
							label: "Admin",
						}]}
						errors={errors}
						hint={user.directoryRole && user.directoryRole !== "user"
							? `The directory also makes them ${user.directoryRole}.`
							: undefined}
					/>
					<CheckList
						label="Manual group memberships"
						name="groups"
						options={groups.map((g) => ({ value: String(g.id), label: g.name }))}
						selected={new Set(formList(values.groups))}
						errors={errors}
						hint={directory.length ? `From the directory (managed at sign-in): ${directory.join(", ")}` : undefined}
					/>
					<div class="row">
						<button type="submit" class="primary">Save user</button>
						<a href="/admin/users">Cancel</a>
					</div>
				</form>
			</AdminPage>,
		));
	};
	app.get("/admin/users/:id", async (c) => {
		const id = itemId(c.req.param("id"));
		const user = await getUser(deps.db, id);
		if (!user) throw new UserError(404, "No such user");
		const memberships = (await listMemberships(deps.db)).filter((m) => m.userId === id && m.source === "manual");
		return await userForm(c, id, { role: user.role, groups: memberships.map((m) => String(m.groupId)) }, {});
	});
	app.post("/admin/users/:id", async (c) => {
		const id = itemId(c.req.param("id"));
		const values = await formValues(c);
		return await saving(
			c,
			async () => {
				await saveUser(deps.db, id, { role: str(values, "role"), groups: formList(values.groups) });
				return "/admin/users";
			},
			(errors) => userForm(c, id, values, errors, 422),
			"User saved.",
		);
	});

	// ---- Configuration as code ------------------------------------------------------------------
	const catalogPage = async (c: AppContext, message?: { tone: "ok" | "error"; text: string }, text = "") => {
		const ctx = await pageContext(c, deps);
		return c.html(
			renderPage(
				<AdminPage ctx={ctx} title="Import / export">
					<h2>Export</h2>
					<p>
						Everything on these pages — groups, configurations (with templates and scripts), types, security groups,
						params, roles and manual memberships — as one document.
					</p>
					<div class="row">
						<a class="btn" href="/admin/catalog.yaml" download>Download YAML</a>
						<a class="btn" href="/admin/catalog.json" download>Download JSON</a>
					</div>
					<h2>Import</h2>
					{message && (
						<p
							class={message.tone === "ok" ? "flash ok" : "error-box"}
							role={message.tone === "ok" ? "status" : "alert"}
						>
							{message.text}
						</p>
					)}
					<form method="post" action="/admin/catalog" enctype="multipart/form-data" class="stack panel">
						<CsrfField token={ctx.csrf} />
						<p class="muted small">
							Items are matched by name (sg id, token, username) and created or updated; nothing is deleted. The whole
							document is checked first and applied in one transaction.
						</p>
						<div class="field">
							<label for="f-file">Document file</label>
							<input id="f-file" type="file" name="file" accept=".yaml,.yml,.json" />
						</div>
						<TextArea label="…or paste it" name="document" value={text} errors={{}} rows={10} />
						<div class="row">
							<button type="submit" class="primary">Import</button>
						</div>
					</form>
				</AdminPage>,
			),
			message?.tone === "error" ? 422 : 200,
		);
	};
	app.get("/admin/catalog", (c) => catalogPage(c));
	app.get("/admin/catalog.json", async (c) => {
		c.header("Content-Disposition", 'attachment; filename="mliy-catalog.json"');
		c.header("Content-Type", "application/json; charset=utf-8");
		return c.body(formatCatalog(await exportCatalog(deps.db), "json"));
	});
	app.get("/admin/catalog.yaml", async (c) => {
		c.header("Content-Disposition", 'attachment; filename="mliy-catalog.yaml"');
		c.header("Content-Type", "application/yaml; charset=utf-8");
		return c.body(formatCatalog(await exportCatalog(deps.db), "yaml"));
	});
	app.post("/admin/catalog", async (c) => {
		const body = await c.req.parseBody();
		const file = body.file;
		let text = typeof body.document === "string" ? body.document : "";
		if (file instanceof File && file.size > 0) text = await file.text();
		try {
			const summary = await importCatalog(deps.db, parseCatalog(text));
			return await catalogPage(c, {
				tone: "ok",
				text: `Imported: ${summary.created} created, ${summary.updated} updated.`,
			});
		} catch (error) {
			if (error instanceof UserError && error.status === 422) {
				return await catalogPage(c, { tone: "error", text: error.message }, text.slice(0, 200_000));
			}
			throw error;
		}
	});
	return app;
}
