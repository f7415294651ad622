/** EMR over the SDK: describe clusters, their instance groups, master node and steps; terminate them. */
import type * as emr from "@aws-sdk/client-emr";
import type { EmrApi, EmrCluster } from "../types.ts";
import { AWS_TEXT } from "../../text.ts";
import { awsText, type Sdk, type SdkService, tagsToRecord, unlessMissing } from "./client.ts";

const EMR: SdkService<typeof emr> = {
	load: () => import("@aws-sdk/client-emr"),
	client: (sdk, config) => new sdk.EMRClient(config),
};

/** The portal's EMR operations, sent through `sdk`. */
export function emrApi(sdk: Sdk): EmrApi {
	return {
		async describeCluster(id) {
			// EMR answers an id it has never issued with InvalidRequestException.
			const out = await unlessMissing(
				sdk.call(EMR, "DescribeCluster", { ClusterId: id }, { clusterId: id }),
				["not_found", "invalid"],
			);
			return out?.Cluster ? toCluster(out.Cluster) : undefined;
		},
		async listInstanceGroups(id) {
			const out = await sdk.call(EMR, "ListInstanceGroups", { ClusterId: id }, { clusterId: id });
			return (out.InstanceGroups ?? []).map((g) => ({
				role: g.InstanceGroupType ?? "",
				instanceType: g.InstanceType ?? "",
				market: g.Market ?? "ON_DEMAND",
				bidPrice: g.BidPrice,
				requested: g.RequestedInstanceCount ?? 0,
				running: g.RunningInstanceCount ?? 0,
			}));
		},
		async masterPrivateIp(id) {
			const out = await sdk.call(EMR, "ListInstances", { ClusterId: id, InstanceGroupTypes: ["MASTER"] }, {
				clusterId: id,
			});
			return out.Instances?.find((i) => i.PrivateIpAddress)?.PrivateIpAddress;
		},
		async listSteps(id) {
			const out = await sdk.call(EMR, "ListSteps", { ClusterId: id }, { clusterId: id });
			return (out.Steps ?? []).map((s) => ({
				id: s.Id ?? "",
				name: awsText(s.Name) ?? "",
				state: s.Status?.State ?? "",
				failureReason: awsText(s.Status?.FailureDetails?.Reason, AWS_TEXT.reason),
			}));
		},
		async listClusters(query) {
			const clusters: EmrCluster[] = [];
			let marker: string | undefined;
			do {
				const out = await sdk.call(EMR, "ListClusters", {
					ClusterStates: query.states as emr.ClusterState[] | undefined,
					CreatedAfter: query.createdAfter,
					Marker: marker,
				});
				for (const c of out.Clusters ?? []) clusters.push(toCluster({ ...c, Tags: [] }));
				marker = out.Marker || undefined;
			} while (marker);
			return clusters;
		},
		async terminateJobFlows(ids) {
			await sdk.call(EMR, "TerminateJobFlows", { JobFlowIds: ids }, { ids });
		},
		async addTags(id, tags) {
			const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
			await sdk.call(EMR, "AddTags", { ResourceId: id, Tags }, { id, keys: Object.keys(tags) });
		},
	};
}

function toCluster(c: emr.Cluster): EmrCluster {
	return {
		id: c.Id ?? "",
		name: awsText(c.Name) ?? "",
		state: c.Status?.State ?? "",
		stateReason: awsText(c.Status?.StateChangeReason?.Message || undefined, AWS_TEXT.reason),
		masterDns: c.MasterPublicDnsName || undefined,
		createdAt: c.Status?.Timeline?.CreationDateTime,
		readyAt: c.Status?.Timeline?.ReadyDateTime,
		endedAt: c.Status?.Timeline?.EndDateTime,
		availabilityZone: c.Ec2InstanceAttributes?.Ec2AvailabilityZone,
		tags: tagsToRecord(c.Tags),
	};
}
