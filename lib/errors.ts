/** The few error classes callers are expected to catch. */

/** A setting is missing or invalid; startup stops with this message. */
export class ConfigError extends Error {
	constructor(message: string, options?: ErrorOptions) {
		super(message, options);
		this.name = "ConfigError";
	}
}

/** A plugin folder or plugin function is unusable; startup stops with this message. */
export class PluginError extends Error {
	constructor(message: string, options?: ErrorOptions) {
		super(message, options);
		this.name = "PluginError";
	}
}

/** Why an AWS call failed, in terms the portal can act on. */
export type AwsErrorKind = "throttled" | "unavailable" | "timeout" | "not_found" | "invalid" | "denied" | "other";

/** An AWS call failed; `kind` says whether retrying later makes sense. */
export class AwsError extends Error {
	readonly kind: AwsErrorKind;
	readonly operation: string;
	readonly code: string | undefined;
	constructor(operation: string, kind: AwsErrorKind, message: string, options?: ErrorOptions & { code?: string }) {
		super(message, options);
		this.name = "AwsError";
		this.kind = kind;
		this.operation = operation;
		this.code = options?.code;
	}

	/** Throttling, service trouble and timeouts pass; the next attempt may succeed. */
	get transient(): boolean {
		return this.kind === "throttled" || this.kind === "unavailable" || this.kind === "timeout";
	}
}

/**
 * A request the portal refuses, with the HTTP status and a message safe to show the user.
 * Domain code throws it; routes turn it into a 4xx page, fragment or JSON body.
 */
export class UserError extends Error {
	readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503;
	readonly fields: Readonly<Record<string, string>>;
	constructor(
		status: UserError["status"],
		message: string,
		options?: ErrorOptions & { fields?: Record<string, string> },
	) {
		super(message, options);
		this.name = "UserError";
		this.status = status;
		this.fields = options?.fields ?? {};
	}
}
