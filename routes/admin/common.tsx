/** What every admin section shares: the page frame with its tabs, the delete button, and the save/delete responses. */
import { Hono } from "hono";
import type { ComponentChildren, VNode } from "preact";
import type { Deps } from "../../lib/deps.ts";
import { UserError } from "../../lib/errors.ts";
import type { AdminCounts } from "../../lib/views/admin.ts";
import { type AppContext, type AppEnv, pageContext, setFlash } from "../context.ts";
import type { PageContext } from "../ui/Layout.tsx";
import { parseId } from "../params.ts";
import { CsrfField } from "../ui/components.tsx";
import type { FormValues } from "../ui/forms.tsx";
import { Layout } from "../ui/Layout.tsx";
import { renderPage } from "../ui/render.tsx";

/** The admin sections, in the order of the tabs, with the count the overview shows for each. */
export const TABS: readonly { href: string; label: string; counts?: keyof AdminCounts; also?: string[] }[] = [
	{ href: "/admin/groups", label: "Groups", counts: "groups" },
	{ href: "/admin/configs", label: "Configurations", counts: "configs" },
	{ href: "/admin/instance-types", label: "Instance types", counts: "instanceTypes" },
	{ href: "/admin/security-groups", label: "Security groups", counts: "securityGroups" },
	{ href: "/admin/params", label: "Params", counts: "params" },
	{ href: "/admin/users", label: "Users", counts: "users" },
	{
		href: "/admin/instances",
		label: "Machines",
		counts: "machines",
		also: ["/admin/clusters", "/admin/volumes", "/admin/launches"],
	},
	{ href: "/admin/found", label: "Found in AWS" },
	{ href: "/admin/catalog", label: "Import / export" },
	{ href: "/admin/audit", label: "Audit trail" },
	{ href: "/admin/guide", label: "Guide" },
];

function AdminTabs(props: { path: string }) {
	return (
		<nav class="tabs" aria-label="Admin sections">
			{TABS.map(({ href, label, also = [] }) => (
				<a
					href={href}
					aria-current={[href, ...also].some((p) => props.path.startsWith(p)) ? "page" : undefined}
				>
					{label}
				</a>
			))}
		</nav>
	);
}

/** An admin page: the layout, the heading and the section tabs around the section's content. */
export function AdminPage(props: { ctx: PageContext; title: string; children: ComponentChildren }) {
	return (
		<Layout ctx={props.ctx} title={`Admin · ${props.title}`} wide>
			<h1>Admin</h1>
			<AdminTabs path={props.ctx.path} />
			{props.children}
		</Layout>
	);
}

/** A delete form that asks first. */
export function DeleteButton(props: { action: string; what: string; csrf: string }) {
	return (
		<form method="post" action={props.action} data-confirm={`Delete ${props.what}? This cannot be undone.`}>
			<CsrfField token={props.csrf} />
			<button type="submit" class="danger">Delete</button>
		</form>
	);
}

/** The submitted fields, lists kept as lists, files and the CSRF token left out. */
export async function formValues(c: AppContext): Promise<FormValues> {
	const body = await c.req.parseBody({ all: true });
	const values: FormValues = {};
	for (const [key, value] of Object.entries(body)) {
		if (key === "_csrf") continue;
		if (Array.isArray(value)) values[key] = value.filter((v): v is string => typeof v === "string");
		else if (typeof value === "string") values[key] = value;
	}
	return values;
}

/** The id of an admin URL; a malformed one names nothing, so 404. */
export function itemId(c: AppContext): number {
	const id = parseId(c.req.param("id"));
	if (id === undefined) throw new UserError(404, "No such item");
	return id;
}

/**
 * Runs a save and redirects to where it says, with its `done` message as the flash; a refused save
 * (422) re-renders the form at 422 with the field errors instead.
 */
export async function saving(
	c: AppContext,
	deps: Deps,
	save: () => Promise<{ to: string; done: string }>,
	rerender: (errors: Record<string, string>) => Promise<Response>,
): Promise<Response> {
	try {
		const { to, done } = await save();
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
}

/** Runs a delete and goes to the list; a refused delete (409) goes back to the item with the reason as the flash. */
export async function deleting(
	c: AppContext,
	deps: Deps,
	remove: () => Promise<void>,
	urls: { item: string; list: string },
	what: string,
): Promise<Response> {
	try {
		await remove();
		await setFlash(c, deps, { tone: "ok", text: `${what} deleted.` });
		return c.redirect(urls.list, 303);
	} catch (error) {
		if (error instanceof UserError && error.status === 409) {
			await setFlash(c, deps, { tone: "error", text: error.message });
			return c.redirect(urls.item, 303);
		}
		throw error;
	}
}

/** What an item's form page is given: the page context, the item (undefined: a new one), the values and errors. */
export interface ItemFormProps {
	ctx: PageContext;
	id?: number;
	values: FormValues;
	errors: Record<string, string>;
}

/** How one kind of item with its own form page is created, edited and deleted (groups, configurations). */
export interface ItemEditor<Data extends { stored?: unknown }> {
	/** The URL of the list the item is in. */
	list: string;
	/** The item, capitalised, as the flashes and refusals say it: "Group". */
	what: string;
	/** What the form offers, with the stored item when `id` names one. */
	load(id?: number): Promise<Data>;
	page(props: ItemFormProps & Data): VNode;
	/** The stored item as the form shows it. */
	values(stored: NonNullable<Data["stored"]>): FormValues;
	/** The values a new item's form starts with. */
	fresh(c: AppContext): FormValues;
	/** Saves the submitted values (over the item `id`, or as a new item); returns its id and the flash. */
	save(id: number | undefined, values: FormValues): Promise<{ id: number; done: string }>;
	remove(id: number): Promise<void>;
}

/** GET/POST /new, GET/POST /:id and POST /:id/delete of one kind of item. */
export function itemRoutes<Data extends { stored?: unknown }>(deps: Deps, editor: ItemEditor<Data>): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const form = async (c: AppContext, id: number | undefined, values: FormValues, errors = {}, loaded?: Data) => {
		const [ctx, data] = await Promise.all([pageContext(c, deps), loaded ?? editor.load()]);
		return c.html(
			renderPage(editor.page({ ...data, ctx, id, values, errors })),
			Object.keys(errors).length ? 422 : 200,
		);
	};
	const post = async (c: AppContext, id: number | undefined) => {
		const values = await formValues(c);
		return await saving(c, deps, async () => {
			const saved = await editor.save(id, values);
			return { to: `${editor.list}/${saved.id}`, done: saved.done };
		}, (errors) => form(c, id, values, errors));
	};
	app.get("/new", (c) => form(c, undefined, editor.fresh(c)));
	app.post("/new", (c) => post(c, undefined));
	app.get("/:id", async (c) => {
		const id = itemId(c);
		const data = await editor.load(id);
		if (!data.stored) throw new UserError(404, `No such ${editor.what.toLowerCase()}`);
		return await form(c, id, editor.values(data.stored as NonNullable<Data["stored"]>), {}, data);
	});
	app.post("/:id", (c) => post(c, itemId(c)));
	app.post("/:id/delete", (c) => {
		const id = itemId(c);
		const urls = { item: `${editor.list}/${id}`, list: editor.list };
		return deleting(c, deps, () => editor.remove(id), urls, editor.what);
	});
	return app;
}
