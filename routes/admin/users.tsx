/**
 * GET /admin/users, GET/POST /admin/users/:id: a user's portal role and manual group memberships;
 * POST /admin/users/:id/revoke: revoke the security tokens of every page they have open.
 */
import { Hono } from "hono";
import { saveUserAccess } from "../../lib/catalog/save.ts";
import type { Deps } from "../../lib/deps.ts";
import { UserError } from "../../lib/errors.ts";
import { type Group, type User, userForm, type UserRow, userRows } from "../../lib/views/admin.ts";
import { revokeTokens } from "../../lib/auth/csrf.ts";
import { type AppContext, type AppEnv, pageContext, setFlash } from "../context.ts";
import type { PageContext } from "../ui/Layout.tsx";
import { listOf } from "../../lib/form_values.ts";
import { DataForm, type FormItem, type FormValues, textOf } from "../ui/forms.tsx";
import { renderPage } from "../ui/render.tsx";
import { type Column, CsrfField, ItemTable } from "../ui/components.tsx";
import { AdminPage, formValues, itemId, saving } from "./common.tsx";

const LIST = "/admin/users";

const USER_COLUMNS: Column<UserRow>[] = [
	{ label: "User", cell: (u) => <a href={`${LIST}/${u.id}`}>{u.username}</a> },
	{ label: "Name", cell: (u) => `${u.firstName} ${u.lastName}`.trim() || "—" },
	{
		label: "Role",
		cell: (u) => (
			<>
				{u.role}
				{u.directoryRole && u.directoryRole !== "user" && (
					<span class="muted small">, {u.directoryRole} from the directory</span>
				)}
				{u.adminBySettings && <span class="muted small">, admin by settings</span>}
			</>
		),
	},
	{ label: "Groups", class: "small", cell: (u) => u.groups.join(", ") || "—" },
];

export function UsersPage(props: { ctx: PageContext; rows: UserRow[] }) {
	return (
		<AdminPage ctx={props.ctx} title="Users">
			<h2>Users</h2>
			<p class="muted small">Users appear here after they first sign in (or through an import).</p>
			<ItemTable columns={USER_COLUMNS} rows={props.rows} />
		</AdminPage>
	);
}

function userFields(
	user: User,
	groups: Group[],
	directory: { groups: string[]; managed: string[] },
): FormItem[] {
	return [
		{
			control: "select",
			name: "role",
			label: "Role",
			options: [
				{ value: "user", label: "User" },
				{ value: "manager", label: "Manager of every group" },
				{ value: "admin", label: "Admin" },
			],
			hint: user.directoryRole && user.directoryRole !== "user"
				? `The directory also makes them ${user.directoryRole}.`
				: undefined,
		},
		{
			control: "checks",
			name: "groups",
			label: "Manual group memberships",
			options: groups.map((g) => ({ value: String(g.id), label: g.name })),
			hint: directory.groups.length
				? `From the directory (managed at sign-in): ${directory.groups.join(", ")}`
				: undefined,
		},
		{
			control: "checks",
			name: "managedGroups",
			label: "Manages these groups",
			options: groups.map((g) => ({ value: String(g.id), label: g.name })),
			hint: "Their team view, machines (not terminating), bills, user budgets and approvals, without the Manager role" +
				(directory.managed.length ? `. From the directory: ${directory.managed.join(", ")}` : ""),
		},
	];
}

export function UserFormPage(props: {
	ctx: PageContext;
	user: User;
	groups: Group[];
	/** The groups the directory puts the user in (not editable here). */
	directoryGroups: string[];
	/** The groups the directory has the user manage (not editable here). */
	directoryManaged: string[];
	values: FormValues;
	errors: Record<string, string>;
}) {
	const { ctx, user } = props;
	return (
		<AdminPage ctx={ctx} title={user.username}>
			<h2>User {user.username}</h2>
			<DataForm
				action={`${LIST}/${user.id}`}
				csrf={ctx.csrf}
				items={userFields(user, props.groups, { groups: props.directoryGroups, managed: props.directoryManaged })}
				values={props.values}
				errors={props.errors}
				buttons={[{ label: "Save user", primary: true }]}
				cancel={LIST}
			/>
			<form method="post" action={`${LIST}/${user.id}/revoke`} class="panel stack">
				<CsrfField token={ctx.csrf} />
				<p class="small muted">
					Revoke the security tokens of every portal page {user.username}{" "}
					has open (a lost laptop, a leaked token): each must be reloaded before it can change anything.
				</p>
				<div class="row">
					<button type="submit" data-confirm={`Revoke ${user.username}'s open pages?`}>Sign out everywhere</button>
				</div>
			</form>
		</AdminPage>
	);
}

export function userRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const load = async (id: number) => {
		const data = await userForm(deps.db, id);
		if (!data) throw new UserError(404, "No such user");
		return data;
	};
	const form = async (
		c: AppContext,
		data: Awaited<ReturnType<typeof load>>,
		values: FormValues,
		errors: Record<string, string> = {},
	) => {
		const ctx = await pageContext(c, deps);
		return c.html(
			renderPage(
				<UserFormPage
					ctx={ctx}
					user={data.user}
					groups={data.groups}
					directoryGroups={data.directoryGroups}
					directoryManaged={data.directoryManaged}
					values={values}
					errors={errors}
				/>,
			),
			Object.keys(errors).length ? 422 : 200,
		);
	};

	app.get("/", async (c) => {
		const [ctx, rows] = await Promise.all([pageContext(c, deps), userRows(deps)]);
		return c.html(renderPage(<UsersPage ctx={ctx} rows={rows} />));
	});
	app.get("/:id", async (c) => {
		const data = await load(itemId(c));
		return await form(c, data, {
			role: data.user.role,
			groups: data.manualGroups.map(String),
			managedGroups: data.managedGroups.map(String),
		});
	});
	app.post("/:id/revoke", async (c) => {
		const { user } = await load(itemId(c));
		const viewer = c.get("viewer");
		const token = await revokeTokens(deps, viewer, user);
		if (user.id === viewer.id) c.set("csrf", token);
		await setFlash(c, deps, { tone: "ok", text: `Every page ${user.username} had open is signed out of the portal.` });
		return c.redirect(`${LIST}/${user.id}`, 303);
	});
	app.post("/:id", async (c) => {
		const { user } = await load(itemId(c));
		const id = user.id;
		const values = await formValues(c);
		return await saving(c, deps, async () => {
			await saveUserAccess(deps, c.get("viewer"), user, {
				role: textOf(values, "role"),
				groups: listOf(values.groups),
				managedGroups: listOf(values.managedGroups),
			});
			return { to: LIST, done: "User saved." };
		}, async (errors) => form(c, await load(id), values, errors));
	});
	return app;
}
