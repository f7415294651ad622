/**
 * The portal's settings: one typed, validated object, loaded once at startup from an optional
 * settings file (JSON) and `MLIY_*` environment overrides, then passed to every module that needs it.
 */
import { z } from "zod";
import { ConfigError } from "./errors.ts";
import { type Cidr, parseCidr } from "./net.ts";

const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const logLevel = z.preprocess(
	(value) => typeof value === "string" ? value.trim().toUpperCase().replace(/^WARN$/, "WARNING") : value,
	z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }),
);

/** A comma-separated setting (or a JSON list in the settings file) as a list of its trimmed items. */
function splitList(value: unknown): unknown {
	return typeof value === "string" ? value.split(",").map((s) => s.trim()).filter(Boolean) : value;
}

const stringList = z.preprocess(splitList, z.array(z.string().min(1), { error: "must be a comma-separated list" }));

const booleanLike = z.preprocess((value) => {
	if (typeof value !== "string") return value;
	const v = value.trim().toLowerCase();
	if (["1", "true", "yes", "on"].includes(v)) return true;
	if (["0", "false", "no", "off", ""].includes(v)) return false;
	return value;
}, z.boolean({ error: "must be true or false" }));

function jsonWhenString(value: unknown): unknown {
	if (typeof value !== "string") return value;
	try {
		return JSON.parse(value);
	} catch {
		return value;
	}
}

/** A number setting in [min, max], with messages in the settings' own words (not zod's "Too big"). */
function numberBetween(min: number, max: number, options: { whole: boolean }) {
	const number = z.coerce.number({ error: "must be a number" });
	return (options.whole ? number.int("must be a whole number") : number)
		.min(min, `must be at least ${min}`)
		.max(max, `must be at most ${max}`);
}
const wholeBetween = (min: number, max: number) => numberBetween(min, max, { whole: true });

const text = (max = 500) =>
	z.string({ error: "must be text" }).trim().min(1, "must not be empty").max(max, `must be at most ${max} characters`);

/**
 * A list of addresses or CIDR ranges, parsed once here: they are matched against the peer of
 * every proxied request.
 */
const addressRanges = z.preprocess(
	splitList,
	z.array(
		z.string().refine((value) => parseCidr(value) !== undefined, {
			error: (issue) => `"${issue.input}" is not an IP address or CIDR range`,
		}),
		{ error: "must be a comma-separated list of addresses or CIDR ranges" },
	),
).transform((ranges) => ranges.map((range) => parseCidr(range)!));

const databaseUrl = z.string().refine(
	(value) => value === ":memory:" || /^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/.test(value),
	{ error: "must start with file:, libsql://, http(s):// or ws(s)://, or be :memory:" },
);

/**
 * An http(s) URL with its scheme: `z.url()` alone accepts `portal.example.com:8080` (scheme
 * "portal.example.com:"), which would end up in every launch's progress URL. `z.httpUrl()` is not
 * used because it refuses IP addresses and localhost.
 */
const httpUrl = z.url({
	protocol: /^https?$/,
	error: "must be an absolute http(s) URL, like https://portal.example.com",
});

const timeZone = z.string().refine((value) => {
	try {
		new Intl.DateTimeFormat("en-US", { timeZone: value });
		return true;
	} catch {
		return false;
	}
}, { error: (issue) => `"${issue.input}" is not an IANA time zone` });

const REGION_NAME = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ebsPrice = z.number({ error: "must map volume types to numbers" }).min(0, "prices must be at least 0");

/**
 * Intervals of the sync job: its ticks count from the epoch, and only divisors of 60 start them at
 * the same minutes of every hour (the minute-by-minute check runs a tick once it begins).
 */
const SYNC_INTERVALS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];

