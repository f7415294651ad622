/**
 * OpenID Connect sign-in (plugins/auth_oidc): a real provider (oidc-provider) started on loopback,
 * signed in through the real redirect flow (the portal's redirect to the provider, its login and
 * consent pages, the code back to the portal, the portal's own call to the token endpoint); groups
 * from the ID token's claim mapped to portal groups and roles; a tampered or expired ID token, a
 * tampered or expired session cookie and a forged callback refused; sign-out ending the session
 * (a copy of the cookie too) and linking the provider's sign-out; identity headers ignored.
 */
import assert from "node:assert/strict";
import { and, eq } from "drizzle-orm";
import { auditEvents, groupManagers, groups, memberships, users } from "../lib/db/schema.ts";
import { identityOf } from "../plugins/auth_oidc/oidc_auth.ts";
import { setBreakGlassPassword } from "../lib/auth/break_glass.ts";
import { returnPath } from "../lib/auth/sign_in.ts";
import { closeLogging, configureLogging } from "../lib/log.ts";
import { browserSettings, browserTest, launchBrowser, SCREENSHOTS, serve } from "./_helpers/browser.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { startTestProvider, type TestAccount, type TestProvider } from "./_helpers/oidc_provider.ts";
import { addGroup } from "./_helpers/world.ts";

/** The portal's address as the browser and the provider know it (requests to it go to the app in-process). */
const PORTAL = "https://portal.test";

const ACCOUNTS: TestAccount[] = [
	{
		sub: "u-1001",
		claims: {
			preferred_username: "alice",
			given_name: "Alice",
			family_name: "Archer",
			email: "alice@example.org",
			groups: ["data-science", "portal-admins"],
		},
	},
	{
		sub: "u-1002",
		claims: {
			preferred_username: "bob",
			given_name: "Bob",
			family_name: "Baker",
			email: "bob@example.org",
			groups: ["data-science", "ops-leads"],
		},
	},
];

/** A browser: its cookies for the portal and for the provider, following redirects between them. */
class Browser {
	portal = new Map<string, string>();
	provider = new Map<string, string>();
	constructor(readonly deps: TestDeps, readonly op: TestProvider) {}

	private static keep(jar: Map<string, string>, res: Response): void {
		for (const line of res.headers.getSetCookie()) {
			const [pair] = line.split(";");
			const name = pair!.slice(0, pair!.indexOf("="));
			const value = pair!.slice(pair!.indexOf("=") + 1);
			if (/Max-Age=0/i.test(line) || value === "") jar.delete(name);
			else jar.set(name, value);
		}
	}

	private static cookieHeader(jar: Map<string, string>): Record<string, string> {
		return jar.size ? { Cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; ") } : {};
	}

	/** One request, to the portal (in-process) or to the provider (over loopback), without following. */
	async send(
		url: string,
		init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
	) {
		const absolute = new URL(url, PORTAL);
		const toPortal = absolute.origin === PORTAL;
		const jar = toPortal ? this.portal : this.provider;
		const headers: Record<string, string> = { Accept: "text/html", ...Browser.cookieHeader(jar), ...init.headers };
		let body: string | undefined;
		if (init.form) {
			headers["Content-Type"] = "application/x-www-form-urlencoded";
			body = new URLSearchParams(init.form).toString();
		}
		const method = init.method ?? (init.form ? "POST" : "GET");
		const res = toPortal
			? await this.deps.app.request(absolute.pathname + absolute.search, { method, headers, body }, {
				remoteAddr: { hostname: "127.0.0.1", port: 40000, transport: "tcp" },
			})
			: await fetch(absolute, { method, headers, body, redirect: "manual" });
		Browser.keep(jar, res);
		return { res, url: absolute.href };
	}

	/** Follows redirects from `url` (303 and 302 as a GET) until a page answers; that page. */
	async open(url: string, init: Parameters<Browser["send"]>[1] = {}) {
		let { res, url: at } = await this.send(url, init);
		for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
			assert.ok(hops < 20, "too many redirects");
			await res.body?.cancel();
			const next = new URL(res.headers.get("Location")!, at).href;
			({ res, url: at } = await this.send(next));
		}
		return { res, url: at, html: await res.text() };
	}

