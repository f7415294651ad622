/** GET /admin/guide: the admin guide — this portal's contracts for templates, scripts and plugins, as it runs. */
import { Hono } from "hono";
import type { Deps } from "../../lib/deps.ts";
import {
	type AdminGuide,
	adminGuide,
	BUILT_IN_TOKENS,
	CLUSTER_PARAMETERS,
	CONDITIONAL_TOKENS,
	type Documented,
	INSTANCE_PARAMETERS,
	OPTIONAL_INSTANCE_PARAMETERS,
} from "../../lib/views/admin_guide.ts";
import { type AppEnv, pageContext } from "../context.ts";
import type { PageContext } from "../ui/Layout.tsx";
import { EmptyState, ItemTable } from "../ui/components.tsx";
import { renderPage } from "../ui/render.tsx";
import { AdminPage } from "./common.tsx";

const NAME_COLUMNS = (quote: (name: string) => string) =>
	[
		{ label: "Name", cell: (d: Documented) => <code>{quote(d.name)}</code> },
		{ label: "What it holds", cell: (d: Documented) => d.meaning },
	] as const;

const PLUGIN_TITLES: Record<string, string> = {
	auth: "Sign-in (auth)",
	dns: "DNS",
	display: "Display (extra columns, locks, parameter replacement)",
};

const asToken = (name: string) => `{{{${name}}}}`;

export function GuidePage(props: { ctx: PageContext; guide: AdminGuide }) {
	const { guide } = props;
	return (
		<AdminPage ctx={props.ctx} title="Guide">
			<p class="lead">
				What templates, bootstrap scripts and plugins receive from this portal, read from it as it runs. Operators'
				commands and settings are in the README and docs/operations.md.
			</p>
			<nav aria-label="On this page" class="toc">
				<a href="#setup">Setup</a> · <a href="#instance-templates">Instance templates</a> ·{" "}
				<a href="#tokens">Bootstrap tokens</a> · <a href="#progress">Progress reports</a> ·{" "}
				<a href="#cluster-templates">Cluster templates</a> · <a href="#plugins">Plugins</a> ·{" "}
				<a href="#settings">Settings</a>
			</nav>

			<section aria-labelledby="setup">
				<h2 id="setup">Setup, in this order</h2>
				<ol class="steps-list">
					{guide.steps.map((s) => (
						<li>
							<a href={s.href}>{s.label}</a> — {s.why}.{" "}
							<span class={s.count === 0 ? "muted" : undefined}>
								{s.count === 0 ? "None yet." : `${s.count} so far.`}
							</span>
						</li>
					))}
				</ol>
				<p>
					Clusters: give a group EMR access on its form and permit it a cluster configuration. The whole catalogue can
					also come in at once through <a href="/admin/catalog">Import / export</a>.
				</p>
			</section>

			<section aria-labelledby="instance-templates">
				<h2 id="instance-templates">Instance templates</h2>
				<p>
					Every instance template must declare these parameters; a configuration whose template lacks one is refused.
				</p>
				<ItemTable columns={NAME_COLUMNS((n) => n)} rows={INSTANCE_PARAMETERS} />
				<p>Filled when the template declares them:</p>
				<ItemTable columns={NAME_COLUMNS((n) => n)} rows={OPTIONAL_INSTANCE_PARAMETERS} />
				<p>
					A secret param reaches a launch only as a <code>NoEcho</code> parameter of its own name, never in a script.
				</p>
			</section>

			<section aria-labelledby="tokens">
				<h2 id="tokens">Bootstrap tokens</h2>
				<p>
					Every <code>{"{{{NAME}}}"}</code>{" "}
					in a bootstrap script is replaced at launch; the first source that defines a name wins, in this order: the
					portal's own tokens below, the configuration's params, the params, then REPLACEMENT_TOKENS; the display
					plugin's replaceParams may then change any of them but PROGRESS_TOKEN and LAUNCH_ID. A token nothing defines
					stays as written.
				</p>
				<ItemTable columns={NAME_COLUMNS(asToken)} rows={BUILT_IN_TOKENS} />
				<p>Only in some launches:</p>
				<ItemTable columns={NAME_COLUMNS(asToken)} rows={CONDITIONAL_TOKENS} />
				<h3>Params defined here</h3>
				{guide.params.length === 0
					? (
						<EmptyState title="No params yet">
							<a href="/admin/params">Add one</a>.
						</EmptyState>
					)
					: (
						<ItemTable
							columns={[
								{ label: "Token", cell: (p) => <code>{p.secret ? p.token : asToken(p.token)}</code> },
								{ label: "Kind", cell: (p) => p.secret ? "secret (NoEcho template parameter only)" : "token" },
								{ label: "Description", cell: (p) => p.description },
							]}
							rows={guide.params}
						/>
					)}
			</section>

			<section aria-labelledby="progress">
				<h2 id="progress">Progress reports</h2>
				<p>
					A configuration with a progress bar reports each stage of its setup; the last one is{" "}
					<code>done(100)</code>. The token goes in a header, never in the URL (URLs end up in proxies' logs):
				</p>
				<pre class="console"><code>{`curl -fsS -X POST -H "X-MLiy-Progress-Token: {{{PROGRESS_TOKEN}}}" \\\n  "${guide.progressUrl}/$INSTANCE_ID/installing(40)"`}</code></pre>
			</section>

			<section aria-labelledby="cluster-templates">
				<h2 id="cluster-templates">Cluster templates</h2>
				<p>
					The portal sends each of these the template declares, and nothing it does not declare; the configuration's
					params fill the template's other parameters.
				</p>
				<ItemTable columns={NAME_COLUMNS((n) => n)} rows={CLUSTER_PARAMETERS} />
			</section>

			<section aria-labelledby="plugins">
				<h2 id="plugins">Plugins</h2>
				{guide.plugins.map((p) => (
					<>
						<h3>{PLUGIN_TITLES[p.kind] ?? p.kind}</h3>
						<p>
							From <code>{p.folder}</code>
							{p.embedded ? " (the copy built into the portal)" : ""}; a function the folder does not export is the
							portal's default.
						</p>
						<ItemTable
							columns={[
								{ label: "Function", cell: (f) => <code>{f.name}</code> },
								{ label: "From", cell: (f) => f.source === "default" ? <span class="muted">default</span> : f.source },
							]}
							rows={p.functions}
						/>
					</>
				))}
			</section>

			<section aria-labelledby="settings">
				<h2 id="settings">Settings in effect</h2>
				<p>Secrets are not shown.</p>
				<ItemTable
					columns={[
						{ label: "Setting", cell: ([k]) => <code>{k}</code> },
						{ label: "Value", class: "mono wrap", cell: ([, v]) => v },
					]}
					rows={guide.settings}
				/>
			</section>
		</AdminPage>
	);
}

export function guideRoutes(deps: Deps): Hono<AppEnv> {
	return new Hono<AppEnv>().get("/guide", async (c) => {
		const [ctx, guide] = await Promise.all([pageContext(c, deps), adminGuide(deps)]);
		return c.html(renderPage(<GuidePage ctx={ctx} guide={guide} />));
	});
}
