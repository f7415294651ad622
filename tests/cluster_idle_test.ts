/**
 * EMR idle auto-termination is EMR's own AutoTerminationPolicy: the launch form's idle time (the
 * group's cluster_auto_termination_minutes by default) goes to the shipped template's
 * paramIdleTimeoutSeconds, which feeds the cluster's AutoTerminationPolicy IdleTimeout; a
 * configuration whose template lacks that parameter gets the time in paramIdleSeconds (the
 * original's on-cluster check) as before.
 *
 * moto (5.2.1) does not model AutoTerminationPolicy: its AWS::EMR::Cluster reads neither the
 * property nor implements Get/PutAutoTerminationPolicy, and EMR's DescribeCluster does not return
 * the policy in any case (see ../shared/reference/moto-notes.md). So these tests check what reached
 * CloudFormation, the stack's parameters as moto recorded them (DescribeStacks), and that the
 * template moto holds for the stack (GetTemplate) sets the policy from that parameter.
 */
import assert from "node:assert/strict";
import { CloudFormationClient, DescribeStacksCommand, GetTemplateCommand } from "@aws-sdk/client-cloudformation";
import { parse as parseYaml } from "yaml";
import { CLUSTER_TEMPLATE } from "../fixtures/mod.ts";
import { parseTemplate } from "../lib/cfn.ts";
import { getLaunch } from "../lib/db/launches.ts";
import { TEST_CREDENTIALS } from "./_fakes/endpoint.ts";
import { createTestDeps, type TestDeps } from "./_helpers/deps.ts";
import { request } from "./_helpers/http.ts";
import { type Moto, motoTest } from "./_helpers/moto.ts";
import { tick } from "./_helpers/tick.ts";
import { addConfig, seedClusterWorld } from "./_helpers/world.ts";

/** The short intrinsic tags this test reads back, as CloudFormation expands them (`!Ref x` is `{ Ref: x }`). */
const CFN_TAGS = ["Ref", "If", "Equals", "Not"].flatMap((name) => {
	const key = name === "Ref" ? name : `Fn::${name}`;
	return [
		{ tag: `!${name}`, resolve: (value: string) => ({ [key]: value }) },
		{ tag: `!${name}`, collection: "seq" as const, resolve: (seq: { toJSON(): unknown }) => ({ [key]: seq.toJSON() }) },
	];
});

const form = {
	intent: "launch",
	instanceType: "m4.large",
	purpose: "Churn model",
	coreNodes: "2",
	market: "ON_DEMAND",
};

/** Launches through the wizard and returns the parameters and template CloudFormation got. */
async function launchAndInspect(
	deps: TestDeps,
	moto: Moto,
	path: string,
	user: string,
	fields: Record<string, string>,
) {
	const res = await request(deps.app, path, { user, form: { ...form, ...fields } });
	assert.equal(res.status, 303, await res.clone().text());
	const launchId = res.headers.get("Location")!.split("/").pop()!;
	await deps.background.idle();
	await tick(deps);
	const launch = (await getLaunch(deps.db, launchId))!;
	assert.ok(launch.stackId, `the stack was created (${launch.status}: ${launch.reason ?? launch.step})`);
	const cfn = new CloudFormationClient({ endpoint: moto.url, region: "us-east-1", credentials: TEST_CREDENTIALS });
	try {
		const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: launch.stackId }))).Stacks!;
		const parameters = Object.fromEntries(stack!.Parameters!.map((p) => [p.ParameterKey!, p.ParameterValue!]));
		const body = (await cfn.send(new GetTemplateCommand({ StackName: launch.stackId }))).TemplateBody!;
		return {
			launch,
			parameters,
			template: parseYaml(body, { customTags: CFN_TAGS as never, logLevel: "error" }) as Record<
				string,
				Record<string, unknown>
			>,
		};
	} finally {
		cfn.destroy();
	}
}