	/**
	 * Signs in from `path` through the provider's pages as the account with that preferred username
	 * (the development login takes the `sub` and any password), consenting; the page the portal finally shows.
	 */
	async signIn(username: string, path = "/profile") {
		const login = ACCOUNTS.find((account) => account.claims.preferred_username === username)!.sub;
		let page = await this.open(path);
		for (let step = 0; page.url.startsWith(this.op.issuer) && step < 4; step++) {
			const action = /<form[^>]*action="([^"]+)"/.exec(page.html)?.[1];
			assert.ok(
				action,
				`a form on the provider's page ${page.url}: ${
					page.html.slice(page.html.indexOf("<body"), page.html.indexOf("<body") + 600)
				}`,
			);
			const fields: Record<string, string> = {};
			for (const input of page.html.matchAll(/<input[^>]*>/g)) {
				const name = /name="([^"]+)"/.exec(input[0])?.[1];
				if (name) fields[name] = /value="([^"]*)"/.exec(input[0])?.[1] ?? "";
			}
			if ("login" in fields) Object.assign(fields, { login, password: "any password will do" });
			page = await this.open(new URL(action.replaceAll("&amp;", "&"), page.url).href, { form: fields });
		}
		return page;
	}

	/** The page's CSRF token (the layout's meta tag). */
	static csrf(html: string): string {
		const token = /name="csrf-token" content="([^"]+)"/.exec(html)?.[1] ??
			/name="_csrf" value="([^"]+)"/.exec(html)?.[1];
		assert.ok(token, "a CSRF token on the page");
		return token;
	}
}

async function oidcPortal(op: TestProvider, settings: Record<string, unknown> = {}): Promise<TestDeps> {
	const deps = await createTestDeps({
		settings: {
			AUTH_PLUGIN: "plugins/auth_oidc",
			PUBLIC_URL: PORTAL,
			PLUGIN_SETTINGS: {
				OIDC_ISSUER: op.issuer,
				OIDC_CLIENT_ID: op.clientId,
				OIDC_CLIENT_SECRET: op.clientSecret,
				OIDC_SCOPES: "openid profile email groups",
				OIDC_ADMIN_GROUP: "portal-admins",
			},
			...settings,
		},
	});
	await addGroup(deps.db, "Data science", { directoryName: "data-science" });
	await addGroup(deps.db, "Operations", { directoryName: "operations", managerDirectoryName: "ops-leads" });
	return deps;
}

const userRow = async (deps: TestDeps, username: string) =>
	(await deps.db.select().from(users).where(eq(users.username, username)))[0];

async function groupNamesOf(deps: TestDeps, username: string): Promise<string[]> {
	const user = await userRow(deps, username);
	if (!user) return [];
	const rows = await deps.db.select({ name: groups.name, source: memberships.source }).from(memberships)
		.innerJoin(groups, eq(groups.id, memberships.groupId)).where(eq(memberships.userId, user.id));
	return rows.map((row) => `${row.name} (${row.source})`).sort();
}

