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
import { DataForm, type FormItem, type FormValues } from "../ui/forms.tsx";
import { renderPage } from "../ui/render.tsx";
import { AdminPage, DeleteButton, deleting, formValues, itemId, saving } from "./common.tsx";

/** A field of a list item: a column of the table and a control of the form. */
type ListField = Extract<FormItem, { control: "text" | "number" } | { control: "area" }>;

/** What the page of a list shows. */
export interface ListPageKind {
	/** Its URL under /admin. */
	segment: SimpleList;
	title: string;
	/** One item, capitalised: "Instance type". */
	what: string;
	fields: ListField[];
}

type Db = Deps["db"];

/** A list: its page, and the lib functions that write it. */
interface ListKind extends ListPageKind {
	save: (db: Db, id: number | undefined, values: FormValues) => Promise<number>;
	remove: (db: Db, id: number) => Promise<void>;
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
		save: saveInstanceType,
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
		save: saveSecurityGroup,
		remove: deleteSecurityGroup,
	},
	{
		segment: "params",
		title: "Params",
		what: "Param",
		fields: [
			{ control: "text", name: "token", label: "Token", hint: "{{{TOKEN}}} in every bootstrap script" },
			{ control: "area", name: "value", label: "Replacement", rows: 3 },
			{ control: "text", name: "description", label: "Description" },
		],
		save: saveParam,
		remove: deleteParam,
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
	const url = `/admin/${list.segment}`;
	const what = list.what.toLowerCase();
	return (
		<AdminPage ctx={ctx} title={list.title}>
			<h2>{list.title}</h2>
			<DataForm
				action={editing === undefined ? `${url}/new` : `${url}/${editing}`}
				csrf={ctx.csrf}
				title={editing === undefined ? `Add ${what}` : `Edit ${what}`}
				items={list.fields}
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
							class: f.name === "description" ? undefined : "mono small",
							cell: (r: ListRow) => r.values[f.name],
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
		const [ctx, rows] = await Promise.all([pageContext(c, deps), loaded ?? listRows(deps.db, list.segment)]);
		return c.html(
			renderPage(<ListPage ctx={ctx} list={list} rows={rows} editing={editing} values={values} errors={errors} />),
			Object.keys(errors).length ? 422 : 200,
		);
	};
	const post = async (c: AppContext, id: number | undefined) => {
		const values = await formValues(c);
		return await saving(c, deps, async () => {
			await list.save(deps.db, id, values);
			return { to: url, done: `${list.what} saved.` };
		}, (errors) => page(c, id, values, errors));
	};

	app.get("/", (c) => page(c, undefined, {}));
	app.post("/new", (c) => post(c, undefined));
	app.get("/:id", async (c) => {
		const id = itemId(c);
		const rows = await listRows(deps.db, list.segment);
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
