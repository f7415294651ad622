/**
 * Secret params (the original's key table, e.g. a DNS API key): stored sealed (lib/sealed.ts, with
 * a key derived from the portal's secret), never shown after saving, exported as a placeholder, and
 * never substituted into a bootstrap script (the user data is readable on the instance and by anyone
 * who may describe it). A secret reaches a launch only as the stack parameter of its own name, and
 * only when the configuration's template declares that parameter `NoEcho: true`, so CloudFormation
 * masks it; plugins read it through their context.
 */
import type { TemplateParameter } from "../cfn.ts";
import { parseTemplate } from "../cfn.ts";
import type { Db } from "../db/client.ts";
import { listConfigs, paramByToken, sealedParams } from "../db/catalog.ts";
import { UserError } from "../errors.ts";
import { unseal, UnsealError } from "../sealed.ts";

/** What an export writes for a secret's value; an import that finds it keeps the value stored. */
export const SECRET_PLACEHOLDER = "(secret: kept by the portal, not exported)";

/** What a secret's row shows instead of its value. */
export const SECRET_SET = "set (secret)";

/** Opens one sealed param; a 409 saying what to do when this portal's key cannot. */
async function opened(secret: string, token: string, sealed: string): Promise<string> {
	try {
		return await unseal(secret, sealed, token);
	} catch (error) {
		if (!(error instanceof UnsealError)) throw error;
		throw new UserError(
			409,
			`The secret param ${token} cannot be decrypted with this portal's key (${error.message}): an admin must set its value again on the Params page.`,
		);
	}
}

/** Whether this portal's key opens the sealed value (the Params page says when it does not). */
export async function opensWith(secret: string, token: string, sealed: string): Promise<boolean> {
	try {
		await unseal(secret, sealed, token);
		return true;
	} catch {
		return false;
	}
}

/** The plain value of the secret param `token`; undefined when there is no such secret. A 409 when it cannot be decrypted. */
export async function secretParam(db: Db, secret: string, token: string): Promise<string | undefined> {
	const row = await paramByToken(db, token);
	if (!row?.secret) return undefined;
	return await opened(secret, token, row.value);
}

/** Every secret param's plain value (the console redaction); the ones this key cannot open are left out. */
export async function secretParamValues(db: Db, secret: string): Promise<string[]> {
	const values: string[] = [];
	for (const [token, sealed] of Object.entries(await sealedParams(db))) {
		try {
			values.push(await unseal(secret, sealed, token));
		} catch { /* unreadable: nothing of it can be echoed either */ }
	}
	return values;
}

/** Why a template parameter may not carry the secret `token`, or nothing. */
function parameterProblem(token: string, declared: TemplateParameter | undefined): string | undefined {
	if (!declared || declared.noEcho) return undefined;
	return `The template declares ${token} without NoEcho: true, and ${token} is a secret param: mark the parameter NoEcho so CloudFormation never shows it`;
}

/**
 * The stack parameters a launch gets from the secret params: each secret whose name the template
 * declares, decrypted. A declared parameter without NoEcho is refused (422) rather than sent in
 * clear; `taken` are the names the portal sets itself, which a secret never replaces.
 */
export async function secretStackParameters(
	db: Db,
	secret: string,
	declared: Record<string, TemplateParameter>,
	taken: readonly string[],
): Promise<Record<string, string>> {
	const parameters: Record<string, string> = {};
	for (const [token, sealed] of Object.entries(await sealedParams(db))) {
		if (!(token in declared) || taken.includes(token)) continue;
		const problem = parameterProblem(token, declared[token]);
		if (problem) throw new UserError(422, `${problem}. Ask an admin to change the configuration's template.`);
		parameters[token] = await opened(secret, token, sealed);
	}
	return parameters;
}

/**
 * What a configuration may not do with the secret params: use one as a `{{{token}}}` of its bootstrap
 * script (refused at save: the script would carry it in clear), or declare its name as a template
 * parameter without NoEcho. As field → message, for the form.
 */
export function secretMisuse(
	config: { templateBody: string; userDataBody: string },
	secretTokens: readonly string[],
): Record<string, string> {
	const fields: Record<string, string> = {};
	const inScript = secretTokens.filter((t) => config.userDataBody.includes(`{{{${t}}}}`));
	if (inScript.length) {
		fields.userDataBody = `{{{${
			inScript[0]
		}}}} is a secret param, and secrets are never put into a bootstrap script: declare a NoEcho template parameter named ${
			inScript[0]
		} instead, and the launch passes the secret there`;
	}
	const template = parseTemplate(config.templateBody);
	if (template.ok) {
		for (const token of secretTokens) {
			const problem = parameterProblem(token, template.parameters[token]);
			if (problem) {
				fields.templateBody = problem;
				break;
			}
		}
	}
	return fields;
}

/** The configurations that would misuse `token` were it a secret, by name (refused when a param is marked secret). */
export async function configsMisusing(db: Db, token: string): Promise<string[]> {
	return (await listConfigs(db)).filter((c) => Object.keys(secretMisuse(c, [token])).length > 0).map((c) => c.name);
}
