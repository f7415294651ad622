/**
 * The AMI expiry display plugin (the original's `ami_plugin`): an "AMI expiration" column with the
 * date each instance's image expires (EC2's DeprecationTime, or the tag AMI_EXPIRATION_TAG names;
 * failing both, its creation plus AMI_EXPIRY_DAYS when that is set, the original's rule),
 * and the instance's controls locked to Terminate once that date has passed or the image is gone
 * (deregistered, or no longer shown to the account). EC2 is asked once per sync, with one
 * DescribeImages for every image in use; when that call fails nothing is changed (the sync logs it).
 */
import type {
	ControlsLock,
	DisplayColumn,
	DisplayContext,
	Ec2Image,
	PluginInstance,
} from "../../lib/plugins/contract.ts";
import { settingReader } from "../_shared.ts";
import * as defaults from "./plugin_settings.ts";

const setting = settingReader(defaults);

const COLUMN = "ami_expiration";

/** Image states in which an instance's image can no longer be launched or trusted. */
const GONE_STATES = new Set(["deregistered", "disabled", "failed", "invalid", "error"]);

/** What the plugin knows of an instance's image as of this sync. */
type Verdict =
	| { kind: "unknown" }
	| { kind: "gone"; id: string; state?: string }
	| { kind: "dated"; id: string; expires: Date; expired: boolean }
	| { kind: "undated"; id: string }
	| { kind: "unreadable"; id: string; tag: string };

export function instanceColumns(): DisplayColumn[] {
	return [{ key: COLUMN, label: "AMI expiration" }];
}

/** Every image the sync's instances run, described in one call per sync. */
function imagesInUse(ctx: DisplayContext): Promise<Map<string, Ec2Image>> {
	return ctx.once("display_ami:images", async () => {
		const ids = [...new Set(ctx.instances.map((i) => i.amiId).filter((id) => id.startsWith("ami-")))];
		return new Map((await ctx.aws.ec2.describeImages(ids)).map((image) => [image.id, image]));
	});
}

async function verdict(instance: PluginInstance, ctx: DisplayContext): Promise<Verdict> {
	const id = instance.amiId;
	if (!id.startsWith("ami-")) return { kind: "unknown" };
	const image = (await imagesInUse(ctx)).get(id);
	if (!image || GONE_STATES.has(image.state)) return { kind: "gone", id, state: image?.state };
	const tag = setting(ctx, "AMI_EXPIRATION_TAG").trim();
	let expires = image.deprecationTime;
	if (tag) {
		const value = image.tags[tag];
		if (value === undefined) return { kind: "undated", id };
		expires = new Date(value.trim());
		if (Number.isNaN(expires.getTime())) return { kind: "unreadable", id, tag };
	}
	expires ??= afterCreation(image, setting(ctx, "AMI_EXPIRY_DAYS"));
	if (!expires) return { kind: "undated", id };
	return { kind: "dated", id, expires, expired: expires.getTime() <= ctx.now.getTime() };
}

/** The original's rule: the image's creation plus AMI_EXPIRY_DAYS, when that is a whole number of days. */
function afterCreation(image: Ec2Image, days: string): Date | undefined {
	const n = Number(days.trim());
	if (!days.trim() || !Number.isInteger(n) || n <= 0 || !image.creationDate) return undefined;
	return new Date(image.creationDate.getTime() + n * 86_400_000);
}

const day = (at: Date) => at.toISOString().slice(0, 10);

export async function displayValues(instance: PluginInstance, ctx: DisplayContext): Promise<Record<string, string>> {
	const known = await verdict(instance, ctx);
	switch (known.kind) {
		case "unknown":
			return {};
		case "gone":
			return { [COLUMN]: "image gone" };
		case "dated":
			return { [COLUMN]: known.expired ? `expired ${day(known.expires)}` : day(known.expires) };
		case "undated":
			return { [COLUMN]: "no expiry set" };
		case "unreadable":
			return { [COLUMN]: `unreadable ${known.tag} tag` };
	}
}

export async function onInstanceRefresh(
	instance: PluginInstance,
	ctx: DisplayContext,
): Promise<ControlsLock | undefined> {
	const known = await verdict(instance, ctx);
	if (known.kind === "unknown") return undefined;
	if (known.kind === "gone") {
		return {
			locked: true,
			reason: known.state
				? `its image ${known.id} is ${known.state} in EC2`
				: `its image ${known.id} is no longer available in EC2 (deregistered or deleted)`,
		};
	}
	if (known.kind === "dated" && known.expired) {
		return { locked: true, reason: `its image ${known.id} expired on ${day(known.expires)}` };
	}
	return { locked: false };
}
