/**
 * Hostile input, generated (fast-check): huge strings, unicode, HTML/JS payloads, SQL fragments,
 * negative and overflowing numbers, malformed ids, against the progress callback, control actions,
 * the launch and cluster forms, the admin forms and the billing and team filters. Every answer is a
 * 2xx/3xx or a 4xx with a message, never a 5xx; a refused request writes nothing; every string is
 * escaped where it is shown; admin-entered HTML comes back sanitized.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { sql } from "drizzle-orm";
import { openBill } from "../lib/db/bills.ts";
import { getInstance } from "../lib/db/instances.ts";
import { AwsError } from "../lib/errors.ts";
import { sanitizeDescription } from "../lib/sanitize.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { addInstance, addLaunchedInstance, seedClusterWorld, seedWorld } from "./_helpers/world.ts";

const RUNS = 150;

/** Strings an attacker would try, mixed with arbitrary unicode and very long ones. */
const hostile = fc.oneof(
	fc.string({ maxLength: 40 }),
	fc.string({ unit: "grapheme", maxLength: 40 }),
	fc.constantFrom(
		"<script>alert(1)</script>",
		'"><img src=x onerror=alert(1)>',
		"javascript:alert(1)",
		"' OR 1=1 --",
		"'; DROP TABLE users; --",
		"../../etc/passwd",
		"%00",
		"\u0000\u202e\uFEFF",
		"{{{PROGRESS_TOKEN}}}",
		"${7*7}",
		"NaN",
		"-1",
		"1e309",
		"9007199254740993",
		"0x10",
		"",
		" ",
	),
	fc.string({ minLength: 1000, maxLength: 5000 }),
	fc.integer().map(String),
	fc.double().map(String),
);

async function tableCounts(deps: TestDeps): Promise<Record<string, number>> {
	const out: Record<string, number> = {};
	for (
		const table of [
			"users",
			"groups",
			"software_configs",
			"instance_types",
			"security_groups",
			"params",
			"launches",
			"instances",
			"bills",
			"memberships",
		]
	) {
		const [row] = await deps.db.all<{ n: number }>(sql.raw(`SELECT count(*) AS n FROM ${table}`));
		out[table] = Number(row!.n);
	}
	return out;
}

function assertNoServerError(res: Response, what: string) {
	assert.ok(res.status < 500, `${what} → ${res.status}`);
}

/** An error answer names what is wrong (JSON error field, or an alert in HTML). */
async function assertClearRefusal(res: Response, what: string) {
	if (res.status < 400) return;
	const text = await res.text();
	assert.ok(
		/"error":"[^"]{8,}|role="alert"[^>]*>[^<]{8,}/.test(text),
		`${what}: a ${res.status} without a message: ${text.slice(0, 200)}`,
	);
	assert.doesNotMatch(text, RAW_VALIDATOR_WORDING, `${what}: a validator's raw message reached the user`);
}

/** zod's default messages speak to programmers; users must see our wording. */
const RAW_VALIDATOR_WORDING = /Too small:|Too big:|Invalid input:|expected (number|string|array), received/;

Deno.test("progress callbacks: arbitrary ids, stages, numbers and tokens never cause a 5xx or a write", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addLaunchedInstance(deps.db, world, "real-token", {
		privateIp: "10.1.1.1",
		progressPercent: 7,
		progressText: "before",
	});
	await fc.assert(
		fc.asyncProperty(
			hostile,
			hostile,
			fc.oneof(fc.integer({ min: -1e12, max: 1e12 }), fc.constant(NaN)),
			hostile,
			fc.boolean(),
			async (id, stage, num, token, useRealId) => {
				const instanceId = useRealId ? "i-0123456789abcdef0" : id;
				const path = `/ajax/progress/${encodeURIComponent(instanceId)}/${encodeURIComponent(`${stage}(${num})`)}`;
				const res = await request(deps.app, path, {
					from: "10.9.9.9",
					headers: { "X-MLiy-Progress-Token": token.replace(/[^ -~]/g, "") /* header values: printable ASCII */ },
				});
				assertNoServerError(res, path);
				assert.ok(res.status >= 400, `${path} must be refused: ${res.status}`);
				await assertClearRefusal(res, path);
			},
		),
		{ numRuns: RUNS },
	);
	const row = (await getInstance(deps.db, "i-0123456789abcdef0"))!;
	assert.equal(row.progressPercent, 7);
	assert.equal(row.progressText, "before", "nothing was written");
});

