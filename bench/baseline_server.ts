/**
 * The benchmarks' baselines: a bare Deno.serve answering a short text or, given a file, the exact
 * bytes of that file (a page the portal rendered) as text/html, read once and sent as bytes.
 *
 * Usage: deno run --allow-net=127.0.0.1 [--allow-read] bench/baseline_server.ts <port> [file]
 */
const port = Number(Deno.args[0] ?? 8787);
const file = Deno.args[1];
const page = file ? Deno.readFileSync(file) : undefined;
const headers = { "content-type": "text/html; charset=UTF-8" };
Deno.serve(
	{ hostname: "127.0.0.1", port, onListen() {} },
	page ? () => new Response(page, { headers }) : () => new Response("ok"),
);
