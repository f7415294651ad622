/**
 * On-demand prices from an ec2instances.info `instances.json` file (the seed's pricing source).
 * The file is indexed once into a compact table (type → region × OS → $/hour, plus the EMR
 * surcharge) and re-indexed when it changes on disk; lookups never touch the file.
 */
import type { Logger } from "@logtape/logtape";

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

/** The file is not in the ec2instances.info format. */
export class PricingFormatError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "PricingFormatError";
	}
}

// Cells of the index that hold no price: why (a price is always > 0).
/** The file has no value (the OS or the region is absent for the type, or the value is null). */
const MISSING = -1;
/** The file says "N/A", "", a negative number, or something that is not a number. */
const NOT_AVAILABLE = -2;
/** The file says 0: the generators write "0"/"0.0" where there is no on-demand price. */
const ZERO = -3;

/** A plain decimal number: `Number()` alone would also take "0x1f", "Infinity" and " ". */
const DECIMAL = /^\s*(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** The compact index built from one file. */
export class PricingIndex {
	readonly types = new Map<string, { info: TypeInfo; row: Float64Array; emr: Float64Array }>();
	readonly regions: string[];
	readonly systems: string[];
	readonly #regionIndex: Map<string, number>;
	readonly #systemIndex: Map<string, number>;

	private constructor(regions: string[], systems: string[]) {
		this.regions = regions;
		this.systems = systems;
		this.#regionIndex = new Map(regions.map((r, i) => [r, i]));
		this.#systemIndex = new Map(systems.map((s, i) => [s, i]));
	}

	/** Builds the index from the file's text; throws {@link PricingFormatError} when it is not the expected format. */
	static fromText(text: string): PricingIndex {
		let data: unknown;
		try {
			data = JSON.parse(text);
		} catch (error) {
			throw new PricingFormatError(`the pricing file is not valid JSON: ${(error as Error).message}`);
		}
		return PricingIndex.fromData(data);
	}

	static fromData(data: unknown): PricingIndex {
		if (!Array.isArray(data)) {
			throw new PricingFormatError(
				"the pricing file must be a JSON array of instance types (the ec2instances.info instances.json format)",
			);
		}
		if (data.length === 0) throw new PricingFormatError("the pricing file lists no instance types");
		const regions = new Set<string>();
		const systems = new Set<string>();
		data.forEach((entry, i) => {
			if (typeof entry !== "object" || entry === null || typeof entry.instance_type !== "string") {
				throw new PricingFormatError(`entry ${i} of the pricing file has no "instance_type"`);
			}
			const pricing = entry.pricing;
			if (pricing === undefined || pricing === null) return;
			if (typeof pricing !== "object") {
				throw new PricingFormatError(`"pricing" of ${entry.instance_type} (entry ${i}) is not an object`);
			}
			for (const [region, byOs] of Object.entries(pricing as Record<string, unknown>)) {
				if (typeof byOs !== "object" || byOs === null) continue;
				regions.add(region);
				for (const [os, value] of Object.entries(byOs)) {
					if (os !== "emr" && typeof value === "object" && value !== null && "ondemand" in value) systems.add(os);
				}
			}
		});
		const index = new PricingIndex([...regions].sort(), [...systems].sort());
		const width = index.regions.length * index.systems.length;
		for (const entry of data as Record<string, unknown>[]) {
			const row = new Float64Array(width).fill(MISSING);
			const emr = new Float64Array(index.regions.length).fill(MISSING);
			const pricing = (entry.pricing ?? {}) as Record<string, Record<string, unknown>>;
			for (const [region, byOs] of Object.entries(pricing)) {
				if (typeof byOs !== "object" || byOs === null) continue;
				const r = index.#regionIndex.get(region)!;
				for (const [os, value] of Object.entries(byOs)) {
					if (typeof value !== "object" || value === null) continue;
					if (os === "emr") {
						emr[r] = parsePrice((value as Record<string, unknown>).emr);
						continue;
					}
					const s = index.#systemIndex.get(os);
					if (s !== undefined) {
						row[r * index.systems.length + s] = parsePrice((value as Record<string, unknown>).ondemand);
					}
				}
			}
			const name = entry.instance_type as string;
			index.types.set(name, {
				info: {
					name,
					prettyName: typeof entry.pretty_name === "string" ? entry.pretty_name : name,
					vcpu: numberOrNull(entry.vCPU),
					memoryGib: numberOrNull(entry.memory),
					ecu: typeof entry.ECU === "number" || typeof entry.ECU === "string" ? entry.ECU : null,
					ebsOptimized: typeof entry.ebs_optimized === "boolean" ? entry.ebs_optimized : null,
					gpus: numberOrNull(entry.GPU),
				},
				row,
				emr,
			});
		}
		return index;
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
	/** Used when `path` does not exist (the copy embedded in a bundle or binary). */
	embedded?: () => string;
	log: Logger;
}

/** The live pricing: the current index plus unknown-price logging (once per key). */
export interface Pricing {
	readonly index: PricingIndex;
	/** Where the current index came from. */
	readonly source: string;
	onDemand(type: string, region: string, os: string): Price;
	emrSurcharge(type: string, region: string): Price;
	typeInfo(type: string): TypeInfo | undefined;
	/** Re-indexes when the file changed on disk; keeps the previous index when the new file is bad. */
	reloadIfChanged(): Promise<boolean>;
}

/** Loads and indexes the pricing file; a missing or malformed file stops startup with a clear message. */
export async function createPricing(options: PricingOptions): Promise<Pricing> {
	let stamp: string | undefined;
	let source = options.path;
	let index: PricingIndex;
	const logged = new Set<string>();

	async function readStamp(): Promise<string | undefined> {
		try {
			const info = await Deno.stat(options.path);
			return `${info.mtime?.getTime()}:${info.size}`;
		} catch (error) {
			if (error instanceof Deno.errors.NotFound) return undefined;
			throw error;
		}
	}

	stamp = await readStamp();
	if (stamp === undefined) {
		if (!options.embedded) throw new PricingFormatError(`the pricing file "${options.path}" does not exist`);
		index = PricingIndex.fromText(options.embedded());
		source = "embedded copy of fixtures/instances.json";
	} else {
		try {
			index = PricingIndex.fromText(await Deno.readTextFile(options.path));
		} catch (error) {
			throw new PricingFormatError(`cannot use the pricing file "${options.path}": ${(error as Error).message}`);
		}
	}
	options.log.info("pricing: {types} instance types, {regions} regions from {source}", {
		types: index.types.size,
		regions: index.regions.length,
		source,
	});

	function remember(price: Price, key: string): Price {
		if (!price.known && !logged.has(key)) {
			logged.add(key);
			options.log.warn("price unknown: {reason}", { reason: price.reason });
		}
		return price;
	}

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
		async reloadIfChanged() {
			const current = await readStamp();
			if (current === undefined || current === stamp) return false;
			try {
				const next = PricingIndex.fromText(await Deno.readTextFile(options.path));
				index = next;
				stamp = current;
				source = options.path;
				logged.clear();
				options.log.info("pricing re-indexed: {types} instance types from {source}", {
					types: next.types.size,
					source,
				});
				return true;
			} catch (error) {
				stamp = current;
				options.log.error("pricing file {path} changed but cannot be used, keeping the previous prices: {message}", {
					path: options.path,
					message: (error as Error).message,
				});
				return false;
			}
		},
	};
}
