/** Another process holding the database's write lock, as a second portal on the same file would. */
import assert from "node:assert/strict";

/**
 * Takes the write lock of the embedded database at `dbPath` in another process and holds it for
 * `ms`. A separate process, because SQLite's busy wait blocks the waiting thread: a holder in this
 * process could never release while the app waits.
 */
export async function holdWriteLock(dbPath: string, ms: number): Promise<{ released: Promise<void> }> {
	const script = `
		import { createClient } from "@libsql/client";
		const client = createClient({ url: "file:${dbPath}" });
		const tx = await client.transaction("write");
		console.log("locked");
		await new Promise((resolve) => setTimeout(resolve, ${ms}));
		await tx.commit();
		client.close();`;
	const child = new Deno.Command(Deno.execPath(), {
		args: ["eval", "--quiet", script],
		cwd: new URL("../..", import.meta.url).pathname,
		stdout: "piped",
		stderr: "inherit",
	}).spawn();
	const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
	const { value } = await reader.read();
	assert.equal(value?.trim(), "locked");
	return {
		released: (async () => {
			while (!(await reader.read()).done) { /* drain */ }
			assert.ok((await child.status).success, "the lock holder exited cleanly");
		})(),
	};
}
