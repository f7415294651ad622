// deno-lint-ignore-file no-console
/**
 * `deno task test`: starts what the tests need (moto_server on 127.0.0.1 for the AWS integration
 * tests; Debian's Chromium for the browser tests), runs `deno test`, and ends with the line
 * "N passed, N failed". In CI (CI set) a missing moto_server or Chromium is a failure; elsewhere
 * the tests that need them are skipped, loudly.
 */
const ci = !!Deno.env.get("CI");
const env: Record<string, string> = {
	AWS_ACCESS_KEY_ID: "testing",
	AWS_SECRET_ACCESS_KEY: "testing",
	AWS_REGION: "us-east-1",
};

async function onPath(command: string): Promise<string | undefined> {
	const out = await new Deno.Command("sh", { args: ["-c", `command -v ${command}`], stdout: "piped", stderr: "null" })
		.output();
	return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
}

function freePort(): number {
	const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
	const port = (listener.addr as Deno.NetAddr).port;
	listener.close();
	return port;
}

let moto: Deno.ChildProcess | undefined;
const given = Deno.env.get("TEST_MOTO_URL");
if (given) {
	env.TEST_MOTO_URL = given;
} else if (await onPath("moto_server")) {
	const port = freePort();
	moto = new Deno.Command("moto_server", {
		args: ["-H", "127.0.0.1", "-p", String(port)],
		stdout: "null",
		stderr: "null",
	})
		.spawn();
	const url = `http://127.0.0.1:${port}`;
	let up = false;
	for (let i = 0; i < 150 && !up; i++) {
		try {
			up = (await fetch(`${url}/moto-api/`)).ok;
		} catch {
			await new Promise((r) => setTimeout(r, 100));
		}
	}
	if (!up) {
		console.error(`moto_server did not answer on ${url}`);
		Deno.exit(1);
	}
	env.TEST_MOTO_URL = url;
	console.log(`moto_server on ${url}`);
} else if (ci) {
	console.error("moto_server is required for the AWS integration tests but is not on PATH");
	Deno.exit(1);
} else {
	console.warn("\n*** moto_server is not installed: the AWS integration tests will be SKIPPED ***\n");
}

const chromium = Deno.env.get("TEST_CHROMIUM") ?? await onPath("chromium") ?? await onPath("chromium-browser");
if (chromium) {
	env.TEST_CHROMIUM = chromium;
} else if (ci) {
	console.error("Chromium is required for the browser tests (apt-get install chromium)");
	moto?.kill("SIGTERM");
	Deno.exit(1);
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
moto?.kill("SIGTERM");
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