Deno.test("signing in with the OIDC provider: the redirect flow, the groups claim mapped to a portal group, the admin role", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op);
	const browser = new Browser(deps, op);

	// A page asked for without a session goes to the provider, and back to that page afterwards.
	const first = await browser.send("/billing");
	assert.equal(first.res.status, 303);
	assert.equal(first.res.headers.get("Location"), "/sign-in?return=%2Fbilling");
	const start = await browser.send("/sign-in?return=%2Fbilling");
	const authorize = new URL(start.res.headers.get("Location")!);
	assert.equal(authorize.origin, op.issuer);
	assert.equal(authorize.searchParams.get("code_challenge_method"), "S256");
	assert.ok(authorize.searchParams.get("code_challenge") && authorize.searchParams.get("state"));
	assert.ok(authorize.searchParams.get("nonce"));
	assert.equal(authorize.searchParams.get("redirect_uri"), `${PORTAL}/sign-in/callback`);
	const pending = start.res.headers.getSetCookie().find((line) => line.startsWith("mliy_sign_in="))!;
	assert.match(pending, /HttpOnly/i);
	assert.match(pending, /SameSite=Lax/i);
	assert.match(pending, /Secure/i);

	const page = await browser.signIn("alice", "/billing");
	assert.equal(page.res.status, 200, page.html.slice(0, 500));
	assert.equal(new URL(page.url).pathname, "/billing");
	assert.match(page.html, /Alice Archer/);
	assert.match(page.html, /<span class="role">admin<\/span>/);
	assert.match(page.html, /action="\/sign-out"/, "the layout offers the sign-out");

	const alice = await userRow(deps, "alice");
	assert.equal(alice?.email, "alice@example.org");
	assert.equal(alice?.directoryRole, "admin");
	assert.deepEqual(await groupNamesOf(deps, "alice"), ["Data science (directory)"]);

	// The session cookie: signed, HttpOnly, SameSite=Lax (the way back from the provider is another site's navigation), Secure on https.
	assert.ok(browser.portal.get("mliy_session"));
	assert.ok(!browser.portal.has("mliy_sign_in"), "the pending sign-in's cookie is cleared");

	// bob: the same group, no admin group, so the user role...
	const other = new Browser(deps, op);
	const bobPage = await other.signIn("bob");
	assert.equal(bobPage.res.status, 200);
	assert.doesNotMatch(bobPage.html, /<span class="role">/);
	assert.deepEqual(await groupNamesOf(deps, "bob"), ["Data science (directory)"]);
	assert.equal((await userRow(deps, "bob"))?.directoryRole, "user");
	// ...and, through Operations' manager directory group, a manager of that group (not a member).
	const managed = await deps.db.select({ name: groups.name, source: groupManagers.source }).from(groupManagers)
		.innerJoin(groups, eq(groups.id, groupManagers.groupId)).where(
			eq(groupManagers.userId, (await userRow(deps, "bob"))!.id),
		);
	assert.deepEqual(managed, [{ name: "Operations", source: "directory" }]);
	assert.equal((await other.open("/admin")).res.status, 403);

	const signIns = await deps.db.select().from(auditEvents).where(eq(auditEvents.action, "sign-in"));
	assert.deepEqual(signIns.map((event) => event.actor).sort(), ["alice", "bob"]);
});

Deno.test("the session cookie is HttpOnly, SameSite=Lax, Secure on https, and lasts SIGN_IN_SESSION_MINUTES", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op, { SIGN_IN_SESSION_MINUTES: 20 });
	const browser = new Browser(deps, op);
	let sessionLine: string | undefined;
	const send = browser.send.bind(browser);
	browser.send = async (url, init) => {
		const answer = await send(url, init);
		sessionLine ??= answer.res.headers.getSetCookie().find((line) => line.startsWith("mliy_session="));
		return answer;
	};
	await browser.signIn("bob");
	assert.ok(sessionLine);
	assert.match(sessionLine, /HttpOnly/i);
	assert.match(sessionLine, /SameSite=Lax/i);
	assert.match(sessionLine, /Secure/i);
	assert.match(sessionLine, /Path=\//);
	assert.match(sessionLine, /Max-Age=1200/);
});