/** The settings schema; every key is documented in the README's settings table. */
export const settingsSchema = z.object({
	HOST: text(255).default("127.0.0.1"),
	PORT: wholeBetween(0, 65535).default(8080),
	PUBLIC_URL: httpUrl.optional(),
	DATABASE_URL: databaseUrl.default("file:./data/mliy.db"),
	DATABASE_AUTH_TOKEN: z.string().optional(),
	DATABASE_SYNCHRONOUS: z.enum(["NORMAL", "FULL"], { error: "must be NORMAL or FULL" }).default("NORMAL"),
	DATABASE_BUSY_TIMEOUT_MS: wholeBetween(0, 60_000).default(5000),
	AUTH_PLUGIN: text().default("plugins/auth_header"),
	DNS_PLUGIN: text().default("plugins/dns_none"),
	DISPLAY_PLUGIN: text().default("plugins/display_none"),
	PLUGIN_SETTINGS: z.preprocess(
		jsonWhenString,
		z.record(z.string(), z.string(), { error: 'must be a JSON object of names to text, like {"NAME": "value"}' }),
	).default({}),
	REPLACEMENT_TOKENS: z.preprocess(
		jsonWhenString,
		z.array(z.tuple([z.string().min(1, "token must not be empty"), z.string()]), {
			error: 'must be a list of ["token", "replacement"] pairs',
		}),
	).default([]),
	LOG_LOCATION: text().default("./logs"),
	WEB_LOG_LEVEL: logLevel.default("INFO"),
	LAUNCH_LOG_LEVEL: logLevel.default("INFO"),
	AWS_REGION: z.string().regex(REGION_NAME, "must look like us-east-1").default("us-east-1"),
	AWS_ENDPOINT_URL: httpUrl.optional(),
	AWS_MAX_ATTEMPTS: wholeBetween(1, 20).default(5),
	AWS_TIMEOUT_SECONDS: numberBetween(1, 300, { whole: false }).default(20),
	LAUNCH_SUBNET_ID: z.string().regex(/^subnet-[0-9a-f]+$/, "must look like subnet-0abc...").optional(),
	LAUNCH_AVAILABILITY_ZONE: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, "must look like us-east-1a")
		.optional(),
	TRUSTED_PROXIES: addressRanges.prefault(["127.0.0.1", "::1"]),
	PROXY_SECRET_HEADER: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "must be a header name of letters, digits and dashes")
		.default("X-MLiy-Proxy-Secret"),
	PROXY_SECRET: z.string().min(24, "must be at least 24 characters").max(512, "must be at most 512 characters")
		.regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces (it is sent as a header value)").optional(),
	PROXY_SECRET_WAIVED: booleanLike.default(false),
	// The key material of the secret params (lib/sealed.ts); without it, the portal's own secret, which the database keeps.
	SECRET_PARAMS_KEY: z.string().min(32, "must be at least 32 characters").max(512, "must be at most 512 characters")
		.optional(),
	// Usernames are stored lower-case; lowering these once lets every comparison be exact.
	ADMIN_USERNAMES: stringList.transform((names) => names.map((name) => name.toLowerCase())).default([]),
	// Break-glass sign-in (lib/auth/break_glass.ts): off unless an operator turns it on.
	BREAK_GLASS: booleanLike.default(false),
	BREAK_GLASS_MINUTES: wholeBetween(5, 8 * 60).default(30),
	BREAK_GLASS_PER_MINUTE: wholeBetween(1, 100).default(5),
	// The portal's session after a redirect sign-in (an OIDC auth plugin, lib/auth/sign_in.ts): not renewed.
	SIGN_IN_SESSION_MINUTES: wholeBetween(5, 24 * 60).default(60),
	AWS_DISCOUNT: z.coerce.number({ error: "must be a number" }).min(0, "must be at least 0")
		.lt(1, "must be below 1 (a fraction)").default(0),
	DEFAULT_CHARGE_CODE: text(60).default("CHANGEME"),
	PRICING_FILE: text().default("fixtures/instances.json"),
	// A catalogue folder (lib/catalog/folder.ts) the portal syncs once at start, as `./mliy catalog:sync` does.
	CATALOG_FOLDER: text().optional(),
	// Overrides of the per-region EBS table (lib/billing/ebs.ts): a type's price for every region,
	// or a region's own prices; what it does not name keeps the table's price.
	EBS_PRICE_PER_GB_MONTH: z.preprocess(
		jsonWhenString,
		z.record(
			z.string(),
			z.union([ebsPrice, z.record(z.string(), ebsPrice, { error: "must map volume types to numbers" })], {
				error: "must map volume types to numbers, or regions to objects of volume types to numbers",
			}),
			{ error: 'must be a JSON object of volume types to $ per GB-month, like {"gp3": 0.08}' },
		).superRefine((prices, ctx) => {
			for (const [key, value] of Object.entries(prices)) {
				if (typeof value === "object" && !REGION_NAME.test(key)) {
					ctx.addIssue({
						code: "custom",
						message: `"${key}" is not a region like eu-west-1 (only regions take objects)`,
					});
				}
			}
		}),
	).optional(),
	TIME_ZONE: timeZone.default("UTC"),
	SYNC_INTERVAL_MINUTES: wholeBetween(1, 30).refine((n) => SYNC_INTERVALS.includes(n), {
		error: `must divide an hour evenly: one of ${SYNC_INTERVALS.join(", ")}`,
	}).default(5),
	LAUNCH_TIMEOUT_MINUTES: wholeBetween(5, 24 * 60).default(200),
	PROGRESS_TIMEOUT_MINUTES: wholeBetween(5, 7 * 24 * 60).default(240),
	USER_REFRESH_SECONDS: wholeBetween(5, 3600).default(60),
	SYNC_STALE_MINUTES: wholeBetween(1, 24 * 60).default(15),
	// A day whose billed cost differs from the estimate by more than this percentage is flagged.
	// Where the daily job writes last month's chargeback files; unset: no files (the billing page still offers them).
	CHARGEBACK_DIR: text().optional(),
	COST_GAP_PERCENT: numberBetween(0, 1000, { whole: false }).default(10),
	// A holder renews its lease every third of this while it works, so only a dead holder's lapses.
	LEASE_SECONDS: wholeBetween(2, 300).default(30),
	METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
	METRICS_ALLOWED_ADDRESSES: addressRanges.prefault(["127.0.0.1", "::1"]),
	RATE_LIMIT_PER_SOURCE: wholeBetween(1, 10_000_000).default(300),
	RATE_LIMIT_PER_INSTANCE: wholeBetween(1, 10_000_000).default(30),
	API_RATE_LIMIT_PER_TOKEN: wholeBetween(1, 10_000_000).default(120),
	DISPLAY_PUBLIC_IP: booleanLike.default(false),
	RUN_JOBS: booleanLike.default(true),
	// Processes serving one port (lib/workers.ts): the one started plus WORKERS - 1 copies of it.
	WORKERS: wholeBetween(1, 64).default(1),
	SMTP_HOST: text(255).optional(),
	SMTP_PORT: wholeBetween(1, 65535).default(587),
	SMTP_SECURE: booleanLike.default(false),
	SMTP_USER: text(320).optional(),
	SMTP_PASSWORD: z.string().min(1, "must not be empty").optional(),
	SMTP_FROM: text(320).default("MLiy <mliy@localhost>"),
}).superRefine((settings, ctx) => {
	const zone = settings.LAUNCH_AVAILABILITY_ZONE;
	if (settings.WORKERS > 1 && settings.DATABASE_URL === ":memory:") {
		ctx.addIssue({
			code: "custom",
			path: ["WORKERS"],
			message: "needs a database the processes share (a file: or libSQL server URL), not :memory:",
		});
	}
	if (settings.SMTP_PASSWORD !== undefined && settings.SMTP_USER === undefined) {
		ctx.addIssue({ code: "custom", path: ["SMTP_PASSWORD"], message: "needs SMTP_USER, the account it belongs to" });
	}
	if (zone !== undefined && !(zone.startsWith(settings.AWS_REGION) && zone.length === settings.AWS_REGION.length + 1)) {
		ctx.addIssue({
			code: "custom",
			path: ["LAUNCH_AVAILABILITY_ZONE"],
			message: `must be a zone of AWS_REGION "${settings.AWS_REGION}", like ${settings.AWS_REGION}a`,
		});
	}
});