motoTest(
	"the form's idle time reaches CloudFormation as the cluster's AutoTerminationPolicy IdleTimeout",
	async (moto) => {
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
		});
		const world = await seedClusterWorld(deps.db);
		const path = `/launch/${world.emrGroup.id}/${world.spark.id}`;
		// The form opens with the group's 90 minutes.
		const page = await (await request(deps.app, path, { user: "alice" })).text();
		assert.match(page, /name="autoTerminateHours"[^>]*value="1"/);
		assert.match(page, /name="autoTerminateMinutes"[^>]*value="30"/);

		const { launch, parameters, template } = await launchAndInspect(deps, moto, path, "alice", {
			autoTerminateHours: "2",
			autoTerminateMinutes: "15",
		});
		assert.equal(launch.options.idleSeconds, 8100);
		assert.equal(parameters.paramIdleTimeoutSeconds, "8100", "2 h 15 min, in seconds, for EMR's own policy");
		assert.equal(parameters.paramIdleSeconds, "0", "the on-cluster check is off: one mechanism acts");
		// The template CloudFormation holds sets the policy from that parameter (off at 0).
		const cluster = (template.Resources!.Cluster as { Properties: Record<string, unknown> }).Properties;
		assert.deepEqual(cluster.AutoTerminationPolicy, {
			"Fn::If": ["HasIdleTimeout", { IdleTimeout: { Ref: "paramIdleTimeoutSeconds" } }, { Ref: "AWS::NoValue" }],
		});
		assert.deepEqual(template.Conditions!.HasIdleTimeout, {
			"Fn::Not": [{ "Fn::Equals": [{ Ref: "paramIdleTimeoutSeconds" }, "0"] }],
		});

		// A client that sends no idle time gets the group's default, as the form would have shown it.
		const bobs = await launchAndInspect(deps, moto, path, "bob", {});
		assert.equal(bobs.parameters.paramIdleTimeoutSeconds, "5400", "the group's cluster_auto_termination_minutes=90");
	},
);

motoTest(
	"a configuration whose template lacks the policy's parameter gets the idle time in paramIdleSeconds, as before",
	async (moto) => {
		await using deps = await createTestDeps({
			awsEndpoint: moto.url,
			realClock: true,
			settings: { LAUNCH_SUBNET_ID: await moto.subnet("us-east-1a") },
		});
		const world = await seedClusterWorld(deps.db);
		// The shipped template as it was before: no paramIdleTimeoutSeconds, no AutoTerminationPolicy.
		const before = CLUSTER_TEMPLATE
			.replace(/ {2}paramIdleTimeoutSeconds:\n( {4,}.*\n)+/, "")
			.replace(/ {2}HasIdleTimeout: .*\n/, "")
			.replace(/ {6}AutoTerminationPolicy: !If\n( {8}.*\n)+/, "");
		const declared = parseTemplate(before);
		assert.ok(
			declared.ok && !("paramIdleTimeoutSeconds" in declared.parameters) && "paramIdleSeconds" in declared.parameters,
		);
		assert.doesNotMatch(before, /AutoTerminationPolicy|HasIdleTimeout/);
		const old = await addConfig(deps.db, "Spark (old template)", {
			kind: "cluster",
			templateBody: before,
			userDataBody: "",
			hasProgressBar: false,
			types: [world.types["m4.large"]!.id],
			groups: [world.emrGroup.id],
		});
		const { parameters, template } = await launchAndInspect(
			deps,
			moto,
			`/launch/${world.emrGroup.id}/${old.id}`,
			"alice",
			{
				autoTerminateHours: "0",
				autoTerminateMinutes: "45",
			},
		);
		assert.equal(parameters.paramIdleSeconds, "2700");
		assert.ok(!("paramIdleTimeoutSeconds" in parameters), "nothing the template does not declare is sent");
		assert.ok(!("AutoTerminationPolicy" in (template.Resources!.Cluster as { Properties: object }).Properties));
	},
);