Deno.test("a tampered ID token and an expired one (signed by the provider's key) are refused; nobody is signed in", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op);
	const logs = `${deps.dir}/logs`;
	await configureLogging({ LOG_LOCATION: logs, WEB_LOG_LEVEL: "DEBUG", LAUNCH_LOG_LEVEL: "DEBUG" }, { console: false });
	try {
		// bob's token with the admin group added to its claims, the provider's signature left as it was.
		op.tamper((token) => {
			const [header, , signature] = token.split(".");
			const claims = { ...op.decode(token), groups: ["data-science", "portal-admins"] };
			const payload = btoa(JSON.stringify(claims)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
			return `${header}.${payload}.${signature}`;
		});
		const tampered = await new Browser(deps, op).signIn("bob");
		assert.equal(tampered.res.status, 401);
		assert.match(tampered.html, /could not be verified, so you are not signed in/);
		assert.equal(await userRow(deps, "bob"), undefined, "nobody was admitted");

		// bob's token as the provider made it, re-signed with the provider's own key an hour in the past.
		op.tamper(async (token) => {
			const past = Math.floor(Date.now() / 1000) - 3600;
			return await op.sign({ ...op.decode(token), iat: past - 600, exp: past });
		});
		const expired = new Browser(deps, op);
		const answer = await expired.signIn("bob");
		assert.equal(answer.res.status, 401);
		assert.ok(!expired.portal.has("mliy_session"));
		assert.equal(await userRow(deps, "bob"), undefined);

		// The same re-signing in time is accepted: what was refused above was the expiry alone.
		op.tamper(async (token) => await op.sign(op.decode(token)));
		const resigned = await new Browser(deps, op).signIn("bob");
		assert.equal(resigned.res.status, 200, resigned.html.slice(0, 300));
	} finally {
		await closeLogging();
	}
	const log = await Deno.readTextFile(`${logs}/auth.log`);
	const refusals = log.split("\n").filter((line) => line.includes("refused a sign-in from"));
	assert.equal(refusals.length, 2, log);
	assert.match(refusals[0]!, /signature/i);
	assert.match(refusals[1]!, /timestamp/i);
	assert.doesNotMatch(log, /eyJ/, "no token is written to the log");
});

Deno.test("a forged callback (no pending sign-in, another browser's, a changed state) is refused", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op);
	const stranger = new Browser(deps, op);
	const forged = await stranger.open("/sign-in/callback?code=made-up&state=made-up");
	assert.equal(forged.res.status, 400);
	assert.match(forged.html, /not started from this browser/);

	// A real sign-in's callback URL, replayed by another browser (which has not its pending cookie).
	const victim = new Browser(deps, op);
	let callback: string | undefined;
	const send = victim.send.bind(victim);
	victim.send = async (url, init) => {
		if (url.startsWith(`${PORTAL}/sign-in/callback`)) callback = url;
		return callback ? { res: new Response(null, { status: 200 }), url } : await send(url, init);
	};
	await victim.signIn("alice");
	assert.ok(callback);
	const replayed = await stranger.open(callback);
	assert.equal(replayed.res.status, 400);

	// The victim's pending cookie with the callback's state changed.
	const own = new Browser(deps, op);
	own.portal = new Map(victim.portal);
	const changed = new URL(callback);
	changed.searchParams.set("state", "another-state");
	const wrongState = await own.open(changed.href);
	assert.equal(wrongState.res.status, 401);
	// A pending cookie changed by a character is not this portal's.
	own.portal.set("mliy_sign_in", victim.portal.get("mliy_sign_in")!.replace(/.$/, (c) => c === "A" ? "B" : "A"));
	assert.equal((await own.open(callback)).res.status, 400);
	assert.equal(await userRow(deps, "alice"), undefined);
});

Deno.test("the page to return to after signing in is one of the portal's, never another site", async () => {
	for (const path of ["/billing", "/instances/i-0abc?tab=volumes"]) assert.equal(returnPath(path), path);
	for (const path of ["//evil.example/", "/\\evil.example", "https://evil.example/", "evil", "", "/a b", undefined]) {
		assert.equal(returnPath(path), "/", String(path));
	}
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op);
	const page = await new Browser(deps, op).signIn("bob", "/sign-in?return=%2F%2Fevil.example%2F");
	assert.equal(new URL(page.url).origin, PORTAL);
	assert.equal(new URL(page.url).pathname, "/");
});

