/**
 * The simple lists — instance types, security groups, params — each under /admin/<list>: the
 * list with an add form (GET, POST /new), an item's edit form (GET, POST /:id) and its delete
 * (POST /:id/delete). One declaration per list says its fields and its lib functions; its rows come
 * from lib/views/admin.ts.
 */
import { Hono } from "hono";
import { deleteInstanceType, deleteParam, deleteSecurityGroup } from "../../lib/catalog/delete_guards.ts";
import { saveInstanceType, saveParam, saveSecurityGroup } from "../../lib/catalog/save.ts";
import type { Deps } from "../../lib/deps.ts";
import { UserError } from "../../lib/errors.ts";
import { type ListRow, listRows, type SimpleList } from "../../lib/views/admin.ts";
import { type AppContext, type AppEnv, pageContext } from "../context.ts";
import type { PageContext } from "../ui/Layout.tsx";
import { EmptyState, ItemTable } from "../ui/components.tsx";
import { DataForm, type FormItem, type FormValues, textOf } from "../ui/forms.tsx";
import { renderPage } from "../ui/render.tsx";
import { AdminPage, DeleteButton, deleting, formValues, itemId, saving } from "./common.tsx";

/** A field of a list item: a column of the table and a control of the form. */
type ListField = Extract<FormItem, { control: "text" | "number" } | { control: "area" } | { control: "checkbox" }>;

/** What the page of a list shows. */
export interface ListPageKind {
	/** Its URL under /admin. */
	segment: SimpleList;
	title: string;
	/** One item, capitalised: "Instance type". */
	what: string;
	fields: ListField[];
	/** The form's fields for the item being edited (undefined: a new one), when they depend on it. */
	fieldsFor?: (row: ListRow | undefined) => ListField[];
}

type Db = Deps["db"];

/** A list: its page, and the lib functions that write it. */
interface ListKind extends ListPageKind {
	save: (deps: Deps, id: number | undefined, values: FormValues) => Promise<number>;
	remove: (db: Db, id: number) => Promise<void>;
	/** The submitted values a refused form shows again (a secret's value is not shown back). */
	shownAgain?: (values: FormValues) => FormValues;
}

/** The params form: a secret's saved value is never shown, and an empty value keeps it. */
function paramFields(row: ListRow | undefined): ListField[] {
	const secretSet = row?.values.secret === "on";
	return [
		{
			control: "text",
			name: "token",
			label: "Token",
			hint: "{{{TOKEN}}} in every bootstrap script; a secret's is the name of the template parameter it goes to",
		},
		{
			control: "area",
			name: "value",
			label: "Replacement",
			rows: 3,
			hint: secretSet
				? row?.problems?.value ?? "Set; leave empty to keep the saved value (it is never shown again)."
				: undefined,
		},
		{ control: "text", name: "description", label: "Description" },
		{
			control: "checkbox",
			name: "secret",
			label: "Secret",
			hint:
				"Stored encrypted and never shown again. Not put into bootstrap scripts: a launch passes it only to the template parameter of the same name, which must be NoEcho: true; plugins can read it.",
		},
	];
}

export const LISTS: readonly ListKind[] = [
	{
		segment: "instance-types",
		title: "Instance types",
		what: "Instance type",
		fields: [
			{ control: "text", name: "name", label: "AWS name", hint: "e.g. r4.4xlarge" },
			{ control: "text", name: "description", label: "Description" },
		],
		save: (deps, id, values) => saveInstanceType(deps.db, id, values),
		remove: deleteInstanceType,
	},
	{
		segment: "security-groups",
		title: "Security groups",
		what: "Security group",
		fields: [
			{ control: "text", name: "sgId", label: "Security group id", hint: "sg-…" },
			{ control: "text", name: "name", label: "Name" },
		],
		save: (deps, id, values) => saveSecurityGroup(deps.db, id, values),
		remove: deleteSecurityGroup,
	},
	{
		segment: "params",
		title: "Params",
		what: "Param",
		fields: paramFields(undefined),
		fieldsFor: paramFields,
		save: (deps, id, values) => saveParam(deps.db, deps.paramsKey, id, values),
		remove: deleteParam,
		shownAgain: (values) => textOf(values, "secret") === "on" ? { ...values, value: "" } : values,
	},
];

