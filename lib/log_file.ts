/**
 * The log files' sink: each line encoded into a chunk as it comes, and the chunks appended to the
 * file by an asynchronous write, without fsync. It replaces @logtape/file's non-blocking rotating
 * sink, which joined the lines into one string (encoding that rope at write time cost four times
 * as much), wrote it with a synchronous write(2) and then fsync'd it: under load that was ≈ 2 µs
 * of every request (a CPU profile of the middleware floor, bench/RESULTS.md); the write itself
 * still shows at about 1 µs a request under that load (the kernel taking ≈ 10 MB/s of access
 * lines). Without fsync a line handed to the kernel survives the process being killed (kill -9),
 * which is what the one-second promise is about; a power cut may lose what the operating system
 * had not yet written, as with the database's synchronous=NORMAL.
 *
 * It rotates as that sink did (at `maxSize` bytes: `name.1`, `name.2` … up to `maxFiles`), and,
 * like it, writes a batch when `bufferChars` are waiting, at once when the previous write is older
 * than `flushMs`, and otherwise within `flushMs` of the first line waiting.
 */
import { getLogger, type LogRecord, type Sink } from "@logtape/logtape";

/** Options for {@link bufferedFileSink}. */
export interface FileSinkOptions {
	formatter: (record: LogRecord) => string;
	maxSize: number;
	maxFiles: number;
	flushMs: number;
	bufferChars: number;
}

/** A sink appending to `path`; dispose it (LogTape's `reset` does) to write what waits and close the file. */
export function bufferedFileSink(path: string, options: FileSinkOptions): Sink & AsyncDisposable {
	const encoder = new TextEncoder();
	let file = Deno.openSync(path, { create: true, append: true });
	let size = file.statSync().size;
	// Each line is encoded into the current chunk as it comes: encoding one long string of joined
	// lines at write time cost four times as much (V8 first flattens the string, a rope of pieces).
	const chunkBytes = options.bufferChars + 4096;
	let chunk = new Uint8Array(chunkBytes);
	let used = 0;
	/** Full chunks (and lines too long for one), in order, waiting for the write. */
	let full: Uint8Array[] = [];
	let lastWrite = Date.now();
	let timer: ReturnType<typeof setTimeout> | undefined;
	let writing: Promise<void> | undefined;
	let disposed = false;

	const rotate = () => {
		file.close();
		for (let i = options.maxFiles - 1; i > 0; i--) {
			try {
				Deno.renameSync(`${path}.${i}`, `${path}.${i + 1}`);
			} catch { /* not there yet */ }
		}
		Deno.renameSync(path, `${path}.1`);
		file = Deno.openSync(path, { create: true, append: true });
		size = 0;
	};

	/** Ends the current chunk (it joins those waiting for the write). */
	const seal = () => {
		if (used === 0) return;
		full.push(chunk.subarray(0, used));
		chunk = new Uint8Array(chunkBytes);
		used = 0;
	};

	const writeOut = async () => {
		seal();
		while (full.length > 0) {
			const batch = full;
			full = [];
			for (const bytes of batch) {
				try {
					if (size > 0 && size + bytes.length > options.maxSize) rotate();
					for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
					size += bytes.length;
				} catch (error) {
					getLogger(["logtape", "meta"]).warn("writing {path} failed: {error}", { path, error });
				}
			}
			lastWrite = Date.now();
			seal();
		}
	};

	/** Starts a write unless one is on its way (which takes what waits when it is done). */
	const flush = () => {
		if (timer !== undefined) {
			clearTimeout(timer);
			timer = undefined;
		}
		writing ??= writeOut().finally(() => {
			writing = undefined;
			// A line logged between the write's last look and now (a microtask) waits for no other line.
			if ((used > 0 || full.length > 0) && timer === undefined && !disposed) timer = setTimeout(flush, options.flushMs);
		});
	};

	const sink = (record: LogRecord) => {
		if (disposed) return;
		const line = options.formatter(record);
		// At most three bytes a UTF-16 unit: a line that might not fit goes after the chunk, alone.
		if (used + line.length * 3 > chunkBytes) {
			seal();
			if (line.length * 3 > chunkBytes) full.push(encoder.encode(line));
		}
		if (line.length * 3 <= chunkBytes) used += encoder.encodeInto(line, chunk.subarray(used)).written;
		if (used >= options.bufferChars || full.length > 0 || record.timestamp - lastWrite >= options.flushMs) flush();
		else if (timer === undefined && writing === undefined) timer = setTimeout(flush, options.flushMs);
	};
	return Object.assign(sink, {
		async [Symbol.asyncDispose]() {
			disposed = true;
			if (timer !== undefined) clearTimeout(timer);
			timer = undefined;
			while (writing) await writing;
			await writeOut();
			file.close();
		},
	});
}
