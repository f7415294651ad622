/**
 * The order instance types are offered in: by family, then by size, as people read them
 * (t3.nano < t3.micro < … < t3.2xlarge; m5.large < m5.xlarge < m5.2xlarge < m5.12xlarge < m5.metal),
 * not by their names' letters, which put m5.12xlarge before m5.2xlarge and m5.large.
 */

/** The named sizes below `xlarge`, smallest first. */
const NAMED_SIZES = ["nano", "micro", "small", "medium", "large"];

/** Families compare like words with numbers in them: m4 < m5 < m5a < m5d < m10. */
const families = new Intl.Collator("en", { numeric: true });

/**
 * A size as numbers that sort it: [rank, multiple]. The named sizes rank first, then `xlarge`
 * and `<n>xlarge` by n, then `metal` and its variants (`metal-24xl`) by their number; a size the
 * portal does not know ranks last (and falls back to its name).
 */
function sizeKey(size: string): [number, number] {
	const named = NAMED_SIZES.indexOf(size);
	if (named >= 0) return [named, 0];
	const xlarge = /^(\d*)xlarge$/.exec(size);
	if (xlarge) return [NAMED_SIZES.length, xlarge[1] ? Number(xlarge[1]) : 1];
	const metal = /^metal(?:-(\d+)xl)?$/.exec(size);
	if (metal) return [NAMED_SIZES.length + 1, metal[1] ? Number(metal[1]) : 0];
	return [NAMED_SIZES.length + 2, 0];
}

/** Splits `m5.xlarge` into its family and size (a name without a dot is all family). */
function parts(name: string): [string, string] {
	const dot = name.indexOf(".");
	return dot < 0 ? [name, ""] : [name.slice(0, dot), name.slice(dot + 1)];
}

/** Compares two instance type names by family, then size; a total order (equal only for equal names). */
export function compareInstanceTypes(a: string, b: string): number {
	const [familyA, sizeA] = parts(a);
	const [familyB, sizeB] = parts(b);
	const byFamily = families.compare(familyA, familyB);
	if (byFamily !== 0) return byFamily;
	const [rankA, multipleA] = sizeKey(sizeA);
	const [rankB, multipleB] = sizeKey(sizeB);
	if (rankA !== rankB) return rankA - rankB;
	if (multipleA !== multipleB) return multipleA - multipleB;
	return a < b ? -1 : a > b ? 1 : 0;
}

/** The instance types in the order they are offered, as a new list. */
export function sortInstanceTypes<T extends { name: string }>(types: readonly T[]): T[] {
	return [...types].sort((x, y) => compareInstanceTypes(x.name, y.name));
}
