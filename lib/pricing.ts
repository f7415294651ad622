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
		refuseUnusable(data);
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

/**
 * Throws {@link PricingFormatError} when the file gives no usable EC2 price at all, saying what it
 * looks like: the format before August 2015, ec2instances.info's RDS file, another product's file.
 */
function refuseUnusable(data: unknown[]): void {
	const keys = new Set<string>();
	let usable = 0;
	let rdsLike = 0;
	let plainString: string | undefined;
	for (const entry of data) {
		if (typeof entry !== "object" || entry === null) continue;
		const { instance_type: name, pricing } = entry as Record<string, unknown>;
		if (typeof name === "string" && name.startsWith("db.")) rdsLike++;
		if (typeof pricing !== "object" || pricing === null) continue;
		for (const [region, byOs] of Object.entries(pricing)) {
			if (typeof byOs !== "object" || byOs === null) continue;
			for (const [os, value] of Object.entries(byOs)) {
				if (typeof value !== "object" || value === null) {
					if (typeof value === "string" && EC2_PLATFORM.test(os)) {
						plainString ??= `pricing["${region}"]["${os}"] of ${name} is ${JSON.stringify(value)}`;
					}
					continue;
				}
				if (os === "emr") continue;
				keys.add(os);
				if (EC2_PLATFORM.test(os) && parsePrice((value as Record<string, unknown>).ondemand) > 0) usable++;
			}
		}
	}
	const priceKeys = [...keys].slice(0, 6).map((key) => JSON.stringify(key)).join(", ") +
			(keys.size > 6 ? ", …" : "") || "nothing";
	if (rdsLike === data.length) {
		const example = (data[0] as Record<string, unknown>).instance_type;
		throw new PricingFormatError(
			`its instance types are database classes ("${example}", …) priced per database engine (${priceKeys}): this is ec2instances.info's RDS file, not its EC2 instances.json`,
		);
	}
	if (usable > 0) return;
	if (plainString !== undefined) {
		throw new PricingFormatError(
			`no instance type has a usable price: prices are plain strings (${plainString}), the ec2instances.info format before August 2015; the portal reads pricing.<region>.<os>.ondemand, as in the current instances.json`,
		);
	}
	throw new PricingFormatError(
		[...keys].some((key) => EC2_PLATFORM.test(key))
			? `none of its ${data.length} instance types has a usable on-demand price (each is 0, "N/A", not a number, or missing)`
			: `none of its ${data.length} instance types has an on-demand price for an EC2 operating system (linux, mswin, rhel, sles, ubuntu, …): its prices are keyed by ${priceKeys}; is it the file of another AWS product?`,
	);
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
	/**
	 * Re-indexes when the file changed on disk; keeps the previous index (and logs an error naming
	 * the file) when the new file is missing or unusable.
	 */
	reloadIfChanged(): Promise<boolean>;
}

/** Size and modification time of the file, or "missing". */
const GONE = "missing";

/** Reads and indexes `path`; errors name the file. */
async function indexFile(path: string): Promise<PricingIndex> {
	let text: string;
	try {
		text = await Deno.readTextFile(path);
	} catch (error) {
		if (error instanceof Deno.errors.NotFound) {
			throw new PricingFormatError(`the pricing file "${path}" (setting PRICING_FILE) does not exist`);
		}
		throw new PricingFormatError(`cannot read the pricing file "${path}": ${(error as Error).message}`, {
			cause: error,
		});
	}
	try {
		return PricingIndex.fromText(text);
	} catch (error) {
		throw new PricingFormatError(`cannot use the pricing file "${path}": ${(error as Error).message}`, {
			cause: error,
		});
	}
}

/**
 * Loads and indexes the pricing file; a missing, unreadable or unusable file stops startup with
 * a {@link PricingFormatError} naming it.
 */
export async function createPricing(options: PricingOptions): Promise<Pricing> {
	let stamp: string | undefined;
	let source = options.path;
	let index: PricingIndex;
	const logged = new Set<string>();

	async function readStamp(): Promise<string> {
		try {
			const info = await Deno.stat(options.path);
			return `${info.mtime?.getTime()}:${info.size}`;
		} catch (error) {
			if (error instanceof Deno.errors.NotFound) return GONE;
			throw new PricingFormatError(`cannot read the pricing file "${options.path}": ${(error as Error).message}`);
		}
	}

	stamp = await readStamp();
	if (stamp === GONE && options.embedded) {
		index = PricingIndex.fromText(options.embedded());
		source = "embedded copy of fixtures/instances.json";
	} else {
		index = await indexFile(options.path);
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
			let current: string;
			try {
				current = await readStamp();
			} catch (error) {
				options.log.error("{message}, keeping the previous prices", { message: (error as Error).message });
				return false;
			}
			if (current === stamp) return false;
			if (current === GONE) {
				stamp = GONE;
				options.log.error("pricing file {path} is gone, keeping the previous prices", { path: options.path });
				return false;
			}
			try {
				const next = await indexFile(options.path);
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
				// The message names the file: "cannot use the pricing file "…": …".
				options.log.error("pricing file changed, keeping the previous prices: {message}", {
					path: options.path,
					message: (error as Error).message,
				});
				return false;
			}
		},
	};
}