Deno.test("control actions: arbitrary ids and actions never cause a 5xx or an AWS call", async () => {
	const aws = fakeAws();
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: "i-0123456789abcdef0", ownerId: world.olga.id, state: "running" });
	await fc.assert(
		fc.asyncProperty(hostile, hostile, fc.constantFrom("POST", "GET", "PUT", "DELETE"), async (id, action, method) => {
			const path = `/ajax/instance/${encodeURIComponent(id)}/${encodeURIComponent(action)}`;
			const res = await request(deps.app, path, { user: "alice", method, form: method === "GET" ? undefined : {} });
			assertNoServerError(res, `${method} ${path}`);
			assert.ok(res.status >= 400, `${method} ${path} → ${res.status}`);
			await assertClearRefusal(res, path);
		}),
		{ numRuns: RUNS },
	);
	assert.deepEqual(aws.changes(), []);
});

/** A field's error as the forms show it: next to the field, or at the top of its fieldset. */
const FIELD_ERROR = /class="error"(?: id="f-\w+-error")? role="alert">[^<]+</;

/** A cluster form (seedClusterWorld's Spark configuration) that the portal accepts. */
const VALID_CLUSTER_FORM = {
	instanceType: "m4.large",
	purpose: "Churn model, Q3",
	coreNodes: "3",
	market: "ON_DEMAND",
	bidPrice: "",
	autoTerminateHours: "1",
	autoTerminateMinutes: "30",
};

