/**
 * GET /admin/catalog (the import form and export links), GET /admin/catalog.json and
 * /admin/catalog.yaml (the whole catalogue as one document), POST /admin/catalog (an import, audited
 * when it changes anything, as the folder sync is).
 */
import { Hono } from "hono";
import { applyCatalog } from "../../lib/catalog/apply.ts";
import { exportCatalog, formatCatalog, parseCatalog } from "../../lib/catalog/document.ts";
import type { Deps } from "../../lib/deps.ts";
import { UserError } from "../../lib/errors.ts";
import { type AppContext, type AppEnv, pageContext } from "../context.ts";
import type { Flash, PageContext } from "../ui/Layout.tsx";
import { DataForm, type FormItem } from "../ui/forms.tsx";
import { renderPage } from "../ui/render.tsx";
import { AdminPage } from "./common.tsx";

const IMPORT_FIELDS: FormItem[] = [
	{
		note:
			"Items are matched by name (sg id, token, username) and created or updated; nothing is deleted. The whole document is checked first and applied in one transaction.",
	},
	{ control: "file", name: "file", label: "Document file", accept: ".yaml,.yml,.json" },
	{ control: "area", name: "document", label: "…or paste it", rows: 10 },
];

/** The export links and the import form, with the last import's outcome and (after a refusal) the pasted text. */
export function CatalogPage(props: { ctx: PageContext; outcome?: Flash; text: string }) {
	const { ctx, outcome } = props;
	return (
		<AdminPage ctx={ctx} title="Import / export">
			<h2>Export</h2>
			<p>
				Everything on these pages — groups, configurations (with templates and scripts), types, security groups, params,
				roles and manual memberships — as one document.
			</p>
			<div class="row">
				<a class="btn" href="/admin/catalog.yaml" download>Download YAML</a>
				<a class="btn" href="/admin/catalog.json" download>Download JSON</a>
			</div>
			<p>
				To keep it in git as a folder, one file per configuration, template and script:{" "}
				<code class="nowrap">./mliy catalog:export &lt;folder&gt;</code> on the portal's host writes one, and{" "}
				<code class="nowrap">./mliy catalog:sync [--dry-run] &lt;folder&gt;</code>{" "}
				loads one through this import, saying what it adds and changes (README, "The catalogue from a folder").
			</p>
			<h2>Import</h2>
			{outcome && (
				<p class={outcome.tone === "ok" ? "flash ok" : "error-box"} role={outcome.tone === "ok" ? "status" : "alert"}>
					{outcome.text}
				</p>
			)}
			<DataForm
				action="/admin/catalog"
				csrf={ctx.csrf}
				multipart
				items={IMPORT_FIELDS}
				values={{ document: props.text }}
				errors={{}}
				buttons={[{ label: "Import", primary: true }]}
			/>
		</AdminPage>
	);
}

export function catalogRoutes(deps: Deps): Hono<AppEnv> {
	const app = new Hono<AppEnv>();
	const page = async (c: AppContext, outcome?: Flash, text = "") => {
		const ctx = await pageContext(c, deps);
		return c.html(
			renderPage(<CatalogPage ctx={ctx} outcome={outcome} text={text} />),
			outcome?.tone === "error" ? 422 : 200,
		);
	};
	const download = (format: "json" | "yaml", type: string) => async (c: AppContext) => {
		c.header("Content-Disposition", `attachment; filename="mliy-catalog.${format}"`);
		c.header("Content-Type", `${type}; charset=utf-8`);
		return c.body(formatCatalog(await exportCatalog(deps.db), format));
	};

	app.get("/catalog", (c) => page(c));
	app.get("/catalog.json", download("json", "application/json"));
	app.get("/catalog.yaml", download("yaml", "application/yaml"));
	app.post("/catalog", async (c) => {
		const body = await c.req.parseBody();
		const file = body.file;
		let text = typeof body.document === "string" ? body.document : "";
		if (file instanceof File && file.size > 0) text = await file.text();
		try {
			const viewer = c.get("viewer");
			const { changes } = await applyCatalog(deps, parseCatalog(text), {
				dryRun: false,
				origin: { actorId: viewer.id, actor: viewer.username, action: "catalog-import", resource: "admin import" },
			});
			const created = changes.filter((change) => change.change === "added").length;
			const updated = changes.filter((change) => change.change === "changed" || change.change === "unchanged").length;
			return await page(c, { tone: "ok", text: `Imported: ${created} created, ${updated} updated.` });
		} catch (error) {
			if (error instanceof UserError && error.status === 422) {
				return await page(c, { tone: "error", text: error.message }, text.slice(0, 200_000));
			}
			throw error;
		}
	});
	return app;
}
