/**
 * How long work holds the event loop: while it runs, a Deno.serve in this process answers a trivial
 * request in a loop and a 1 ms timer ticks; the longest request and the longest gap between ticks
 * are the longest the loop was held. Used by the pricing test and the pricing-load benchmark.
 */

/** What one measured run saw. */
export interface HeldLoop<T> {
	result: T;
	/** The work's own duration. */
	ms: number;
	longestRequest: number;
	longestGap: number;
	/** Timer ticks (each one a `sample` call) and requests answered while the work ran. */
	samples: number;
	requests: number;
}

/**
 * Runs `work` once the requests and the timer are going (after `warmupMs`), calling `sample` at each
 * tick. The request in flight when the work ends, and the next tick, count too: work that holds the
 * loop at its very end would otherwise go unmeasured. `beforeWork` runs right before it (resetting a
 * peak, say).
 */
export async function measureHeldLoop<T>(
	work: () => Promise<T>,
	options: { warmupMs: number; sample?: () => void; beforeWork?: () => void },
): Promise<HeldLoop<T>> {
	await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("ok"));
	const url = `http://127.0.0.1:${server.addr.port}/`;
	let running = true;
	let longestRequest = 0;
	let requests = 0;
	const pinging = (async () => {
		while (running) {
			const t0 = performance.now();
			await (await fetch(url)).text();
			longestRequest = Math.max(longestRequest, performance.now() - t0);
			requests++;
		}
	})();
	let samples = 0;
	let longestGap = 0;
	let last = performance.now();
	const timer = setInterval(() => {
		const now = performance.now();
		longestGap = Math.max(longestGap, now - last);
		last = now;
		options.sample?.();
		samples++;
	}, 1);
	try {
		await new Promise((r) => setTimeout(r, options.warmupMs));
		longestRequest =
			longestGap =
			samples =
			requests =
				0;
		last = performance.now();
		options.beforeWork?.();
		const t0 = performance.now();
		const result = await work();
		const ms = performance.now() - t0;
		running = false;
		await pinging;
		await new Promise((r) => setTimeout(r, 5));
		return { result, ms, longestRequest, longestGap, samples, requests };
	} finally {
		running = false;
		clearInterval(timer);
		await pinging;
	}
}
