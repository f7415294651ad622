/**
 * The admin's pages over every machine the portal records (lib/views/admin_browse.ts): GET
 * /admin/instances, /admin/clusters, /admin/volumes (left behind) and /admin/launches, each searched,
 * filtered, sorted by a column (`?sort=&dir=`, a link in each heading and a select for phones) and
 * paged; GET /admin/instances/:id and /admin/clusters/:id with their tags and volumes, and the record
 * actions (POST, audited, lib/control/admin.ts): archive, unarchive, lock, unlock, reassign; GET
 * /admin/volumes/:id, and deleting a volume left behind after a confirmation page that shows what it
 * costs a month.
 */
import { Hono } from "hono";
import type { ComponentChildren } from "preact";
import {
	type AdminMachineKind,
	deleteLeftoverVolume,
	LOCK_REASON_MAX,
	reassignOwner,
	setArchived,
	setManualLock,
} from "../../lib/control/admin.ts";
import type { Deps } from "../../lib/deps.ts";
import { UserError } from "../../lib/errors.ts";
import { CLUSTER_ID, INSTANCE_ID } from "../../lib/machines/ids.ts";
import {
	adminCluster,
	adminInstance,
	type AdminMachine,
	type AdminVolume,
	adminVolume,
	type AdminVolumeRow,
	type BrowseList,
	type BrowseView,
	browseView,
	parseBrowseQuery,
	type TagList,
} from "../../lib/views/admin_browse.ts";
import { type AppContext, type AppEnv, pageContext, setFlash } from "../context.ts";
import type { PageContext } from "../ui/Layout.tsx";
import { CsrfField, EmptyState, FilterSelect, Pager, StateBadge, TextFilter } from "../ui/components.tsx";
import { formatTime } from "../ui/format.ts";
import { Checkbox, DataForm, type FormValues, textOf } from "../ui/forms.tsx";
import { ColumnHeading, SortFields } from "../ui/ListControls.tsx";
import { renderPage } from "../ui/render.tsx";
import { AdminPage, formValues } from "./common.tsx";

const SECTIONS: { list: BrowseList; label: string }[] = [
	{ list: "instances", label: "Instances" },
	{ list: "clusters", label: "Clusters" },
	{ list: "volumes", label: "Volumes left behind" },
	{ list: "launches", label: "Launches" },
];

function SectionTabs(props: { path: string }) {
	return (
		<nav class="tabs" aria-label="Machines">
			{SECTIONS.map(({ list, label }) => (
				<a href={`/admin/${list}`} aria-current={props.path.startsWith(`/admin/${list}`) ? "page" : undefined}>
					{label}
				</a>
			))}
		</nav>
	);
}

/** A machine's tags as AWS last showed them; folded on list rows, open on an item page. */
function Tags(props: { tags: TagList; open?: boolean }) {
	if (props.tags.length === 0) return <span class="muted small">none seen</span>;
	return (
		<details class="data" open={props.open}>
			<summary>{props.tags.length} tag{props.tags.length === 1 ? "" : "s"}</summary>
			<ul class="small">
				{props.tags.map(([key, value]) => (
					<li>
						<span class="mono">{key}</span> = <span class="mono">{value}</span>
					</li>
				))}
			</ul>
		</details>
	);
}

function RecordBadges(props: { archived: boolean; locked?: string | null }) {
	return (
		<>
			{props.archived && <span class="badge">archived</span>}
			{props.locked && <span class="badge busy" title={props.locked}>locked</span>}
		</>
	);
}

/** A column of a list: its sort key (when it sorts), its label when it does not, and its cell. */
interface BrowseColumn<Row> {
	sort?: string;
	label?: string;
	class?: string;
	cell: (row: Row, timeZone: string) => ComponentChildren;
}

