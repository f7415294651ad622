/**
 * What users are told when the AWS sync fails: a classified sentence stored with the lease, never
 * the raw error (AWS messages hold ARNs and account ids), which stays in the lease and the log for
 * operators. The failures come from a fake AWS: moto accepts any credentials and permission.
 */
import assert from "node:assert/strict";
import { getLease } from "../lib/db/leases.ts";
import { jobLeases } from "../lib/db/schema.ts";
import { AwsError } from "../lib/errors.ts";
import { failureNotice, runJob } from "../lib/jobs.ts";
import { syncAwsJob } from "../jobs/sync_aws.ts";
import { createTestDeps } from "./_helpers/deps.ts";
import { fakeAws } from "./_fakes/aws.ts";
import { request } from "./_helpers/http.ts";
import { addUser } from "./_helpers/world.ts";

const ARN = "arn:aws:iam::123456789012:user/mliy-portal";

Deno.test("failureNotice() tells the class of a failure, never its message", () => {
	const aws = (kind: AwsError["kind"], code: string, message = `ec2.describeInstances: ${ARN} is involved`) =>
		new AwsError("ec2.describeInstances", kind, message, { code });
	const cases: [unknown, RegExp][] = [
		[aws("denied", "UnauthorizedOperation"), /denied the portal a permission/],
		[aws("other", "CredentialsProviderError", "Could not load credentials from any providers"), /credentials/],
		[aws("invalid", "AuthFailure"), /refused the portal's credentials/],
		[aws("throttled", "Throttling"), /throttling/],
		[aws("timeout", "TimeoutError"), /did not answer/],
		[aws("unavailable", "ServiceUnavailable"), /did not answer/],
		[aws("invalid", "InvalidParameterValue"), /refused one of the portal's requests/],
		[new Error(`SQLITE_CORRUPT in ${ARN}`), /unexpected error \(its log has the details\)/],
		[new AggregateError([aws("throttled", "Throttling"), aws("denied", "AccessDenied")], "both"), /denied/],
	];
	for (const [error, expected] of cases) {
		const notice = failureNotice(error);
		assert.match(notice, expected, String(error));
		assert.doesNotMatch(notice, /123456789012|arn:/, String(error));
	}
});

Deno.test("a sync refused by AWS is stored raw for operators and shown classified in every page's banner", async () => {
	const aws = fakeAws({
		ec2: {
			describeInstances: () =>
				Promise.reject(
					new AwsError(
						"ec2.describeInstances",
						"denied",
						`ec2.describeInstances: User: ${ARN} is not authorized to perform: ec2:DescribeInstances`,
						{ code: "UnauthorizedOperation" },
					),
				),
		},
		emr: { listClusters: () => Promise.resolve([]) },
	});
	await using deps = await createTestDeps({ aws });
	await addUser(deps.db, "alice");
	assert.equal(await runJob(deps, syncAwsJob(5), { scheduled: true }), "failed");
	const lease = (await getLease(deps.db, "sync-aws"))!;
	assert.match(lease.lastError!, /arn:aws:iam::123456789012/, "operators keep the raw error");
	assert.match(lease.lastErrorNotice!, /denied the portal a permission it needs/);

	const page = await (await request(deps.app, "/", { user: "alice" })).text();
	assert.match(
		page,
		/The portal has not reached AWS yet: AWS denied the portal a permission it needs \(an admin must check its IAM policy\)\./,
	);
	assert.doesNotMatch(page, /123456789012|arn:aws|not authorized to perform/);
});

Deno.test("the banner of a stale sync says when it last worked and why the last attempt failed", async () => {
	await using deps = await createTestDeps({ settings: { SYNC_STALE_MINUTES: 15 } });
	await deps.db.insert(jobLeases).values({
		name: "sync-aws",
		lastSuccessAt: new Date(deps.clock().getTime() - 40 * 60_000),
		lastError: `ec2.describeInstances: throttled for ${ARN}`,
		lastErrorNotice: "AWS was throttling the portal's requests",
	});
	const page = await (await request(deps.app, "/", { user: "alice" })).text();
	assert.match(
		page,
		/AWS was last synced 40 minutes ago \(the last attempt failed: AWS was throttling the portal's requests\); states/,
	);
	assert.doesNotMatch(page, /123456789012/);
});
