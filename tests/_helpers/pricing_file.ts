/**
 * Pricing files for tests and the benchmark: the real files of four eras (tests/_data/, the 2017
 * one is fixtures/instances.json), and a large file generated from today's format by repeating
 * its one real record under distinct type names (today's real file is ~180 MB; never committed).
 */

const data = new URL("../_data/", import.meta.url).pathname;

/** The real files, by era. */
export const PRICING_FILES = {
	/** Before 2015-08: prices are plain strings (`"linux": "0.450"`), 27 types. */
	y2014: `${data}ec2instances-2014-01.json`,
	/** 70 types; "N/A" for platforms a type has no price for. */
	y2016: `${data}ec2instances-2016-12.json`,
	/** 88 types: byte for byte the shipped fixtures/instances.json. */
	y2017: new URL("../../fixtures/instances.json", import.meta.url).pathname,
	/** One record of today's format (x2iedn.32xlarge): EMR, dedicated, ubuntu, linuxSQL*, rhelSQL* prices. */
	y2026: `${data}ec2instances-2026-one-type.json`,
	/** Three RDS instance classes in the shape of ec2instances.info's rds/instances.json (hand-made). */
	rds: `${data}rds-instances-sample.json`,
} as const;

/** The name of the `k`th generated type: the real x2iedn.32xlarge, then x2iedn1.32xlarge, x2iedn2.32xlarge, … */
export function generatedType(k: number): string {
	return k === 0 ? "x2iedn.32xlarge" : `x2iedn${k}.32xlarge`;
}

/** What {@link writeGeneratedPricingFile} wrote. */
export interface GeneratedPricingFile {
	bytes: number;
	types: number;
}

/**
 * Writes a pricing file of today's format of about `targetBytes`: the 2026 record (pretty-printed
 * with one space, as the real file is) repeated under {@link generatedType} names. `scale`
 * multiplies the us-east-1 Linux on-demand price of every type (to tell two generated files apart).
 * Written record by record: the benchmark's ~180 MB never sits in memory.
 */
export async function writeGeneratedPricingFile(
	path: string,
	options: { targetBytes: number; scale?: number },
): Promise<GeneratedPricingFile> {
	const [record] = JSON.parse(await Deno.readTextFile(PRICING_FILES.y2026)) as Record<string, unknown>[];
	const template = structuredClone(record!) as {
		instance_type: string;
		pretty_name: string;
		pricing: Record<string, Record<string, { ondemand?: string }>>;
	};
	template.instance_type = "@TYPE@";
	template.pretty_name = "@PRETTY@";
	const linux = template.pricing["us-east-1"]!.linux!;
	linux.ondemand = String(Number(linux.ondemand) * (options.scale ?? 1));
	const json = JSON.stringify(template, null, 1);
	const encoder = new TextEncoder();
	const types = Math.max(1, Math.round(options.targetBytes / (encoder.encode(json).length + 2)));
	const file = await Deno.open(path, { write: true, create: true, truncate: true });
	const writer = file.writable.getWriter();
	await writer.write(encoder.encode("[\n"));
	for (let k = 0; k < types; k++) {
		const text = json.replace('"@TYPE@"', JSON.stringify(generatedType(k)))
			.replace('"@PRETTY@"', JSON.stringify(`X2IEDN${k || ""} 32xlarge`));
		await writer.write(encoder.encode(k === 0 ? text : `,\n${text}`));
	}
	await writer.write(encoder.encode("\n]\n"));
	await writer.close();
	return { bytes: (await Deno.stat(path)).size, types };
}
