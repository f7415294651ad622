/**
 * Local servers for the scripts, the tests and the benchmarks: a free loopback port, waiting until
 * a server answers 200, finding a command on PATH, and moto_server (the fake AWS) on a free port.
 */

/** A loopback port nothing listens on right now (the OS picks it; another process could take it before use). */
export function freePort(): number {
	const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
	const port = (listener.addr as Deno.NetAddr).port;
	listener.close();
	return port;
}

/** How {@link waitForOk} waits. */
export interface WaitOptions {
	/** Give up after this long. @default 15000 */
	timeoutMs?: number;
	/** The pause after each attempt that did not get a 200, whether it failed or got another status. @default 50 */
	intervalMs?: number;
	/** The server's process: when it exits, waiting stops at once instead of running out the clock. */
	process?: Deno.ChildProcess;
}

/**
 * Resolves once `url` answers 200. Throws, naming the URL and the last answer, when `timeoutMs`
 * passes or `process` exits first.
 *
 * @example
 * ```ts
 * await waitForOk("http://127.0.0.1:8080/health", { timeoutMs: 20_000 });
 * ```
 */
export async function waitForOk(url: string, options: WaitOptions = {}): Promise<void> {
	const timeoutMs = options.timeoutMs ?? 15_000;
	const deadline = performance.now() + timeoutMs;
	let exited: Deno.CommandStatus | undefined;
	options.process?.status.then((status) => exited = status, () => {});
	let last = "no answer";
	for (;;) {
		try {
			const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, deadline - performance.now())) });
			await res.body?.cancel();
			if (res.status === 200) return;
			last = `status ${res.status}`;
		} catch (error) {
			last = (error as Error).message;
		}
		if (exited) throw new Error(`${url}: the server's process exited with code ${exited.code} before answering 200`);
		if (performance.now() >= deadline) {
			throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
		}
		await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
	}
}

/** The path of `command` when it is on PATH. */
export async function onPath(command: string): Promise<string | undefined> {
	const out = await new Deno.Command("sh", { args: ["-c", `command -v ${command}`], stdout: "piped", stderr: "null" })
		.output();
	return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
}

/** A moto_server started by {@link startMotoServer}. */
export interface MotoServer {
	url: string;
	process: Deno.ChildProcess;
	/** Stops it and waits for the exit. */
	stop(): Promise<void>;
}

/**
 * Starts moto_server on a free loopback port and waits until it answers; throws (after stopping it)
 * when it does not come up within `timeoutMs` (Python's start-up is slow on a busy machine).
 */
export async function startMotoServer(options: { timeoutMs?: number } = {}): Promise<MotoServer> {
	const port = freePort();
	const child = new Deno.Command("moto_server", {
		args: ["-H", "127.0.0.1", "-p", String(port)],
		stdout: "null",
		stderr: "null",
	}).spawn();
	const url = `http://127.0.0.1:${port}`;
	const stop = async () => {
		try {
			child.kill("SIGTERM");
		} catch { /* already exited */ }
		await child.status;
	};
	try {
		await waitForOk(`${url}/moto-api/`, { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 100, process: child });
	} catch (error) {
		await stop();
		throw new Error(`moto_server did not start on ${url}`, { cause: error });
	}
	return { url, process: child, stop };
}
