/** The portal as a real process (`main.ts` or a bundle of it), for what only a process shows: signals, console output. */
import { freePort, waitForOk } from "../../scripts/local_servers.ts";

export interface PortalProcess {
	url: string;
	child: Deno.ChildProcess;
	/** Waits for the exit; everything the process wrote to stdout and stderr. */
	finished(): Promise<{ code: number; output: string }>;
	/** Kills it if it is still running (cleanup). */
	kill(): void;
}

const projectRoot = new URL("../../", import.meta.url).pathname;

/** Where and how to start the portal. */
export interface PortalOptions {
	/** @default the project root */
	cwd?: string;
	/** Arguments to `deno`. @default ["run", "-A", "--unstable-cron", "<project root>/main.ts"] */
	args?: string[];
	/** The umask the process starts with (through `sh -c 'umask …'`), e.g. "000". @default inherited */
	umask?: string;
}

/**
 * Starts the portal on a free loopback port with `env` (MLIY_* settings; jobs off and test AWS
 * credentials unless `env` says otherwise) and waits until /health answers 200.
 */
export async function startPortal(env: Record<string, string>, options: PortalOptions = {}): Promise<PortalProcess> {
	const port = freePort();
	const args = options.args ?? ["run", "-A", "--unstable-cron", `${projectRoot}main.ts`];
	const [command, commandArgs] = options.umask
		? ["sh", ["-c", `umask ${options.umask} && exec "$0" "$@"`, Deno.execPath(), ...args]]
		: [Deno.execPath(), args];
	const child = new Deno.Command(command, {
		args: commandArgs,
		cwd: options.cwd ?? projectRoot,
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
	const kill = () => {
		try {
			child.kill("SIGKILL");
		} catch { /* already exited */ }
	};
	try {
		await waitForOk(`${url}/health`, { timeoutMs: 20_000, process: child });
	} catch (error) {
		kill();
		throw new Error(`the portal did not start: ${(error as Error).message}\n${await output}`);
	}
	return {
		url,
		child,
		kill,
		finished: async () => ({ code: (await child.status).code, output: await output }),
	};
}