/** A list's page: the add (or edit) form, then the table of items. */
export function ListPage(props: {
	ctx: PageContext;
	list: ListPageKind;
	rows: ListRow[];
	/** The item being edited; undefined when adding. */
	editing?: number;
	values: FormValues;
	errors: Record<string, string>;
}) {
	const { ctx, list, editing } = props;
	const row = editing === undefined ? undefined : props.rows.find((r) => r.id === editing);
	const fields = list.fieldsFor?.(row) ?? list.fields;
	const url = `/admin/${list.segment}`;
	const what = list.what.toLowerCase();
	return (
		<AdminPage ctx={ctx} title={list.title}>
			<h2>{list.title}</h2>
			<DataForm
				action={editing === undefined ? `${url}/new` : `${url}/${editing}`}
				csrf={ctx.csrf}
				title={editing === undefined ? `Add ${what}` : `Edit ${what}`}
				items={fields}
				values={props.values}
				errors={props.errors}
				buttons={[{ label: editing === undefined ? "Add" : "Save", primary: true }]}
				cancel={editing === undefined ? undefined : url}
			/>
			{editing !== undefined && (
				<DeleteButton action={`${url}/${editing}/delete`} what={`this ${what}`} csrf={ctx.csrf} />
			)}
			{props.rows.length === 0 ? <EmptyState title={`No ${list.title.toLowerCase()} yet.`} /> : (
				<ItemTable
					rows={props.rows}
					columns={[
						...list.fields.map((f) => ({
							label: f.label,
							class: f.name === "description" || f.control === "checkbox"
								? undefined
								: f.control === "area"
								? "mono small wrap"
								: "mono small",
							cell: (r: ListRow) =>
								f.control === "checkbox"
									? (r.values[f.name] === "on" ? "yes" : "")
									: r.shown?.[f.name] ?? r.values[f.name],
						})),
						{ label: <span class="sr-only">Edit</span>, cell: (r: ListRow) => <a href={`${url}/${r.id}`}>Edit</a> },
					]}
				/>
			)}
		</AdminPage>
	);
}

/** The routes of one list, mounted at /admin/<segment>. */
export function listRoutes(deps: Deps, list: ListKind): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const url = `/admin/${list.segment}`;
	const page = async (
		c: AppContext,
		editing: number | undefined,
		values: FormValues,
		errors: Record<string, string> = {},
		loaded?: ListRow[],
	) => {
		const [ctx, rows] = await Promise.all([
			pageContext(c, deps),
			loaded ?? listRows(deps.db, list.segment, deps.paramsKey),
		]);
		return c.html(
			renderPage(<ListPage ctx={ctx} list={list} rows={rows} editing={editing} values={values} errors={errors} />),
			Object.keys(errors).length ? 422 : 200,
		);
	};
	const post = async (c: AppContext, id: number | undefined) => {
		const values = await formValues(c);
		return await saving(c, deps, async () => {
			await list.save(deps, id, values);
			return { to: url, done: `${list.what} saved.` };
		}, (errors) => page(c, id, list.shownAgain?.(values) ?? values, errors));
	};

	app.get("/", (c) => page(c, undefined, {}));
	app.post("/new", (c) => post(c, undefined));
	app.get("/:id", async (c) => {
		const id = itemId(c);
		const rows = await listRows(deps.db, list.segment, deps.paramsKey);
		const row = rows.find((r) => r.id === id);
		if (!row) throw new UserError(404, `No such ${list.what.toLowerCase()}`);
		return await page(c, id, row.values, {}, rows);
	});
	app.post("/:id", (c) => post(c, itemId(c)));
	app.post("/:id/delete", (c) => {
		const id = itemId(c);
		return deleting(c, deps, () => list.remove(deps.db, id), { item: `${url}/${id}`, list: url }, list.what);
	});
	return app;
}