Deno.test("starting sign-ins and callbacks are rate-limited per address (RATE_LIMIT_PER_SOURCE): 429", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op, { RATE_LIMIT_PER_SOURCE: 3 });
	const browser = new Browser(deps, op);
	const statuses = [];
	for (let i = 0; i < 4; i++) {
		const { res } = await browser.send(i % 2 ? "/sign-in/callback?code=x&state=y" : "/sign-in");
		await res.body?.cancel();
		statuses.push(res.status);
	}
	// The callback has the pending cookie of the sign-in started before it, but not its state: 401.
	assert.deepEqual(statuses, [303, 401, 303, 429]);
});

Deno.test("a tampered or expired session cookie is refused", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op, { SIGN_IN_SESSION_MINUTES: 30 });
	const browser = new Browser(deps, op);
	await browser.signIn("alice");
	const cookie = browser.portal.get("mliy_session")!;
	assert.equal((await browser.send("/profile")).res.status, 200);

	const [id, mac] = decodeURIComponent(cookie).split(":");
	for (
		const forged of [
			`${id!.replace(/^./, (c) => c === "A" ? "B" : "A")}:${mac}`,
			`${id}:${mac!.replace(/.$/, (c) => c === "A" ? "B" : "A")}`,
			id!,
			`${id}:${mac}:extra`,
		]
	) {
		const tampered = new Browser(deps, op);
		tampered.portal.set("mliy_session", encodeURIComponent(forged));
		const page = await tampered.send("/profile");
		assert.equal(page.res.status, 303, forged);
		assert.equal(page.res.headers.get("Location"), "/sign-in?return=%2Fprofile");
		const fragment = await tampered.send("/profile", { headers: { "HX-Request": "true" } });
		assert.equal(fragment.res.status, 401);
	}

	deps.clock.advance(29 * 60_000);
	assert.equal((await browser.send("/profile")).res.status, 200);
	deps.clock.advance(61_000);
	const late = await browser.send("/profile", { headers: { Accept: "application/json" } });
	assert.equal(late.res.status, 401);
	assert.match(await late.res.text(), /your session has ended/);
});

Deno.test("sign-out: POST with the CSRF token ends the session (a copy of the cookie too) and links the provider's sign-out", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op);
	const browser = new Browser(deps, op);
	const page = await browser.signIn("alice");
	const copy = browser.portal.get("mliy_session")!;

	const withoutToken = await browser.send("/sign-out", { form: {} });
	assert.equal(withoutToken.res.status, 403);
	const crossSite = await browser.send("/sign-out", {
		form: { _csrf: Browser.csrf(page.html) },
		headers: { Origin: "https://attacker.example", "Sec-Fetch-Site": "cross-site" },
	});
	assert.equal(crossSite.res.status, 403);
	assert.equal((await browser.send("/profile")).res.status, 200, "refused sign-outs end nothing");

	const out = await browser.send("/sign-out", { form: { _csrf: Browser.csrf(page.html) } });
	assert.equal(out.res.status, 303);
	assert.equal(out.res.headers.get("Location"), "/signed-out");
	assert.ok(!browser.portal.has("mliy_session"), "the cookie is cleared");
	const signedOut = await browser.open("/signed-out");
	assert.equal(signedOut.res.status, 200);
	assert.match(signedOut.html, /You are signed out of the portal/);
	const endSession = /href="([^"]+)">Sign out of the identity provider/.exec(signedOut.html)?.[1]?.replaceAll(
		"&amp;",
		"&",
	);
	assert.ok(endSession);
	const endUrl = new URL(endSession);
	assert.equal(`${endUrl.origin}${endUrl.pathname}`, `${op.issuer}/session/end`);
	assert.equal(endUrl.searchParams.get("post_logout_redirect_uri"), `${PORTAL}/signed-out`);
	assert.equal(endUrl.searchParams.get("client_id"), op.clientId);
	// The provider's sign-out page answers that link.
	const providerPage = await browser.open(endSession);
	assert.equal(providerPage.res.status, 200);

	// A copy of the cookie taken before the sign-out opens nothing now.
	const thief = new Browser(deps, op);
	thief.portal.set("mliy_session", copy);
	assert.equal((await thief.send("/profile", { headers: { Accept: "application/json" } })).res.status, 401);
	const signOuts = await deps.db.select().from(auditEvents).where(
		and(eq(auditEvents.action, "sign-out"), eq(auditEvents.actor, "alice")),
	);
	assert.equal(signOuts.length, 1);
});

