/**
 * The adapter's one way to the AWS SDK. Each service's package is imported and its client created
 * on first use (keeping the SDK out of startup time); clients retry with the SDK's backoff and time
 * out. {@link Sdk.call} sends every command: it logs the call to boto.log, times it, counts it in
 * the metrics and turns SDK errors into {@link AwsError}s.
 */
import { AWS_TEXT, plainText } from "../../text.ts";
import type { Logger } from "@logtape/logtape";
import { AwsError, type AwsErrorKind } from "../../errors.ts";
import type { AwsCredentials } from "../types.ts";

/** Settings and hooks for the adapter. */
export interface AwsOptions {
	region: string;
	/** An explicit endpoint (moto in tests); otherwise the SDK's own resolution (incl. AWS_ENDPOINT_URL). */
	endpoint?: string;
	/** Keys for every client; without them the SDK's default chain finds them (environment, profile, role). */
	credentials?: AwsCredentials;
	maxAttempts: number;
	timeoutSeconds: number;
	log: Logger;
	/** Called after every AWS call, for metrics. */
	onCall?: (operation: string, seconds: number, error?: AwsError) => void;
	/** Instance metadata base URL. @default "http://169.254.169.254" */
	metadataUrl?: string;
}

/** What every service's client is built with. */
export interface ClientConfig {
	region: string;
	maxAttempts: number;
	retryMode: "standard";
	requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean };
	endpoint?: string;
	credentials?: AwsCredentials;
}

/** The part of an SDK client the adapter uses. */
export interface SdkClient {
	send(command: never): Promise<unknown>;
	destroy(): void;
}

/** A service's SDK package, imported on first use, and how to build its client. */
export interface SdkService<Package> {
	load(): Promise<Package>;
	client(sdk: Package, config: ClientConfig): SdkClient;
}

// deno-lint-ignore no-explicit-any
type Any = any;
type OperationOf<Key> = Key extends `${infer Operation}Command` ? Operation : never;
/** The operations a package has a command for: "DescribeStacks" for DescribeStacksCommand. */
export type Operation<Package> = OperationOf<keyof Package>;
/** An operation's command, as its class builds it. */
type CommandOf<Package, Op extends string> = Package[`${Op}Command` & keyof Package] extends
	new (...args: Any[]) => infer Command ? Command : never;
/** What an operation's command takes. */
export type InputOf<Package, Op extends string> = CommandOf<Package, Op> extends { readonly input: infer I } ? I
	: never;
/** What an operation's command answers (the SDK's output type). */
export type OutputOf<Package, Op extends string> = CommandOf<Package, Op> extends {
	resolveMiddleware(...args: Any[]): (...args: Any[]) => Promise<{ output: infer O }>;
} ? O
	: never;

/** Sends commands through lazily built clients; `close()` releases them. */
export interface Sdk {
	/**
	 * Sends `operation`'s command with `input`, logging and timing it; `detail` goes into the log
	 * line and is safe to log (names and ids, never parameter values).
	 */
	call<Package, Op extends Operation<Package>>(
		service: SdkService<Package>,
		operation: Op,
		input: InputOf<Package, Op>,
		detail?: Record<string, unknown>,
	): Promise<OutputOf<Package, Op>>;
	close(): void;
}

interface Connected {
	sdk: Record<string, unknown>;
	client: SdkClient;
}

