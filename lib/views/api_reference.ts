/**
 * The API reference page's data, read from the generated OpenAPI document: each operation with its
 * method, path, summary, parameters, body and answers, grouped by tag. Rendered by the portal
 * itself (routes/ui/ApiReferencePage.tsx), so the page needs no script and no outside address.
 */

/** The parts of an OpenAPI 3.1 document the page reads. */
export interface OpenApiDocumentLike {
	info: { title: string; version: string; description?: string };
	paths?: Record<string, object | undefined>;
	components?: { schemas?: Record<string, object> };
}

interface SchemaLike {
	type?: string | string[];
	description?: string;
	properties?: Record<string, SchemaLike>;
	required?: string[];
}

interface OperationLike {
	tags?: string[];
	summary?: string;
	description?: string;
	security?: unknown[];
	parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: { enum?: string[] } }[];
	requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
	responses?: Record<string, { description?: string }>;
}

export interface ReferenceOperation {
	method: string;
	path: string;
	summary: string;
	description: string | null;
	needsToken: boolean;
	parameters: { name: string; in: string; required: boolean; text: string }[];
	/** The body's schema name and media type, when it takes one. */
	body: string | null;
	/** The body's fields (of its named schema), with their types and descriptions. */
	bodyFields: { name: string; type: string; required: boolean; text: string }[];
	responses: { status: string; text: string }[];
	anchor: string;
}

export interface ApiReferenceProps {
	title: string;
	version: string;
	description: string;
	base: string;
	sections: { tag: string; operations: ReferenceOperation[] }[];
}

const METHODS = ["get", "post", "put", "patch", "delete"];

/** The page of a document served under `base`. */
export function apiReferenceView(document: OpenApiDocumentLike, base: string): ApiReferenceProps {
	const sections = new Map<string, ReferenceOperation[]>();
	for (const [path, item] of Object.entries(document.paths ?? {})) {
		for (const method of METHODS) {
			const operation = (item as Record<string, unknown> | undefined)?.[method] as OperationLike | undefined;
			if (!operation) continue;
			const tag = operation.tags?.[0] ?? "other";
			const body = Object.entries(operation.requestBody?.content ?? {})[0];
			const bodyName = body?.[1].schema?.$ref?.split("/").pop();
			const bodySchema = bodyName ? document.components?.schemas?.[bodyName] as SchemaLike | undefined : undefined;
			const list = sections.get(tag) ?? [];
			list.push({
				method: method.toUpperCase(),
				path: base + path,
				summary: operation.summary ?? "",
				description: operation.description ?? null,
				needsToken: (operation.security ?? []).length > 0,
				parameters: (operation.parameters ?? []).map((p) => ({
					name: p.name,
					in: p.in,
					required: p.required === true,
					text: [p.description, p.schema?.enum ? `one of ${p.schema.enum.join(", ")}` : ""].filter(Boolean).join("; "),
				})),
				body: body ? `${bodyName ?? "object"} (${body[0]})` : null,
				bodyFields: Object.entries(bodySchema?.properties ?? {}).map(([name, field]) => ({
					name,
					type: [field.type ?? "object"].flat().join(" or "),
					required: bodySchema?.required?.includes(name) ?? false,
					text: field.description ?? "",
				})),
				responses: Object.entries(operation.responses ?? {}).map(([status, r]) => ({
					status,
					text: r.description ?? "",
				})),
				anchor: `${method}-${path.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}`,
			});
			sections.set(tag, list);
		}
	}
	return {
		title: document.info.title,
		version: document.info.version,
		description: document.info.description ?? "",
		base,
		// What the API is about first; the document's own routes last.
		sections: [...sections].sort(([a], [b]) => Number(a === "about") - Number(b === "about"))
			.map(([tag, operations]) => ({ tag, operations })),
	};
}
