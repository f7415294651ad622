/**
 * Break-glass sign-in: an admin listed in ADMIN_USERNAMES, with a password set by
 * `./mliy admin:password`, signs in at /break-glass when the sign-in proxy is down. Off by default;
 * rate-limited per address and per username; every attempt audited; a short, strict cookie; never
 * mixed with the proxy's identity; the password nowhere in clear.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { closeLogging, configureLogging } from "../lib/log.ts";
import { setBreakGlassPassword } from "../lib/auth/break_glass.ts";
import { auditEvents } from "../lib/db/schema.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { seedWorld } from "./_helpers/world.ts";

const PASSWORD = "correct horse battery staple";
const ON = { BREAK_GLASS: true, ADMIN_USERNAMES: "root" };

/** What a browser keeps: its cookies, by name. */
class Browser {
	cookies = new Map<string, string>();
	constructor(readonly deps: TestDeps, readonly from = "127.0.0.1") {}
	header(): Record<string, string> {
		return this.cookies.size ? { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") } : {};
	}
	keep(res: Response): void {
		for (const line of res.headers.getSetCookie()) {
			const [pair] = line.split(";");
			const [name, value] = [pair!.slice(0, pair!.indexOf("=")), pair!.slice(pair!.indexOf("=") + 1)];
			if (/Max-Age=0/i.test(line) || value === "") this.cookies.delete(name);
			else this.cookies.set(name, value);
		}
	}
	async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
		const res = await request(this.deps.app, path, { from: this.from, headers: { ...this.header(), ...headers } });
		this.keep(res);
		return res;
	}
	async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
		const res = await request(this.deps.app, path, {
			from: this.from,
			form,
			headers: { ...this.header(), ...headers },
		});
		this.keep(res);
		return res;
	}
	/** Opens the form and signs in with it: the answer to the POST. */
	async signIn(username: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
		const form = await this.get("/break-glass");
		const csrf = formToken(await form.text());
		return await this.post("/break-glass", { username, password, _csrf: csrf }, headers);
	}
}

function formToken(html: string): string {
	const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
	assert.ok(token, `no form token in ${html.slice(0, 300)}`);
	return token;
}

async function onDeps(settings: Record<string, unknown> = {}): Promise<TestDeps> {
	const deps = await createTestDeps({ settings: { ...ON, ...settings } });
	await seedWorld(deps.db);
	await setBreakGlassPassword(deps, "root", PASSWORD);
	return deps;
}

const attempts = (deps: TestDeps) =>
	deps.db.select().from(auditEvents).where(eq(auditEvents.action, "break-glass-sign-in")).orderBy(auditEvents.id);

Deno.test("break-glass sign-in is off by default: its pages answer 404 and a cookie identifies nobody", async () => {
	await using deps = await createTestDeps({ settings: { ADMIN_USERNAMES: "root" } });
	await setBreakGlassPassword(deps, "root", PASSWORD);
	const browser = new Browser(deps, "10.1.2.3");
	const page = await browser.get("/break-glass");
	assert.equal(page.status, 404);
	assert.match(await page.text(), /Break-glass sign-in is turned off on this portal/);
	const post = await browser.post("/break-glass", { username: "root", password: PASSWORD });
	assert.equal(post.status, 404);
	await post.body?.cancel();
	assert.equal((await attempts(deps)).length, 0, "nothing was tried");

	// A cookie made while it was on is worth nothing once it is off.
	await using on = await onDeps();
	const signedIn = new Browser(on, "10.1.2.3");
	assert.equal((await signedIn.signIn("root", PASSWORD)).status, 303);
	await using off = await createTestDeps({
		settings: { ADMIN_USERNAMES: "root", DATABASE_URL: `file:${on.dir}/test.db` },
	});
	const res = await request(off.app, "/admin", { from: "10.1.2.3", headers: signedIn.header() });
	assert.equal(res.status, 401);
	await res.body?.cancel();
});