Deno.test("launch and cluster forms: hostile values are refused with field errors and record no launch", async () => {
	// A launch that gets through is recorded; the job it kicks finds AWS throttling and leaves it queued.
	const aws = fakeAws({
		cloudFormation: {
			createStack: () => Promise.reject(new AwsError("CreateStack", "throttled", "Rate exceeded")),
		},
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedClusterWorld(deps.db);
	let before = await tableCounts(deps);
	const offered = ["t2.micro", "m4.large", "r4.4xlarge"];
	await fc.assert(
		fc.asyncProperty(
			hostile.filter((t) => !offered.includes(t)),
			fc.array(hostile, { maxLength: 8 }),
			hostile,
			hostile,
			async (type, groups, group, config) => {
				const res = await request(deps.app, `/launch/${encodeURIComponent(group)}/${encodeURIComponent(config)}`, {
					user: "alice",
					form: { intent: "launch", instanceType: type, securityGroups: groups },
				});
				assertNoServerError(res, `launch ${group}/${config}`);
				assert.ok(res.status >= 400, `launch ${group}/${config} → ${res.status}`);
				const html = await res.clone().text();
				assert.doesNotMatch(html, /<script>alert|<img src=x/);
				await assertClearRefusal(res, "launch");
			},
		),
		{ numRuns: RUNS },
	);
	// The real group and config with hostile values: always a 422 with the field marked.
	await fc.assert(
		fc.asyncProperty(hostile.filter((t) => !offered.includes(t)), async (type) => {
			const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
				user: "alice",
				form: { intent: "launch", instanceType: type },
			});
			assert.equal(res.status, 422);
			const html = await res.text();
			assert.match(html, /id="f-instanceType-error" role="alert">[^<]+</);
			assert.doesNotMatch(html, /<script>alert|<img src=x/);
		}),
		{ numRuns: RUNS },
	);
	assert.deepEqual(await tableCounts(deps), before, "nothing was written");
	assert.deepEqual(aws.changes(), []);

	// The cluster form: every field sometimes valid, sometimes hostile. A form that is valid after
	// all is recorded (303); any other answer is a 422 marking a field, and writes nothing. (The
	// wording of each refusal is checked field by field in the next test.)
	const cluster = `/launch/${world.emrGroup.id}/${world.spark.id}`;
	const sometimes = (...good: string[]) =>
		fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 2 }, { arbitrary: hostile, weight: 1 });
	const accepted = await request(deps.app, cluster, {
		user: "alice",
		form: { intent: "launch", ...VALID_CLUSTER_FORM },
	});
	assert.equal(accepted.status, 303, "the valid form goes through");
	before = { ...before, launches: before.launches! + 1 };
	assert.deepEqual(await tableCounts(deps), before, "it recorded one launch");
	let refused = 0;
	await fc.assert(
		fc.asyncProperty(
			fc.record({
				instanceType: sometimes(VALID_CLUSTER_FORM.instanceType),
				purpose: sometimes(VALID_CLUSTER_FORM.purpose),
				coreNodes: sometimes("2", "240"),
				market: sometimes("ON_DEMAND", "SPOT"),
				bidPrice: sometimes("", "0.05"),
				autoTerminateHours: sometimes("0", "71"),
				autoTerminateMinutes: sometimes("0", "59"),
			}),
			async (form) => {
				const res = await request(deps.app, cluster, { user: "alice", form: { intent: "launch", ...form } });
				const what = `cluster form ${JSON.stringify(form).slice(0, 300)}`;
				if (res.status === 303) {
					assert.match(res.headers.get("Location") ?? "", /^\/launches\/[0-9a-f-]{36}$/);
					before = { ...before, launches: before.launches! + 1 };
					assert.deepEqual(await tableCounts(deps), before, `${what}: one launch recorded`);
					return;
				}
				refused += 1;
				assert.equal(res.status, 422, `${what} → ${res.status}`);
				const html = await res.text();
				assert.match(html, FIELD_ERROR, `${what}: no field marked`);
				assert.doesNotMatch(html, /<script>alert|<img src=x/);
				assert.deepEqual(await tableCounts(deps), before, `${what}: nothing written`);
			},
		),
		{ numRuns: RUNS },
	);
	assert.ok(refused > RUNS / 2, `${refused} of ${RUNS} hostile cluster forms were refused`);
	await deps.background.idle();
	assert.ok(aws.changes().every((call) => call === "cloudFormation.createStack"), aws.changes().join(", "));
});

Deno.test("cluster form: each field's refusal is in our wording, next to the field", async () => {
	await using deps = await createTestDeps();
	const world = await seedClusterWorld(deps.db);
	const bad: Record<keyof typeof VALID_CLUSTER_FORM, string[]> = {
		instanceType: ["", "t2.nano", "m".repeat(65)],
		purpose: ["", " ", "<b>hi</b>", "x".repeat(101)],
		coreNodes: ["", "1", "241", "2.5", "abc", "-3"],
		market: ["", "x", "on_demand"],
		bidPrice: ["abc", "0", "101"],
		autoTerminateHours: ["-1", "72", "1.5", "abc"],
		autoTerminateMinutes: ["-1", "60", "1.5", "abc"],
	};
	const failures: string[] = [];
	for (const [field, values] of Object.entries(bad)) {
		for (const value of values) {
			const res = await request(deps.app, `/launch/${world.emrGroup.id}/${world.spark.id}`, {
				user: "alice",
				form: { intent: "launch", ...VALID_CLUSTER_FORM, [field]: value },
			});
			const errors = [...(await res.text()).matchAll(/class="error"(?: id="f-\w+-error")? role="alert">([^<]+)</g)]
				.map((m) => m[1]!);
			const what = `${field}=${JSON.stringify(value.slice(0, 12))} → ${res.status} ${JSON.stringify(errors)}`;
			if (res.status !== 422 || errors.length !== 1) failures.push(`${what}: expected a 422 marking one field`);
			else if (RAW_VALIDATOR_WORDING.test(errors[0]!)) failures.push(`${what}: the validator's own wording`);
		}
	}
	assert.deepEqual(failures, []);
});

