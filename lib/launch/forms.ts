/** What the launch forms of every kind share: the instance type field and how a form is validated. */
import { z } from "zod";
import { parseTemplate } from "../cfn.ts";
import type { ConfigKind } from "../db/schema.ts";
import { UserError } from "../errors.ts";

/** The chosen instance type (each kind's form has one; the entitlement checks it is offered). */
export const instanceTypeField = z.string({ error: "Choose an instance type" }).trim()
	.min(1, "Choose an instance type")
	.max(64, "An instance type name is at most 64 characters");

/** Validates a launch form with `schema`; a 422 marks each refused field with its first message. */
export function parseLaunchForm<Schema extends z.ZodType>(
	schema: Schema,
	raw: Record<string, unknown>,
): z.infer<Schema> {
	const parsed = schema.safeParse(raw);
	if (parsed.success) return parsed.data;
	const fields: Record<string, string> = {};
	for (const issue of parsed.error.issues) fields[String(issue.path[0])] ??= issue.message;
	throw new UserError(422, "Please correct the marked fields.", { fields });
}

/** The template parameter each kind sends the chosen instance type in. */
const INSTANCE_TYPE_PARAMETER: Record<ConfigKind, string> = { instance: "InstanceType", cluster: "paramInstanceType" };

/**
 * The configuration's default instance type: the default its template declares for the parameter
 * the type is sent in (the shipped templates say t2.micro and m4.large), so the form preselects
 * what the template's author meant; undefined when the template declares none or cannot be read.
 */
export function defaultInstanceType(config: { kind: ConfigKind; templateBody: string }): string | undefined {
	const template = parseTemplate(config.templateBody);
	if (!template.ok) return undefined;
	return template.parameters[INSTANCE_TYPE_PARAMETER[config.kind]]?.default;
}