Deno.test("signing out everywhere (the profile's button) ends every session of the user, in every browser", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op);
	const laptop = new Browser(deps, op);
	const phone = new Browser(deps, op);
	const page = await laptop.signIn("bob");
	await phone.signIn("bob");
	const other = new Browser(deps, op);
	await other.signIn("alice");
	const everywhere = await laptop.send("/profile/sign-out-everywhere", { form: { _csrf: Browser.csrf(page.html) } });
	assert.equal(everywhere.res.status, 303);
	for (const browser of [laptop, phone]) {
		assert.equal((await browser.send("/profile", { headers: { Accept: "application/json" } })).res.status, 401);
	}
	assert.equal((await other.send("/profile")).res.status, 200, "alice's session is hers, untouched");
});

Deno.test("identity headers are ignored when OIDC is the auth plugin", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op, { ADMIN_USERNAMES: "root" });
	const asProxy = { REMOTE_USER: "root", "X-Dev-User": "root" };
	// From a trusted proxy's address, with the header every other plugin reads: nobody.
	const anonymous = new Browser(deps, op);
	const refused = await anonymous.send("/admin", { headers: { ...asProxy, Accept: "application/json" } });
	assert.equal(refused.res.status, 401);
	assert.equal(await userRow(deps, "root"), undefined, "no user was made from the header");
	// With a session, the header changes nobody: bob stays bob.
	const browser = new Browser(deps, op);
	await browser.signIn("bob");
	const page = await browser.send("/profile", { headers: asProxy });
	assert.equal(page.res.status, 200);
	const html = await page.res.text();
	assert.match(html, /Bob Baker/);
	assert.equal((await browser.send("/admin", { headers: asProxy })).res.status, 403);
});

browserTest(
	"in Chromium: sign in at a provider of another site, land on the page asked for, sign out from the header",
	async () => {
		const portal = browserSettings();
		// The provider on `localhost`, the portal on 127.0.0.1: two sites, as a real provider and portal are.
		await using op = await startTestProvider(portal.PUBLIC_URL, ACCOUNTS, { host: "localhost" });
		await using deps = await oidcPortal(op, portal);
		const server = serve(deps);
		const browser = await launchBrowser();
		try {
			await Deno.mkdir(SCREENSHOTS, { recursive: true });
			for (const width of [1280, 390]) {
				const context = await browser.newContext({ viewport: { width, height: 800 } });
				const page = await context.newPage();
				await page.goto(`${server.url}/profile`);
				assert.equal(new URL(page.url()).host, new URL(op.issuer).host, "sent to the provider");
				await page.fill('input[name="login"]', "u-1001");
				await page.fill('input[name="password"]', "any password will do");
				await page.click('button[type="submit"]');
				await page.click('button[type="submit"]'); // the consent page's "Continue"
				await page.waitForURL(`${server.url}/profile`);
				assert.match(await page.textContent("header.top") ?? "", /Alice Archer/);
				const cookie = (await context.cookies(server.url)).find((c) => c.name === "mliy_session");
				assert.equal(cookie?.httpOnly, true);
				assert.equal(cookie?.sameSite, "Lax");
				await page.screenshot({ path: `${SCREENSHOTS}oidc-signed-in-${width}.png` });

				await page.click('form.sign-out button[type="submit"]');
				await page.waitForURL(`${server.url}/signed-out`);
				assert.match(await page.textContent("main") ?? "", /You are signed out of the portal/);
				assert.equal((await context.cookies(server.url)).find((c) => c.name === "mliy_session"), undefined);
				await page.screenshot({ path: `${SCREENSHOTS}oidc-signed-out-${width}.png`, fullPage: true });
				// The provider's sign-out, linked from the page, comes back to it.
				await page.click("text=Sign out of the identity provider");
				await page.click('button[type="submit"]'); // the provider's "Yes, sign me out"
				await page.waitForURL(new RegExp(`^${server.url}/signed-out`));
				await context.close();
			}
		} finally {
			await browser.close();
			await server.close();
		}
	},
);