Deno.test("admin forms: hostile values re-render escaped with field errors and write nothing", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	let before = await tableCounts(deps);
	const fields = fc.record({
		name: hostile,
		directoryName: hostile,
		keyName: hostile,
		iamInstanceProfile: hostile,
		costCenter: hostile,
		settings: hostile,
		defaultSecurityGroups: fc.array(hostile, { maxLength: 3 }),
		excludedTypes: fc.array(hostile, { maxLength: 3 }),
	});
	await fc.assert(
		fc.asyncProperty(fields, async (form) => {
			const res = await request(deps.app, "/admin/groups/new", { user: "ada", form });
			assertNoServerError(res, "group form");
			if (res.status === 303) {
				before = await tableCounts(deps); // a valid group was created; that is allowed
				return;
			}
			assert.equal(res.status, 422);
			const html = await res.text();
			assert.doesNotMatch(html, /<script>alert|<img src=x onerror/);
			assert.match(html, /class="error" id="f-\w+-error" role="alert">[^<]+</);
			assert.doesNotMatch(html, RAW_VALIDATOR_WORDING);
			assert.deepEqual(await tableCounts(deps), before);
		}),
		{ numRuns: RUNS },
	);
	// The other forms: each answer is a success (a 303, or the import's summary) or a 422 naming
	// what is wrong that writes nothing.
	for (
		const [path, make] of [
			["/admin/instance-types/new", (v: string) => ({ name: v, description: v })],
			["/admin/security-groups/new", (v: string) => ({ sgId: v, name: v })],
			["/admin/params/new", (v: string) => ({ token: v, value: v })],
			["/admin/catalog", (v: string) => ({ document: v })],
			[
				"/admin/configs/new",
				(v: string) => ({ name: v, kind: v, templateBody: v, volumeSizeGb: v, compatibleTypes: [v] }),
			],
		] as const
	) {
		// The import answers with its page and a summary; its one field is the document.
		const imports = path === "/admin/catalog";
		await fc.assert(
			fc.asyncProperty(hostile, async (value) => {
				const res = await request(deps.app, path, { user: "ada", form: make(value) });
				const what = `${path} ${JSON.stringify(value).slice(0, 40)}`;
				assertNoServerError(res, what);
				const html = await res.text();
				assert.doesNotMatch(html, /<script>alert|<img src=x onerror/);
				if (res.status === (imports ? 200 : 303)) {
					if (imports) assert.match(html, /role="status">Imported: \d+ created, \d+ updated\.</, what);
					before = await tableCounts(deps); // a valid item was created; that is allowed
					return;
				}
				assert.equal(res.status, 422, what);
				if (imports) {
					// Says where in the document the problem is; the detail may be the schema's own words
					// ("expected object, received number"), which describe a document's shape to an admin.
					assert.match(html, /class="error-box" role="alert">The document [^<]{8,}</, what);
				} else {
					assert.match(html, FIELD_ERROR, what);
					assert.doesNotMatch(html, RAW_VALIDATOR_WORDING, what);
				}
				assert.deepEqual(await tableCounts(deps), before, `${what}: nothing written`);
			}),
			{ numRuns: 60 },
		);
	}
});

Deno.test("billing, team and dashboard lists: arbitrary query strings answer 200, 400 or 403, never a 5xx", async () => {
	await using deps = await createTestDeps();
	await seedWorld(deps.db);
	const query = fc.dictionary(
		fc.constantFrom(
			"from",
			"to",
			"user",
			"group",
			"costCenter",
			"state",
			"owner",
			"page",
			"q",
			"sort",
			"dir",
			"kind",
			"config",
			"x",
		),
		hostile,
		{ maxKeys: 5 },
	);
	await fc.assert(
		fc.asyncProperty(
			query,
			fc.constantFrom("/billing", "/billing.csv", "/team", "/", "/dashboard/instances"),
			async (params, path) => {
				const qs = new URLSearchParams(params).toString();
				const res = await request(deps.app, `${path}?${qs}`, { user: "alice" });
				assertNoServerError(res, `${path}?${qs}`);
				assert.ok([200, 400, 403].includes(res.status), `${path}?${qs} → ${res.status}`);
				if (res.status !== 200) await assertClearRefusal(res, path);
				else assert.doesNotMatch(await res.text(), /<script>alert|<img src=x onerror/);
			},
		),
		{ numRuns: RUNS * 2 },
	);
});

