/**
 * Several portal processes on one port (the WORKERS setting): the process an operator starts (the
 * primary) listens with `reusePort` and starts WORKERS - 1 copies of itself that listen on the same
 * port, so the kernel spreads connections over them (SO_REUSEPORT: Linux). Each copy is a whole
 * portal on the same database: jobs still run once per tick across them (lib/jobs.ts leases), and
 * identity and other caches stay true across processes the way they do for any two processes.
 * Processes rather than threads: each has its own JavaScript thread and heap, and one that crashes
 * takes none of the others with it.
 */
import type { Logger } from "@logtape/logtape";
import { ConfigError } from "./errors.ts";

/**
 * The V8 flags the portal runs with (deno.json's start and compile tasks give them; a worker of a
 * source install gets them here, as Deno does not tell a process its own flags): a young generation
 * of 4 MiB semi-spaces instead of V8's default, which let tens of MiB of garbage sit in RSS between
 * collections (bench/RESULTS.md, "Memory levers"). Given as `--v8-flags`: the same flags through
 * DENO_V8_FLAGS measured tens of MiB more after the benchmark's load. `--expose-gc` lets the portal
 * give the heap back once it goes quiet (lib/idle_collection.ts).
 */
export const V8_FLAGS = "--max-semi-space-size=4,--expose-gc";

/** The argument that makes a process a worker of a primary, with its number (1…WORKERS-1). */
export const WORKER_FLAG = "--worker=";

/** This process's worker number from its arguments: 0 for the primary (no flag). */
export function workerNumber(args: readonly string[]): number {
	const flag = args.find((arg) => arg.startsWith(WORKER_FLAG));
	const n = flag === undefined ? 0 : Number(flag.slice(WORKER_FLAG.length));
	return Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * The command that starts a copy of this process: the same compiled binary (its permissions,
 * unstable and V8 flags are built in), or the same Deno running the same entry point with the
 * permission set of the deno.json beside it and {@link V8_FLAGS}, as `./mliy start` runs it. Deno keeps a
 * process's own command line from it (reading /proc/self needs every permission), so the flags are
 * rebuilt from the configuration rather than copied.
 */
export function workerCommand(): string[] {
	if (Deno.build.standalone) return [Deno.execPath(), ...Deno.args];
	const main = new URL(Deno.mainModule);
	const config = new URL("deno.json", main);
	let found = false;
	try {
		found = main.protocol === "file:" && Deno.statSync(config).isFile;
	} catch { /* no deno.json beside the entry point */ }
	if (!found) {
		throw new ConfigError(
			`Cannot load settings: "WORKERS" above 1 needs the source install (./mliy start) or the compiled binary; ${main.pathname} has no deno.json beside it`,
		);
	}
	return [
		Deno.execPath(),
		"run",
		"-P",
		`--v8-flags=${V8_FLAGS}`,
		`--config=${config.pathname}`,
		main.pathname,
		...Deno.args,
	];
}

/** The running workers of a primary. */
export interface Workers {
	/** The process ids of the workers running now. */
	pids(): number[];
	/** Sends every worker SIGTERM (each finishes its requests and job step) and waits until all exited. */
	stop(): Promise<void>;
}

/** What {@link startWorkers} needs. */
export interface WorkerOptions {
	/** How many workers besides the primary. */
	count: number;
	/** The command that starts a copy ({@link workerCommand}); each worker gets it plus its {@link WORKER_FLAG}. */
	command: string[];
	/** Environment overrides for the workers (e.g. the port the primary was given when PORT is 0). */
	env: Record<string, string>;
	log: Logger;
	/** First wait before restarting a worker that exited on its own; doubled for each quick exit, up to 30 s. */
	restartDelayMs?: number;
}

/** A worker that lived this long before exiting is restarted after the first delay again. */
const STEADY_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Starts the workers. Each one's stdin is a pipe from the primary that is never written: when the
 * primary dies without stopping them (SIGKILL, a crash), the pipe closes and the worker stops too
 * ({@link stopWhenPrimaryEnds}), so no orphan keeps serving. A worker that exits on its own (a
 * crash) is logged and started again, after a delay that grows while it keeps failing.
 */
export function startWorkers(options: WorkerOptions): Workers {
	const [program, ...args] = options.command;
	if (!program) throw new Error("no command line to start workers with");
	const running = new Map<number, Deno.ChildProcess>();
	const timers = new Set<ReturnType<typeof setTimeout>>();
	let stopping = false;

	const spawn = (n: number, delayMs: number) => {
		const started = Date.now();
		const child = new Deno.Command(program, {
			args: [...args, `${WORKER_FLAG}${n}`],
			env: options.env,
			stdin: "piped",
			stdout: "inherit",
			stderr: "inherit",
		}).spawn();
		running.set(n, child);
		options.log.info("started worker {worker} (pid {pid})", { worker: n, pid: child.pid });
		child.status.then((status) => {
			running.delete(n);
			if (stopping) return;
			const lived = Date.now() - started;
			const wait = lived >= STEADY_MS ? (options.restartDelayMs ?? 1000) : delayMs;
			options.log.error("worker {worker} (pid {pid}) exited with {code}; starting it again in {wait} ms", {
				worker: n,
				pid: child.pid,
				code: status.signal ?? status.code,
				wait,
			});
			const timer = setTimeout(() => {
				timers.delete(timer);
				if (!stopping) spawn(n, Math.min(wait * 2, MAX_RESTART_DELAY_MS));
			}, wait);
			timers.add(timer);
		});
	};
	for (let n = 1; n <= options.count; n++) spawn(n, options.restartDelayMs ?? 1000);

	return {
		pids: () => [...running.values()].map((child) => child.pid),
		async stop() {
			stopping = true;
			for (const timer of timers) clearTimeout(timer);
			const children = [...running.values()];
			for (const child of children) {
				try {
					child.kill("SIGTERM");
				} catch { /* it has just exited */ }
			}
			await Promise.all(children.map((child) => child.status));
		},
	};
}

/**
 * In a worker: calls `stop` when the primary is gone (its end of stdin closed). Reading stdin is
 * the one signal that arrives however the primary ended, even by SIGKILL.
 */
export function stopWhenPrimaryEnds(stop: () => void): void {
	(async () => {
		const buffer = new Uint8Array(64);
		try {
			while (await Deno.stdin.read(buffer) !== null) { /* the primary never writes: nothing to read */ }
		} catch { /* closed */ }
		stop();
	})();
}