Deno.test("break-glass sign-in: the admin's password opens a session with a strict, short cookie; audited", async () => {
	await using deps = await onDeps();
	const browser = new Browser(deps, "10.1.2.3");
	const res = await browser.signIn("Root", PASSWORD);
	assert.equal(res.status, 303, await res.clone().text());
	assert.equal(res.headers.get("Location"), "/");
	const cookie = res.headers.getSetCookie().find((line) => line.startsWith("mliy_break_glass="));
	assert.ok(cookie, "the session cookie is set");
	assert.match(cookie, /; HttpOnly/);
	assert.match(cookie, /; SameSite=Strict/);
	assert.match(cookie, /; Path=\//);
	assert.match(cookie, /; Max-Age=1800/, "30 minutes by default");
	assert.doesNotMatch(cookie, /Secure/, "the portal is on plain http here");

	// The cookie alone (no identity header, not from the proxy) identifies the admin on the portal's pages.
	const admin = await browser.get("/admin");
	assert.equal(admin.status, 200);
	const home = await (await browser.get("/")).text();
	assert.match(home, /<meta name="csrf-token"/);
	assert.match(home, /class="role">admin</);
	assert.match(
		home,
		/Break-glass session: signed in with a local password until 2025-03-01 12:30/,
		"every page says so",
	);
	assert.match(home, /<form method="post" action="\/break-glass\/sign-out"/, "with its sign-out");

	const [audit] = await attempts(deps);
	assert.equal(audit!.outcome, "ok");
	assert.equal(audit!.actor, "root");
	assert.match(audit!.detail, /^from 10\.1\.2\.3, until 2025-03-01T12:30:00\.000Z$/);

	// Over https the cookie is Secure.
	await using tls = await onDeps({ PUBLIC_URL: "https://mliy.example.com" });
	const secure = await new Browser(tls).signIn("root", PASSWORD, { Origin: "https://mliy.example.com" });
	assert.equal(secure.status, 303);
	assert.match(secure.headers.getSetCookie().find((line) => line.startsWith("mliy_break_glass="))!, /; Secure/);
});

Deno.test("break-glass sign-in refuses a wrong password, another user and a forged cookie, each audited", async () => {
	await using deps = await onDeps();
	const browser = new Browser(deps, "10.1.2.3");
	const wrong = await browser.signIn("root", "not the password at all");
	assert.equal(wrong.status, 401);
	const page = await wrong.text();
	assert.match(page, /That username and password do not open a break-glass session/);
	assert.match(page, /value="root"/, "the username is kept in the form");
	assert.equal(browser.cookies.has("mliy_break_glass"), false);

	// A user not in ADMIN_USERNAMES gets the same answer.
	const alice = await browser.signIn("alice", PASSWORD);
	assert.equal(alice.status, 401);
	assert.match(await alice.text(), /That username and password do not open a break-glass session/);

	const rows = await attempts(deps);
	assert.deepEqual(rows.map((row) => [row.actor, row.outcome, row.detail]), [
		["root", "refused", "wrong password, from 10.1.2.3"],
		["alice", "refused", "not an admin, from 10.1.2.3"],
	]);

	// A cookie the portal did not sign, or one naming another session, identifies nobody.
	for (const forged of ["root:abc:def", "alice:abc:def", "root"]) {
		const res = await request(deps.app, "/admin", {
			from: "10.1.2.3",
			headers: { Cookie: `mliy_break_glass=${forged}` },
		});
		assert.equal(res.status, 401, forged);
		await res.body?.cancel();
	}
});

Deno.test("break-glass sign-in takes the form's token and the portal's origin (CSRF)", async () => {
	await using deps = await onDeps();
	const browser = new Browser(deps, "10.1.2.3");
	await browser.get("/break-glass");
	const cases: [string, Record<string, string>, Record<string, string>][] = [
		["no token", { username: "root", password: PASSWORD }, {}],
		["another token", { username: "root", password: PASSWORD, _csrf: "x".repeat(43) }, {}],
		[
			"another site",
			{ username: "root", password: PASSWORD, _csrf: formToken(await (await browser.get("/break-glass")).text()) },
			{ Origin: "https://evil.example" },
		],
	];
	for (const [what, form, headers] of cases) {
		const res = await browser.post("/break-glass", form, headers);
		assert.equal(res.status, 403, what);
		await res.body?.cancel();
	}
	// A token from another browser (another nonce cookie) does not fit this one.
	const other = new Browser(deps, "10.1.2.4");
	const token = formToken(await (await other.get("/break-glass")).text());
	const res = await browser.post("/break-glass", { username: "root", password: PASSWORD, _csrf: token });
	assert.equal(res.status, 403);
	await res.body?.cancel();
	assert.equal((await attempts(deps)).length, 0, "refused before the password was looked at");
});

Deno.test("break-glass sign-in is rate-limited per address and per username: 429", async () => {
	await using deps = await onDeps({ BREAK_GLASS_PER_MINUTE: 3 });
	const browser = new Browser(deps, "10.1.2.3");
	for (let i = 0; i < 3; i++) assert.equal((await browser.signIn("root", `wrong password ${i}`)).status, 401);
	const limited = await browser.signIn("root", PASSWORD);
	assert.equal(limited.status, 429);
	assert.ok(Number(limited.headers.get("Retry-After")) > 0);
	assert.equal(browser.cookies.has("mliy_break_glass"), false, "even the right password waits");
	assert.equal((await attempts(deps)).length, 3, "a limited attempt is counted, not checked");

	// The same username from other addresses: its own share is used up.
	const elsewhere = await new Browser(deps, "10.9.9.9").signIn("root", PASSWORD);
	assert.equal(elsewhere.status, 429);
	// Another username from another address is not limited.
	const other = await new Browser(deps, "10.9.9.8").signIn("admin2", PASSWORD);
	assert.equal(other.status, 401);

	// A minute later the admin may try again.
	deps.clock.advance(60_000);
	assert.equal((await browser.signIn("root", PASSWORD)).status, 303);
});

Deno.test("a break-glass session ends after BREAK_GLASS_MINUTES, at sign-out, and with a new password", async () => {
	await using deps = await onDeps({ BREAK_GLASS_MINUTES: 10 });
	const browser = new Browser(deps, "10.1.2.3");
	assert.equal((await browser.signIn("root", PASSWORD)).status, 303);
	deps.clock.advance(9 * 60_000);
	assert.equal((await browser.get("/admin")).status, 200);
	deps.clock.advance(60_000);
	const expired = await browser.get("/admin");
	assert.equal(expired.status, 401, "not renewed by use");
	await expired.body?.cancel();

	// Sign-out (a signed-in form: the admin's own token) ends it at once, also for a copy of the cookie.
	assert.equal((await browser.signIn("root", PASSWORD)).status, 303);
	const copy = browser.header();
	const open = await (await browser.get("/break-glass")).text();
	assert.match(open, /You are signed in as <strong class="mono">root<\/strong>/);
	const out = await browser.post("/break-glass/sign-out", { _csrf: formToken(open) });
	assert.equal(out.status, 303);
	assert.equal(browser.cookies.has("mliy_break_glass"), false, "the cookie is cleared");
	const replay = await request(deps.app, "/admin", { from: "10.1.2.3", headers: copy });
	assert.equal(replay.status, 401);
	await replay.body?.cancel();
	const [signOut] = await deps.db.select().from(auditEvents).where(eq(auditEvents.action, "break-glass-sign-out"));
	assert.equal(signOut!.actor, "root");

	// A new password ends the session opened with the old one.
	assert.equal((await browser.signIn("root", PASSWORD)).status, 303);
	await setBreakGlassPassword(deps, "root", "another long password");
	const after = await browser.get("/admin");
	assert.equal(after.status, 401);
	await after.body?.cancel();
});

Deno.test("a break-glass cookie is never combined with the proxy's identity: the header decides alone", async () => {
	await using deps = await onDeps();
	const browser = new Browser(deps, "127.0.0.1");
	assert.equal((await browser.signIn("root", PASSWORD)).status, 303);
	// Through the proxy, as alice: alice, not root (the cookie is not read).
	const asAlice = await browser.get("/admin", { REMOTE_USER: "alice" });
	assert.equal(asAlice.status, 403);
	await asAlice.body?.cancel();
	const home = await (await browser.get("/", { REMOTE_USER: "alice" })).text();
	assert.doesNotMatch(home, /class="role">admin</);
	// An identity header from an untrusted address is refused, even with the admin's cookie.
	const forged = await request(deps.app, "/admin", {
		from: "10.1.2.3",
		headers: { ...browser.header(), REMOTE_USER: "root" },
	});
	assert.equal(forged.status, 401);
	await forged.body?.cancel();
	// Without a header, the cookie is the admin again.
	assert.equal((await browser.get("/admin")).status, 200);
});

Deno.test("the break-glass password is stored as an argon2id hash, never in clear in the database or the logs", async () => {
	await using deps = await onDeps();
	const logs = `${deps.dir}/logs`;
	await configureLogging({ LOG_LOCATION: logs, WEB_LOG_LEVEL: "DEBUG", LAUNCH_LOG_LEVEL: "DEBUG" }, { console: false });
	try {
		await setBreakGlassPassword(deps, "root", PASSWORD);
		const browser = new Browser(deps, "10.1.2.3");
		await browser.signIn("root", `${PASSWORD}!`);
		assert.equal((await browser.signIn("root", PASSWORD)).status, 303);
	} finally {
		await closeLogging();
	}
	const stored = await deps.database.client.execute(
		"SELECT value FROM app_state WHERE key LIKE 'break-glass-password:%'",
	);
	assert.match(String(stored.rows[0]!.value), /"hash":"\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
	deps.database.client.close();
	const bytes = new TextDecoder("latin1").decode(await Deno.readFile(`${deps.dir}/test.db`));
	const wal = await Deno.readFile(`${deps.dir}/test.db-wal`).then((b) => new TextDecoder("latin1").decode(b), () => "");
	assert.ok(!bytes.includes(PASSWORD) && !wal.includes(PASSWORD), "not in the database file or its journal");
	let logText = "";
	for await (const entry of Deno.readDir(logs)) logText += await Deno.readTextFile(`${logs}/${entry.name}`);
	assert.match(logText, /break-glass sign-in refused for/, "the attempts are logged");
	assert.ok(!logText.includes(PASSWORD), "the password is not");
});

/** Runs `./mliy admin:password` against the test's database: exit code and output. */
async function adminPassword(deps: TestDeps, args: string[], input: string, env: Record<string, string> = {}) {
	const child = new Deno.Command(Deno.execPath(), {
		args: ["run", "-P", "scripts/admin_password.ts", ...args],
		cwd: new URL("..", import.meta.url).pathname,
		env: {
			MLIY_DATABASE_URL: `file:${deps.dir}/test.db`,
			MLIY_LOG_LOCATION: `${deps.dir}/logs`,
			MLIY_ADMIN_USERNAMES: "root",
			...env,
		},
		stdin: "piped",
		stdout: "piped",
		stderr: "piped",
	}).spawn();
	const writer = child.stdin.getWriter();
	await writer.write(new TextEncoder().encode(input));
	await writer.close();
	const out = await child.output();
	const decode = (b: Uint8Array) => new TextDecoder().decode(b);
	return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("./mliy admin:password sets the password of an admin in ADMIN_USERNAMES only", async () => {
	await using deps = await createTestDeps({ settings: ON });
	const refused = await adminPassword(deps, ["alice"], `${PASSWORD}\n`);
	assert.equal(refused.code, 1);
	assert.match(refused.stderr, /alice is not listed in ADMIN_USERNAMES/);
	const short = await adminPassword(deps, ["root"], "short\n");
	assert.equal(short.code, 1);
	assert.match(short.stderr, /at least 12 characters/);

	// From standard input (a pipe): the first line.
	const set = await adminPassword(deps, ["root"], `${PASSWORD}\nignored\n`);
	assert.equal(set.code, 0, set.stderr);
	assert.match(set.stdout, /the break-glass password of root is set; break-glass sign-in is off/);
	assert.ok(!set.stdout.includes(PASSWORD) && !set.stderr.includes(PASSWORD));
	assert.equal((await new Browser(deps).signIn("root", PASSWORD)).status, 303);

	// From BREAK_GLASS_PASSWORD (automation): it replaces the first.
	const fromEnv = await adminPassword(deps, ["ROOT"], "", { BREAK_GLASS_PASSWORD: "a password from the environment" });
	assert.equal(fromEnv.code, 0, fromEnv.stderr);
	assert.equal((await new Browser(deps).signIn("root", PASSWORD)).status, 401);
	assert.equal((await new Browser(deps).signIn("root", "a password from the environment")).status, 303);

	const audit = await deps.db.select().from(auditEvents).where(eq(auditEvents.action, "break-glass-password"));
	assert.deepEqual(audit.map((row) => [row.actor, row.resourceId, row.outcome]), [
		["command line", "root", "ok"],
		["command line", "root", "ok"],
	]);
	const usage = await adminPassword(deps, [], "");
	assert.equal(usage.code, 2);
	assert.match(usage.stderr, /usage: \.\/mliy admin:password <username>/);
});

/**
 * Runs `./mliy admin:password` on a terminal (util-linux's `script` gives it one): answers each
 * prompt with the next of `answers` once it shows, and returns everything the terminal showed.
 */
async function adminPasswordOnTerminal(deps: TestDeps, answers: string[]): Promise<{ code: number; screen: string }> {
	const command = `${Deno.execPath()} run -P scripts/admin_password.ts root`;
	const child = new Deno.Command("script", {
		args: ["-qfec", command, "/dev/null"],
		cwd: new URL("..", import.meta.url).pathname,
		env: {
			MLIY_DATABASE_URL: `file:${deps.dir}/test.db`,
			MLIY_LOG_LOCATION: `${deps.dir}/logs`,
			MLIY_ADMIN_USERNAMES: "root",
		},
		stdin: "piped",
		stdout: "piped",
		stderr: "piped",
	}).spawn();
	const writer = child.stdin.getWriter();
	const reader = child.stdout.getReader();
	let screen = "";
	let prompts = 0;
	for (;;) {
		const { value, done } = await reader.read();
		if (done) break;
		screen += new TextDecoder().decode(value);
		const shown = screen.match(/password( again)?: /g)?.length ?? 0;
		while (prompts < shown && prompts < answers.length) {
			await writer.write(new TextEncoder().encode(`${answers[prompts]}\r`));
			prompts += 1;
		}
	}
	await writer.close().catch(() => {});
	const { code } = await child.status;
	await child.stderr.cancel();
	return { code, screen };
}

Deno.test("./mliy admin:password on a terminal asks twice without echoing the password", async () => {
	await using deps = await createTestDeps({ settings: ON });
	const typed = "typed on a terminal 42";
	const set = await adminPasswordOnTerminal(deps, [typed, typed]);
	assert.equal(set.code, 0, set.screen);
	assert.match(set.screen, /Break-glass password: [\s\S]*The same password again: /);
	assert.match(set.screen, /the break-glass password of root is set/);
	assert.ok(!set.screen.includes(typed), "nothing typed was shown");
	assert.equal((await new Browser(deps).signIn("root", typed)).status, 303);

	const differ = await adminPasswordOnTerminal(deps, ["one password here", "another password"]);
	assert.equal(differ.code, 1);
	assert.match(differ.screen, /the two passwords differ; nothing was changed/);
	assert.equal((await new Browser(deps).signIn("root", typed)).status, 303, "the first one still opens");
});
