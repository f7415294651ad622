/** The portal as a real process (`main.ts`), for what only a process shows: signals, console output. */

export interface PortalProcess {
	url: string;
	child: Deno.ChildProcess;
	/** Waits for the exit; everything the process wrote to stdout and stderr. */
	finished(): Promise<{ code: number; output: string }>;
	/** Kills it if it is still running (cleanup). */
	kill(): void;
}

/** Starts `main.ts` on a free loopback port with `env` (MLIY_* settings) and waits for /health. */
export async function startPortal(env: Record<string, string>): Promise<PortalProcess> {
	const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
	const port = (listener.addr as Deno.NetAddr).port;
	listener.close();
	const projectRoot = new URL("../../", import.meta.url).pathname;
	const child = new Deno.Command(Deno.execPath(), {
		args: ["run", "-A", "--unstable-cron", `${projectRoot}main.ts`],
		cwd: projectRoot,
		env: {
			MLIY_PORT: String(port),
			MLIY_RUN_JOBS: "false",
			AWS_ACCESS_KEY_ID: "testing",
			AWS_SECRET_ACCESS_KEY: "testing",
			...env,
		},
		stdout: "piped",
		stderr: "piped",
	}).spawn();
	const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
		.then(([out, err]) => out + err);
	const url = `http://127.0.0.1:${port}`;
	let up = false;
	for (let i = 0; i < 200 && !up; i++) {
		up = await fetch(`${url}/health`).then((r) => (r.body?.cancel(), true), () => false);
		if (!up) await new Promise((r) => setTimeout(r, 50));
	}
	const kill = () => {
		try {
			child.kill("SIGKILL");
		} catch { /* already exited */ }
	};
	if (!up) {
		kill();
		throw new Error(`the portal did not start:\n${await output}`);
	}
	return {
		url,
		child,
		kill,
		finished: async () => ({ code: (await child.status).code, output: await output }),
	};
}
