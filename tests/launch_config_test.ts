/**
 * What the admin configured reaches AWS: the extra volume's type and the configuration's snapshot
 * become the stack's VolumeType and SnapshotId (or the launch is refused when the template cannot
 * take them), instances carry the original's GroupConfig and UserGroup tags, an empty token value
 * leaves the token literal wherever it is set, and the shipped template hides its user data.
 */
import assert from "node:assert/strict";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { eq } from "drizzle-orm";
import { INSTANCE_TEMPLATE, SAMPLE_BOOTSTRAP } from "../fixtures/mod.ts";
import { parseTemplate } from "../lib/cfn.ts";
import type { Group, SoftwareConfig } from "../lib/db/catalog.ts";
import { instancesOfLaunch } from "../lib/db/instances.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { params, softwareConfigs } from "../lib/db/schema.ts";
import { UserError } from "../lib/errors.ts";
import { buildInstanceParameters, buildUserData } from "../lib/launch/instance.ts";
import { TEST_CREDENTIALS } from "./_fakes/endpoint.ts";
import { thrown } from "./_helpers/assert.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { seedWorld } from "./_helpers/world.ts";

const SNAPSHOT = "snap-0123456789abcdef0";

/*
 * moto does not apply VolumeType (nor SnapshotId, KmsKeyId, Encrypted) to an AWS::EC2::Volume: its
 * CloudFormation model reads only Size and AvailabilityZone, and the volume reports gp2 (see
 * ../shared/reference/moto-notes.md). So this test checks what reached CloudFormation, the
 * stack's parameters as moto recorded them (DescribeStacks), and, below, that the shipped template
 * hands those parameters to the volume.
 */
motoTest(
	"gp3 and a snapshot in the configuration reach CloudFormation; the instance has the original's tags",
	async (moto) => {
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
		});
		const world = await seedWorld(deps.db);
		await deps.db.update(softwareConfigs).set({ volumeType: "gp3", params: { SNAPSHOT_ID: SNAPSHOT } }).where(
			eq(softwareConfigs.id, world.config.id),
		);
		const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
			user: "alice",
			form: { intent: "launch", instanceType: "t2.micro" },
		});
		assert.equal(res.status, 303, await res.clone().text());
		const launchId = res.headers.get("Location")!.split("/").pop()!;
		await deps.background.idle();
		await tick(deps);
		const launch = (await getLaunch(deps.db, launchId))!;
		assert.equal(launch.status, "complete", launch.reason ?? launch.step);

		const cfn = new CloudFormationClient({ endpoint: moto.url, region: "us-east-1", credentials: TEST_CREDENTIALS });
		const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: launch.stackId! }))).Stacks!;
		cfn.destroy();
		const sent = Object.fromEntries(stack!.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]));
		assert.equal(sent.VolumeType, "gp3", "the configuration's volume type reached CloudFormation");
		assert.equal(sent.SnapshotId, SNAPSHOT, "and its snapshot");
		assert.equal(sent.VolumeSize, "20");
		// The volume itself cannot show it here: moto 5.2.1 makes a template's AWS::EC2::Volume from its Size and
		// AvailabilityZone only (elastic_block_store.py, create_from_cloudformation_json), so it is always gp2 in
		// moto. That the shipped template hands VolumeType to the volume is the next test's.

		const [instance] = await instancesOfLaunch(deps.db, launchId);
		const out = await moto.ec2().send(new DescribeInstancesCommand({ InstanceIds: [instance!.id] }));
		const tags = Object.fromEntries(out.Reservations![0]!.Instances![0]!.Tags!.map((t) => [t.Key, t.Value]));
		assert.equal(tags.GroupConfig, "science");
		assert.equal(tags.UserGroup, "science");
		assert.equal(tags.Group, "science", "alongside the portal's own");
		assert.equal(tags.LaunchedBy, "MLIY");
	},
);

