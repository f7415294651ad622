/** scripts/local_servers.ts: waiting for a local server, as the test runner, the demo and the benchmarks do. */
import assert from "node:assert/strict";
import { freePort, waitForOk } from "../scripts/local_servers.ts";
import { rejection } from "./_helpers/assert.ts";

Deno.test("waitForOk() waits out refused connections and non-200 answers, pausing between attempts", async () => {
	const port = freePort();
	const answers: number[] = [];
	let server: Deno.HttpServer | undefined;
	// Nothing listens at first; then a server answers 503 twice, then 200.
	const starting = setTimeout(() => {
		server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, () => {
			const status = answers.length < 2 ? 503 : 200;
			answers.push(status);
			return new Response(null, { status });
		});
	}, 150);
	try {
		const started = performance.now();
		await waitForOk(`http://127.0.0.1:${port}/`, { timeoutMs: 5000, intervalMs: 100 });
		assert.deepEqual(answers, [503, 503, 200]);
		assert.ok(performance.now() - started >= 150 + 2 * 100, "it paused after each 503 too");
	} finally {
		clearTimeout(starting);
		await server?.shutdown();
	}
});

Deno.test("waitForOk() gives up after the timeout, naming the last answer", async () => {
	const server = Deno.serve(
		{ hostname: "127.0.0.1", port: 0, onListen() {} },
		() => new Response(null, { status: 503 }),
	);
	try {
		const url = `http://127.0.0.1:${server.addr.port}/health`;
		const error = await rejection(waitForOk(url, { timeoutMs: 300, intervalMs: 20 }));
		assert.equal(error.message, `${url} did not answer 200 within 300 ms (last: status 503)`);
	} finally {
		await server.shutdown();
	}
});

Deno.test("waitForOk() stops as soon as the server's process exits", async () => {
	const child = new Deno.Command("sh", { args: ["-c", "exit 3"] }).spawn();
	const started = performance.now();
	const error = await rejection(waitForOk(`http://127.0.0.1:${freePort()}/`, { timeoutMs: 10_000, process: child }));
	assert.match(error.message, /exited with code 3 before answering 200/);
	assert.ok(performance.now() - started < 5000, "long before the timeout");
});
