/** The demo's data: its catalogue document, imported through the admin import, and its people's profiles. */
import { type CatalogDocument, importCatalog, parseCatalog } from "../lib/catalog/document.ts";
import type { Db } from "../lib/db/client.ts";
import { getGroupByName } from "../lib/db/catalog.ts";
import { getUserByUsername, updateUserProfile } from "../lib/db/users.ts";
import { CLUSTER_TEMPLATE, INSTANCE_TEMPLATE, SAMPLE_BOOTSTRAP } from "../fixtures/mod.ts";
import demoCatalog from "../fixtures/demo_catalog.yaml" with { type: "text" };

/** The demo's people as the directory would describe them (the catalogue holds only roles and memberships). */
const PROFILES = [
	{ username: "developer", firstName: "Dev", lastName: "Eloper", email: "developer@example.com" },
	{ username: "bob", firstName: "Bob", lastName: "Ray", email: "bob@example.com" },
];

/** Imports the demo's catalogue, once: a database that has its team already is left as it is. */
export async function seedDemo(db: Db): Promise<boolean> {
	if (await getGroupByName(db, "data-science")) return false;
	const doc = parseCatalog(demoCatalog) as CatalogDocument;
	await importCatalog(db, {
		...doc,
		configs: doc.configs?.map((config) =>
			config.kind === "cluster"
				? { templateBody: CLUSTER_TEMPLATE, ...config }
				: { templateBody: INSTANCE_TEMPLATE, userDataBody: SAMPLE_BOOTSTRAP, ...config }
		),
	});
	for (const { username, ...profile } of PROFILES) {
		await updateUserProfile(db, (await getUserByUsername(db, username))!, profile);
	}
	return true;
}