const COLUMNS: { [L in BrowseList]: BrowseColumn<BrowseRowOf<L>>[] } = {
	instances: [
		{
			sort: "id",
			cell: (r) => (
				<>
					<a class="mono" href={r.href}>{r.id}</a>
					{r.name && <div class="small">{r.name}</div>}
				</>
			),
		},
		{ sort: "owner", class: "mono small", cell: (r) => r.owner },
		{ sort: "group", cell: (r) => r.group || "—" },
		{ sort: "config", cell: (r) => r.config || "—" },
		{ sort: "type", class: "mono small", cell: (r) => r.type },
		{
			sort: "state",
			cell: (r) => (
				<span>
					<StateBadge state={r.state} pendingAction={r.pendingAction} />{" "}
					<RecordBadges archived={r.archived} locked={r.locked} />
				</span>
			),
		},
		{ label: "Tags", cell: (r) => <Tags tags={r.tags} /> },
		{ label: "Volumes", class: "num", cell: (r) => r.volumes },
		{ sort: "created", class: "small nowrap", cell: (r, zone) => formatTime(r.createdAt, zone) },
		{ sort: "seen", class: "small nowrap", cell: (r, zone) => formatTime(r.lastSeenAt, zone) },
	],
	clusters: [
		{
			sort: "id",
			cell: (r) => (
				<>
					<a class="mono" href={r.href}>{r.id}</a>
					{r.name && <div class="small">{r.name}</div>}
				</>
			),
		},
		{ sort: "owner", class: "mono small", cell: (r) => r.owner },
		{ sort: "group", cell: (r) => r.group || "—" },
		{ sort: "config", cell: (r) => r.config || "—" },
		{ sort: "type", class: "mono small", cell: (r) => `${r.type} × ${r.coreNodes + 1}` },
		{
			sort: "state",
			cell: (r) => (
				<span>
					<StateBadge state={r.state} pendingAction={r.pendingAction} /> <RecordBadges archived={r.archived} />
				</span>
			),
		},
		{ label: "Tags", cell: (r) => <Tags tags={r.tags} /> },
		{ sort: "created", class: "small nowrap", cell: (r, zone) => formatTime(r.createdAt, zone) },
	],
	volumes: [
		{ sort: "id", cell: (r) => <a class="mono" href={r.href}>{r.id}</a> },
		{
			sort: "instance",
			cell: (r) =>
				r.instanceId
					? (
						<>
							{r.instanceHref
								? <a class="mono small" href={r.instanceHref}>{r.instanceId}</a>
								: <span class="mono small">{r.instanceId}</span>}{" "}
							{r.instanceState && <span class="muted small">{r.instanceState}</span>}
						</>
					)
					: <span class="muted">nothing</span>,
		},
		{ sort: "owner", class: "mono small", cell: (r) => r.owner },
		{ label: "Group", cell: (r) => r.group || "—" },
		{ sort: "size", class: "num", cell: (r) => `${r.sizeGb} GiB` },
		{ sort: "type", class: "small", cell: (r) => r.type },
		{ sort: "state", cell: (r) => <StateBadge state={r.state} /> },
		{ sort: "created", class: "small nowrap", cell: (r, zone) => formatTime(r.createdAt, zone) },
	],
	launches: [
		{ sort: "id", cell: (r) => <a class="mono small" href={r.href}>{r.id}</a> },
		{ sort: "owner", class: "mono small", cell: (r) => r.owner },
		{ sort: "group", cell: (r) => r.group || "—" },
		{ sort: "config", cell: (r) => r.config || "—" },
		{ sort: "kind", cell: (r) => r.kind },
		{ sort: "type", class: "mono small", cell: (r) => r.type },
		{
			sort: "status",
			cell: (r) => (
				<>
					<StateBadge state={r.status} /> <span class="muted small">{r.step}</span>
				</>
			),
		},
		{ sort: "created", class: "small nowrap", cell: (r, zone) => formatTime(r.createdAt, zone) },
	],
};

type BrowseRowOf<L extends BrowseList> = BrowseView<L>["rows"][number];

/**
 * The list's table: each sortable heading is a link (keyboard-usable as any link) that sorts by its
 * column, the other way round when it is the current one, and says how the list is sorted (aria-sort).
 */
