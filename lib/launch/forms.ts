/** What the launch forms of every kind share: the instance type field and how a form is validated. */
import { z } from "zod";
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
