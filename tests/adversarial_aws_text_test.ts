/**
 * Names, tags and reasons that come from AWS are anyone's with `ec2:CreateTags` to write: the
 * portal keeps them bounded in length and without the characters that reorder or hide what is
 * shown (a right-to-left override, zero-width spaces), from the SDK adapter on, and shows rows
 * recorded before that rule the same way.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { updateInstance } from "../lib/db/instances.ts";
import { AWS_TEXT, plainText } from "../lib/text.ts";
import { scriptedEndpoint, xmlResponse } from "./_fakes/endpoint.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { addInstance, seedWorld } from "./_helpers/world.ts";

const HIDDEN =
	// deno-lint-ignore no-control-regex
	/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;
const RLO = "\u202e";
const ID = "i-0123456789abcdef0";

Deno.test("plainText() drops bidi controls, invisible and control characters, keeps the rest, and bounds the length", () => {
	assert.equal(plainText(`invoice${RLO}fdp.exe`, 50), "invoicefdp.exe");
	assert.equal(plainText("a\u200bdmin\u2066x\u2069", 50), "adminx");
	assert.equal(plainText("tab\tand\nnewline\u0007bell", 50), "tab\tand\nnewlinebell");
	assert.equal(plainText("Ünïcødé 名前 ok", 50), "Ünïcødé 名前 ok");
	assert.equal(plainText("x".repeat(300), 256), `${"x".repeat(255)}…`);
	assert.equal(plainText("😀".repeat(10), 5), `${"😀".repeat(4)}…`, "never half a character");
	fc.assert(
		fc.property(fc.string({ unit: "binary", maxLength: 400 }), fc.integer({ min: 1, max: 300 }), (value, max) => {
			const shown = plainText(value, max);
			return !HIDDEN.test(shown) && Array.from(shown).length <= max;
		}),
		{ numRuns: 500 },
	);
});

Deno.test("a Name tag with a right-to-left override and 5,000 characters comes out of the adapter bounded and plain, and is shown so", async () => {
	const forged = `prod-db${RLO}${"\u200b".repeat(10)}${"A".repeat(5000)}`;
	await using ec2 = scriptedEndpoint(() =>
		xmlResponse(
			`<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet><item><reservationId>r-1</reservationId><instancesSet><item><instanceId>${ID}</instanceId><imageId>ami-1</imageId><instanceState><code>16</code><name>running</name></instanceState><instanceType>t2.micro</instanceType><stateReason><message>x</message></stateReason><reason>User initiated${RLO} by admin</reason><tagSet><item><key>Name</key><value>${forged}</value></item><item><key>LaunchedBy</key><value>MLIY</value></item><item><key>${
				"K".repeat(300)
			}${RLO}</key><value>v</value></item></tagSet></item></instancesSet></item></reservationSet></DescribeInstancesResponse>`,
		)
	);
	await using deps = await createTestDeps({ awsEndpoint: ec2.url });
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, { id: ID, ownerId: world.alice.id, groupId: world.science.id, name: "before" });

	// The adapter returns the tags as the portal keeps them.
	const [seen] = await deps.aws.ec2.describeInstances({ filters: { "instance-id": [ID] } });
	assert.equal(seen!.tags.Name, plainText(forged, AWS_TEXT.tagValue));
	assert.equal(Array.from(seen!.tags.Name!).length, AWS_TEXT.tagValue);
	assert.ok(Object.keys(seen!.tags).every((key) => key.length <= AWS_TEXT.tagKey && !HIDDEN.test(key)));
	assert.equal(seen!.stateTransitionReason, "User initiated by admin");

	// Recorded as an earlier version would have (the raw tag), the pages still show it plain and
	// at most 100 characters of it.
	await updateInstance(deps.db, ID, { name: forged });
	for (const path of ["/", `/instances/${ID}`, "/team"]) {
		const html = await (await request(deps.app, path, { user: "alice" })).text();
		assert.ok(!html.includes(RLO) && !html.includes("\u200b"), `${path} shows no hidden characters`);
		assert.ok(!html.includes("A".repeat(100)), `${path} shows the name cut`);
		assert.ok(html.includes(`prod-db${"A".repeat(92)}…`), path);
	}
});

Deno.test("a name recorded before the rule (with a bidi override) is shown without it", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await addInstance(deps.db, {
		id: ID,
		ownerId: world.alice.id,
		groupId: world.science.id,
		name: `notes${RLO}txt.exe`,
	});
	const html = await (await request(deps.app, "/", { user: "alice" })).text();
	assert.ok(!html.includes(RLO));
	assert.match(html, /notestxt\.exe/);
});