function BrowseTable<L extends BrowseList>(props: { view: BrowseView<L>; timeZone: string }) {
	const { view } = props;
	const columns = COLUMNS[view.list] as unknown as BrowseColumn<BrowseRowOf<L>>[];
	const labels = new Map(view.sortChoices.map((c) => [c.value, c.label]));
	const labelOf = (c: BrowseColumn<BrowseRowOf<L>>) => c.sort ? labels.get(c.sort)! : c.label!;
	return (
		<div class="table-wrap">
			<table class="responsive sortable">
				<thead>
					<tr>
						{columns.map((c) => (
							<ColumnHeading
								label={labelOf(c)}
								heading={c.sort ? view.headings[c.sort] : undefined}
								class={c.class === "num" ? "num" : undefined}
							/>
						))}
					</tr>
				</thead>
				<tbody>
					{(view.rows as BrowseRowOf<L>[]).map((row) => (
						<tr>
							{columns.map((c) => (
								<td class={c.class} data-label={labelOf(c)}>
									{c.cell(row, props.timeZone)}
								</td>
							))}
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}

function BrowseFilters(props: { view: BrowseView }) {
	const { view } = props;
	const v = view.values;
	const has = (name: string) => view.filters.includes(name as never);
	return (
		<form class="filters" method="get" action={view.url}>
			<TextFilter name="q" label="Search" value={v.q} placeholder="id, name, owner, type…" />
			{has("state") && (
				<FilterSelect
					name="state"
					label={view.list === "launches" ? "Status" : "State"}
					anyLabel="Any"
					options={view.states}
					selected={v.state || undefined}
				/>
			)}
			{has("owner") && <TextFilter name="owner" label="Owner" value={v.owner} placeholder="username" />}
			{has("group") && (
				<FilterSelect name="group" label="Group" anyLabel="Any" options={view.groups} selected={v.group || undefined} />
			)}
			{has("config") && (
				<FilterSelect
					name="config"
					label="Configuration"
					anyLabel="Any"
					options={view.configs}
					selected={v.config || undefined}
				/>
			)}
			{has("kind") && (
				<FilterSelect
					name="kind"
					label="Kind"
					anyLabel="Any"
					options={[{ value: "instance", label: "instance" }, { value: "cluster", label: "cluster" }]}
					selected={v.kind || undefined}
				/>
			)}
			{has("archived") && (
				<div class="field">
					<label for="f-archived">Archived</label>
					<select id="f-archived" name="archived">
						{[["", "No"], ["yes", "Yes"], ["any", "Either"]].map(([value, label]) => (
							<option value={value} selected={(v.archived === "no" ? "" : v.archived) === value}>{label}</option>
						))}
					</select>
				</div>
			)}
			{has("which") && (
				<div class="field">
					<label for="f-which">Volumes</label>
					<select id="f-which" name="which">
						<option value="" selected={v.which !== "all"}>Left behind</option>
						<option value="all" selected={v.which === "all"}>All recorded</option>
					</select>
				</div>
			)}
			<SortFields id="f-sort" columns={view.sortChoices} sort={view.sort} />
			<div class="row">
				<button type="submit" class="primary">Filter</button>
				<a class="btn" href={view.url}>Clear</a>
			</div>
		</form>
	);
}

export function BrowsePage(props: { ctx: PageContext; view: BrowseView }) {
	const { ctx, view } = props;
	return (
		<AdminPage ctx={ctx} title={view.title}>
			<SectionTabs path={ctx.path} />
			<h2>{view.title}</h2>
			{view.list === "volumes" && (
				<p class="muted small">
					Volumes the portal's launches made that still exist while nothing alive holds them: attached to no instance,
					or to one that has ended. They are billed every month until deleted.
				</p>
			)}
			<BrowseFilters view={view} />
			<p class="muted small" aria-live="polite">
				{view.pager.total === 0 ? "Nothing matches." : `${view.from}–${view.to} of ${view.pager.total}`}
			</p>
			{view.rows.length === 0
				? (
					<EmptyState title={`No ${view.title.toLowerCase()} match`}>
						<p>Try other filters, or clear them.</p>
					</EmptyState>
				)
				: <BrowseTable view={view} timeZone={ctx.timeZone} />}
			<Pager {...view.pager} />
		</AdminPage>
	);
}

/** A POST form of one button (an action on the record), asking first when `confirm` says so. */
function ActionButton(props: { action: string; label: string; csrf: string; confirm?: string }) {
	return (
		<form method="post" action={props.action} data-confirm={props.confirm} class="row">
			<CsrfField token={props.csrf} />
			<button type="submit">{props.label}</button>
		</form>
	);
}

function VolumeTable(props: { volumes: AdminVolumeRow[] }) {
	if (props.volumes.length === 0) return <p class="muted">No volumes recorded.</p>;
	return (
		<div class="table-wrap">
			<table class="responsive">
				<thead>
					<tr>
						<th scope="col">Volume</th>
						<th scope="col">Device</th>
						<th scope="col" class="num">Size</th>
						<th scope="col">Type</th>
						<th scope="col">State</th>
					</tr>
				</thead>
				<tbody>
					{props.volumes.map((v) => (
						<tr>
							<td data-label="Volume">
								<a class="mono" href={v.href}>{v.id}</a>
							</td>
							<td data-label="Device" class="mono small">{v.device || "—"}</td>
							<td data-label="Size" class="num">{v.sizeGb} GiB</td>
							<td data-label="Type" class="small">{v.type}</td>
							<td data-label="State">
								<StateBadge state={v.state} />
							</td>
						</tr>
					))}
				</tbody>
			</table>
		</div>
	);
}

export function MachinePage(props: {
	ctx: PageContext;
	machine: AdminMachine;
	values: FormValues;
	errors: Record<string, string>;
}) {
	const { ctx, machine: m } = props;
	const a = m.actions;
	return (
		<AdminPage ctx={ctx} title={m.id}>
			<SectionTabs path={ctx.path} />
			<h2>
				{m.kind === "instance" ? "Instance" : "Cluster"} <span class="mono">{m.id}</span>{" "}
				<RecordBadges archived={m.archived} locked={m.locked} />
			</h2>
			<dl class="facts">
				<dt>Name</dt>
				<dd>{m.name || "—"}</dd>
				<dt>Owner</dt>
				<dd class="mono">{m.owner}</dd>
				<dt>Group</dt>
				<dd>{m.group || "—"}</dd>
				<dt>Configuration</dt>
				<dd>{m.config || "—"}</dd>
				<dt>Type</dt>
				<dd class="mono">{m.type}</dd>
				<dt>State</dt>
				<dd>
					<StateBadge state={m.state} />
				</dd>
				{m.locked && (
					<>
						<dt>Controls locked</dt>
						<dd>{m.locked}{m.lockedByHand ? " (by an admin)" : ""}: only Terminate is available.</dd>
					</>
				)}
				<dt>Recorded</dt>
				<dd>{formatTime(m.createdAt, ctx.timeZone)}</dd>
				<dt>Last seen in AWS</dt>
				<dd>{formatTime(m.lastSeenAt, ctx.timeZone)}</dd>
				<dt>Links</dt>
				<dd>
					{m.pageHref && <a href={m.pageHref}>Its page</a>} {m.launchHref && <a href={m.launchHref}>Its launch</a>}{" "}
					<a href={m.auditHref}>Its audit trail</a>
				</dd>
				<dt>Tags</dt>
				<dd>
					<Tags tags={m.tags} open />
				</dd>
			</dl>
			{m.kind === "instance" && (
				<>
					<h3>Volumes</h3>
					<VolumeTable volumes={m.volumes} />
				</>
			)}
			<h3>The record</h3>
			<div class="row">
				{a.archive && (
					<ActionButton
						action={`${m.href}/archive`}
						label="Archive"
						csrf={ctx.csrf}
						confirm={`Archive ${m.id}? It leaves every list but this one; its bills stay in reports.`}
					/>
				)}
				{a.unarchive && <ActionButton action={`${m.href}/unarchive`} label="Bring back" csrf={ctx.csrf} />}
				{a.unlock && (
					<ActionButton
						action={`${m.href}/unlock`}
						label="Unlock controls"
						csrf={ctx.csrf}
						confirm={`Unlock the controls of ${m.id}?`}
					/>
				)}
			</div>
			{a.lock && (
				<DataForm
					action={`${m.href}/lock`}
					csrf={ctx.csrf}
					title="Lock its controls"
					items={[{
						control: "text",
						name: "reason",
						label: "Reason",
						hint: "Shown to its owner; only Terminate stays available until an admin unlocks it.",
						maxLength: LOCK_REASON_MAX,
					}]}
					values={props.values}
					errors={props.errors}
					buttons={[{ label: "Lock controls" }]}
				/>
			)}
			{a.reassign && (
				<DataForm
					action={`${m.href}/reassign`}
					csrf={ctx.csrf}
					title="Reassign to another user"
					items={[{
						control: "text",
						name: "username",
						label: "New owner",
						hint:
							`An existing user. From now on it is theirs: on their dashboard, controlled and billed as theirs; what it cost until now stays ${m.owner}'s.`,
						required: true,
						maxLength: 150,
					}]}
					values={props.values}
					errors={props.errors}
					buttons={[{ label: "Reassign", primary: true }]}
				/>
			)}
		</AdminPage>
	);
}

function VolumeFacts(props: { volume: AdminVolume; timeZone: string }) {
	const v = props.volume;
	return (
		<dl class="facts">
			<dt>Size</dt>
			<dd>{v.sizeGb} GiB</dd>
			<dt>Type</dt>
			<dd>{v.type}</dd>
			<dt>Monthly cost</dt>
			<dd>
				<strong>{v.monthlyCost}</strong>
			</dd>
			<dt>State</dt>
			<dd>
				<StateBadge state={v.state} />
			</dd>
			<dt>Owner</dt>
			<dd class="mono">{v.owner}</dd>
			<dt>Group</dt>
			<dd>{v.group || "—"}</dd>
			<dt>Last attached to</dt>
			<dd>
				{v.instanceId
					? (
						<>
							{v.instanceHref
								? <a class="mono" href={v.instanceHref}>{v.instanceId}</a>
								: <span class="mono">{v.instanceId}</span>}{" "}
							{v.instanceState && <span class="muted">({v.instanceState})</span>}
						</>
					)
					: "nothing"}
			</dd>
			<dt>Recorded</dt>
			<dd>{formatTime(v.createdAt, props.timeZone)}</dd>
			<dt>Last seen in AWS</dt>
			<dd>{formatTime(v.lastSeenAt, props.timeZone)}</dd>
		</dl>
	);
}

export function VolumePage(props: { ctx: PageContext; volume: AdminVolume }) {
	const { ctx, volume: v } = props;
	return (
		<AdminPage ctx={ctx} title={v.id}>
			<SectionTabs path={ctx.path} />
			<h2>
				Volume <span class="mono">{v.id}</span>
			</h2>
			<VolumeFacts volume={v} timeZone={ctx.timeZone} />
			<p>
				<a href={v.auditHref}>Its audit trail</a>
			</p>
			{v.leftBehind
				? <a class="btn danger" href={v.deleteHref}>Delete this volume…</a>
				: <p class="muted">Something alive holds this volume (or it is being deleted): it cannot be deleted here.</p>}
		</AdminPage>
	);
}

/** The confirmation step of deleting a volume left behind: what it is, what it costs a month, and the confirm box. */
export function VolumeDeletePage(props: { ctx: PageContext; volume: AdminVolume; error?: string }) {
	const { ctx, volume: v } = props;
	return (
		<AdminPage ctx={ctx} title={`Delete ${v.id}`}>
			<SectionTabs path={ctx.path} />
			<h2>
				Delete volume <span class="mono">{v.id}</span>?
			</h2>
			<p>
				This deletes the volume in AWS with everything on it; it cannot be undone. Billing for it ends now.
			</p>
			<VolumeFacts volume={v} timeZone={ctx.timeZone} />
			<form method="post" action={v.deleteHref} class="stack panel">
				<CsrfField token={ctx.csrf} />
				<Checkbox
					name="confirm"
					label={`I checked that nobody needs what is on ${v.id}`}
					checked={false}
					error={props.error}
				/>
				<div class="row">
					<button type="submit" class="danger">Delete volume</button>
					<a class="btn" href={v.href}>Cancel</a>
				</div>
			</form>
		</AdminPage>
	);
}

/** The machine id of the URL for the kind; anything else names nothing, so 404. */
function machineId(c: AppContext, kind: AdminMachineKind): string {
	const id = c.req.param("id") ?? "";
	if (!(kind === "instance" ? INSTANCE_ID : CLUSTER_ID).test(id)) throw new UserError(404, `No such ${kind}`);
	return id;
}

const VOLUME_ID = /^vol-[0-9a-zA-Z]{1,32}$/;

function volumeId(c: AppContext): string {
	const id = c.req.param("id") ?? "";
	if (!VOLUME_ID.test(id)) throw new UserError(404, "No such volume");
	return id;
}

/**
 * Runs a record action and goes back to the item with its flash; a refusal that is the record's
 * state (409) goes back with the reason instead, and a form refused (422) is shown again with its
 * field errors when `rerender` is given.
 */
async function acting(
	c: AppContext,
	deps: Deps,
	to: string,
	act: () => Promise<string>,
	rerender?: (errors: Record<string, string>) => Promise<Response>,
): Promise<Response> {
	try {
		await setFlash(c, deps, { tone: "ok", text: await act() });
	} catch (error) {
		if (!(error instanceof UserError)) throw error;
		if (error.status === 422 && rerender) {
			return await rerender(Object.keys(error.fields).length ? error.fields : { form: error.message });
		}
		if (error.status !== 409) throw error;
		await setFlash(c, deps, { tone: "error", text: error.message });
	}
	return c.redirect(to, 303);
}

function machineRoutes(deps: Deps, kind: AdminMachineKind): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const load = kind === "instance" ? adminInstance : adminCluster;
	const page = async (c: AppContext, id: string, values: FormValues, errors: Record<string, string> = {}) => {
		const [ctx, machine] = await Promise.all([pageContext(c, deps), load(deps, c.get("viewer"), id)]);
		if (!machine) throw new UserError(404, `No ${kind} ${id} is known to the portal.`);
		return c.html(
			renderPage(<MachinePage ctx={ctx} machine={machine} values={values} errors={errors} />),
			Object.keys(errors).length ? 422 : 200,
		);
	};
	const href = (id: string) => `/admin/${kind}s/${encodeURIComponent(id)}`;
	app.get("/:id", (c) => page(c, machineId(c, kind), {}));
	for (const archived of [true, false]) {
		app.post(`/:id/${archived ? "archive" : "unarchive"}`, (c) => {
			const id = machineId(c, kind);
			return acting(c, deps, href(id), async () => {
				await setArchived(deps, c.get("viewer"), kind, id, archived);
				return archived ? `${id} archived.` : `${id} brought back.`;
			});
		});
	}
	app.post("/:id/reassign", async (c) => {
		const id = machineId(c, kind);
		const values = await formValues(c);
		return await acting(c, deps, href(id), async () => {
			const moved = await reassignOwner(deps, c.get("viewer"), kind, id, textOf(values, "username"));
			return `${id} now belongs to ${moved.to} (was ${moved.from}).`;
		}, (errors) => page(c, id, values, errors));
	});
	if (kind === "instance") {
		app.post("/:id/lock", async (c) => {
			const id = machineId(c, kind);
			const values = await formValues(c);
			return await acting(c, deps, href(id), async () => {
				await setManualLock(deps, c.get("viewer"), id, { locked: true, reason: textOf(values, "reason") });
				return `The controls of ${id} are locked: only Terminate is available.`;
			}, (errors) => page(c, id, values, errors));
		});
		app.post("/:id/unlock", (c) => {
			const id = machineId(c, kind);
			return acting(c, deps, href(id), async () => {
				await setManualLock(deps, c.get("viewer"), id, { locked: false });
				return `The controls of ${id} are unlocked.`;
			});
		});
	}
	return app;
}

function volumeRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const load = async (c: AppContext, id: string) => {
		const volume = await adminVolume(deps, c.get("viewer"), id);
		if (!volume) throw new UserError(404, `No volume ${id} is known to the portal.`);
		return volume;
	};
	app.get("/:id", async (c) => {
		const [ctx, volume] = await Promise.all([pageContext(c, deps), load(c, volumeId(c))]);
		return c.html(renderPage(<VolumePage ctx={ctx} volume={volume} />));
	});
	app.get("/:id/delete", async (c) => {
		const [ctx, volume] = await Promise.all([pageContext(c, deps), load(c, volumeId(c))]);
		if (!volume.leftBehind) {
			throw new UserError(409, `Volume ${volume.id} is not left behind: it cannot be deleted here.`);
		}
		return c.html(renderPage(<VolumeDeletePage ctx={ctx} volume={volume} />));
	});
	app.post("/:id/delete", async (c) => {
		const id = volumeId(c);
		const values = await formValues(c);
		try {
			await deleteLeftoverVolume(deps, c.get("viewer"), id, textOf(values, "confirm") === "on");
		} catch (error) {
			if (!(error instanceof UserError) || error.status !== 422) throw error;
			const [ctx, volume] = await Promise.all([pageContext(c, deps), load(c, id)]);
			return c.html(renderPage(<VolumeDeletePage ctx={ctx} volume={volume} error={error.message} />), 422);
		}
		await setFlash(c, deps, { tone: "ok", text: `Volume ${id} deleted in AWS; its billing has ended.` });
		return c.redirect("/admin/volumes", 303);
	});
	return app;
}

/** The lists and the item pages, mounted at /admin. */
export function machineBrowseRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	for (const { list } of SECTIONS) {
		app.get(`/${list}`, async (c) => {
			const query = parseBrowseQuery(list, c.req.query());
			const [ctx, view] = await Promise.all([pageContext(c, deps), browseView(deps, c.get("viewer"), query)]);
			return c.html(renderPage(<BrowsePage ctx={ctx} view={view} />));
		});
	}
	app.route("/instances", machineRoutes(deps, "instance"));
	app.route("/clusters", machineRoutes(deps, "cluster"));
	app.route("/volumes", volumeRoutes(deps));
	return app;
}
