/**
 * Reading CloudFormation templates (JSON or YAML with the short intrinsic tags such as `!Ref`)
 * far enough to know which parameters they declare.
 */
import { parse, type ScalarTag } from "yaml";

/** One declared template parameter. */
export interface TemplateParameter {
	type: string;
	default?: string;
	allowedValues?: string[];
	allowedPattern?: string;
	minLength?: number;
	maxLength?: number;
	minValue?: number;
	maxValue?: number;
	/** CloudFormation masks the value in its console and API (a secret). */
	noEcho?: boolean;
}

/** A template's declared parameters and outputs, or why it could not be read. */
export type ParsedTemplate =
	| { ok: true; parameters: Record<string, TemplateParameter>; outputs: string[]; resourceTypes: string[] }
	| { ok: false; error: string };

const INTRINSICS = [
	"Ref",
	"Sub",
	"GetAtt",
	"Join",
	"Select",
	"Split",
	"FindInMap",
	"GetAZs",
	"ImportValue",
	"If",
	"Equals",
	"And",
	"Or",
	"Not",
	"Condition",
	"Base64",
	"Cidr",
	"Transform",
	"ToJsonString",
	"Length",
];

/** `!Ref x` and friends become `{ Ref: x }` / `{ "Fn::Sub": x }` for every node kind. */
const cfnTags = INTRINSICS.flatMap((name) => {
	const key = name === "Ref" || name === "Condition" ? name : `Fn::${name}`;
	const resolve = (value: unknown) => ({ [key]: value });
	return [
		{ tag: `!${name}`, resolve: (str: string) => resolve(str) } as ScalarTag,
		{ tag: `!${name}`, collection: "seq", resolve: (seq: { toJSON(): unknown }) => resolve(seq.toJSON()) },
		{ tag: `!${name}`, collection: "map", resolve: (map: { toJSON(): unknown }) => resolve(map.toJSON()) },
	];
});

/** Parses a template body; JSON first, then YAML. */
export function parseTemplate(body: string): ParsedTemplate {
	let doc: unknown;
	const trimmed = body.trim();
	if (!trimmed) return { ok: false, error: "The template is empty" };
	try {
		doc = trimmed.startsWith("{") ? JSON.parse(trimmed) : parse(trimmed, {
			customTags: cfnTags as never,
			maxAliasCount: 100,
			// Warnings would go to the process console, outside our logs;
			// errors still throw and become a field error.
			logLevel: "error",
		});
	} catch (error) {
		return {
			ok: false,
			error: `The template is neither valid JSON nor YAML: ${(error as Error).message.split("\n")[0]}`,
		};
	}
	if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
		return { ok: false, error: "The template must be a JSON or YAML object" };
	}
	const template = doc as Record<string, unknown>;
	const resources = template.Resources;
	if (
		typeof resources !== "object" || resources === null || Array.isArray(resources) || !Object.keys(resources).length
	) {
		return { ok: false, error: "The template declares no Resources" };
	}
	const parameters: Record<string, TemplateParameter> = {};
	const declared = template.Parameters;
	if (declared !== undefined) {
		if (typeof declared !== "object" || declared === null || Array.isArray(declared)) {
			return { ok: false, error: "Parameters must be an object" };
		}
		for (const [name, spec] of Object.entries(declared as Record<string, Record<string, unknown>>)) {
			const s = spec ?? {};
			parameters[name] = {
				type: String(s.Type ?? "String"),
				default: s.Default === undefined ? undefined : String(s.Default),
				allowedValues: Array.isArray(s.AllowedValues) ? s.AllowedValues.map(String) : undefined,
				allowedPattern: typeof s.AllowedPattern === "string" ? s.AllowedPattern : undefined,
				minLength: numberOrUndefined(s.MinLength),
				maxLength: numberOrUndefined(s.MaxLength),
				minValue: numberOrUndefined(s.MinValue),
				maxValue: numberOrUndefined(s.MaxValue),
				...(s.NoEcho === true || s.NoEcho === "true" ? { noEcho: true } : {}),
			};
		}
	}
	const outputs = typeof template.Outputs === "object" && template.Outputs !== null
		? Object.keys(template.Outputs)
		: [];
	const resourceTypes = Object.values(resources as Record<string, { Type?: unknown }>).map((r) =>
		String(r?.Type ?? "")
	);
	return { ok: true, parameters, outputs, resourceTypes };
}

function numberOrUndefined(value: unknown): number | undefined {
	const n = Number(value);
	return value === undefined || !Number.isFinite(n) ? undefined : n;
}
