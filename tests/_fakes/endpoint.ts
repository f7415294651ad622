/**
 * A scripted HTTP endpoint under the portal's real SDK adapter, for what moto will not produce on
 * demand: throttling and 5xx answers in each service's own protocol, a request that is never
 * answered, a port nothing listens on, or any answer a test scripts.
 */
import { createAws } from "../../lib/aws/sdk/mod.ts";
import type { Aws } from "../../lib/aws/types.ts";
import { getLoggers } from "../../lib/log.ts";
import { freePort } from "../../scripts/local_servers.ts";

/** What an endpoint does to every request. */
export type Fault = "throttling" | "5xx" | "timeout" | "refused";

/** An endpoint for the SDK; dispose (or close) to stop it and release any request it holds. */
export interface ScriptedEndpoint extends AsyncDisposable {
	url: string;
	/** How many requests it received. */
	served(): number;
	/** The AWS operation each request asked for, in order ("unknown" for Route 53, whose REST paths name none). */
	operations(): string[];
	close(): Promise<void>;
}

/** The answer to one request: the request, its body already read, and how many came before it. */
export type Script = (request: Request, body: string, index: number) => Response | Promise<Response>;

/** An endpoint on a free loopback port answering each request with `script`. */
export function scriptedEndpoint(script: Script): ScriptedEndpoint {
	let served = 0;
	const operations: string[] = [];
	const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
		const index = served++;
		const body = await request.text();
		operations.push(operationOf(request, body));
		return await script(request, body, index);
	});
	const close = () => server.shutdown();
	return {
		url: `http://127.0.0.1:${server.addr.port}`,
		served: () => served,
		operations: () => [...operations],
		close,
		[Symbol.asyncDispose]: close,
	};
}

/** The AWS operation a request asks for: JSON protocols name it in X-Amz-Target, query protocols in Action. */
function operationOf(request: Request, body: string): string {
	return request.headers.get("X-Amz-Target")?.split(".").at(-1) ?? new URLSearchParams(body).get("Action") ??
		"unknown";
}

/**
 * An endpoint answering every request with `fault`: AWS's throttling or internal-error answer in the
 * protocol of the service asked, an answer that never comes (until the endpoint is closed), or no
 * listener at all.
 */
export function faultyEndpoint(fault: Fault): ScriptedEndpoint {
	if (fault === "refused") {
		const close = () => Promise.resolve();
		return {
			url: `http://127.0.0.1:${freePort()}`,
			served: () => 0,
			operations: () => [],
			close,
			[Symbol.asyncDispose]: close,
		};
	}
	const released = Promise.withResolvers<void>();
	const endpoint = scriptedEndpoint(async (request, body) => {
		if (fault !== "timeout") return awsErrorResponse(request, body, fault);
		await released.promise;
		return new Response("too late", { status: 500 });
	});
	const close = async () => {
		released.resolve();
		await endpoint.close();
	};
	return { ...endpoint, close, [Symbol.asyncDispose]: close };
}

/** A {@link forwardingEndpoint}: the first request of the held operation, once it reached the target. */
export interface HoldingEndpoint extends ScriptedEndpoint {
	/** Resolves when the held request has been forwarded and its answer is being withheld. */
	held: Promise<void>;
}

/**
 * An endpoint passing every request on to `target` (moto) and its answer back, except the first
 * request of operation `hold`: that one reaches the target, but its answer is withheld until the
 * endpoint closes, as when the portal process that sent it dies waiting (a request AWS acted on).
 */
export function forwardingEndpoint(target: string, hold: string): HoldingEndpoint {
	const held = Promise.withResolvers<void>();
	const released = Promise.withResolvers<void>();
	let holding = false;
	const endpoint = scriptedEndpoint(async (request, body) => {
		const url = new URL(request.url);
		const headers = new Headers(request.headers);
		headers.delete("host");
		headers.delete("content-length");
		const answer = await fetch(`${target}${url.pathname}${url.search}`, {
			method: request.method,
			headers,
			body: ["GET", "HEAD"].includes(request.method) ? undefined : body,
		});
		const answered = new Headers(answer.headers);
		answered.delete("content-encoding");
		answered.delete("content-length");
		const response = new Response(await answer.arrayBuffer(), { status: answer.status, headers: answered });
		if (!holding && operationOf(request, body) === hold) {
			holding = true;
			held.resolve();
			await released.promise;
		}
		return response;
	});
	const close = async () => {
		released.resolve();
		await endpoint.close();
	};
	return { ...endpoint, held: held.promise, close, [Symbol.asyncDispose]: close };
}

/** AWS's throttling or internal-error answer, in the protocol of the service the request is for. */
export function awsErrorResponse(request: Request, body: string, fault: "throttling" | "5xx"): Response {
	const throttled = fault === "throttling";
	if (request.headers.get("x-amz-target")) { // EMR: JSON 1.1
		const type = throttled ? "ThrottlingException" : "InternalServerError";
		return Response.json({ __type: type, message: throttled ? "Rate exceeded" : "Internal error" }, {
			status: throttled ? 400 : 500,
			headers: { "x-amzn-errortype": type },
		});
	}
	if (body.includes("Version=2016-11-15")) { // EC2 query
		const code = throttled ? "RequestLimitExceeded" : "InternalError";
		return new Response(
			`<Response><Errors><Error><Code>${code}</Code><Message>${code}</Message></Error></Errors><RequestID>r</RequestID></Response>`,
			{ status: throttled ? 503 : 500, headers: { "Content-Type": "text/xml" } },
		);
	}
	// CloudFormation (query) and Route 53 (REST XML) share the ErrorResponse shape.
	return queryErrorResponse(
		throttled ? "Throttling" : "InternalFailure",
		throttled ? "Rate exceeded" : "Internal failure",
		{
			status: throttled ? 400 : 500,
			type: throttled ? "Sender" : "Receiver",
		},
	);
}

/** A CloudFormation / Route 53 style error answer with this code and message. */
export function queryErrorResponse(
	code: string,
	message: string,
	options: { status?: number; type?: "Sender" | "Receiver" } = {},
): Response {
	return new Response(
		`<ErrorResponse><Error><Type>${options.type ?? "Sender"}</Type><Code>${code}</Code><Message>${message}</Message>` +
			`</Error><RequestId>r-e</RequestId></ErrorResponse>`,
		{ status: options.status ?? 400, headers: { "Content-Type": "text/xml" } },
	);
}

/** An XML answer (the query protocols' success shape). */
export function xmlResponse(body: string): Response {
	return new Response(body, { status: 200, headers: { "Content-Type": "text/xml" } });
}

/** Keys for the portal's clients against a local AWS peer (moto or a scripted endpoint): they accept any. */
export const TEST_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };

/** The portal's SDK adapter against `endpoint`, recording each call's outcome as "Operation:kind" in `calls`. */
export function sdkAgainst(
	endpoint: string,
	options: { maxAttempts: number; timeoutSeconds?: number; calls?: string[] },
): Aws & { close(): void } {
	return createAws({
		region: "us-east-1",
		endpoint,
		credentials: TEST_CREDENTIALS,
		maxAttempts: options.maxAttempts,
		timeoutSeconds: options.timeoutSeconds ?? 5,
		log: getLoggers().boto,
		onCall: (operation, _seconds, error) => options.calls?.push(`${operation}:${error?.kind ?? "ok"}`),
	});
}
