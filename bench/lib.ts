/** Helpers for the benchmarks: wrk runs, processes, memory. Everything runs on loopback only. */

import { onPath } from "../scripts/local_servers.ts";

export const WORK = new URL("./.work/", import.meta.url).pathname;

/** Installs wrk from Debian's packages when it is missing. */
export async function ensureWrk(): Promise<void> {
	if (await onPath("wrk")) return;
	const root = Deno.uid() === 0 ? [] : ["sudo"];
	for (const args of [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]]) {
		const cmd = [...root, ...args];
		const out = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), env: { DEBIAN_FRONTEND: "noninteractive" } })
			.output();
		if (!out.success) throw new Error(`cannot install wrk: ${cmd.join(" ")} failed`);
	}
}

/** What one wrk run measured. */
export interface WrkResult {
	rps: number;
	p50ms: number;
	p99ms: number;
	requests: number;
	errors: number;
}

function toMs(value: string, unit: string): number {
	const n = Number(value);
	return unit === "us" ? n / 1000 : unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n;
}

/** Runs wrk against `url` (bounded in time) and parses its report. */
export async function wrk(
	url: string,
	options: {
		connections?: number;
		threads?: number;
		seconds?: number;
		headers?: Record<string, string>;
		script?: string;
	} = {},
): Promise<WrkResult> {
	const args = [
		`-t${options.threads ?? 2}`,
		`-c${options.connections ?? 32}`,
		`-d${options.seconds ?? 10}s`,
		"--latency",
		"--timeout",
		"5s",
	];
	for (const [k, v] of Object.entries(options.headers ?? {})) args.push("-H", `${k}: ${v}`);
	if (options.script) args.push("-s", options.script);
	args.push(url);
	const out = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
	const text = new TextDecoder().decode(out.stdout);
	if (!out.success) throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr)}`);
	const latency = (pct: string) => {
		const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(text);
		return m ? toMs(m[1]!, m[2]!) : NaN;
	};
	const errorsMatch = /Non-2xx or 3xx responses: (\d+)/.exec(text);
	const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
	return {
		rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
		p50ms: latency("50"),
		p99ms: latency("99"),
		requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? 0),
		errors: Number(errorsMatch?.[1] ?? 0) + (socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0),
	};
}

/** Resident memory of a process, in MiB. */
export async function rssMiB(pid: number): Promise<number> {
	const status = await Deno.readTextFile(`/proc/${pid}/status`);
	const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
	return kb / 1024;
}

/** Resident memory of a process in MiB, and of it what is anonymous (heaps, malloc) and what is mapped files (code, mmap). */
export async function rssParts(pid: number): Promise<{ rss: number; anon: number; file: number }> {
	const status = await Deno.readTextFile(`/proc/${pid}/status`);
	const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
	return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") + kb("RssShmem") };
}

/** Machine notes for the results. */
export async function machine(): Promise<string> {
	const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown CPU";
	const cores = navigator.hardwareConcurrency;
	const mem = Number(/MemTotal:\s+(\d+)/.exec(await Deno.readTextFile("/proc/meminfo"))?.[1] ?? 0) / 1024 / 1024;
	return `${cores} cores (${cpu}), ${
		mem.toFixed(0)
	} GiB RAM, Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}`;
}

export const fmt = (n: number, digits = 1) =>
	Number.isFinite(n)
		? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
		: "n/a";
