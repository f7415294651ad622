// deno-lint-ignore-file no-console
/**
 * `./mliy admin:password <username>`: sets the break-glass password of an admin listed in
 * ADMIN_USERNAMES (lib/auth/break_glass.ts), ending any break-glass session they have open. Reads
 * the same settings as the portal, so it writes to the database the portal uses.
 *
 * The password is read from the terminal without echo (typed twice), or from the first line of
 * standard input when it is not a terminal, or from the BREAK_GLASS_PASSWORD environment variable
 * (for automation; it is not an MLIY_ setting, so the portal never reads it). It is never printed.
 */
import { setBreakGlassPassword } from "../lib/auth/break_glass.ts";
import { openDatabase } from "../lib/db/client.ts";
import { ConfigError, UserError } from "../lib/errors.ts";
import { closeLogging, configureLogging, getLoggers } from "../lib/log.ts";
import { loadSettings } from "../lib/settings.ts";

/** Reads one line from the terminal with echo off; Ctrl-C or Ctrl-D gives up. */
async function readHidden(prompt: string): Promise<string | undefined> {
	const encoder = new TextEncoder();
	const typed: number[] = [];
	const buffer = new Uint8Array(64);
	try {
		// Echo goes off before the prompt shows, so nothing typed in answer to it is ever echoed.
		Deno.stdin.setRaw(true);
		await Deno.stderr.write(encoder.encode(prompt));
		for (;;) {
			const n = await Deno.stdin.read(buffer);
			if (n === null) return undefined;
			for (const byte of buffer.subarray(0, n)) {
				if (byte === 3 || byte === 4) return undefined;
				if (byte === 13 || byte === 10) return new TextDecoder().decode(new Uint8Array(typed));
				if (byte === 127 || byte === 8) typed.pop();
				else typed.push(byte);
			}
		}
	} finally {
		Deno.stdin.setRaw(false);
		await Deno.stderr.write(encoder.encode("\n"));
	}
}

/** The first line of standard input (a pipe or a file). */
async function readFirstLine(): Promise<string> {
	const text = await new Response(Deno.stdin.readable).text();
	return text.split(/\r?\n/, 1)[0] ?? "";
}

async function readPassword(): Promise<string | undefined> {
	const fromEnv = Deno.env.get("BREAK_GLASS_PASSWORD");
	if (fromEnv !== undefined) return fromEnv;
	if (!Deno.stdin.isTerminal()) return await readFirstLine();
	const first = await readHidden("Break-glass password: ");
	if (first === undefined) return undefined;
	const again = await readHidden("The same password again: ");
	if (again !== first) {
		console.error("admin:password: the two passwords differ; nothing was changed");
		Deno.exit(1);
	}
	return first;
}

const username = Deno.args[0];
if (!username || Deno.args.length > 1) {
	console.error("usage: ./mliy admin:password <username>   (an admin listed in ADMIN_USERNAMES)");
	Deno.exit(2);
}
try {
	const settings = await loadSettings(Deno.env.toObject());
	if (!settings.ADMIN_USERNAMES.includes(username.trim().toLowerCase())) {
		// Refused before the password is asked for, so nobody types it for nothing.
		console.error(
			`admin:password: ${username} is not listed in ADMIN_USERNAMES: only those admins may have a break-glass password`,
		);
		Deno.exit(1);
	}
	const password = await readPassword();
	if (password === undefined) {
		console.error("admin:password: no password given; nothing was changed");
		Deno.exit(1);
	}
	await configureLogging(settings, { console: false });
	await using database = await openDatabase({
		url: settings.DATABASE_URL,
		authToken: settings.DATABASE_AUTH_TOKEN,
		busyTimeoutMs: settings.DATABASE_BUSY_TIMEOUT_MS,
	});
	await setBreakGlassPassword(
		{ db: database.db, settings, log: getLoggers(), clock: () => new Date() },
		username,
		password,
	);
	await closeLogging();
	console.log(
		`admin:password: the break-glass password of ${username.trim().toLowerCase()} is set; ` +
			(settings.BREAK_GLASS
				? "sign in at /break-glass"
				: "break-glass sign-in is off (BREAK_GLASS): turn it on to use it"),
	);
} catch (error) {
	if (error instanceof UserError || error instanceof ConfigError) {
		console.error(`admin:password: ${error.message}`);
		Deno.exit(1);
	}
	throw error;
}
