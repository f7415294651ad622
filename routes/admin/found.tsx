/**
 * GET /admin/found: machines found in AWS with the portal's tags, not launched by it (nobody's, so
 * nobody may control them); GET /admin/found/:id, POST /admin/found/:id/adopt: what is known of one,
 * and adopting it for an existing user, confirmed and audited.
 */
import { Hono } from "hono";
import type { Deps } from "../../lib/deps.ts";
import { UserError } from "../../lib/errors.ts";
import { CLUSTER_ID, INSTANCE_ID } from "../../lib/machines/ids.ts";
import { adoptFound } from "../../lib/sync/found.ts";
import { foundAdoption, type FoundRow, foundRows } from "../../lib/views/found.ts";
import { type AppContext, type AppEnv, pageContext } from "../context.ts";
import type { PageContext } from "../ui/Layout.tsx";
import { parseId } from "../params.ts";
import { StateBadge } from "../ui/components.tsx";
import { formatTime } from "../ui/format.ts";
import { DataForm, type FormItem, type FormValues, textOf } from "../ui/forms.tsx";
import { renderPage } from "../ui/render.tsx";
import { type Column, ItemTable } from "../ui/components.tsx";
import { AdminPage, formValues, saving } from "./common.tsx";

const LIST = "/admin/found";

function Tags(props: { tags: [string, string][] }) {
	return (
		<ul class="small">
			{props.tags.map(([key, value]) => (
				<li>
					<span class="mono">{key}</span> = <span class="mono">{value}</span>
				</li>
			))}
		</ul>
	);
}

function foundColumns(timeZone: string): Column<FoundRow>[] {
	return [
		{
			label: "Machine",
			cell: (m) => (
				<>
					<a href={m.href} class="mono">{m.id}</a> <span class="muted small">{m.noun}</span>
					{m.name && <div class="small">{m.name}</div>}
				</>
			),
		},
		{ label: "Type", cell: (m) => m.instanceType || "—" },
		{ label: "State", cell: (m) => <StateBadge state={m.state} /> },
		{ label: "Launched", class: "small", cell: (m) => formatTime(m.launchedAt, timeZone) },
		{ label: "Last seen", class: "small", cell: (m) => formatTime(m.lastSeenAt, timeZone) },
		{ label: "Cost estimate", class: "small", cell: (m) => m.cost },
		{ label: "Tags", cell: (m) => <Tags tags={m.tags} /> },
		{ label: "Why not adopted", class: "small", cell: (m) => m.reason },
	];
}

export function FoundPage(props: { ctx: PageContext; rows: FoundRow[] }) {
	return (
		<AdminPage ctx={props.ctx} title="Found in AWS">
			<h2>Found in AWS with the portal's tags, not launched by it</h2>
			<p class="muted small">
				Tags describe, they never grant: anyone who may tag machines in the account can put the portal's tags on any
				machine. These belong to nobody and nobody can control them through the portal until an admin adopts one for a
				user.
			</p>
			{props.rows.length === 0
				? <p>None: every machine with the portal's tags comes from one of its launches.</p>
				: <ItemTable columns={foundColumns(props.ctx.timeZone)} rows={props.rows} />}
		</AdminPage>
	);
}

function adoptFields(groups: { id: number; name: string }[]): FormItem[] {
	return [
		{
			control: "text",
			name: "username",
			label: "Adopt as user",
			hint: "An existing user; they will see, control and pay for it like a machine they launched.",
			required: true,
			maxLength: 150,
		},
		{
			control: "select",
			name: "groupId",
			label: "Billed to group",
			options: [
				{ value: "", label: "No group (the default charge code)" },
				...groups.map((g) => ({
					value: String(g.id),
					label: g.name,
				})),
			],
		},
		{ control: "checkbox", name: "confirm", label: "I checked that this machine is theirs to control and pay for" },
	];
}

export function FoundMachinePage(props: {
	ctx: PageContext;
	machine: FoundRow;
	groups: { id: number; name: string }[];
	values: FormValues;
	errors: Record<string, string>;
}) {
	const { ctx, machine: m } = props;
	return (
		<AdminPage ctx={ctx} title={m.id}>
			<h2>
				Found {m.noun} <span class="mono">{m.id}</span>
			</h2>
			<dl class="facts">
				<dt>Name</dt>
				<dd>{m.name || "—"}</dd>
				<dt>Type</dt>
				<dd>{m.instanceType || "—"}</dd>
				<dt>State</dt>
				<dd>
					<StateBadge state={m.state} />
				</dd>
				<dt>Launched</dt>
				<dd>{formatTime(m.launchedAt, ctx.timeZone)}</dd>
				<dt>First and last seen</dt>
				<dd>{formatTime(m.firstSeenAt, ctx.timeZone)}, {formatTime(m.lastSeenAt, ctx.timeZone)}</dd>
				<dt>Cost estimate</dt>
				<dd>{m.cost}</dd>
				<dt>Why the portal did not adopt it</dt>
				<dd>{m.reason}</dd>
				{m.claimedLaunch && (
					<>
						<dt>Launch its tags name</dt>
						<dd>
							<a href={m.claimedLaunch.href} class="mono">{m.claimedLaunch.id}</a>
						</dd>
					</>
				)}
				<dt>Tags</dt>
				<dd>
					<Tags tags={m.tags} />
				</dd>
			</dl>
			<DataForm
				action={`${m.href}/adopt`}
				csrf={ctx.csrf}
				title={`Adopt this ${m.noun}`}
				items={adoptFields(props.groups)}
				values={props.values}
				errors={props.errors}
				buttons={[{ label: `Adopt ${m.noun}`, primary: true }]}
				cancel={LIST}
			/>
		</AdminPage>
	);
}

/** The machine id of the URL; anything but an instance or cluster id names nothing, so 404. */
function machineId(c: AppContext): string {
	const id = c.req.param("id") ?? "";
	if (!INSTANCE_ID.test(id) && !CLUSTER_ID.test(id)) throw new UserError(404, "No such machine");
	return id;
}

export function foundRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const page = async (c: AppContext, id: string, values: FormValues, errors: Record<string, string> = {}) => {
		const [ctx, data] = await Promise.all([pageContext(c, deps), foundAdoption(deps, id)]);
		if (!data) throw new UserError(404, `No machine found in AWS with the portal's tags has the id ${id}`);
		return c.html(
			renderPage(<FoundMachinePage ctx={ctx} {...data} values={values} errors={errors} />),
			Object.keys(errors).length ? 422 : 200,
		);
	};

	app.get("/", async (c) => {
		const [ctx, rows] = await Promise.all([pageContext(c, deps), foundRows(deps)]);
		return c.html(renderPage(<FoundPage ctx={ctx} rows={rows} />));
	});
	app.get("/:id", (c) => page(c, machineId(c), {}));
	app.post("/:id/adopt", async (c) => {
		const id = machineId(c);
		const values = await formValues(c);
		return await saving(c, deps, async () => {
			const groupId = textOf(values, "groupId");
			const row = await adoptFound(deps, c.get("viewer"), {
				id,
				username: textOf(values, "username"),
				groupId: groupId ? parseId(groupId) ?? -1 : undefined,
				confirmed: textOf(values, "confirm") === "on",
			});
			return { to: LIST, done: `Adopted ${row.id}: it is now an ordinary machine of its owner.` };
		}, (errors) =>
			// The checkbox shows no message of its own: a missing confirmation is said above the form.
			page(c, id, values, errors.confirm ? { ...errors, form: errors.confirm } : errors));
	});
	return app;
}
