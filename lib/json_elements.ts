/**
 * Splits the text of a JSON array of objects, given in pieces of any size, into its elements: each
 * element's text is handed over as soon as it is complete, so a file of any size is read with one
 * element in memory at a time (the pricing file: ~180 MB today, one element per instance type).
 * Each element is checked by `JSON.parse` where it is used; the array around the elements
 * (brackets, commas, whitespace, nothing after the end) is checked here.
 *
 * Optionally the values of one key at one depth are dropped before the element is handed over
 * (replaced by `null`): the pricing file's reserved-instance prices are 86% of its bytes and of
 * no use to the portal, and not parsing them makes indexing several times cheaper. A dropped value
 * is only checked for balanced brackets and strings, not token by token.
 */

/** The text is not a JSON array of objects, or not JSON at all. */
export class JsonElementsError extends SyntaxError {
	/** True when the text is JSON (or may be) but its top level is not an array. */
	readonly notArray: boolean;
	constructor(message: string, options: { notArray?: boolean } = {}) {
		super(message);
		this.name = "JsonElementsError";
		this.notArray = options.notArray ?? false;
	}
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;

// Where the splitter is in the array.
/** Before the opening `[`. */
const START = 0;
/** After `[`: an element or `]`. */
const FIRST = 1;
/** After `,`: an element. */
const NEXT = 2;
/** Inside an element. */
const ELEMENT = 3;
/** After an element: `,` or `]`. */
const AFTER = 4;
/** After `]`: only whitespace. */
const DONE = 5;
/** The top level is not an array: the head of the text is kept to say whether it is JSON at all. */
const NOT_ARRAY = 6;

/** How much of a text that is not an array is kept to tell "not JSON" from "not an array". */
const NOT_ARRAY_HEAD = 1 << 20;

function isWhitespace(c: number): boolean {
	return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Splits a JSON array of objects into its elements' texts; see the module comment. */
export class JsonArraySplitter {
	readonly #onElement: (text: string, index: number) => void;
	readonly #dropKey: string;
	readonly #dropDepth: number;
	#phase = START;
	/** Nesting inside the current element (1 = inside its braces). */
	#depth = 0;
	#inString = false;
	/** Backslashes that ended the previous piece inside a string (an escape may span pieces). */
	#backslashes = 0;
	/** After the key to drop: 1 = its closing quote seen, 2 = its colon seen. */
	#afterKey = 0;
	/** Inside a dropped value. */
	#dropping = false;
	/** The text so far of a string that goes on from an earlier piece, while it could still be the key to drop. */
	#keyHead: string | undefined;
	/** The current element's text from earlier pieces (and before dropped values). */
	#pieces: string[] = [];
	#count = 0;
	/** Characters before the current piece, for positions in messages. */
	#offset = 0;
	#head = "";

	/**
	 * `onElement` receives each element's text and its index in the array. With `drop`, object or
	 * array values of `drop.key` where it sits inside `drop.depth` nested objects or arrays (1 = the
	 * element's own keys) are replaced by `null`.
	 */
	constructor(
		onElement: (text: string, index: number) => void,
		options: { drop?: { key: string; depth: number } } = {},
	) {
		this.#onElement = onElement;
		this.#dropKey = options.drop?.key ?? "";
		this.#dropDepth = options.drop?.depth ?? -1;
	}

	/** How many elements were handed over so far. */
	get count(): number {
		return this.#count;
	}

	/** Takes the next piece of the text; throws {@link JsonElementsError} at the first mistake. */
	push(text: string): void {
		const n = text.length;
		let i = 0;
		while (i < n) {
			if (this.#phase === ELEMENT) {
				const end = this.#scan(text, i);
				if (end < 0) break;
				const pieces = this.#pieces;
				const element = pieces.length === 1 ? pieces[0]! : pieces.join("");
				this.#pieces = [];
				this.#phase = AFTER;
				this.#onElement(element, this.#count++);
				i = end;
				continue;
			}
			if (this.#phase === NOT_ARRAY) {
				this.#keepHead(text.slice(i));
				break;
			}
			const c = text.charCodeAt(i);
			if (isWhitespace(c)) {
				i++;
				continue;
			}
			switch (this.#phase) {
				case START:
					if (c === OPEN_BRACKET) {
						this.#phase = FIRST;
						i++;
					} else {
						this.#phase = NOT_ARRAY;
					}
					break;
				case FIRST:
				case NEXT:
					if (c === CLOSE_BRACKET && this.#phase === FIRST) {
						this.#phase = DONE;
						i++;
					} else if (c === OPEN_BRACE) {
						this.#phase = ELEMENT;
						this.#depth = 0;
					} else {
						throw this.#unexpected(text, i, this.#phase === NEXT ? "an entry after ','" : "an entry or ']'");
					}
					break;
				case AFTER:
					if (c === 0x2c) this.#phase = NEXT;
					else if (c === CLOSE_BRACKET) this.#phase = DONE;
					else throw this.#unexpected(text, i, "',' or ']'");
					i++;
					break;
				case DONE:
					throw this.#unexpected(text, i, "nothing after the closing ']'");
			}
		}
		this.#offset += n;
	}

	/** Says the text is complete; throws {@link JsonElementsError} when it is cut short or was not an array. */
	end(): void {
		switch (this.#phase) {
			case DONE:
				return;
			case START:
				throw new JsonElementsError("the text is empty");
			case NOT_ARRAY: {
				try {
					JSON.parse(this.#head);
				} catch (error) {
					if (this.#head.length < NOT_ARRAY_HEAD) throw new JsonElementsError((error as Error).message);
				}
				throw new JsonElementsError(`its top level is ${describe(this.#head)}, not an array`, { notArray: true });
			}
			default:
				throw new JsonElementsError(
					`the text ends inside the array, after ${this.#count} complete entries (is the file cut short?)`,
				);
		}
	}

	#keepHead(text: string): void {
		if (this.#head.length >= NOT_ARRAY_HEAD) return;
		this.#head += text.slice(0, NOT_ARRAY_HEAD - this.#head.length);
	}

	/**
	 * Scans the current element from `i`, adding its text (less dropped values) to the pieces;
	 * returns the index just after its closing brace, or -1 when it goes on in the next piece.
	 * Strings are skipped with `indexOf` (native, and most of the file is strings); an escaped quote
	 * is one preceded by an odd run of backslashes.
	 */
	#scan(text: string, i: number): number {
		let depth = this.#depth;
		let inString = this.#inString;
		let afterKey = this.#afterKey;
		let dropping = this.#dropping;
		let backslashes = this.#backslashes;
		const dropDepth = this.#dropDepth;
		const dropKey = this.#dropKey;
		/** Where the text to keep starts in this piece. */
		let keep = i;
		/** Where the current string opened in this piece (-1: in an earlier piece). */
		let opened = -1;
		const n = text.length;
		while (i < n) {
			if (inString) {
				const quote = text.indexOf('"', i);
				if (quote < 0) {
					let b = n - 1;
					while (b >= i && text.charCodeAt(b) === BACKSLASH) b--;
					backslashes = b < i ? backslashes + (n - i) : n - 1 - b;
					i = n;
					break;
				}
				let b = quote - 1;
				while (b >= i && text.charCodeAt(b) === BACKSLASH) b--;
				const run = quote - 1 - b + (b < i ? backslashes : 0);
				backslashes = 0;
				i = quote + 1;
				if ((run & 1) === 1) continue;
				inString = false;
				if (depth === dropDepth && !dropping && this.#isDropKey(text, opened, quote)) afterKey = 1;
				continue;
			}
			const c = text.charCodeAt(i);
			if (afterKey !== 0) {
				if (c === COLON && afterKey === 1) {
					afterKey = 2;
				} else if (afterKey === 2 && (c === OPEN_BRACE || c === OPEN_BRACKET)) {
					afterKey = 0;
					dropping = true;
					this.#pieces.push(text.slice(keep, i), "null");
				} else if (!isWhitespace(c)) {
					afterKey = 0;
				}
			}
			i++;
			if (c === QUOTE) {
				inString = true;
				opened = i - 1;
				backslashes = 0;
			} else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
				depth++;
			} else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
				depth--;
				if (dropping && depth === dropDepth) {
					dropping = false;
					keep = i;
				} else if (depth === 0) {
					this.#pieces.push(keep === 0 && i === n ? text : text.slice(keep, i));
					this.#depth = 0;
					this.#inString = false;
					this.#afterKey = 0;
					this.#dropping = false;
					return i;
				}
			}
		}
		if (inString) {
			// The string goes on in the next piece: keep its head while it could be the key to drop.
			this.#keyHead = opened >= 0
				? (n - opened - 1 <= dropKey.length ? text.slice(opened + 1) : undefined)
				: (this.#keyHead !== undefined && this.#keyHead.length + n <= dropKey.length
					? this.#keyHead + text
					: undefined);
		}
		if (!dropping) this.#pieces.push(keep === 0 ? text : text.slice(keep));
		this.#depth = depth;
		this.#inString = inString;
		this.#afterKey = afterKey;
		this.#dropping = dropping;
		this.#backslashes = backslashes;
		return -1;
	}

	/** Whether the string that closes at `quote` (opened at `opened`, or -1: in an earlier piece) is the key to drop. */
	#isDropKey(text: string, opened: number, quote: number): boolean {
		const key = this.#dropKey;
		if (opened >= 0) return quote - opened - 1 === key.length && text.startsWith(key, opened + 1);
		const head = this.#keyHead;
		return head !== undefined && head.length + quote === key.length && head + text.slice(0, quote) === key;
	}

	#unexpected(text: string, i: number, expected: string): JsonElementsError {
		const found = JSON.stringify(text.slice(i, i + 12));
		return new JsonElementsError(
			`expected ${expected} at character ${this.#offset + i + 1} (after ${this.#count} entries), found ${found}`,
		);
	}
}

function describe(head: string): string {
	const c = head.trimStart()[0];
	if (c === "{") return "an object";
	if (c === '"') return "a string";
	return "a single value";
}
