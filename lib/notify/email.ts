/**
 * Email through the configured SMTP server (SMTP_* settings), with nodemailer: the most used mail
 * library for Node, maintained since 2010, with no dependencies of its own, and doing what a
 * notice needs right (STARTTLS with certificate checks, AUTH, address and header encoding). Each
 * message opens its own connection: notices are few, and no idle connection is kept.
 */
import { createTransport } from "nodemailer";
import type { Settings } from "../settings.ts";

/** One message. */
export interface Email {
	to: string;
	subject: string;
	text: string;
}

type MailSettings = Pick<
	Settings,
	"SMTP_HOST" | "SMTP_PORT" | "SMTP_SECURE" | "SMTP_USER" | "SMTP_PASSWORD" | "SMTP_FROM"
>;

/** Whether email is configured at all. */
export function emailConfigured(settings: Pick<Settings, "SMTP_HOST">): boolean {
	return settings.SMTP_HOST !== undefined;
}

/** Sends one message; throws when the server refuses it or cannot be reached in time. */
export async function sendEmail(settings: MailSettings, email: Email): Promise<void> {
	if (!settings.SMTP_HOST) throw new Error("SMTP_HOST is not set");
	const transport = createTransport({
		host: settings.SMTP_HOST,
		port: settings.SMTP_PORT,
		secure: settings.SMTP_SECURE,
		auth: settings.SMTP_USER ? { user: settings.SMTP_USER, pass: settings.SMTP_PASSWORD ?? "" } : undefined,
		connectionTimeout: 20_000,
		greetingTimeout: 20_000,
		socketTimeout: 20_000,
	});
	try {
		await transport.sendMail({ from: settings.SMTP_FROM, to: email.to, subject: email.subject, text: email.text });
	} finally {
		transport.close();
	}
}
