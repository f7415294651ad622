/**
 * Browser tests: the app served on 127.0.0.1 and Debian's Chromium driven by playwright-core.
 * scripts/test.ts passes Chromium's path in TEST_CHROMIUM; without it the browser tests are skipped.
 */
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { TestDeps } from "./deps.ts";
import { moto } from "./moto.ts";
import { freePort } from "../../scripts/local_servers.ts";

const chromiumPath: string | undefined = Deno.env.get("TEST_CHROMIUM") ??
	(await Deno.stat("/usr/bin/chromium").then(() => "/usr/bin/chromium", () => undefined));

if (!chromiumPath) {
	if (Deno.env.get("CI")) throw new Error("Chromium is required in CI for the browser tests");
	// deno-lint-ignore no-console
	console.warn("\n*** Chromium is not installed: SKIPPING the browser tests (apt-get install chromium) ***\n");
}

/** Where screenshots go (ignored by git). */
export const SCREENSHOTS = new URL("../.output/screenshots/", import.meta.url).pathname;

/**
 * Settings for a portal a browser opens: its PUBLIC_URL on a free loopback port, the only origin
 * the portal accepts form posts from. {@link serve} listens there.
 */
export function browserSettings(): { PUBLIC_URL: string } {
	return { PUBLIC_URL: `http://127.0.0.1:${freePort()}` };
}

/** Serves the test app on the port of its PUBLIC_URL ({@link browserSettings}), else on a free loopback port. */
export function serve(deps: TestDeps): { url: string; close(): Promise<void> } {
	const own = deps.settings.PUBLIC_URL ? new URL(deps.settings.PUBLIC_URL) : undefined;
	const port = own?.hostname === "127.0.0.1" && own.port ? Number(own.port) : 0;
	const server = Deno.serve(
		{ hostname: "127.0.0.1", port, onListen() {} },
		(request, info) => deps.app.fetch(request, info),
	);
	return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

export async function launchBrowser(): Promise<Browser> {
	return await chromium.launch({
		executablePath: chromiumPath,
		headless: true,
		args: [
			"--headless",
			"--no-sandbox",
			"--disable-gpu",
			"--disable-dev-shm-usage",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
			"--no-first-run",
			"--disable-quic",
		],
	});
}

/** A browser context signed in as `user` (the header the header auth plugin reads, as a proxy would set it). */
export async function signedIn(
	browser: Browser,
	user: string,
	options: { width?: number; height?: number } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
	const context = await browser.newContext({
		extraHTTPHeaders: { REMOTE_USER: user },
		viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
	});
	const page = await context.newPage();
	const errors: string[] = [];
	page.on("console", (message) => {
		if (message.type() === "error") errors.push(message.text());
	});
	page.on("pageerror", (error) => errors.push(error.message));
	return { context, page, errors };
}

/**
 * Declares a browser test; skipped (reported as ignored, after the loud warnings above) when Chromium
 * is unavailable, or moto when the test needs it.
 */
export function browserTest(name: string, fn: () => Promise<void>, options: { needsMoto?: boolean } = {}): void {
	Deno.test({
		name,
		ignore: !chromiumPath || (options.needsMoto === true && !moto),
		sanitizeOps: false,
		sanitizeResources: false,
		fn,
	});
}