/** Builds the {@link Sdk} the services send their commands through. */
export function createSdk(options: AwsOptions): Sdk {
	const config: ClientConfig = {
		region: options.region,
		maxAttempts: options.maxAttempts,
		retryMode: "standard",
		requestHandler: {
			connectionTimeout: Math.min(5000, options.timeoutSeconds * 1000),
			requestTimeout: options.timeoutSeconds * 1000,
			// Without it the handler only warns and the call waits for AWS forever.
			throwOnRequestTimeout: true,
		},
		...(options.endpoint ? { endpoint: options.endpoint } : {}),
		...(options.credentials ? { credentials: options.credentials } : {}),
	};
	const clients = new Map<SdkService<never>, Promise<Connected>>();

	function connect<Package>(service: SdkService<Package>): Promise<Connected> {
		const key = service as SdkService<never>;
		let existing = clients.get(key);
		if (!existing) {
			existing = service.load().then((sdk) => ({
				sdk: sdk as Record<string, unknown>,
				client: service.client(sdk, config),
			}));
			clients.set(key, existing);
		}
		return existing;
	}

	return {
		async call(service, operation, input, detail = {}) {
			const started = performance.now();
			try {
				const { sdk, client } = await connect(service);
				const Command = sdk[`${operation}Command`] as new (input: unknown) => never;
				const output = await client.send(new Command(input)) as {
					$metadata?: { requestId?: string; attempts?: number };
				};
				const seconds = (performance.now() - started) / 1000;
				options.onCall?.(operation, seconds);
				options.log.info("{operation} ok in {ms} ms", {
					operation,
					ms: Math.round(seconds * 1000),
					requestId: output?.$metadata?.requestId,
					attempts: output?.$metadata?.attempts,
					...detail,
				});
				return output as never;
			} catch (error) {
				const seconds = (performance.now() - started) / 1000;
				const awsError = toAwsError(operation, error);
				options.onCall?.(operation, seconds, awsError);
				const level = awsError.kind === "not_found" ? "info" : "warn";
				options.log[level]("{operation} failed ({kind}): {message}", {
					operation,
					kind: awsError.kind,
					code: awsError.code,
					message: awsError.message,
					ms: Math.round(seconds * 1000),
					...detail,
				});
				throw awsError;
			}
		},
		close() {
			for (const connected of clients.values()) connected.then((c) => c.client.destroy(), () => {});
			clients.clear();
		},
	};
}

/** The call's answer, or `undefined` when it fails with one of `kinds` (AWS does not know the thing asked for). */
export async function unlessMissing<T>(
	answer: Promise<T>,
	kinds: readonly AwsErrorKind[] = ["not_found"],
): Promise<T | undefined> {
	try {
		return await answer;
	} catch (error) {
		if (error instanceof AwsError && kinds.includes(error.kind)) return undefined;
		throw error;
	}
}

/** AWS tags (a list of Key/Value pairs) as a record. */
export function tagsToRecord(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
	const out: Record<string, string> = {};
	for (const t of tags ?? []) {
		const key = t.Key && plainText(t.Key, AWS_TEXT.tagKey);
		if (key) out[key] = plainText(t.Value ?? "", AWS_TEXT.tagValue);
	}
	return out;
}

/** Text AWS returns (a name, a reason) as the portal keeps it: see lib/text.ts. */
export function awsText(value: string | undefined, max: number = AWS_TEXT.name): string | undefined {
	return value === undefined ? undefined : plainText(value, max);
}

const THROTTLING = new Set([
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestLimitExceeded",
	"TooManyRequestsException",
	"RequestThrottled",
	"RequestThrottledException",
	"SlowDown",
	"PriorRequestNotComplete",
	"Rate exceeded",
]);

/** Classifies any error from the SDK (or the network under it) into an {@link AwsError}. */
export function toAwsError(operation: string, error: unknown): AwsError {
	if (error instanceof AwsError) return error;
	const e = error as {
		name?: string;
		Code?: string;
		code?: string;
		message?: string;
		$metadata?: { httpStatusCode?: number };
		$fault?: string;
		cause?: { code?: string };
	};
	const code = e.Code ?? e.name ?? e.code ?? "Error";
	const message = typeof e.message === "string" && e.message ? e.message : String(error);
	const status = e.$metadata?.httpStatusCode;
	const netCode = e.code ?? e.cause?.code ?? "";
	// A 4xx is AWS's answer to the request, so never a timeout, however its message reads (a
	// ValidationError about TimeoutInMinutes must fail the launch at once, not be retried).
	const answered = status !== undefined && status >= 400 && status < 500 && status !== 408;
	const timedOut = code === "TimeoutError" || code === "AbortError" || netCode === "ETIMEDOUT" ||
		/\btimed out\b/i.test(message);
	let kind: AwsErrorKind;
	if (THROTTLING.has(code) || status === 429 || /rate exceeded|throttl/i.test(message)) kind = "throttled";
	else if (timedOut && !answered) kind = "timeout";
	else if (
		/does not exist|NotFound|NoSuchHostedZone|not found/i.test(`${code} ${message}`) &&
		!/Instance profile|NoSuchEntity/i.test(message)
	) kind = "not_found";
	else if (
		(status !== undefined && status >= 500) || e.$fault === "server" ||
		/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|connection refused|Connection reset|socket hang up|error sending request/i
			.test(`${message} ${netCode}`)
	) {
		kind = "unavailable";
	} else if (
		/AccessDenied|UnauthorizedOperation|Forbidden|ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch/i.test(code)
	) {
		kind = "denied";
	} else if (status !== undefined && status >= 400) kind = "invalid";
	else kind = "other";
	return new AwsError(operation, kind, `${operation}: ${message}`, { cause: error, code });
}
