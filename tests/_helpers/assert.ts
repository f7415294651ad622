/** Small assertion helpers on top of node:assert. */
import assert from "node:assert/strict";

/** Returns the error `fn` throws; fails when it does not throw. */
export function thrown(fn: () => unknown): Error {
	try {
		fn();
	} catch (error) {
		return error as Error;
	}
	assert.fail("expected an error to be thrown");
}

/** Returns the error `promise` rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
	try {
		await promise;
	} catch (error) {
		return error as Error;
	}
	assert.fail("expected the promise to reject");
}

/** An error's message followed by its causes' messages. */
export function errorText(error: unknown): string {
	const parts: string[] = [];
	let e: unknown = error;
	while (e instanceof Error && parts.length < 5) {
		parts.push(e.message);
		e = e.cause;
	}
	return parts.join(" <- ");
}
