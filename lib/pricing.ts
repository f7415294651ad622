/**
 * On-demand prices from an ec2instances.info `instances.json` file (the seed's pricing source).
 * The file is indexed once into a compact table (type → region × OS → $/hour, plus the EMR
 * surcharge) and re-indexed when it changes on disk; lookups never touch the file.
 *
 * The file is read in pieces and indexed one instance type at a time ({@link JsonArraySplitter}):
 * today's file is ~180 MB, and parsing it whole would hold the event loop for the whole parse and
 * need several times its size in memory. A re-index builds a new index beside the live one and
 * swaps it in only when it is complete and usable; lookups see the old index or the new one.
 */
import type { Logger } from "@logtape/logtape";
import { JsonArraySplitter, JsonElementsError } from "./json_elements.ts";

/** What the portal shows about an instance type. */
export interface TypeInfo {
	name: string;
	prettyName: string;
	vcpu: number | null;
	memoryGib: number | null;
	ecu: number | string | null;
	ebsOptimized: boolean | null;
	gpus: number | null;
}

/** A price, or why there is none. */
export type Price = { known: true; hourly: number } | { known: false; reason: string };

/** The file is missing, unreadable, or not a usable ec2instances.info EC2 pricing file. */
export class PricingFormatError extends Error {
	constructor(message: string, options?: ErrorOptions) {
		super(message, options);
		this.name = "PricingFormatError";
	}
}

/** `PRICING_FILE`'s default; only this path may fall back to the embedded copy (see lib/deps.ts and the README). */
export const DEFAULT_PRICING_FILE = "fixtures/instances.json";

// Cells of the index that hold no price: why (a price is always > 0).
/** The file has no value (the OS or the region is absent for the type, or the value is null). */
const MISSING = -1;
/** The file says "N/A", "", a negative number, or something that is not a number. */
const NOT_AVAILABLE = -2;
/** The file says 0: the generators write "0"/"0.0" where there is no on-demand price. */
const ZERO = -3;

/**
 * The price keys of EC2 operating systems in the files (`linux`, `mswin`, `rhel`, `sles`,
 * `ubuntu`, `dedicated` and their SQL variants): a file without a usable price under one of them
 * is not an EC2 pricing file (RDS keys its prices by database engine, e.g. "MySQL" or "2").
 */
const EC2_PLATFORM = /^(linux|mswin|rhel|sles|ubuntu|dedicated)/;

