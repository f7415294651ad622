/**
 * EC2 over the SDK: list instances and volumes (every page, filters of any length), act on
 * instances, their console output, spot prices, and delete a volume left behind.
 */
import type * as ec2 from "@aws-sdk/client-ec2";
import type { Ec2Api, Ec2Filters, Ec2Image, Ec2Instance, Ec2Volume } from "../types.ts";
import { AWS_TEXT } from "../../text.ts";
import { awsText, type Sdk, type SdkService, tagsToRecord } from "./client.ts";

const EC2: SdkService<typeof ec2> = {
	load: () => import("@aws-sdk/client-ec2"),
	client: (sdk, config) => new sdk.EC2Client(config),
};

/** The portal's EC2 operations, sent through `sdk`. */
export function ec2Api(sdk: Sdk): Ec2Api {
	return {
		describeInstances(query) {
			return everyPage(query.filters, async (page, detail) => {
				const out = await sdk.call(EC2, "DescribeInstances", { MaxResults: 1000, ...page }, detail);
				const instances = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
				return { items: instances.map(toInstance), nextToken: out.NextToken };
			});
		},
		async startInstances(ids) {
			await sdk.call(EC2, "StartInstances", { InstanceIds: ids }, { ids });
		},
		async stopInstances(ids) {
			await sdk.call(EC2, "StopInstances", { InstanceIds: ids }, { ids });
		},
		async rebootInstances(ids) {
			await sdk.call(EC2, "RebootInstances", { InstanceIds: ids }, { ids });
		},
		async terminateInstances(ids) {
			await sdk.call(EC2, "TerminateInstances", { InstanceIds: ids }, { ids });
		},
		async modifyInstanceType(id, instanceType) {
			await sdk.call(EC2, "ModifyInstanceAttribute", {
				InstanceId: id,
				InstanceType: { Value: instanceType },
			}, { id, instanceType });
		},
		async createTags(ids, tags) {
			const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
			await sdk.call(EC2, "CreateTags", { Resources: ids, Tags }, { ids, keys: Object.keys(tags) });
		},
		describeVolumes(query) {
			return everyPage(query.filters, async (page, detail) => {
				const out = await sdk.call(EC2, "DescribeVolumes", { MaxResults: 500, ...page }, detail);
				return { items: (out.Volumes ?? []).map(toVolume), nextToken: out.NextToken };
			});
		},
		async describeImages(ids) {
			if (ids.length === 0) return [];
			return await everyPage({ "image-id": [...ids] }, async (page, detail) => {
				const out = await sdk.call(EC2, "DescribeImages", {
					MaxResults: 1000,
					IncludeDeprecated: true,
					IncludeDisabled: true,
					...page,
				}, detail);
				return { items: (out.Images ?? []).map(toImage), nextToken: out.NextToken };
			});
		},
		async deleteVolume(id) {
			await sdk.call(EC2, "DeleteVolume", { VolumeId: id }, { id });
		},
		async getConsoleOutput(id) {
			const out = await sdk.call(EC2, "GetConsoleOutput", { InstanceId: id }, { id });
			return out.Output ? decodeBase64Utf8(out.Output) : undefined;
		},
		async latestSpotPrice(instanceType, availabilityZone) {
			const out = await sdk.call(EC2, "DescribeSpotPriceHistory", {
				InstanceTypes: [instanceType as ec2._InstanceType],
				AvailabilityZone: availabilityZone,
				ProductDescriptions: ["Linux/UNIX (Amazon VPC)"],
				StartTime: new Date(),
				MaxResults: 10,
			}, { instanceType, availabilityZone });
			const prices = (out.SpotPriceHistory ?? [])
				.filter((p) => p.SpotPrice !== undefined)
				.sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0));
			const value = prices[0] ? Number(prices[0].SpotPrice) : NaN;
			return Number.isFinite(value) ? value : undefined;
		},
	};
}

