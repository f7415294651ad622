/** The JSON array splitter the pricing file is read with: any JSON, cut anywhere, gives the same elements. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { JsonArraySplitter, JsonElementsError } from "../lib/json_elements.ts";
import { thrown } from "./_helpers/assert.ts";

/** The elements `pieces` split into, parsed. */
function split(pieces: string[], drop?: { key: string; depth: number }): unknown[] {
	const elements: unknown[] = [];
	const splitter = new JsonArraySplitter((text, i) => {
		assert.equal(i, elements.length);
		elements.push(JSON.parse(text));
	}, { drop });
	for (const piece of pieces) splitter.push(piece);
	splitter.end();
	return elements;
}

/** `text` cut at the given positions. */
function cut(text: string, at: number[]): string[] {
	const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
	const pieces: string[] = [];
	let from = 0;
	for (const point of points) {
		pieces.push(text.slice(from, point));
		from = point;
	}
	pieces.push(text.slice(from));
	return pieces;
}

/**
 * What dropping `key` at `depth` should give: its object or array values become null where the key
 * sits inside `depth` nested objects or arrays (`level` is the nesting of `value` itself).
 */
function dropped(value: unknown, key: string, depth: number, level = 1): unknown {
	if (Array.isArray(value)) return value.map((v) => dropped(v, key, depth, level + 1));
	if (typeof value !== "object" || value === null) return value;
	return Object.fromEntries(
		Object.entries(value).map(([k, v]) => [
			k,
			k === key && level === depth && typeof v === "object" && v !== null ? null : dropped(v, key, depth, level + 1),
		]),
	);
}

/** Strings that stress the scanner: quotes, backslashes (odd and even runs), brackets, non-ASCII. */
const nasty = fc.string({
	unit: fc.constantFrom("a", '"', "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "é", "€", "😀", "reserved"),
	maxLength: 12,
});
const json = fc.letrec((tie) => ({
	value: fc.oneof(
		{ depthSize: "small" },
		fc.constantFrom(null, true, false, 0, -1.5, 1e21),
		nasty,
		tie("object"),
		fc.array(tie("value"), { maxLength: 4 }),
	),
	object: fc.dictionary(fc.oneof(nasty, fc.constant("reserved")), tie("value"), { maxKeys: 5 }),
}));
const elements = fc.array(json.object as fc.Arbitrary<Record<string, unknown>>, { maxLength: 6 });

Deno.test("any array of objects, in any layout and cut anywhere, splits into its elements", () => {
	fc.assert(
		fc.property(
			elements,
			fc.constantFrom(undefined, 1, "\t"),
			fc.array(fc.nat(), { maxLength: 8 }),
			(array, indent, at) => {
				const text = JSON.stringify(array, null, indent);
				assert.deepEqual(split(cut(text, at)), JSON.parse(text));
			},
		),
		{ numRuns: 500 },
	);
});

Deno.test("dropping a key's values at one depth replaces exactly those by null, however the text is cut", () => {
	fc.assert(
		fc.property(elements, fc.integer({ min: 1, max: 3 }), fc.array(fc.nat(), { maxLength: 8 }), (array, depth, at) => {
			const text = JSON.stringify(array, null, 1);
			const whole = split([text], { key: "reserved", depth });
			assert.deepEqual(whole, (JSON.parse(text) as unknown[]).map((element) => dropped(element, "reserved", depth)));
			assert.deepEqual(split(cut(text, at), { key: "reserved", depth }), whole);
		}),
		{ numRuns: 500 },
	);
});

Deno.test("the pricing file's shape: reserved prices are dropped, on-demand ones kept, a piece a character long", () => {
	const record = {
		instance_type: "m9.large",
		pricing: {
			"us-east-1": {
				linux: { ondemand: "0.1", reserved: { "yrTerm1Standard.allUpfront": "0.06" } },
				emr: { emr: "0.02" },
			},
		},
		reserved: { kept: "at the element's own level" },
	};
	const text = JSON.stringify([record, record], null, 1);
	const expected = structuredClone(record) as typeof record & {
		pricing: { "us-east-1": { linux: { reserved: null } } };
	};
	(expected.pricing["us-east-1"].linux as { reserved: unknown }).reserved = null;
	assert.deepEqual(split([...text], { key: "reserved", depth: 4 }), [expected, expected]);
	assert.deepEqual(split([text], { key: "reserved", depth: 4 }), [expected, expected]);
});

Deno.test("what is not an array of objects is refused, with where and why", () => {
	const cases: [string[], RegExp, boolean][] = [
		[[""], /the text is empty/, false],
		[["  \n "], /the text is empty/, false],
		[['{"a": 1}'], /top level is an object, not an array/, true],
		[['"text"'], /top level is a string, not an array/, true],
		[["{oops"], /JSON/, false],
		[["[1]"], /expected an entry or '\]' at character 2 \(after 0 entries\), found "1\]"/, false],
		[['[{"a": 1} {"b": 2}]'], /expected ',' or '\]' at character 11 \(after 1 entries\)/, false],
		[['[{"a": 1},', "]"], /expected an entry after ',' at character 11/, false],
		[['[{"a": 1}]', ", 2"], /expected nothing after the closing '\]' at character 11/, false],
		[['[{"a": ', '"b\\"}'], /ends inside the array, after 0 complete entries \(is the file cut short\?\)/, false],
		[["[", "{}", ","], /cut short/, false],
	];
	for (const [pieces, message, notArray] of cases) {
		const error = thrown(() => split(pieces));
		assert.ok(error instanceof JsonElementsError, `${JSON.stringify(pieces)}: ${error}`);
		assert.match(error.message, message, JSON.stringify(pieces));
		assert.equal(error.notArray, notArray, JSON.stringify(pieces));
	}
	assert.deepEqual(split(["[", "]"]), []);
	assert.deepEqual(split([' [ {} , {"a":[]} ] \n']), [{}, { a: [] }]);
});
