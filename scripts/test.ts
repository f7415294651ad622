// deno-lint-ignore-file no-console
/**
 * `deno task test`: starts what the tests need (moto_server on 127.0.0.1 for the AWS integration
 * tests; Debian's Chromium for the browser tests), runs `deno test`, and ends with the line
 * "N passed, N failed". In CI (CI set) a missing moto_server or Chromium is a failure; elsewhere
 * the tests that need them are skipped, loudly.
 */
import { type MotoServer, onPath, startMotoServer } from "./local_servers.ts";

const ci = !!Deno.env.get("CI");
const env: Record<string, string> = {};

/** Every exit ends with the summary line the README promises, including the exits before any test ran. */
function giveUp(message: string): never {
	console.error(message);
	console.log("0 passed, 1 failed");
	Deno.exit(1);
}

let moto: MotoServer | undefined;
const given = Deno.env.get("TEST_MOTO_URL");
if (given) {
	env.TEST_MOTO_URL = given;
} else if (await onPath("moto_server")) {
	try {
		moto = await startMotoServer();
	} catch (error) {
		const { message, cause } = error as Error;
		giveUp(`${message} (${(cause as Error)?.message})`);
	}
	env.TEST_MOTO_URL = moto.url;
	console.log(`moto_server on ${moto.url}`);
} else if (ci) {
	giveUp("moto_server is required for the AWS integration tests but is not on PATH");
} else {
	console.warn("\n*** moto_server is not installed: the AWS integration tests will be SKIPPED ***\n");
}

const chromium = Deno.env.get("TEST_CHROMIUM") ?? await onPath("chromium") ?? await onPath("chromium-browser");
if (chromium) {
	env.TEST_CHROMIUM = chromium;
} else if (ci) {
	await moto?.stop();
	giveUp("Chromium is required for the browser tests (apt-get install chromium)");
} else {
	console.warn("\n*** Chromium is not installed: the browser tests will be SKIPPED (apt-get install chromium) ***\n");
}

const child = new Deno.Command(Deno.execPath(), {
	args: ["test", "-A", ...(Deno.args.length ? Deno.args : ["tests/"])],
	env,
	stdout: "piped",
	stderr: "inherit",
}).spawn();

// Pass the output through while reading deno's own summary ("ok | 12 passed | 0 failed ...").
let summary = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
	await Deno.stdout.write(chunk);
	summary = (summary + decoder.decode(chunk, { stream: true })).slice(-4000);
}
const status = await child.status;
await moto?.stop();
// deno-lint-ignore no-control-regex
const plain = summary.replace(/\x1b\[[0-9;]*m/g, "");
const match = [
	...plain.matchAll(/(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \| (\d+) ignored)?/g),
].at(-1);
if (!match) {
	console.log("0 passed, 1 failed");
	Deno.exit(status.code || 1);
}
if (match[3] && match[3] !== "0") console.log(`${match[3]} ignored`);
console.log(`${match[1]} passed, ${match[2]} failed`);
Deno.exit(status.code);
