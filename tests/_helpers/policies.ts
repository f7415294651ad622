/**
 * For the machine policy tests: one tick of the enforcer as its cron runs it, policies written
 * through the catalogue's writes, activity reports through the HTTP app, and the peers of the
 * notices: a real SMTP server (npm smtp-server) and a webhook listener, both on loopback.
 */
import { SMTPServer } from "smtp-server";
import { upsertById } from "../../lib/db/catalog.ts";
import type { Db } from "../../lib/db/client.ts";
import type { Deps } from "../../lib/deps.ts";
import { runJob } from "../../lib/jobs.ts";
import { enforcePoliciesJob } from "../../jobs/enforce_policies.ts";
import { policySpecSchema, storedPolicy } from "../../lib/policy/spec.ts";
import type { Hono } from "hono";
import type { AppEnv } from "../../routes/context.ts";

/** Runs the enforcer job once, after the background work in flight, and waits for what it started (notices, refreshes). */
export async function enforce(deps: Deps): Promise<void> {
	await deps.background.idle();
	const outcome = await runJob(deps, enforcePoliciesJob, { scheduled: false });
	if (outcome !== "ok") throw new Error(`the enforcer's tick was ${outcome}`);
	await deps.background.idle();
}

/** Sets the policy of a group or a configuration (the catalogue's own write, of the policy as its form saves it). */
export async function setPolicy(
	db: Db,
	on: { group: number } | { config: number },
	given: Record<string, unknown>,
	extra: { noticeWebhook?: string } = {},
): Promise<void> {
	const policy = storedPolicy(policySpecSchema.parse(given));
	if ("group" in on) await upsertById(db, "groups", on.group, { policy, ...extra } as never);
	else await upsertById(db, "softwareConfigs", on.config, { policy } as never);
}

/** POSTs JSON to the app as an instance does (no identity), from loopback. */
export async function postJson(
	app: Hono<AppEnv>,
	path: string,
	body: unknown,
	token?: string,
): Promise<Response> {
	const headers = new Headers({ "Content-Type": "application/json", Accept: "application/json" });
	if (token !== undefined) headers.set("X-MLiy-Progress-Token", token);
	return await app.request(path, {
		method: "POST",
		headers,
		body: typeof body === "string" ? body : JSON.stringify(body),
	}, { remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" } });
}

/**
 * An activity report through the endpoint, written: throws unless it was accepted, and waits for
 * the report queue to write it (the endpoint answers before its window's batch is written).
 */
export async function report(
	deps: Pick<Deps, "reports"> & { app: Hono<AppEnv> },
	instanceId: string,
	token: string,
	values: Record<string, unknown> = { cpu: 0 },
): Promise<void> {
	const res = await postJson(deps.app, `/ajax/activity/${instanceId}`, values, token);
	const text = await res.text();
	if (res.status !== 200) throw new Error(`activity report refused: ${res.status} ${text}`);
	await deps.reports.flush();
}

/** A message the SMTP server received, with its body decoded. */
export interface ReceivedMail {
	from: string;
	to: string[];
	subject: string;
	text: string;
}

/** Decodes a quoted-printable body (nodemailer wraps long lines, the extend link among them). */
function decodeQuotedPrintable(text: string): string {
	const bytes = text.replace(/=\r?\n/g, "").replace(
		/=([0-9A-F]{2})/gi,
		(_, hex) => String.fromCharCode(parseInt(hex, 16)),
	);
	return new TextDecoder().decode(Uint8Array.from(bytes, (c) => c.charCodeAt(0)));
}

function parseMail(raw: string, envelope: { from: string; to: string[] }): ReceivedMail {
	const split = raw.indexOf("\r\n\r\n");
	const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
	const body = raw.slice(split + 4);
	const header = (name: string) => new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1]?.trim() ?? "";
	const encoding = header("Content-Transfer-Encoding").toLowerCase();
	const text = encoding === "quoted-printable"
		? decodeQuotedPrintable(body)
		: encoding === "base64"
		? new TextDecoder().decode(Uint8Array.from(atob(body.replace(/\s+/g, "")), (c) => c.charCodeAt(0)))
		: body;
	return { ...envelope, subject: header("Subject"), text };
}

/** A real SMTP server on loopback (no TLS, no sign-in), keeping every message it receives. */
export async function smtpServer(): Promise<{ port: number; messages: ReceivedMail[]; close(): Promise<void> }> {
	const messages: ReceivedMail[] = [];
	const server = new SMTPServer({
		authOptional: true,
		disabledCommands: ["STARTTLS", "AUTH"],
		logger: false,
		onData(stream, session, callback) {
			(async () => {
				const chunks: Uint8Array[] = [];
				for await (const chunk of stream) chunks.push(chunk as Uint8Array);
				const raw = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
				messages.push(parseMail(raw, {
					from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
					to: session.envelope.rcptTo.map((r) => r.address),
				}));
				callback();
			})().catch((error) => callback(error));
		},
	});
	const port = await new Promise<number>((resolve) => {
		server.listen(0, "127.0.0.1", () => resolve((server.server.address() as { port: number }).port));
	});
	return { port, messages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A webhook listener on loopback, keeping every JSON body posted to it. */
export function webhookListener(): { url: string; posts: { text: string }[]; close(): Promise<void> } {
	const posts: { text: string }[] = [];
	const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
		posts.push(await request.json());
		return new Response("ok");
	});
	return { url: `http://127.0.0.1:${server.addr.port}/hooks/science`, posts, close: () => server.shutdown() };
}

/** The extend link in a text (an email body or a webhook's), as a path of the app. */
export function extendLinkIn(text: string): string | undefined {
	return /https?:\/\/[^\s/]+(\/extend\/[0-9]+\.[0-9]+\.[0-9]+\.[A-Za-z0-9_-]+)/.exec(text)?.[1];
}