/** Base64 to text; bytes that are not UTF-8 become U+FFFD (a console carries whatever the boot printed). */
function decodeBase64Utf8(base64: string): string {
	const binary = atob(base64.replace(/\s+/g, ""));
	return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** One page's request: the filters of one chunk and where the previous page ended. */
interface PageRequest {
	Filters?: ec2.Filter[];
	NextToken?: string;
}

/**
 * Every item of a listing, following NextToken through each filter set {@link splitFilters} makes;
 * keyed by id, since one item may match several chunks of a multi-valued attribute's filter. The
 * log names the filters, never their values.
 */
async function everyPage<T extends { id: string }>(
	filters: Ec2Filters | undefined,
	page: (request: PageRequest, detail: { filters?: string[] }) => Promise<{ items: T[]; nextToken?: string }>,
): Promise<T[]> {
	const items = new Map<string, T>();
	for (const chunk of splitFilters(filters)) {
		const detail = { filters: chunk ? Object.keys(chunk) : undefined };
		let nextToken: string | undefined;
		do {
			const out = await page({ Filters: toFilters(chunk), NextToken: nextToken }, detail);
			for (const item of out.items) items.set(item.id, item);
			nextToken = out.nextToken || undefined;
		} while (nextToken);
	}
	return [...items.values()];
}

/** EC2 refuses a filter with more values than this (FilterLimitExceeded). */
const EC2_FILTER_VALUES_MAX = 200;

/**
 * Splits filters so that none has more than 200 values: one filter set per combination of
 * chunks, whose results together are exactly the results of the whole filters.
 */
function splitFilters(filters: Ec2Filters | undefined): (Ec2Filters | undefined)[] {
	if (!filters) return [undefined];
	let sets: Ec2Filters[] = [{}];
	for (const [name, values] of Object.entries(filters)) {
		const chunks: string[][] = [];
		for (let i = 0; i < values.length; i += EC2_FILTER_VALUES_MAX) {
			chunks.push(values.slice(i, i + EC2_FILTER_VALUES_MAX));
		}
		if (chunks.length === 0) chunks.push([]);
		sets = sets.flatMap((set) => chunks.map((chunk) => ({ ...set, [name]: chunk })));
	}
	return sets;
}

function toFilters(filters: Ec2Filters | undefined): ec2.Filter[] | undefined {
	if (!filters) return undefined;
	return Object.entries(filters).map(([Name, Values]) => ({ Name, Values }));
}

function toInstance(i: ec2.Instance): Ec2Instance {
	return {
		id: i.InstanceId ?? "",
		state: i.State?.Name ?? "unknown",
		type: i.InstanceType ?? "",
		imageId: i.ImageId ?? "",
		privateIp: i.PrivateIpAddress || undefined,
		publicIp: i.PublicIpAddress || undefined,
		launchTime: i.LaunchTime,
		availabilityZone: i.Placement?.AvailabilityZone,
		tags: tagsToRecord(i.Tags),
		stateTransitionReason: awsText(i.StateTransitionReason || undefined, AWS_TEXT.reason),
	};
}

/** EC2's timestamps of images are ISO text; one that does not parse is left out. */
function imageTime(text: string | undefined): Date | undefined {
	if (!text) return undefined;
	const at = new Date(text);
	return Number.isNaN(at.getTime()) ? undefined : at;
}

function toImage(i: ec2.Image): Ec2Image {
	return {
		id: i.ImageId ?? "",
		state: i.State ?? "unknown",
		name: awsText(i.Name || undefined, AWS_TEXT.name),
		creationDate: imageTime(i.CreationDate),
		deprecationTime: imageTime(i.DeprecationTime),
		tags: tagsToRecord(i.Tags),
	};
}

function toVolume(v: ec2.Volume): Ec2Volume {
	const attachment = v.Attachments?.[0];
	return {
		id: v.VolumeId ?? "",
		state: v.State ?? "unknown",
		sizeGb: v.Size ?? 0,
		volumeType: v.VolumeType ?? "gp2",
		iops: v.Iops,
		throughput: v.Throughput,
		attachedTo: attachment?.InstanceId,
		device: attachment?.Device,
		tags: tagsToRecord(v.Tags),
		createTime: v.CreateTime,
	};
}