/** A plain decimal number: `Number()` alone would also take "0x1f", "Infinity" and " ". */
const DECIMAL = /^\s*(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** One instance type in the index. */
interface TypeEntry {
	info: TypeInfo;
	/** $/hour per region × OS (`regions.length × systems.length`), or a reason code below 0. */
	row: Float64Array;
	/** EMR surcharge $/hour per region, or a reason code. */
	emr: Float64Array;
}

/** The compact index built from one file. */
export class PricingIndex {
	readonly types = new Map<string, TypeEntry>();
	readonly regions: string[];
	readonly systems: string[];
	readonly #regionIndex: Map<string, number>;
	readonly #systemIndex: Map<string, number>;

	/** An empty index over these regions and operating systems; {@link IndexBuilder} fills `types`. */
	constructor(regions: string[], systems: string[]) {
		this.regions = regions;
		this.systems = systems;
		this.#regionIndex = new Map(regions.map((r, i) => [r, i]));
		this.#systemIndex = new Map(systems.map((s, i) => [s, i]));
	}

	/** Builds the index from the file's text; throws {@link PricingFormatError} when it is not a usable pricing file. */
	static fromText(text: string): PricingIndex {
		const builder = new IndexBuilder();
		const splitter = builder.splitter();
		try {
			splitter.push(text);
			splitter.end();
		} catch (error) {
			throw asFormatError(error);
		}
		return builder.finish();
	}

	/** Builds the index from parsed data (an array of instance types). */
	static fromData(data: unknown): PricingIndex {
		if (!Array.isArray(data)) throw new PricingFormatError(NOT_AN_ARRAY);
		const builder = new IndexBuilder();
		data.forEach((entry, i) => builder.add(entry, i));
		return builder.finish();
	}

	/**
	 * Reads and indexes a file a piece at a time. With `pauseEveryMs`, it pauses (a zero timeout)
	 * after that much work, so requests and timers are served meanwhile; without, it runs flat out
	 * (the first load, before the portal listens).
	 */
	static async fromFile(file: Deno.FsFile, options: IndexFileOptions = {}): Promise<PricingIndex> {
		const { chunkBytes = DEFAULT_CHUNK_BYTES, pauseEveryMs = Infinity } = options;
		const builder = new IndexBuilder();
		const splitter = builder.splitter();
		const decode = utf8Decoder();
		// Two buffers: the next piece is read while this one is indexed.
		const buffers = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
		let which = 0;
		let next: Promise<number | null> = file.read(buffers[which]!);
		let worked = performance.now();
		try {
			for (;;) {
				const read = await next;
				if (read === null) break;
				const bytes = buffers[which]!.subarray(0, read);
				which ^= 1;
				next = file.read(buffers[which]!);
				splitter.push(decode(bytes));
				// Awaiting the reads is not enough: measured, the runtime then runs timers and answers
				// requests only when it goes idle, 50-100 ms apart. A timeout makes it go idle.
				if (performance.now() - worked >= pauseEveryMs) {
					await new Promise((resolve) => setTimeout(resolve, 0));
					worked = performance.now();
				}
			}
			splitter.push(decode());
			splitter.end();
		} catch (error) {
			await next.catch(() => {});
			throw asFormatError(error);
		}
		return builder.finish();
	}

	/** On-demand $/hour for a type in a region for an OS. */
	onDemand(type: string, region: string, os: string): Price {
		const entry = this.types.get(type);
		if (!entry) return { known: false, reason: `${type} is not in the pricing file` };
		const r = this.#regionIndex.get(region);
		const s = this.#systemIndex.get(os);
		if (r === undefined) return { known: false, reason: `the pricing file has no prices for region ${region}` };
		if (s === undefined) return { known: false, reason: `the pricing file has no prices for operating system "${os}"` };
		return toPrice(entry.row[r * this.systems.length + s]!, `${type} (${os}) in ${region}`);
	}

	/** EMR surcharge $/hour per node. */
	emrSurcharge(type: string, region: string): Price {
		const entry = this.types.get(type);
		if (!entry) return { known: false, reason: `${type} is not in the pricing file` };
		const r = this.#regionIndex.get(region);
		if (r === undefined) return { known: false, reason: `the pricing file has no prices for region ${region}` };
		return toPrice(entry.emr[r]!, `EMR on ${type} in ${region}`);
	}

	typeInfo(type: string): TypeInfo | undefined {
		return this.types.get(type)?.info;
	}

	#platforms: string[] | undefined;

	/**
	 * The EC2 operating systems (price keys such as `linux`, `rhel`, `mswinSQLWeb`, `ubuntu`) that
	 * have at least one usable on-demand price in the file: what a configuration may be priced as.
	 * Linux first, the rest by name.
	 */
	get platforms(): string[] {
		if (this.#platforms) return this.#platforms;
		const width = this.systems.length;
		const priced = new Set<number>();
		for (const { row } of this.types.values()) {
			for (let k = 0; k < row.length && priced.size < width; k++) if (row[k]! > 0) priced.add(k % width);
		}
		this.#platforms = this.systems
			.filter((os, s) => priced.has(s) && EC2_PLATFORM.test(os))
			.sort((a, b) => Number(b === "linux") - Number(a === "linux") || a.localeCompare(b));
		return this.#platforms;
	}
}

/**
 * Decodes UTF-8 a piece at a time; throws {@link PricingFormatError} when the bytes are not UTF-8.
 * A fatal TextDecoder is 4× slower (measured: 180 vs 40 ms for 180 MB), so pieces are decoded
 * leniently and only one that decodes to U+FFFD (rare: the replacement character itself) is
 * checked again strictly, from the start of the character the previous piece ended in.
 */
function utf8Decoder(): (bytes?: Uint8Array) => string {
	const lenient = new TextDecoder();
	/** The bytes of the last character so far (a UTF-8 character is at most 4 bytes). */
	let tail = new Uint8Array(0);
	return (bytes) => {
		const text = bytes ? lenient.decode(bytes, { stream: true }) : lenient.decode();
		const joined = bytes ? concat(tail, bytes.length >= 4 ? bytes.subarray(bytes.length - 4) : bytes) : tail;
		if (text.includes("\uFFFD")) {
			try {
				new TextDecoder("utf-8", { fatal: true }).decode(bytes ? concat(tail, bytes) : tail, { stream: !!bytes });
			} catch (error) {
				throw new PricingFormatError(`the pricing file is not UTF-8 text: ${(error as Error).message}`);
			}
		}
		// From the last byte that is not a continuation (10xxxxxx), at most 4 from the end.
		let start = joined.length - 1;
		while (start > 0 && start > joined.length - 4 && (joined[start]! & 0xc0) === 0x80) start--;
		tail = joined.slice(Math.max(start, 0));
		return text;
	};
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
	const joined = new Uint8Array(a.length + b.length);
	joined.set(a);
	joined.set(b, a.length);
	return joined;
}

/** How {@link PricingIndex.fromFile} reads. */
export interface IndexFileOptions {
	/** Bytes read per step (decoded, split, parsed and indexed in about a millisecond for 256 KiB). */
	chunkBytes?: number;
	/** Pause after this much work (ms) to let the event loop serve requests and timers; default never. */
	pauseEveryMs?: number;
}

const DEFAULT_CHUNK_BYTES = 256 * 1024;
/** A reload pauses this often: no request waits much longer than this (plus one step) behind it. */
const RELOAD_PAUSE_EVERY_MS = 8;

const NOT_AN_ARRAY =
	"the pricing file must be a JSON array of instance types (the ec2instances.info instances.json format)";

function asFormatError(error: unknown): Error {
	if (error instanceof JsonElementsError) {
		return new PricingFormatError(
			error.notArray ? `${NOT_AN_ARRAY}; ${error.message}` : `the pricing file is not valid JSON: ${error.message}`,
		);
	}
	return error as Error;
}

/**
 * Collects one instance type at a time. Regions and operating systems are numbered as they first
 * appear; the rows are laid out (sorted) only in {@link finish}, once every name is known.
 */
class IndexBuilder {
	readonly #regions = new Map<string, number>();
	readonly #systems = new Map<string, number>();
	/**
	 * Per type: its info and its prices as (key, value) pairs, key = region × {@link KEY_STRIDE} +
	 * system (or {@link EMR_SLOT}); a typed array, off the JavaScript heap, until {@link finish}.
	 */
	readonly #types = new Map<string, { info: TypeInfo; cells: Float64Array }>();
	#scratch = new Float64Array(1024);
	#entries = 0;
	/** Usable prices under an EC2 operating system: a file with none is refused. */
	#usable = 0;
	/** A price written as a plain string (`"linux": "0.450"`): the format before August 2015. */
	#plainString: string | undefined;
	#rdsLike = 0;

	/**
	 * A splitter that hands each element of the file's array to {@link add}, without the
	 * reserved-instance prices (`pricing.<region>.<os>.reserved`, 86% of today's file): the portal
	 * uses on-demand prices only.
	 */
	splitter(): JsonArraySplitter {
		return new JsonArraySplitter((text, i) => {
			let entry: unknown;
			try {
				entry = JSON.parse(text);
			} catch (error) {
				throw new PricingFormatError(`the pricing file is not valid JSON: entry ${i}: ${(error as Error).message}`);
			}
			this.add(entry, i);
		}, { drop: { key: "reserved", depth: 4 } });
	}

	add(entry: unknown, i: number): void {
		this.#entries++;
		if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
			throw new PricingFormatError(`entry ${i} of the pricing file is not an object`);
		}
		const record = entry as Record<string, unknown>;
		const name = record.instance_type;
		if (typeof name !== "string") throw new PricingFormatError(`entry ${i} of the pricing file has no "instance_type"`);
		if (name.startsWith("db.")) this.#rdsLike++;
		const pricing = record.pricing;
		let n = 0;
		const put = (key: number, value: number) => {
			if (n + 2 > this.#scratch.length) {
				const grown = new Float64Array(this.#scratch.length * 2);
				grown.set(this.#scratch);
				this.#scratch = grown;
			}
			this.#scratch[n++] = key;
			this.#scratch[n++] = value;
		};
		if (pricing !== undefined && pricing !== null) {
			if (typeof pricing !== "object" || Array.isArray(pricing)) {
				throw new PricingFormatError(`"pricing" of ${name} (entry ${i}) is not an object`);
			}
			for (const region in pricing) {
				const byOs = (pricing as Record<string, unknown>)[region];
				if (typeof byOs !== "object" || byOs === null) continue;
				const r = numbered(this.#regions, region) * KEY_STRIDE;
				if (this.#systems.size >= EMR_SLOT) {
					throw new PricingFormatError("the pricing file names too many operating systems");
				}
				for (const os in byOs) {
					const value = (byOs as Record<string, unknown>)[os];
					if (typeof value !== "object" || value === null) {
						if (typeof value === "string" && EC2_PLATFORM.test(os) && this.#plainString === undefined) {
							this.#plainString = `pricing["${region}"]["${os}"] of ${name} is ${JSON.stringify(value)}`;
						}
						continue;
					}
					if (os === "emr") {
						put(r + EMR_SLOT, parsePrice((value as Record<string, unknown>).emr));
						continue;
					}
					const price = parsePrice((value as Record<string, unknown>).ondemand);
					if (price > 0 && EC2_PLATFORM.test(os)) this.#usable++;
					put(r + numbered(this.#systems, os), price);
				}
			}
		}
		this.#types.set(name, {
			info: {
				name,
				prettyName: typeof record.pretty_name === "string" ? record.pretty_name : name,
				vcpu: numberOrNull(record.vCPU),
				memoryGib: numberOrNull(record.memory),
				ecu: typeof record.ECU === "number" || typeof record.ECU === "string" ? record.ECU : null,
				ebsOptimized: typeof record.ebs_optimized === "boolean" ? record.ebs_optimized : null,
				gpus: numberOrNull(record.GPU),
			},
			cells: this.#scratch.slice(0, n),
		});
	}

	/** Lays out the index; throws {@link PricingFormatError} when the file gives no usable EC2 price. */
	finish(): PricingIndex {
		if (this.#entries === 0) throw new PricingFormatError("the pricing file lists no instance types");
		this.#refuseUnusable();
		const regions = [...this.#regions.keys()].sort();
		const systems = [...this.#systems.keys()].sort();
		const regionAt = sortedPositions(this.#regions, regions);
		const systemAt = sortedPositions(this.#systems, systems);
		const index = new PricingIndex(regions, systems);
		const width = systems.length;
		for (const [name, { info, cells }] of this.#types) {
			const row = new Float64Array(regions.length * width).fill(MISSING);
			const emr = new Float64Array(regions.length).fill(MISSING);
			for (let k = 0; k < cells.length; k += 2) {
				const key = cells[k]!;
				const r = regionAt[Math.floor(key / KEY_STRIDE)]!;
				const s = key % KEY_STRIDE;
				if (s === EMR_SLOT) emr[r] = cells[k + 1]!;
				else row[r * width + systemAt[s]!] = cells[k + 1]!;
			}
			index.types.set(name, { info, row, emr });
		}
		return index;
	}

	#refuseUnusable(): void {
		const types = this.#types.size;
		if (this.#rdsLike === types) {
			const example = this.#types.keys().next().value;
			throw new PricingFormatError(
				`its instance types are database classes ("${example}", …) priced per database engine (${this.#priceKeys()}): this is ec2instances.info's RDS file, not its EC2 instances.json`,
			);
		}
		if (this.#usable > 0) return;
		if (this.#plainString !== undefined) {
			throw new PricingFormatError(
				`no instance type has a usable price: prices are plain strings (${this.#plainString}), the ec2instances.info format before August 2015; the portal reads pricing.<region>.<os>.ondemand, as in the current instances.json`,
			);
		}
		const keys = [...this.#systems.keys()];
		throw new PricingFormatError(
			keys.some((key) => EC2_PLATFORM.test(key))
				? `none of its ${types} instance types has a usable on-demand price (each is 0, "N/A", not a number, or missing)`
				: `none of its ${types} instance types has an on-demand price for an EC2 operating system (linux, mswin, rhel, sles, ubuntu, …): its prices are keyed by ${this.#priceKeys()}; is it the file of another AWS product?`,
		);
	}

	#priceKeys(): string {
		const keys = [...this.#systems.keys()];
		if (keys.length === 0) return "nothing";
		return keys.slice(0, 6).map((key) => JSON.stringify(key)).join(", ") + (keys.length > 6 ? ", …" : "");
	}
}

/** Keys of the builder's cells: region × KEY_STRIDE + system; EMR_SLOT stands for the EMR surcharge. */
const KEY_STRIDE = 1 << 16;
const EMR_SLOT = KEY_STRIDE - 1;

function numbered(names: Map<string, number>, name: string): number {
	let n = names.get(name);
	if (n === undefined) {
		n = names.size;
		names.set(name, n);
	}
	return n;
}

/** For each name's number (order of first appearance), its position in `sorted`. */
function sortedPositions(names: Map<string, number>, sorted: string[]): Int32Array {
	const positions = new Int32Array(names.size);
	sorted.forEach((name, position) => positions[names.get(name)!] = position);
	return positions;
}

function toPrice(value: number, what: string): Price {
	if (value > 0) return { known: true, hourly: value };
	if (value === NOT_AVAILABLE) return { known: false, reason: `the pricing file marks ${what} as not available` };
	if (value === ZERO) {
		return { known: false, reason: `the pricing file gives no on-demand price for ${what} (it says 0)` };
	}
	return { known: false, reason: `the pricing file has no price for ${what}` };
}

/** A price cell from a file value: $/hour when it is a number above 0, else why not. */
function parsePrice(value: unknown): number {
	if (value === undefined || value === null) return MISSING;
	let n: number;
	if (typeof value === "number") n = value;
	else if (typeof value === "string" && DECIMAL.test(value)) n = Number(value);
	else return NOT_AVAILABLE;
	if (!Number.isFinite(n) || n < 0) return NOT_AVAILABLE;
	return n > 0 ? n : ZERO;
}

function numberOrNull(value: unknown): number | null {
	const n = typeof value === "string" ? Number(value) : value;
	return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** Options for {@link createPricing}. */
export interface PricingOptions {
	/** The pricing file on disk. */
	path: string;
	/**
	 * Used when `path` does not exist (the copy embedded in a bundle or binary). lib/deps.ts passes
	 * it only for {@link DEFAULT_PRICING_FILE}: a path that was set and is missing stops startup.
	 */
	embedded?: () => Promise<string>;
	log: Logger;
	/** Bytes read per step while indexing (the event loop runs between steps). */
	chunkBytes?: number;
}

/** The live pricing: the current index plus unknown-price logging (once per key). */
export interface Pricing {
	readonly index: PricingIndex;
	/** Where the current index came from. */
	readonly source: string;
	onDemand(type: string, region: string, os: string): Price;
	emrSurcharge(type: string, region: string): Price;
	typeInfo(type: string): TypeInfo | undefined;
	/** The EC2 operating systems the current file prices ({@link PricingIndex.platforms}). */
	platforms(): string[];
	/**
	 * Re-indexes when the file changed on disk and swaps the new index in when it is complete;
	 * keeps the previous index (and logs an error naming the file) when the new file is missing or
	 * unusable. Lookups go on meanwhile; a call while a re-index runs shares it.
	 */
	reloadIfChanged(): Promise<boolean>;
}

/** Size and modification time of the file as read, or "missing". */
type Stamp = string;
const GONE: Stamp = "missing";

function stampOf(info: Deno.FileInfo): Stamp {
	return `${info.mtime?.getTime()}:${info.size}`;
}

/** Opens and indexes `path`; errors name the file. */
async function indexFile(path: string, options: IndexFileOptions): Promise<{ index: PricingIndex; stamp: Stamp }> {
	let file: Deno.FsFile;
	try {
		file = await Deno.open(path, { read: true });
	} catch (error) {
		if (error instanceof Deno.errors.NotFound) {
			throw new PricingFormatError(`the pricing file "${path}" (setting PRICING_FILE) does not exist`);
		}
		throw new PricingFormatError(`cannot read the pricing file "${path}": ${(error as Error).message}`, {
			cause: error,
		});
	}
	try {
		const info = await file.stat();
		if (!info.isFile) throw new PricingFormatError("it is not a file");
		return { index: await PricingIndex.fromFile(file, options), stamp: stampOf(info) };
	} catch (error) {
		// What the file holds (PricingFormatError) or reading it failed (Deno.errors: EIO, EISDIR…).
		if (!(error instanceof PricingFormatError) && !(error instanceof Error && error.name in Deno.errors)) throw error;
		throw new PricingFormatError(`cannot use the pricing file "${path}": ${error.message}`, { cause: error });
	} finally {
		file.close();
	}
}

/**
 * Loads and indexes the pricing file; a missing, unreadable or unusable file stops startup with
 * a {@link PricingFormatError} naming it.
 */
export async function createPricing(options: PricingOptions): Promise<Pricing> {
	const { path, log } = options;
	let index: PricingIndex;
	let stamp: Stamp;
	let source = path;
	const logged = new Set<string>();

	try {
		({ index, stamp } = await indexFile(path, { chunkBytes: options.chunkBytes }));
	} catch (error) {
		const missing = await Deno.stat(path).then(() => false, (e) => e instanceof Deno.errors.NotFound);
		if (!missing || !options.embedded) throw error;
		index = PricingIndex.fromText(await options.embedded());
		stamp = GONE;
		source = "embedded copy of fixtures/instances.json";
	}
	log.info("pricing: {types} instance types, {regions} regions from {source}", {
		types: index.types.size,
		regions: index.regions.length,
		source,
	});

	function remember(price: Price, key: string): Price {
		if (!price.known && !logged.has(key)) {
			logged.add(key);
			log.warn("price unknown: {reason}", { reason: price.reason });
		}
		return price;
	}

	async function reload(): Promise<boolean> {
		let current: Stamp;
		try {
			current = stampOf(await Deno.stat(path));
		} catch (error) {
			if (!(error instanceof Deno.errors.NotFound)) {
				log.error("cannot read the pricing file {path}, keeping the previous prices: {message}", {
					path,
					message: (error as Error).message,
				});
				return false;
			}
			if (stamp !== GONE) {
				stamp = GONE;
				log.error("pricing file {path} is gone, keeping the previous prices", { path });
			}
			return false;
		}
		if (current === stamp) return false;
		try {
			const next = await indexFile(path, { chunkBytes: options.chunkBytes, pauseEveryMs: RELOAD_PAUSE_EVERY_MS });
			index = next.index;
			stamp = next.stamp;
			source = path;
			logged.clear();
			log.info("pricing re-indexed: {types} instance types from {source}", { types: index.types.size, source });
			return true;
		} catch (error) {
			// Not retried until the file changes again.
			stamp = current;
			// The message names the file: "cannot use the pricing file "…": …".
			log.error("pricing file changed, keeping the previous prices: {message}", {
				path,
				message: (error as Error).message,
			});
			return false;
		}
	}

	let reloading: Promise<boolean> | undefined;
	return {
		get index() {
			return index;
		},
		get source() {
			return source;
		},
		onDemand: (type, region, os) => remember(index.onDemand(type, region, os), `${type}|${region}|${os}`),
		emrSurcharge: (type, region) => remember(index.emrSurcharge(type, region), `${type}|${region}|emr`),
		typeInfo: (type) => index.typeInfo(type),
		platforms: () => index.platforms,
		reloadIfChanged() {
			reloading ??= reload().finally(() => reloading = undefined);
			return reloading;
		},
	};
}