Deno.test("the shipped template hands VolumeType and SnapshotId to the volume and hides its user data", () => {
	const template = parseTemplate(INSTANCE_TEMPLATE);
	assert.ok(template.ok);
	assert.equal(template.parameters.VolumeType?.default, "gp2");
	assert.equal(template.parameters.SnapshotId?.default, "");
	assert.equal(template.parameters.UserData?.noEcho, true, "the user data (progress token, secrets) is NoEcho");
	const volume = INSTANCE_TEMPLATE.slice(INSTANCE_TEMPLATE.indexOf("  Volume:\n"));
	assert.match(volume, /VolumeType: !Ref VolumeType\n/);
	assert.match(volume, /SnapshotId: !If \[HasSnapshot, !Ref SnapshotId, !Ref "AWS::NoValue"\]/);
});

const group = { id: 1, name: "science", directoryName: null, nameOverride: "" } as unknown as Group;
const config = {
	id: 1,
	name: "Analyst",
	templateBody: INSTANCE_TEMPLATE,
	userDataBody: "D={{{GROUP_DIRECTORY_NAME}}} P={{{PARAM}}} R={{{REPLACED}}} S={{{SNAPSHOT_ID}}} E={{{EBS_DEVICE}}}",
	volumeDevice: "/dev/xvdz",
	volumeSizeGb: 20,
	volumeType: "gp3",
	volumeKmsKey: "",
	params: {},
} as unknown as SoftwareConfig;
const settings = {
	REPLACEMENT_TOKENS: [] as [string, string][],
	AWS_REGION: "us-east-1",
	PUBLIC_URL: "https://mliy.example.com",
	HOST: "127.0.0.1",
	PORT: 8080,
};
const input = {
	settings,
	group,
	config,
	instanceType: "t2.micro",
	securityGroupIds: [],
	globalParams: {},
	launchId: "L1",
	stackName: "S",
	token: "T",
	placement: { subnetId: "subnet-1", availabilityZone: "us-east-1a" },
};

Deno.test("a token whose value is empty stays literal wherever it is set; a later source may still set it", () => {
	const empty = buildUserData({
		...input,
		group: { ...group, directoryName: "" },
		config: { ...config, volumeDevice: "No Volume", params: { PARAM: "", SNAPSHOT_ID: "" } },
		globalParams: { REPLACED: "" },
		settings: { ...settings, REPLACEMENT_TOKENS: [["REPLACED", ""]] },
	});
	assert.equal(
		empty,
		"D={{{GROUP_DIRECTORY_NAME}}} P={{{PARAM}}} R={{{REPLACED}}} S={{{SNAPSHOT_ID}}} E={{{EBS_DEVICE}}}",
	);
	const later = buildUserData({
		...input,
		group: { ...group, directoryName: "CN=Sci" },
		config: { ...config, params: { PARAM: "" } },
		globalParams: { PARAM: "from-params" },
		settings: { ...settings, REPLACEMENT_TOKENS: [["REPLACED", "from-settings"]] },
	});
	assert.equal(later, "D=CN=Sci P=from-params R=from-settings S={{{SNAPSHOT_ID}}} E=/dev/xvdz");
});

Deno.test("SnapshotId only when the configuration names one; what the template cannot take is refused", () => {
	assert.equal(buildInstanceParameters(input).SnapshotId, undefined);
	assert.equal(buildInstanceParameters({ ...input, globalParams: { SNAPSHOT_ID: SNAPSHOT } }).SnapshotId, SNAPSHOT);
	const old = INSTANCE_TEMPLATE.replace(/ {2}VolumeType:\n(?: {4}.*\n)+/, "").replace(
		/ {2}SnapshotId:\n(?: {4}.*\n)+/,
		"",
	);
	assert.ok(!("VolumeType" in (parseTemplate(old) as { parameters: object }).parameters));
	const refusals: [string, Partial<SoftwareConfig>, RegExp][] = [
		["gp3 with a template without VolumeType", { templateBody: old }, /takes no VolumeType parameter/],
		["a snapshot with a template without SnapshotId", {
			templateBody: old,
			volumeType: "gp2",
			params: { SNAPSHOT_ID: SNAPSHOT },
		}, /takes no SnapshotId parameter/],
		[
			"a SNAPSHOT_ID that is not one",
			{ params: { SNAPSHOT_ID: "my-backup" } },
			/"my-backup" is not an EBS snapshot id/,
		],
	];
	for (const [what, change, message] of refusals) {
		const error = thrown(() => buildInstanceParameters({ ...input, config: { ...config, ...change } }));
		assert.ok(error instanceof UserError, what);
		assert.equal(error.status, 422, what);
		assert.match(error.message, message, what);
	}
	// gp2 with a template from before VolumeType: that template makes gp2, so nothing is lost.
	const gp2 = buildInstanceParameters({ ...input, config: { ...config, templateBody: old, volumeType: "gp2" } });
	assert.equal(gp2.VolumeType, undefined);
});

