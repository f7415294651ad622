/**
 * What users are told when AWS fails: plain words for what happened and what to do, never the
 * SDK's message ("StopInstances: connect ECONNREFUSED 127.0.0.1:18781", an IAM refusal naming the
 * portal's role and account). The full message goes to the log where the failure is caught; what
 * AWS says about the user's own request (a template or parameter it refuses, a resource that
 * failed) is kept, cleaned of request ids, ARNs and account numbers.
 */
import type { AwsError } from "./errors.ts";

/** AWS error codes that mean the portal's own credentials were refused (not a missing permission). */
export const CREDENTIAL_CODES =
	/Credential|AuthFailure|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|ExpiredToken/i;

/** EC2 and EMR codes of a refused action, in plain words. */
const ACTION_REFUSALS: [RegExp, string][] = [
	[
		/^Incorrect(Instance)?State$/,
		"AWS says the machine cannot do that in its current state; its row shows the state AWS reports within a minute.",
	],
	[
		/^InsufficientInstanceCapacity$/,
		"AWS has no capacity for this instance type in its zone right now; try again later.",
	],
	[
		/^(InstanceLimitExceeded|VcpuLimitExceeded)$/,
		"The AWS account's limit of running instances is reached; tell an admin.",
	],
	[/^UnsupportedOperation$/, "AWS does not support this action for this machine."],
];

/** CloudFormation codes of a refused stack, in plain words. */
const STACK_REFUSALS: [RegExp, string][] = [
	[/^LimitExceeded(Exception)?$/, "the AWS account's limit of stacks is reached; tell an admin"],
	[
		/^InsufficientCapabilities(Exception)?$/,
		"its template needs IAM capabilities the portal does not grant; tell an admin",
	],
	[/^TokenAlreadyExists(Exception)?$/, "another stack was created with the same launch key"],
];

/** Whether AWS refused the portal's credentials. */
function credentialsRefused(error: AwsError): boolean {
	return CREDENTIAL_CODES.test(error.code ?? "");
}

/**
 * What AWS said, fit to show: without the SDK's "(Service: …; Request ID: …)" trailer, ARNs,
 * account numbers and addresses, cut to 300 characters.
 */
export function cleanAwsText(text: string): string {
	return text
		.replace(/\s*\((Service|Status Code|Error Code|Request ID)[^)]*\)/g, "")
		.replace(/\barn:aws[\w-]*:[^\s'",)]+/g, "(an AWS resource)")
		.replace(/\b\d{12}\b/g, "(an AWS account)")
		.replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, "(an address)")
		.trim()
		.slice(0, 300);
}

/** A control action (start, stop, restart, terminate) that AWS did not carry out, in plain words. */
export function explainActionFailure(error: AwsError): string {
	if (credentialsRefused(error)) return "AWS refused the portal's credentials; tell an admin.";
	switch (error.kind) {
		case "throttled":
			return "AWS is throttling requests right now; try again in a minute.";
		case "unavailable":
		case "timeout":
			return "AWS did not answer; try again in a minute.";
		case "denied":
			return "AWS does not allow the portal this action; tell an admin.";
		case "not_found":
			return "AWS no longer knows this machine; its row shows what AWS reports within a minute.";
	}
	const known = ACTION_REFUSALS.find(([code]) => code.test(error.code ?? ""));
	if (known) return known[1];
	return "AWS refused the action; the portal's log has the details.";
}

/**
 * Why AWS did not accept a launch's stack, as the launch's failure reason: CloudFormation's own
 * validation message (a template or parameter problem the admin can fix) is kept, cleaned; the
 * portal's credentials, permissions and anything else are told in plain words.
 */
export function explainStackRefusal(error: AwsError): string {
	if (credentialsRefused(error)) return "AWS refused the portal's credentials; tell an admin.";
	if (error.kind === "denied") return "AWS does not allow the portal to create stacks; tell an admin.";
	const known = STACK_REFUSALS.find(([code]) => code.test(error.code ?? ""));
	if (known) return `CloudFormation refused the stack: ${known[1]}.`;
	if (error.code === "ValidationError") {
		return `CloudFormation refused the stack: ${cleanAwsText(error.message.replace(`${error.operation}: `, ""))}`;
	}
	return "CloudFormation refused the stack; the portal's log has the details.";
}
