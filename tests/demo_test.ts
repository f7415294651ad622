/**
 * `./mliy demo` as a real process tree (the demo, its moto_server, its portal), in a scratch
 * working directory so the user's data/demo.db is left alone: when the portal process dies, the
 * fake AWS and what was made in it stay, the demo says how to start the portal again, and Enter
 * does; Ctrl-C (SIGTERM here) stops everything.
 */
import assert from "node:assert/strict";
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { freePort, waitForOk } from "../scripts/local_servers.ts";
import { TEST_CREDENTIALS } from "./_fakes/endpoint.ts";
import { moto } from "./_helpers/moto.ts";

const demoScript = new URL("../scripts/demo.ts", import.meta.url).pathname;
const config = new URL("../deno.json", import.meta.url).pathname;

/** The process ids of `pid`'s children (every thread's), from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
	const found: number[] = [];
	for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
		const text = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/children`).catch(() => "");
		found.push(...text.split(/\s+/).filter(Boolean).map(Number));
	}
	return found;
}

async function commandLine(pid: number): Promise<string> {
	return (await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => "")).replaceAll("\0", " ");
}

/** Collects a stream's text and resolves when it contains `pattern`. */
function watch(stream: ReadableStream<Uint8Array>) {
	let text = "";
	const waiters: { pattern: RegExp; resolve: () => void }[] = [];
	(async () => {
		const decoder = new TextDecoder();
		for await (const chunk of stream) {
			text += decoder.decode(chunk, { stream: true });
			for (const w of waiters.filter((w) => w.pattern.test(text))) w.resolve();
		}
	})();
	return {
		get text() {
			return text;
		},
		until(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
			if (pattern.test(text)) return Promise.resolve();
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${text}`)), timeoutMs);
				waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
			});
		},
	};
}

Deno.test({
	name:
		"when the demo's portal dies, the fake AWS keeps what it made, the demo says how to restart, and Enter restarts it",
	ignore: !moto,
	sanitizeOps: false,
	sanitizeResources: false,
	fn: async () => {
		const cwd = await Deno.makeTempDir({ prefix: "mliy-demo-" });
		const port = freePort();
		const demo = new Deno.Command(Deno.execPath(), {
			args: ["run", "-A", "--config", config, demoScript],
			cwd,
			env: { MLIY_PORT: String(port) },
			stdin: "piped",
			stdout: "piped",
			stderr: "piped",
		}).spawn();
		const out = watch(demo.stdout);
		const err = watch(demo.stderr);
		const stdin = demo.stdin.getWriter();
		const health = `http://127.0.0.1:${port}/health`;
		try {
			await out.until(/moto_server \(fake AWS\) on (http:\/\/\S+)/);
			const motoUrl = /moto_server \(fake AWS\) on (http:\/\/\S+)/.exec(out.text)![1]!;
			await waitForOk(health, { timeoutMs: 60_000, intervalMs: 200 });
			const ec2 = new EC2Client({ region: "us-east-1", endpoint: motoUrl, credentials: TEST_CREDENTIALS });
			const made = await ec2.send(
				new RunInstancesCommand({
					ImageId: "ami-0abcdef1234567890",
					InstanceType: "t2.micro",
					MinCount: 1,
					MaxCount: 1,
				}),
			);
			const instanceId = made.Instances![0]!.InstanceId!;

			const portals = [];
			for (const pid of await childrenOf(demo.pid)) if ((await commandLine(pid)).includes("main.ts")) portals.push(pid);
			assert.equal(portals.length, 1, "one portal process");
			Deno.kill(portals[0]!, "SIGKILL");

			await err.until(/the portal stopped \(killed by SIGKILL\)/);
			assert.match(err.text, new RegExp(`The fake AWS keeps running on ${motoUrl}`));
			assert.match(err.text, /Press Enter to start the portal again, or Ctrl-C to stop the demo\./);
			const listed = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
			assert.equal(listed.Reservations![0]!.Instances![0]!.InstanceId, instanceId, "moto still has the instance");

			await stdin.write(new TextEncoder().encode("\n"));
			await out.until(/starting the portal again/);
			await waitForOk(health, { timeoutMs: 60_000, intervalMs: 200 });

			demo.kill("SIGTERM");
			const status = await demo.status;
			assert.equal(status.code, 0, out.text + err.text);
			const motoGone = await fetch(`${motoUrl}/moto-api/`).then((r) => (r.body?.cancel(), false), () => true);
			assert.ok(motoGone, "Ctrl-C stops the fake AWS too");
		} finally {
			try {
				demo.kill("SIGKILL");
			} catch { /* exited */ }
			await stdin.close().catch(() => {});
			await demo.status;
			await Deno.remove(cwd, { recursive: true }).catch(() => {});
		}
	},
});
