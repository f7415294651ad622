/** The benchmarks' baseline: a bare Deno.serve answering a short text. */
const port = Number(Deno.args[0] ?? 8787);
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, () => new Response("ok"));