Deno.test("every string from users or AWS is escaped where pages show it", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	// One payload per field, tagged with the field's name, so each page is checked for what it shows.
	const payload = (field: string) => `<script>alert("${field}")</script><img src=x onerror=alert(1)>`;
	await deps.db.run(
		sql`UPDATE users SET first_name = ${payload("first")}, last_name = ${payload("last")} WHERE id = ${world.bob.id}`,
	);
	await addInstance(deps.db, {
		id: "i-0aaaaaaaaaaaaaaa1",
		ownerId: world.bob.id,
		groupId: world.science.id,
		configId: world.config.id,
		name: payload("name"),
		progressText: payload("progress"),
		progressPercent: 40,
		dnsName: payload("dns"),
	});
	await deps.db.run(sql`UPDATE software_configs SET name = ${payload("config")}`);
	// A bill, so /billing has a row with the owner's name, the description and the cost center.
	await openBill(deps.db, {
		resourceKind: "instance",
		resourceId: "i-0aaaaaaaaaaaaaaa1",
		userId: world.bob.id,
		groupId: world.science.id,
		costCenter: payload("costCenter"),
		description: payload("description"),
		hourlyRate: 0.1,
		startedAt: new Date(deps.clock().getTime() - 3_600_000),
	});
	const pages: [string, string[]][] = [
		["/", ["first", "last", "name", "dns", "progress", "config"]],
		["/team", ["first", "last", "name", "dns", "progress", "config"]],
		["/instances/i-0aaaaaaaaaaaaaaa1", ["first", "last", "name", "dns", "progress", "config"]],
		["/instances/i-0aaaaaaaaaaaaaaa1/row", ["name", "dns", "progress", "config"]],
		[`/launch/${world.science.id}`, ["first", "last", "config"]],
		["/billing", ["first", "last", "costCenter", "description"]],
	];
	for (const [path, fields] of pages) {
		const res = await request(deps.app, path, { user: "bob" });
		assert.equal(res.status, 200, path);
		const html = await res.text();
		assert.doesNotMatch(html, /<script>alert\(|<img src=x/, path);
		// Each payload is shown as text: `<` and `"` escaped (a bare `>` in text is harmless).
		const shown = new Set(
			[...html.matchAll(
				/&lt;script(?:>|&gt;)alert\(&quot;(\w+)&quot;\)&lt;\/script(?:>|&gt;)&lt;img src=x onerror=alert\(1\)(?:>|&gt;)/g,
			)]
				.map((m) => m[1]),
		);
		assert.deepEqual(fields.filter((f) => !shown.has(f)), [], `${path} shows every field, escaped`);
	}
});

Deno.test("admin-entered HTML descriptions are sanitized, whatever they contain", () => {
	const tag = fc.constantFrom("script", "img", "iframe", "a", "svg", "style", "b", "p", "object", "math", "form");
	const attr = fc.constantFrom("onerror", "onclick", "href", "src", "style", "onload", "formaction");
	const value = fc.constantFrom(
		"javascript:alert(1)",
		"x",
		"data:text/html,<script>alert(1)</script>",
		"https://ok.example",
		"vbscript:x",
	);
	const element = fc.tuple(tag, attr, value, fc.string({ maxLength: 20 })).map(([t, a, v, text]) =>
		`<${t} ${a}="${v}">${text}</${t}>`
	);
	fc.assert(
		fc.property(fc.array(fc.oneof(element, fc.string({ maxLength: 30 })), { maxLength: 6 }), (parts) => {
			const clean = sanitizeDescription(parts.join(""));
			assert.doesNotMatch(clean, /<(script|iframe|object|svg|style|img|form|math)\b/i);
			assert.doesNotMatch(clean, /\son\w+=/i);
			assert.doesNotMatch(clean, /(javascript|vbscript|data):/i);
		}),
		{ numRuns: RUNS * 4 },
	);
});