/** The resolved settings every module receives. */
export type Settings = Readonly<z.infer<typeof settingsSchema>>;

/** Keys whose values are secrets: never logged, shown redacted. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
	"DATABASE_AUTH_TOKEN",
	"METRICS_TOKEN",
	"PROXY_SECRET",
	"SECRET_PARAMS_KEY",
	"SMTP_PASSWORD",
]);

/** Where a setting may come from, for error messages. */
export interface SettingsSources {
	/** Parsed settings file contents (a JSON object), if a file was given. */
	file?: unknown;
	/** Name of the settings file, used in messages. */
	fileName?: string;
	/** The process environment; `MLIY_<KEY>` overrides the file. */
	env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Resolves settings from a settings file and `MLIY_*` environment variables, applying defaults and
 * collecting every problem before failing.
 *
 * @example
 * ```ts
 * const settings = resolveSettings({ env: { MLIY_PORT: "9000" } });
 * settings.PORT; // 9000
 * ```
 */
export function resolveSettings(sources: SettingsSources = {}): Settings {
	const problems: string[] = [];
	const merged: Record<string, unknown> = {};
	const known = new Set(Object.keys(settingsSchema.shape));
	if (sources.file !== undefined) {
		if (typeof sources.file !== "object" || sources.file === null || Array.isArray(sources.file)) {
			throw new ConfigError(`Cannot load settings: ${sources.fileName ?? "the settings file"} must hold a JSON object`);
		}
		for (const [key, value] of Object.entries(sources.file)) {
			if (!known.has(key)) {
				problems.push(`"${key}" in ${sources.fileName ?? "the settings file"} is not a known setting`);
			} else merged[key] = value;
		}
	}
	for (const [name, value] of Object.entries(sources.env ?? {})) {
		if (!name.startsWith("MLIY_") || value === undefined || name === "MLIY_SETTINGS_FILE") continue;
		const key = name.slice("MLIY_".length);
		if (!known.has(key)) problems.push(`environment variable "${name}" is not a known setting`);
		else merged[key] = value;
	}
	const result = settingsSchema.safeParse(merged);
	if (!result.success) {
		for (const issue of result.error.issues) {
			const key = String(issue.path[0] ?? "settings");
			problems.push(`"${key}" ${issue.message}${describeValue(key, merged[key])}`);
		}
	}
	if (problems.length > 0) throw new ConfigError(`Cannot load settings: ${problems.join("; ")}`);
	return Object.freeze(result.data!);
}

/** The value a setting was given, for an error message; nothing when it is a secret. */
function describeValue(key: string, value: unknown): string {
	const shown = redact(key, value);
	if (shown === undefined || shown === REDACTED) return "";
	const text = typeof shown === "string" ? shown : JSON.stringify(shown);
	return `: current value is ${JSON.stringify(text.length > 80 ? text.slice(0, 77) + "..." : text)}`;
}

const REDACTED = "[redacted]";

/** Settings held as parsed address ranges, shown as written. */
const ADDRESS_SETTINGS: ReadonlySet<string> = new Set(["TRUSTED_PROXIES", "METRICS_ALLOWED_ADDRESSES"]);

/** Settings whose value may be a URL carrying credentials (`user:password@`, `?authToken=`). */
const URL_SETTINGS: ReadonlySet<string> = new Set(["DATABASE_URL", "PUBLIC_URL", "AWS_ENDPOINT_URL"]);

/**
 * A setting's value as logs and error messages may show it, whether or not it is valid: secrets
 * are hidden, plugin settings and replacement tokens keep only their names (their values are
 * often passwords), URLs lose their credentials and query string, and address ranges are shown
 * as written.
 */
export function redact(key: string, value: unknown): unknown {
	if (value === undefined) return undefined;
	if (SECRET_SETTINGS.has(key)) return REDACTED;
	if (key === "PLUGIN_SETTINGS") {
		const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
		return isObject ? Object.fromEntries(Object.keys(value).map((name) => [name, REDACTED])) : REDACTED;
	}
	if (key === "REPLACEMENT_TOKENS") {
		if (!Array.isArray(value)) return REDACTED;
		return value.map((pair) => Array.isArray(pair) && typeof pair[0] === "string" ? [pair[0], REDACTED] : REDACTED);
	}
	if (URL_SETTINGS.has(key) && typeof value === "string") return redactUrls(value);
	if (ADDRESS_SETTINGS.has(key) && Array.isArray(value)) {
		return value.map((range: string | Cidr) => typeof range === "string" ? range : range.text);
	}
	return value;
}

/**
 * Removes credentials from every URL in a text: `libsql://user:pw@host/db?authToken=x` becomes
 * `libsql://[redacted]@host/db?[redacted]`, and a token-like query parameter of a URL the first
 * rule could not delimit (a space in it) loses its value. Used for settings and for startup errors, whose
 * messages (libSQL's "The URL '…' is not in a valid format") may quote the database URL.
 */
export function redactUrls(text: string): string {
	return text.replace(
		/\b([a-z][a-z0-9+.-]*:\/\/)([^\s'"/?#@]*@)?([^\s'"?#]*)(\?[^\s'"#]*)?/gi,
		(_url, scheme: string, userInfo: string | undefined, rest: string, query: string | undefined) =>
			`${scheme}${userInfo ? `${REDACTED}@` : ""}${rest}${query ? `?${REDACTED}` : ""}`,
	).replace(/([?&][^\s'"=&?#]*(?:token|password|secret|key)[^\s'"=&?#]*=)[^\s'"&#]*/gi, `$1${REDACTED}`);
}

/**
 * Loads settings for the running process: reads the file named by `MLIY_SETTINGS_FILE` (or
 * `settings.json` in the working directory when present) and applies environment overrides.
 */
export async function loadSettings(env: Readonly<Record<string, string | undefined>>): Promise<Settings> {
	const explicit = env.MLIY_SETTINGS_FILE;
	const fileName = explicit ?? "settings.json";
	let text: string | undefined;
	try {
		text = await Deno.readTextFile(fileName);
	} catch (error) {
		if (!(error instanceof Deno.errors.NotFound) || explicit) {
			throw new ConfigError(`Cannot load settings: cannot read "${fileName}": ${(error as Error).message}`, {
				cause: error,
			});
		}
	}
	let file: unknown;
	if (text !== undefined) {
		try {
			file = JSON.parse(text);
		} catch (error) {
			// V8's message may quote the text around the mistake, which can be part of a secret.
			const reason = (error as Error).message.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, "");
			throw new ConfigError(`Cannot load settings: "${fileName}" is not valid JSON: ${reason}`, { cause: error });
		}
	}
	return resolveSettings({ file, fileName, env });
}

/** Settings as the startup log line shows them (see {@link redact}). */
export function redactedSettings(settings: Settings): Record<string, unknown> {
	return Object.fromEntries(Object.entries(settings).map(([key, value]) => [key, redact(key, value)]));
}

/** The base URL instances and emails use to reach the portal. */
export function publicUrl(settings: Pick<Settings, "PUBLIC_URL" | "HOST" | "PORT">): string {
	if (settings.PUBLIC_URL) return settings.PUBLIC_URL.replace(/\/+$/, "");
	const host = settings.HOST === "0.0.0.0" || settings.HOST === "::" ? "localhost" : settings.HOST;
	return `http://${host.includes(":") ? `[${host}]` : host}:${settings.PORT}`;
}
