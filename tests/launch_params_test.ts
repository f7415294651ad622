/** The pure parts of a launch: tokens, parameters, stack names, tags, sizes; and that a launch stores no token. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { UserError } from "../lib/errors.ts";
import { base64Utf8, buildInstanceParameters, buildUserData, substituteTokens } from "../lib/launch/instance.ts";
import { checkParameterSizes } from "../lib/launch/stacks.ts";
import { stackNameFor, standardTags } from "../lib/machines/tags.ts";
import { progressToken, sha256Hex } from "../lib/tokens.ts";
import type { Group, SoftwareConfig } from "../lib/db/catalog.ts";
import type { User } from "../lib/db/users.ts";
import { thrown } from "./_helpers/assert.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { seedWorld } from "./_helpers/world.ts";
import { AwsError } from "../lib/errors.ts";
import { launches } from "../lib/db/schema.ts";
import { eq, sql } from "drizzle-orm";
import { INSTANCE_TEMPLATE } from "../fixtures/mod.ts";

const group = {
	id: 1,
	name: "science",
	directoryName: "CN=Data Science,OU=Teams,DC=example,DC=com",
	keyName: "analyst-key",
	iamInstanceProfile: "analyst-profile",
	nameOverride: "",
	ags: "MLIY",
	costCenter: "CC-1",
	sdlc: "",
	emrAccess: false,
	settings: "",
} as Group;
const config = {
	id: 1,
	name: "Analyst",
	amiId: "ami-0123456789abcdef0",
	userDataBody:
		"#!/bin/bash\nA={{{A}}} B={{{B}}} T={{{PROGRESS_TOKEN}}} U={{{PROGRESS_URL}}} G={{{LDAP_AUTHZ_GROUP}}} X={{{UNKNOWN}}}",
	instanceName: "MLiyAnalyst",
	volumeDevice: "/dev/xvdz",
	volumeSizeGb: 100,
	volumeType: "gp3",
	volumeKmsKey: "",
	templateBody: INSTANCE_TEMPLATE,
	params: { A: "from-config", PROGRESS_TOKEN: "overridden?" },
} as unknown as SoftwareConfig;
const settings = {
	REPLACEMENT_TOKENS: [["A", "from-settings"], ["B", "from-settings"]] as [string, string][],
	AWS_REGION: "us-east-1",
	PUBLIC_URL: "https://mliy.example.com",
	HOST: "127.0.0.1",
	PORT: 8080,
};

Deno.test("substituteTokens(): the first source defining a token wins; unknown tokens stay literal", () => {
	assert.equal(
		substituteTokens("{{{a}}} {{{b}}} {{{c}}} {{{a}}}", [[["a", "1"]], [["a", "2"], ["b", "$&"]]]),
		"1 $& {{{c}}} 1",
	);
});

Deno.test("buildUserData(): portal tokens first, then config params, global params, REPLACEMENT_TOKENS", () => {
	const text = buildUserData({
		settings,
		group,
		config,
		globalParams: { B: "from-params" },
		launchId: "L1",
		stackName: "S",
		token: "TOKEN",
	});
	assert.match(text, /A=from-config B=from-params T=TOKEN U=https:\/\/mliy.example.com\/ajax\/progress/);
	assert.match(
		text,
		/G=CN=Data Science,OU=Teams,DC=example,DC=com/,
		"the group's directory group, as the original's param plugin did",
	);
	assert.match(text, /X=\{\{\{UNKNOWN\}\}\}/);
});

Deno.test("buildInstanceParameters(): the seed's parameters and the volume type; KmsKeyId only when set; user data in base64", () => {
	const input = {
		settings,
		group,
		config,
		instanceType: "t2.micro",
		securityGroupIds: ["sg-1", "sg-2"],
		globalParams: {},
		launchId: "L1",
		stackName: "S",
		token: "TOKEN",
		placement: { subnetId: "subnet-1", availabilityZone: "us-east-1a" },
	};
	const parameters = buildInstanceParameters(input);
	assert.deepEqual(Object.keys(parameters).sort(), [
		"AvailabilityZone",
		"EBSVolumeDeviceName",
		"IamInstanceProfile",
		"ImageId",
		"InstanceType",
		"KeyName",
		"SecurityGroupIds",
		"SubnetId",
		"UserData",
		"VolumeSize",
		"VolumeType",
	]);
	assert.equal(parameters.VolumeType, "gp3", "the configuration's volume type reaches CloudFormation");
	assert.equal(parameters.SecurityGroupIds, "sg-1,sg-2");
	assert.equal(parameters.VolumeSize, "100");
	assert.equal(
		new TextDecoder().decode(Uint8Array.from(atob(parameters.UserData!), (c) => c.charCodeAt(0))),
		buildUserData(input),
	);
	const withKey = buildInstanceParameters({ ...input, config: { ...config, volumeKmsKey: "arn:aws:kms:key/1" } });
	assert.equal(withKey.KmsKeyId, "arn:aws:kms:key/1");
});

Deno.test("base64Utf8() encodes non-ASCII scripts correctly", () => {
	assert.equal(base64Utf8("é✓"), btoa(String.fromCharCode(...new TextEncoder().encode("é✓"))));
});

Deno.test("checkParameterSizes() says how many bytes over the 4096-byte limit a parameter is", () => {
	checkParameterSizes({ UserData: "x".repeat(4096) });
	const error = thrown(() => checkParameterSizes({ UserData: "x".repeat(4100) }));
	assert.ok(error instanceof UserError);
	assert.equal(error.status, 422);
	assert.match(error.message, /is 4100 bytes: 4 bytes over CloudFormation's 4096-byte parameter limit/);
});

Deno.test("stackNameFor() always gives a name CloudFormation accepts", () => {
	assert.equal(
		stackNameFor("MLiyAnalyst", "MLIY", "0123abcd-4567-89ef-0123-456789abcdef"),
		"MLiyAnalyst-MLIY-0123abcd4567",
	);
	fc.assert(
		fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 50 }), fc.uuid(), (prefix, ags, id) => {
			const name = stackNameFor(prefix, ags, id);
			return /^[A-Za-z][A-Za-z0-9-]*$/.test(name) && name.length <= 128;
		}),
		{ numRuns: 500 },
	);
});

Deno.test("standardTags() carries the original's tags and leaves out empty ones", () => {
	const user = { username: "alice", firstName: "Alice", lastName: "Ng" } as User;
	const tags = standardTags({ user, group, config, launchId: "L1", defaultChargeCode: "CHANGEME" });
	assert.deepEqual(tags, {
		Name: "MLiyAnalyst",
		Owner: "Alice Ng",
		userid: "alice",
		LaunchedBy: "MLIY",
		"Software Config": "Analyst",
		Group: "science",
		GroupConfig: "science",
		UserGroup: "science",
		"Cost Center": "CC-1",
		AGS: "MLIY",
		"mliy:launch-id": "L1",
	});
	const overridden = standardTags({
		user,
		group: { ...group, nameOverride: "SCI-BOX" },
		config,
		launchId: "L1",
		defaultChargeCode: "CHANGEME",
	});
	assert.equal(overridden.Name, "SCI-BOX", "the group's name override names what its members launch");
});

Deno.test("progress tokens derive from the secret and launch id; only their hash is stored", async () => {
	const a = await progressToken("secret", "launch-1");
	// HMAC-SHA256(secret, "progress:" + launch id), base64url without padding; its SHA-256 in hex
	// (both computed independently with Python's hmac and hashlib).
	assert.equal(a, "Q_-85Gowi6sLSiUqo3kMkz-cCVVTkfgVb9D9WlVWfYs");
	assert.equal(await sha256Hex(a), "c7bbc108c9028e31658908ecf18208945be0a0ee719b4d603e12772f61610b5d");
	assert.notEqual(a, await progressToken("secret", "launch-2"));
	assert.notEqual(a, await progressToken("other", "launch-1"));

	// A real launch: its row holds the token's hash, and the token itself is nowhere in the database.
	const aws = fakeAws({
		cloudFormation: { createStack: () => Promise.reject(new AwsError("CreateStack", "throttled", "Rate exceeded")) },
	});
	await using deps = await createTestDeps({ aws });
	const world = await seedWorld(deps.db);
	const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "t2.micro" },
	});
	assert.equal(res.status, 303);
	await deps.background.idle();
	const launchId = res.headers.get("Location")!.replace("/launches/", "");
	const token = await progressToken(deps.secret, launchId);
	const launch = await deps.db.query.launches.findFirst({ where: eq(launches.id, launchId) });
	assert.equal(launch?.progressTokenHash, await sha256Hex(token));
	const tables = await deps.db.all<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type = 'table'`);
	assert.ok(tables.length > 10);
	const holdingHash: string[] = [];
	for (const { name } of tables) {
		const rows = JSON.stringify(await deps.db.all(sql`SELECT * FROM ${sql.identifier(name)}`));
		assert.ok(!rows.includes(token), `the token is stored in ${name}`);
		if (rows.includes(launch!.progressTokenHash)) holdingHash.push(name);
	}
	assert.deepEqual(holdingHash, ["launches"], "the scan reads the rows (it finds the hash)");
});
