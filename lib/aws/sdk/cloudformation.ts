/** CloudFormation over the SDK: create, follow and delete the portal's stacks. */
import type * as cfn from "@aws-sdk/client-cloudformation";
import { AwsError } from "../../errors.ts";
import type { CloudFormationApi, Stack } from "../types.ts";
import { AWS_TEXT, plainText } from "../../text.ts";
import { awsText, type Sdk, type SdkService, unlessMissing } from "./client.ts";

const CLOUDFORMATION: SdkService<typeof cfn> = {
	load: () => import("@aws-sdk/client-cloudformation"),
	client: (sdk, config) => new sdk.CloudFormationClient(config),
};

/** The portal's CloudFormation operations, sent through `sdk`. */
export function cloudFormationApi(sdk: Sdk): CloudFormationApi {
	return {
		async createStack(input) {
			const out = await sdk.call(CLOUDFORMATION, "CreateStack", {
				StackName: input.name,
				TemplateBody: input.templateBody,
				Parameters: Object.entries(input.parameters).map(([ParameterKey, ParameterValue]) => ({
					ParameterKey,
					ParameterValue,
				})),
				Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
				ClientRequestToken: input.clientRequestToken,
				DisableRollback: false,
			}, { stackName: input.name, parameterKeys: Object.keys(input.parameters) });
			if (!out.StackId) throw new AwsError("CreateStack", "other", "CreateStack returned no StackId");
			return { stackId: out.StackId };
		},
		async describeStack(nameOrId) {
			const out = await unlessMissing(
				sdk.call(CLOUDFORMATION, "DescribeStacks", { StackName: nameOrId }, { stack: nameOrId }),
			);
			const stack = out?.Stacks?.[0];
			return stack ? toStack(stack) : undefined;
		},
		async listStackResources(nameOrId) {
			const out = await sdk.call(CLOUDFORMATION, "DescribeStackResources", { StackName: nameOrId }, {
				stack: nameOrId,
			});
			return (out.StackResources ?? []).map((r) => ({
				logicalId: r.LogicalResourceId ?? "",
				type: r.ResourceType ?? "",
				physicalId: r.PhysicalResourceId || undefined,
				status: r.ResourceStatus ?? "",
				statusReason: awsText(r.ResourceStatusReason || undefined, AWS_TEXT.reason),
			}));
		},
		async describeStackEvents(nameOrId) {
			const out = await sdk.call(CLOUDFORMATION, "DescribeStackEvents", { StackName: nameOrId }, {
				stack: nameOrId,
			});
			return (out.StackEvents ?? []).map((e) => ({
				logicalId: e.LogicalResourceId ?? "",
				type: e.ResourceType ?? "",
				status: e.ResourceStatus ?? "",
				reason: awsText(e.ResourceStatusReason || undefined, AWS_TEXT.reason),
				timestamp: e.Timestamp ?? new Date(0),
			}));
		},
		async deleteStack(nameOrId) {
			await sdk.call(CLOUDFORMATION, "DeleteStack", { StackName: nameOrId }, { stack: nameOrId });
		},
	};
}

function toStack(s: cfn.Stack): Stack {
	const outputs: Record<string, string> = {};
	for (const o of s.Outputs ?? []) {
		if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = plainText(o.OutputValue, AWS_TEXT.output);
	}
	return {
		stackId: s.StackId ?? "",
		name: awsText(s.StackName) ?? "",
		status: s.StackStatus ?? "",
		statusReason: awsText(s.StackStatusReason || undefined, AWS_TEXT.reason),
		outputs,
	};
}