Deno.test("break-glass still works beside OIDC, and no identity header sets its cookie aside", async () => {
	await using op = await startTestProvider(PORTAL, ACCOUNTS);
	await using deps = await oidcPortal(op, { BREAK_GLASS: true, ADMIN_USERNAMES: "root" });
	const password = "correct horse battery staple";
	await setBreakGlassPassword(deps, "root", password);
	const browser = new Browser(deps, op);
	const form = await browser.open("/break-glass");
	const signedIn = await browser.send("/break-glass", {
		form: { username: "root", password, _csrf: Browser.csrf(form.html) },
	});
	assert.equal(signedIn.res.status, 303);
	// With a header plugin a request carrying the identity header is the proxy's; here no header is anyone's.
	const admin = await browser.send("/admin", { headers: { REMOTE_USER: "bob" } });
	assert.equal(admin.res.status, 200);
	assert.match(await admin.res.text(), /Break-glass session/);
});

Deno.test("the plugin reads the claims its settings name: a groups claim as text, the manager group, a missing username", () => {
	const ctx = (settings: Record<string, string>) => ({ settings }) as unknown as Parameters<typeof identityOf>[1];
	const custom = ctx({
		OIDC_USERNAME_CLAIM: "upn",
		OIDC_EMAIL_CLAIM: "mail",
		OIDC_GROUPS_CLAIM: "roles",
		OIDC_MANAGER_GROUP: "Team Leads",
	});
	assert.deepEqual(identityOf({ upn: "Carol", mail: "c@example.org", roles: "data-science, team leads" }, custom), {
		username: "Carol",
		info: { firstName: undefined, lastName: undefined, email: "c@example.org", role: "manager" },
		groups: ["data-science", "team leads"],
	});
	// No groups claim in the token: every directory membership it gave is removed (an empty list).
	assert.deepEqual(identityOf({ preferred_username: "dan" }, ctx({})).groups, []);
	// No groups claim configured: memberships are left alone.
	assert.equal(identityOf({ preferred_username: "dan" }, ctx({ OIDC_GROUPS_CLAIM: "" })).groups, undefined);
	assert.throws(() => identityOf({ sub: "u-9" }, ctx({})), /no preferred_username claim/);
});

Deno.test("the OIDC plugin refuses to start without an issuer and a client id, or with a plain-http issuer off loopback", async () => {
	for (
		const [plugin, message] of [
			[{}, /OIDC_ISSUER and OIDC_CLIENT_ID must be set/],
			[{ OIDC_ISSUER: "http://idp.example.org", OIDC_CLIENT_ID: "mliy" }, /must be an https:\/\/ URL/],
		] as const
	) {
		await assert.rejects(
			createTestDeps({ settings: { AUTH_PLUGIN: "plugins/auth_oidc", PLUGIN_SETTINGS: plugin } }),
			message,
		);
	}
});

Deno.test("with header identity, the sign-in pages are not there and the sign-out only clears the cookie", async () => {
	await using deps = await createTestDeps();
	for (const path of ["/sign-in", "/sign-in/callback?code=x&state=y", "/signed-out"]) {
		const res = await deps.app.request(path);
		assert.equal(res.status, 404, path);
		await res.body?.cancel();
	}
	const out = await request(deps.app, "/sign-out", { user: "bob", form: {} });
	assert.equal(out.status, 303);
	assert.equal(out.headers.get("Location"), "/");
	assert.match(out.headers.getSetCookie().join("\n"), /mliy_session=; Max-Age=0/);
});
