/**
 * The portal gives its heap back once it goes quiet after a burst (lib/idle_collection.ts): a full
 * "last resort" collection after a whole interval without requests, only when requests came before
 * it and the heap grew since the last one; never while requests keep coming; nothing at all
 * without V8's exposed `gc`. The interval's ticks are driven by hand here; the real `gc` and its
 * effect on RSS are measured by bench/ (the memory and http sections).
 */
import assert from "node:assert/strict";
import { type ExposedGc, idleCollection } from "../lib/idle_collection.ts";
import { V8_FLAGS } from "../lib/workers.ts";

const MiB = 1 << 20;

function harness(heapMiB = 40) {
	const calls: Parameters<ExposedGc>[0][] = [];
	let tick = () => {};
	let stopped = false;
	const state = { heap: heapMiB * MiB };
	const collection = idleCollection({
		gc: (options) => {
			calls.push(options);
			state.heap = 30 * MiB;
		},
		growthBytes: 16 * MiB,
		heapBytes: () => state.heap,
		every: (fn, ms) => {
			assert.equal(ms, 2_000, "the default interval");
			tick = fn;
			return () => stopped = true;
		},
	});
	return { collection, calls, state, tick: () => tick(), stopped: () => stopped };
}

Deno.test("after a burst that grew the heap, one whole quiet interval brings one last-resort collection", () => {
	const h = harness(40);
	h.collection.served();
	h.state.heap = 90 * MiB;
	h.tick();
	assert.equal(h.calls.length, 0, "requests came during this interval");
	h.tick();
	assert.deepEqual(h.calls, [{ type: "major", execution: "sync", flavor: "last-resort" }]);
	h.tick();
	h.tick();
	assert.equal(h.calls.length, 1, "once per quiet period, not every interval");
});

Deno.test("no collection while requests keep coming, and none on a quiet process that served nothing", () => {
	const h = harness(200);
	for (let i = 0; i < 5; i++) h.tick();
	assert.equal(h.calls.length, 0, "never served: nothing to give back");
	for (let i = 0; i < 5; i++) {
		h.collection.served();
		h.tick();
	}
	assert.equal(h.calls.length, 0, "busy every interval");
	h.state.heap = 250 * MiB;
	h.tick();
	assert.equal(h.calls.length, 1);
});

Deno.test("light traffic whose heap did not grow by the threshold since the last collection triggers none", () => {
	const h = harness(40);
	h.collection.served();
	h.tick();
	h.tick();
	assert.equal(h.calls.length, 0, "40 MiB at start, still 40: no growth");
	h.state.heap = 55 * MiB;
	h.collection.served();
	h.tick();
	h.tick();
	assert.equal(h.calls.length, 0, "15 MiB of growth is under the 16 MiB threshold");
	h.state.heap = 57 * MiB;
	h.collection.served();
	h.tick();
	h.tick();
	assert.equal(h.calls.length, 1);
	h.state.heap = 40 * MiB;
	h.collection.served();
	h.tick();
	h.tick();
	assert.equal(h.calls.length, 1, "measured from the heap the collection left (30 MiB)");
	h.collection.stop();
	assert.ok(h.stopped(), "stop ends the interval");
});

Deno.test("without V8's exposed gc nothing is scheduled; the portal's V8 flags expose it", () => {
	let scheduled = false;
	const collection = idleCollection({
		gc: undefined,
		every: () => {
			scheduled = true;
			return () => {};
		},
	});
	collection.served();
	collection.stop();
	assert.equal(scheduled, !!(globalThis as { gc?: unknown }).gc, "scheduled only when this process has gc");
	assert.ok(V8_FLAGS.split(",").includes("--expose-gc"));
});
