/**
 * The admin guide (/admin/guide, the original's admin documentation page): admins read what this
 * portal gives templates, bootstrap scripts and plugins, and its settings without their secrets.
 * The lists it shows are held to the code that fills them, so the page cannot say one thing while
 * launches do another.
 */
import assert from "node:assert/strict";
import type { Group, SoftwareConfig } from "../lib/db/catalog.ts";
import { clusterParameters } from "../lib/launch/cluster.ts";
import { buildInstanceParameters, buildUserData } from "../lib/launch/instance.ts";
import {
	BUILT_IN_TOKENS,
	CLUSTER_PARAMETERS,
	CONDITIONAL_TOKENS,
	INSTANCE_PARAMETERS,
	OPTIONAL_INSTANCE_PARAMETERS,
} from "../lib/views/admin_guide.ts";
import { INSTANCE_TEMPLATE } from "../fixtures/mod.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { seedWorld } from "./_helpers/world.ts";

const names = (list: readonly { name: string }[]) => list.map((d) => d.name).sort();

Deno.test("admin guide: the setup steps with what exists, the contracts, the params, the plugins and the settings without secrets", async () => {
	await using deps = await createTestDeps({
		settings: {
			METRICS_TOKEN: "metrics-token-value-123-long-enough",
			SMTP_USER: "mailer",
			SMTP_PASSWORD: "smtp-password-value-456",
			REPLACEMENT_TOKENS: [["CORP_PROXY", "http://replaced.example:3128"]],
		},
	});
	await seedWorld(deps.db);
	const forms: Record<string, string>[] = [
		{ token: "DNS_API_KEY", value: "secret-key-value-789", description: "the DNS provider's key", secret: "on" },
		{ token: "PIP_INDEX", value: "https://pypi.example/simple", description: "where pip installs from" },
	];
	for (const form of forms) {
		const saved = await request(deps.app, "/admin/params/new", { user: "ada", form });
		assert.equal(saved.status, 303, await saved.clone().text());
	}

	const res = await request(deps.app, "/admin/guide", { user: "ada" });
	assert.equal(res.status, 200);
	const html = await res.text();
	assert.match(
		html,
		/<a href="\/admin\/instance-types">Instance types<\/a> — the types configurations may offer\. <span\s*>\d+ so far\.<\/span>/,
	);
	assert.match(html, /<a href="\/admin\/params">Params<\/a>[^<]*<span\s*>2 so far\./, "the two params just saved");
	for (const { name } of [...INSTANCE_PARAMETERS, ...OPTIONAL_INSTANCE_PARAMETERS, ...CLUSTER_PARAMETERS]) {
		assert.ok(html.includes(`<code>${name}</code>`), `the template parameter ${name} is listed`);
	}
	for (const { name } of [...BUILT_IN_TOKENS, ...CONDITIONAL_TOKENS]) {
		assert.ok(html.includes(`<code>{{{${name}}}}</code>`), `the token ${name} is listed`);
	}
	assert.ok(html.includes("<code>{{{PIP_INDEX}}}</code>"), "a param is listed as the token a script uses");
	assert.ok(html.includes("<code>DNS_API_KEY</code>"), "a secret param by its name, as the NoEcho parameter it is");
	assert.match(html, /secret \(NoEcho template parameter only\)/);
	assert.match(html, /From <code>plugins\/auth_header<\/code>/, "where the sign-in plugin comes from");
	assert.match(html, /<code>getAuthHeader<\/code>/);
	assert.match(
		html,
		/Display \(extra columns[^<]*<\/h3><p>From <code>plugins\/display_none<\/code>/,
		"the display plugin too",
	);
	assert.match(html, /<code>METRICS_TOKEN<\/code>/, "the settings are listed by name");
	assert.match(html, /<code>CORP_PROXY<\/code>|CORP_PROXY/, "a replacement token by its name");
	for (
		const secret of [
			"metrics-token-value-123-long-enough",
			"smtp-password-value-456",
			"secret-key-value-789",
			"replaced.example",
		]
	) {
		assert.ok(!html.includes(secret), `${secret} is not on the page`);
	}
	assert.match(
		html,
		/X-MLiy-Progress-Token: \{\{\{PROGRESS_TOKEN\}\}\}/,
		"progress reports send the token as a header",
	);

	for (const user of ["alice", "mia", "olga"]) {
		assert.equal((await request(deps.app, "/admin/guide", { user })).status, 403, `${user} is no admin`);
	}
});

const group = {
	id: 1,
	name: "science",
	directoryName: "CN=Data Science,OU=Teams,DC=example,DC=com",
	keyName: "analyst-key",
	iamInstanceProfile: "analyst-profile",
	ags: "MLIY",
	costCenter: "CC-1",
	sdlc: "DEV",
	emrAccess: true,
	settings: "",
} as Group;

Deno.test("admin guide: every token it lists is filled by a launch's bootstrap script", () => {
	const every = [...BUILT_IN_TOKENS, ...CONDITIONAL_TOKENS].map(({ name }) => `${name}=[{{{${name}}}}]`).join("\n");
	const text = buildUserData({
		settings: {
			REPLACEMENT_TOKENS: [],
			AWS_REGION: "us-east-1",
			PUBLIC_URL: "https://mliy.example.com",
			HOST: "",
			PORT: 0,
		},
		group,
		config: {
			userDataBody: every,
			params: { SNAPSHOT_ID: "snap-0123456789abcdef0" },
			volumeDevice: "/dev/xvdz",
			volumeSizeGb: 100,
		} as unknown as SoftwareConfig,
		globalParams: {},
		launchId: "L1",
		stackName: "S",
		token: "TOKEN",
	});
	assert.doesNotMatch(text, /\{\{\{/, "no listed token is left as written");
	assert.doesNotMatch(text, /=\[\]/, "and none is filled with nothing");
});

Deno.test("admin guide: the instance parameters it lists are those a launch sends, and no others", () => {
	const parameters = buildInstanceParameters({
		settings: {
			REPLACEMENT_TOKENS: [],
			AWS_REGION: "us-east-1",
			PUBLIC_URL: "https://mliy.example.com",
			HOST: "",
			PORT: 0,
		},
		group,
		config: {
			amiId: "ami-0123456789abcdef0",
			userDataBody: "#!/bin/bash",
			instanceName: "Analyst",
			volumeDevice: "/dev/xvdz",
			volumeSizeGb: 100,
			volumeType: "gp3",
			volumeKmsKey: "arn:aws:kms:us-east-1:123456789012:key/1",
			templateBody: INSTANCE_TEMPLATE,
			params: { SNAPSHOT_ID: "snap-0123456789abcdef0" },
		} as unknown as SoftwareConfig,
		instanceType: "t3.large",
		securityGroupIds: ["sg-1"],
		globalParams: {},
		launchId: "L1",
		stackName: "S",
		token: "TOKEN",
		placement: { subnetId: "subnet-1", availabilityZone: "us-east-1a" },
	});
	assert.deepEqual(Object.keys(parameters).sort(), names([...INSTANCE_PARAMETERS, ...OPTIONAL_INSTANCE_PARAMETERS]));
});

Deno.test("admin guide: the cluster parameters it lists are those a launch may send, and no others", () => {
	const declaresAll = JSON.stringify({
		Parameters: Object.fromEntries(CLUSTER_PARAMETERS.map(({ name }) => [name, { Type: "String" }])),
		Resources: { Cluster: { Type: "AWS::EMR::Cluster" } },
	});
	const parameters = clusterParameters({
		settings: { TIME_ZONE: "UTC" },
		group,
		config: {
			templateBody: declaresAll,
			params: {},
			emrMasterSecurityGroup: "sg-m",
			emrSlaveSecurityGroup: "sg-s",
			emrAdditionalMasterSecurityGroups: "sg-am",
			emrAdditionalSlaveSecurityGroups: "sg-as",
		} as unknown as SoftwareConfig,
		instanceType: "m5.xlarge",
		options: { purpose: "p", coreNodes: 2, market: "SPOT", bidPrice: 0.2, idleSeconds: 3600 },
		stackName: "S",
		subnetId: "subnet-1",
	});
	assert.deepEqual(Object.keys(parameters).sort(), names(CLUSTER_PARAMETERS));
});