Deno.test("the admin form refuses a volume type or snapshot the configuration's template cannot take", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	const old = INSTANCE_TEMPLATE.replace(/ {2}VolumeType:\n(?: {4}.*\n)+/, "").replace(
		/ {2}SnapshotId:\n(?: {4}.*\n)+/,
		"",
	);
	const base = {
		name: "Old template",
		kind: "instance",
		amiId: "ami-0123456789abcdef0",
		templateBody: old,
		userDataBody: SAMPLE_BOOTSTRAP,
		volumeDevice: "/dev/xvdz",
		volumeSizeGb: "20",
		compatibleTypes: [String(world.types["t2.micro"]!.id)],
	};
	const cases: [Record<string, string | string[]>, RegExp][] = [
		[{ ...base, volumeType: "gp3" }, /The template takes no VolumeType parameter/],
		[{ ...base, params: `SNAPSHOT_ID=${SNAPSHOT}` }, /the template takes no SnapshotId parameter/],
		[{ ...base, templateBody: INSTANCE_TEMPLATE, params: "SNAPSHOT_ID=backup" }, /SNAPSHOT_ID must be a snapshot id/],
		[{ ...base, templateBody: INSTANCE_TEMPLATE, failureStages: "mount-failed" }, /Stage names as the script sends/],
	];
	for (const [form, message] of cases) {
		const res = await request(deps.app, "/admin/configs/new", { user: "ada", form: { intent: "save", ...form } });
		assert.equal(res.status, 422, String(message));
		assert.match(await res.text(), message);
	}
	const saved = await request(deps.app, "/admin/configs/new", {
		user: "ada",
		form: {
			intent: "save",
			...base,
			templateBody: INSTANCE_TEMPLATE,
			volumeType: "gp3",
			failureStages: "mount_failed",
		},
	});
	assert.equal(saved.status, 303, await saved.clone().text());
	const row = await deps.db.query.softwareConfigs.findFirst({ where: eq(softwareConfigs.name, "Old template") });
	assert.equal(row?.failureStages, "mount_failed");
	assert.equal(row?.volumeType, "gp3");
});

Deno.test("the sample bootstrap says nothing of a snapshot unless one is named", async () => {
	const lines = SAMPLE_BOOTSTRAP.split("\n");
	const at = lines.findIndex((l) => l.startsWith('SNAPSHOT_ID="{{{SNAPSHOT_ID}}}"'));
	assert.ok(at >= 0);
	const snippet = lines.slice(at, at + 3).join("\n");
	const run = async (script: string) => {
		const out = await new Deno.Command("bash", { args: ["-euc", script], stdout: "piped" }).output();
		assert.ok(out.success);
		return new TextDecoder().decode(out.stdout);
	};
	const tokens = (value: string) =>
		buildUserData({ ...input, config: { ...config, userDataBody: snippet, params: { SNAPSHOT_ID: value } } });
	assert.equal(await run(tokens("")), "", "an empty SNAPSHOT_ID prints nothing");
	assert.equal(await run(snippet), "", "no SNAPSHOT_ID prints nothing");
	assert.equal(await run(tokens(SNAPSHOT)), `extra volume restored from ${SNAPSHOT}\n`);
});

Deno.test("a global SNAPSHOT_ID that is no snapshot id refuses the launch before anything is recorded", async () => {
	await using deps = await createTestDeps();
	const world = await seedWorld(deps.db);
	await deps.db.insert(params).values({ token: "SNAPSHOT_ID", value: "not-a-snapshot" });
	const res = await request(deps.app, `/launch/${world.science.id}/${world.config.id}`, {
		user: "alice",
		form: { intent: "launch", instanceType: "t2.micro" },
	});
	assert.equal(res.status, 422, "a bad snapshot is refused before anything is recorded");
	assert.match(await res.text(), /is not an EBS snapshot id/);
	assert.equal((await deps.db.query.launches.findMany()).length, 0);
});
