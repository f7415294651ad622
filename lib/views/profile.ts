/**
 * The profile page's data: who the portal thinks the viewer is, their groups, their recent
 * launches, and where they get the machine policies' notices (their channels, with why email
 * cannot reach them when it cannot).
 */
import type { Viewer } from "../auth/identify.ts";
import { groupsOf, listGroups } from "../db/catalog.ts";
import { recentLaunches } from "../db/launches.ts";
import type { LaunchStatus } from "../db/schema.ts";
import type { Deps } from "../deps.ts";
import { emailConfigured } from "../notify/email.ts";
import { noticeChannels } from "../policy/notices.ts";

/** The profile page. */
export interface ProfileProps {
	username: string;
	name: string;
	email: string;
	role: Viewer["role"];
	/** The names of the viewer's groups. */
	groups: string[];
	/** The names of the groups the viewer manages by assignment (a global manager manages every group). */
	managedGroups: string[];
	launches: { href: string; createdAt: Date; stackName: string; status: LaunchStatus; reason: string | null }[];
	/** The notice channels' form. */
	channels?: NoticeChannelsProps;
	timeZone: string;
}

/** Where the viewer gets the machine policies' notices, as a form. */
export interface NoticeChannelsProps {
	action: string;
	banner: boolean;
	email: boolean;
	/** Why email does not reach the viewer, when it does not. */
	emailNote?: string;
	/** A refused submission's fields. */
	errors: Record<string, string>;
}

/** What a saved choice of channels says. */
export function channelsText(channels: { banner: boolean; email: boolean }): string {
	const where = [channels.banner ? "on your pages" : "", channels.email ? "by email" : ""].filter(Boolean);
	return where.length
		? `Notices saved: you get them ${where.join(" and ")}.`
		: "Notices saved: you get none. The policies still act on your machines.";
}

/** How many launches the profile lists. */
const RECENT_LAUNCHES = 10;

/** The profile; `submitted` is a refused channels form (its values and marked fields). */
export async function profileView(
	deps: Deps,
	viewer: Viewer,
	submitted?: { errors: Record<string, string> },
): Promise<ProfileProps> {
	const [groups, all, launches, channels] = await Promise.all([
		groupsOf(deps.db, viewer.id),
		listGroups(deps.db),
		recentLaunches(deps.db, viewer.id, RECENT_LAUNCHES),
		noticeChannels(deps, viewer.id),
	]);
	return {
		username: viewer.username,
		name: viewer.name,
		email: viewer.email,
		role: viewer.role,
		groups: groups.map((g) => g.name),
		managedGroups: all.filter((g) => viewer.managedGroupIds.includes(g.id)).map((g) => g.name),
		launches: launches.map((l) => ({
			href: `/launches/${l.id}`,
			createdAt: l.createdAt,
			stackName: l.stackName,
			status: l.status,
			reason: l.reason,
		})),
		channels: {
			action: "/profile/notices",
			...channels,
			emailNote: !viewer.email
				? "You have no email address on record, so no email can reach you."
				: !emailConfigured(deps.settings)
				? "The portal is not set up to send email (no SMTP server), so none is sent."
				: undefined,
			errors: submitted?.errors ?? {},
		},
		timeZone: deps.settings.TIME_ZONE,
	};
}
